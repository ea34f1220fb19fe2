/**
 * Registry and storage policies: ECR repositories scan on push and keep tags immutable; every S3
 * bucket is private, versioned and encrypted. S3 settings live on companion resources (public
 * access block, versioning, encryption), so the bucket policies are stack policies that pair each
 * bucket with its companions through `companionsOf`.
 */
import type { PolicyResource } from "@pulumi/policy";
import { S3_TYPES } from "../components/type-tokens";
import { arrayAt, isRecord, recordAt, resourcePolicy, stackPolicy, stringAt, TYPES, type ModelshipPolicy } from "./lib";

const BUCKET_TYPES: readonly string[] = [S3_TYPES.bucket, S3_TYPES.bucketV2];
const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
const PUBLIC_ACLS = new Set(["public-read", "public-read-write"]);
const SSE_ALGORITHMS = new Set(["aws:kms", "aws:kms:dsse", "AES256"]);

/**
 * Reads a value the engine may not know yet: during preview the policy SDK throws its
 * UnknownValueError on access, which would abort a whole stack policy; unknown reads as undefined.
 */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (error instanceof Error && error.constructor.name === "UnknownValueError") return undefined;
        throw error;
    }
}

function isBucket(resource: PolicyResource): boolean {
    return BUCKET_TYPES.includes(resource.type);
}

/**
 * The resources of `types` that configure `bucket`: their `bucket` input is the bucket's name or
 * `<bucket resource name>-id` (the id the offline render gives), or, under the engine where ids are
 * unknown during preview, their `bucket` input depends on the bucket resource.
 */
export function companionsOf(bucket: PolicyResource, resources: readonly PolicyResource[], types: readonly string[]): PolicyResource[] {
    const bucketName = known(() => stringAt(bucket.props, "bucket"));
    const ids = new Set([`${bucket.name}-id`, ...(bucketName ? [bucketName] : [])]);
    return resources.filter((candidate) => {
        if (candidate === bucket || !types.includes(candidate.type)) return false;
        const target = known(() => stringAt(candidate.props, "bucket"));
        if (target !== undefined && ids.has(target)) return true;
        return (candidate.propertyDependencies?.bucket ?? []).some((dependency) => dependency === bucket || dependency.urn === bucket.urn);
    });
}

function describe(bucket: PolicyResource): string {
    const name = known(() => stringAt(bucket.props, "bucket"));
    return `S3 bucket ${bucket.name}${name && name !== bucket.name ? ` (${name})` : ""}`;
}

/** A legacy inline block: an object on aws:s3/bucket:Bucket, a list of objects on BucketV2. */
function blocks(value: unknown): Record<string, unknown>[] {
    return (Array.isArray(value) ? value : [value]).filter(isRecord);
}

const scanOnPush = resourcePolicy(
    {
        name: "ecr-scan-on-push",
        description: "Every image pushed to a repository is scanned for known vulnerabilities, so a vulnerable version is caught before it is deployed.",
        theme: "storage",
    },
    (args, report) => {
        if (args.type !== TYPES.ecrRepository) return;
        if (recordAt(args.props, "imageScanningConfiguration")?.scanOnPush !== true) {
            report("ECR repository does not scan on push: set imageScanningConfiguration: { scanOnPush: true }.");
        }
    },
);

const immutableTags = resourcePolicy(
    {
        name: "ecr-immutable-tags",
        description: "A version tag must always name the same image: deployments, gates and rollback all refer to images by tag.",
        theme: "storage",
    },
    (args, report) => {
        if (args.type !== TYPES.ecrRepository) return;
        const mutability = stringAt(args.props, "imageTagMutability");
        if (mutability !== "IMMUTABLE") {
            report(`ECR repository has imageTagMutability ${mutability ?? "unset (MUTABLE by default)"}, so a push can move a version tag to another image: set imageTagMutability: "IMMUTABLE".`);
        }
    },
);

const bucketPrivate = stackPolicy(
    {
        name: "s3-bucket-private",
        description: "Model artifacts and logs must never be readable from the internet: every bucket has a public access block with all four settings on and no public ACL.",
        theme: "storage",
    },
    (args, report) => {
        for (const bucket of args.resources.filter(isBucket)) {
            const acl = known(() => stringAt(bucket.props, "acl"));
            if (acl !== undefined && PUBLIC_ACLS.has(acl)) report(`${describe(bucket)} has the ACL ${acl}: remove it (buckets stay private; grant access through IAM).`, bucket.urn);
            for (const companion of companionsOf(bucket, args.resources, [S3_TYPES.acl, S3_TYPES.aclV2])) {
                const companionAcl = known(() => stringAt(companion.props, "acl"));
                if (companionAcl !== undefined && PUBLIC_ACLS.has(companionAcl)) {
                    report(`${describe(bucket)} gets the ACL ${companionAcl} from ${companion.name}: remove it (buckets stay private; grant access through IAM).`, bucket.urn);
                }
            }
            const accessBlocks = companionsOf(bucket, args.resources, [S3_TYPES.publicAccessBlock]);
            if (accessBlocks.length === 0) {
                report(`${describe(bucket)} has no aws.s3.BucketPublicAccessBlock: add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.`, bucket.urn);
                continue;
            }
            const missing = accessBlocks.map((block) => PUBLIC_ACCESS_FLAGS.filter((flag) => known((): unknown => block.props[flag]) !== true));
            if (missing.every((flags) => flags.length > 0)) {
                const fewest = missing.reduce((a, b) => (b.length < a.length ? b : a));
                report(
                    `${describe(bucket)} has a public access block without ${fewest.join(", ")}: set all four of blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.`,
                    bucket.urn,
                );
            }
        }
    },
);

const bucketVersioned = stackPolicy(
    {
        name: "s3-bucket-versioned",
        description: "Model artifacts must never be overwritten or lost: every bucket keeps object versions, so a deployed version can always be read back.",
        theme: "storage",
    },
    (args, report) => {
        for (const bucket of args.resources.filter(isBucket)) {
            const inline = blocks(known((): unknown => bucket.props.versioning ?? bucket.props.versionings)).some((block) => known(() => block.enabled) === true);
            const companion = companionsOf(bucket, args.resources, [S3_TYPES.versioning, S3_TYPES.versioningV2]).some(
                (resource) => known(() => stringAt(resource.props, "versioningConfiguration", "status")) === "Enabled",
            );
            if (!inline && !companion) {
                report(`${describe(bucket)} is not versioned: add an aws.s3.BucketVersioning with versioningConfiguration: { status: "Enabled" }.`, bucket.urn);
            }
        }
    },
);

function encryptsByDefault(rule: unknown): boolean {
    const defaults = known(() => (isRecord(rule) ? (rule.applyServerSideEncryptionByDefault ?? rule.applyServerSideEncryptionByDefaults) : undefined));
    return blocks(defaults).some((block) => {
        const algorithm = known(() => block.sseAlgorithm);
        return typeof algorithm === "string" && SSE_ALGORITHMS.has(algorithm);
    });
}

const bucketEncrypted = stackPolicy(
    {
        name: "s3-bucket-encrypted",
        description: "Every bucket encrypts objects at rest by default (SSE-S3 or SSE-KMS), so no artifact is ever stored in the clear.",
        theme: "storage",
    },
    (args, report) => {
        for (const bucket of args.resources.filter(isBucket)) {
            const inline = blocks(known((): unknown => bucket.props.serverSideEncryptionConfiguration ?? bucket.props.serverSideEncryptionConfigurations)).some((configuration) =>
                blocks(known(() => configuration.rule ?? configuration.rules)).some(encryptsByDefault),
            );
            const companion = companionsOf(bucket, args.resources, [S3_TYPES.encryption, S3_TYPES.encryptionV2]).some((resource) =>
                (known(() => arrayAt(resource.props, "rules")) ?? []).some(encryptsByDefault),
            );
            if (!inline && !companion) {
                report(
                    `${describe(bucket)} has no default encryption: add an aws.s3.BucketServerSideEncryptionConfiguration with a rule whose applyServerSideEncryptionByDefault.sseAlgorithm is "aws:kms", "aws:kms:dsse" or "AES256".`,
                    bucket.urn,
                );
            }
        }
    },
);

export const storagePolicies: ModelshipPolicy[] = [scanOnPush, immutableTags, bucketPrivate, bucketVersioned, bucketEncrypted];
