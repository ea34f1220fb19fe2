import { strict as assert } from "assert";
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { ModelshipPolicy } from "../../../policies/lib";
import { S3_TYPES } from "../../../components/type-tokens";
import { storagePolicies } from "../../../policies/storage";
import { resource, violationsOf } from "../../support/policies";
import { TYPES } from "../../../components/type-tokens";

/** The engine's representation of unknown preview values, reached by path: it is internal to the SDK. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- these two are not in the module's declarations
const engine = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T extends object>(value: T): T; unknownStringValue: string };

function policy(name: string): ModelshipPolicy {
    const found = storagePolicies.find((p) => p.name === name);
    assert.ok(found, `no policy ${name}`);
    return found;
}

const REPOSITORY = TYPES.ecrRepository;
const GOOD_REPOSITORY = { name: "modelship/fraud-scorer", imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE" };

const BUCKET_POLICIES = ["s3-bucket-private", "s3-bucket-versioned", "s3-bucket-encrypted"] as const;
const PRIVATE = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

/** The three companions that make `bucket` (a name or an id) private, versioned and encrypted. */
function companions(bucket: string, prefix = "artifacts") {
    return [
        resource(S3_TYPES.publicAccessBlock, { bucket, ...PRIVATE }, `${prefix}-public-access`),
        resource(S3_TYPES.versioning, { bucket, versioningConfiguration: { status: "Enabled" } }, `${prefix}-versioning`),
        resource(S3_TYPES.encryption, { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] }, `${prefix}-encryption`),
    ];
}

function assertOne(messages: string[], ...fragments: string[]): void {
    assert.equal(messages.length, 1, `expected one message, got ${JSON.stringify(messages)}`);
    for (const fragment of fragments) assert.ok(messages[0].includes(fragment), `"${messages[0]}" does not mention ${fragment}`);
}

describe("policies: registry and storage", () => {
    it("every policy has a stable kebab-case name, a description, the storage theme and no enforcement level", () => {
        assert.deepEqual(
            storagePolicies.map((p) => p.name),
            ["ecr-scan-on-push", "ecr-immutable-tags", ...BUCKET_POLICIES],
        );
        for (const p of storagePolicies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(p.description.length > 20);
            assert.equal(p.theme, "storage");
            assert.equal(p.enforcementLevel, undefined);
        }
        for (const name of BUCKET_POLICIES) assert.ok("validateStack" in policy(name), `${name} is a stack policy`);
    });

    describe("ecr-scan-on-push", () => {
        const subject = policy("ecr-scan-on-push");

        it("refuses a repository without scan on push, or with it off", async () => {
            assertOne(await violationsOf(subject, resource(REPOSITORY, { name: "r", imageTagMutability: "IMMUTABLE" })), "scanOnPush: true");
            assertOne(await violationsOf(subject, resource(REPOSITORY, { ...GOOD_REPOSITORY, imageScanningConfiguration: { scanOnPush: false } })), "does not scan on push");
        });

        it("passes a repository that scans on push, and ignores other types", async () => {
            assert.deepEqual(await violationsOf(subject, resource(REPOSITORY, GOOD_REPOSITORY)), []);
            assert.deepEqual(await violationsOf(subject, resource(S3_TYPES.bucket, {})), []);
        });
    });

    describe("ecr-immutable-tags", () => {
        const subject = policy("ecr-immutable-tags");

        it("refuses mutable and unset tag mutability", async () => {
            assertOne(await violationsOf(subject, resource(REPOSITORY, { ...GOOD_REPOSITORY, imageTagMutability: "MUTABLE" })), "MUTABLE", 'imageTagMutability: "IMMUTABLE"');
            assertOne(await violationsOf(subject, resource(REPOSITORY, { name: "r", imageScanningConfiguration: { scanOnPush: true } })), "unset", '"IMMUTABLE"');
        });

        it("passes IMMUTABLE", async () => {
            assert.deepEqual(await violationsOf(subject, resource(REPOSITORY, GOOD_REPOSITORY)), []);
        });
    });

    describe("s3 buckets", () => {
        const all = BUCKET_POLICIES.map(policy);

        it("a bucket alone fails all three, with what to add", async () => {
            const bucket = resource(S3_TYPES.bucket, { bucket: "modelship-artifacts" }, "artifacts");
            assertOne(await violationsOf(all[0], bucket), "S3 bucket artifacts (modelship-artifacts)", "BucketPublicAccessBlock");
            assertOne(await violationsOf(all[1], bucket), "not versioned", "BucketVersioning");
            assertOne(await violationsOf(all[2], bucket), "no default encryption", "BucketServerSideEncryptionConfiguration");
        });

        it("reports on the bucket's resource (its urn)", async () => {
            const { evaluate } = await import("../../../policies/offline");
            const found = await evaluate(all, [resource(S3_TYPES.bucketV2, {}, "artifacts")], {});
            assert.deepEqual(
                found.map((v) => v.resource),
                BUCKET_POLICIES.map(() => `${S3_TYPES.bucketV2}::artifacts`),
            );
        });

        it("a bucket with its three companions passes, matched through <name>-id (the offline render)", async () => {
            for (const type of [S3_TYPES.bucket, S3_TYPES.bucketV2]) {
                const resources = [resource(type, {}, "artifacts"), ...companions("artifacts-id")];
                for (const subject of all) assert.deepEqual(await violationsOf(subject, resources), [], `${subject.name} on ${type}`);
            }
        });

        it("matches companions through the bucket name", async () => {
            const resources = [resource(S3_TYPES.bucket, { bucket: "modelship-artifacts" }, "artifacts"), ...companions("modelship-artifacts")];
            for (const subject of all) assert.deepEqual(await violationsOf(subject, resources), [], subject.name);
        });

        it("a companion of a different bucket does not count", async () => {
            const resources = [
                resource(S3_TYPES.bucket, { bucket: "modelship-artifacts" }, "artifacts"),
                resource(S3_TYPES.bucket, { bucket: "modelship-logs" }, "logs"),
                ...companions("logs-id", "logs"),
            ];
            for (const subject of all) {
                const messages = await violationsOf(subject, resources);
                assertOne(messages, "S3 bucket artifacts");
            }
        });

        it("s3-bucket-private names the public access settings that are off", async () => {
            const resources = [resource(S3_TYPES.bucket, {}, "artifacts"), resource(S3_TYPES.publicAccessBlock, { bucket: "artifacts-id", ...PRIVATE, restrictPublicBuckets: false }, "pab")];
            assertOne(await violationsOf(all[0], resources), "without restrictPublicBuckets");
        });

        it("s3-bucket-private refuses a public-read ACL, on the bucket or through a BucketAcl", async () => {
            const privateOtherwise = companions("artifacts-id");
            assertOne(await violationsOf(all[0], [resource(S3_TYPES.bucket, { acl: "public-read" }, "artifacts"), ...privateOtherwise]), "ACL public-read");
            assertOne(await violationsOf(all[0], [resource(S3_TYPES.bucketV2, { acl: "public-read-write" }, "artifacts"), ...privateOtherwise]), "ACL public-read-write");
            assertOne(
                await violationsOf(all[0], [resource(S3_TYPES.bucket, {}, "artifacts"), resource(S3_TYPES.acl, { bucket: "artifacts-id", acl: "public-read" }, "acl"), ...privateOtherwise]),
                "public-read",
                "acl",
            );
            assert.deepEqual(await violationsOf(all[0], [resource(S3_TYPES.bucket, { acl: "private" }, "artifacts"), ...privateOtherwise]), []);
        });

        it("s3-bucket-versioned refuses Suspended and accepts BucketVersioningV2 and the legacy inline setting", async () => {
            const bucket = resource(S3_TYPES.bucket, {}, "artifacts");
            assertOne(await violationsOf(all[1], [bucket, resource(S3_TYPES.versioning, { bucket: "artifacts-id", versioningConfiguration: { status: "Suspended" } }, "v")]), "not versioned");
            assert.deepEqual(await violationsOf(all[1], [bucket, resource(S3_TYPES.versioningV2, { bucket: "artifacts-id", versioningConfiguration: { status: "Enabled" } }, "v")]), []);
            assert.deepEqual(await violationsOf(all[1], resource(S3_TYPES.bucket, { versioning: { enabled: true } }, "artifacts")), []);
            assert.deepEqual(await violationsOf(all[1], resource(S3_TYPES.bucketV2, { versionings: [{ enabled: true }] }, "artifacts")), []);
            assertOne(await violationsOf(all[1], resource(S3_TYPES.bucket, { versioning: { enabled: false } }, "artifacts")), "not versioned");
        });

        it("s3-bucket-encrypted accepts aws:kms, aws:kms:dsse, AES256, the V2 companion and the legacy inline setting; refuses a rule without an algorithm", async () => {
            const bucket = resource(S3_TYPES.bucket, {}, "artifacts");
            for (const sseAlgorithm of ["aws:kms", "aws:kms:dsse", "AES256"]) {
                for (const type of [S3_TYPES.encryption, S3_TYPES.encryptionV2]) {
                    const sse = resource(type, { bucket: "artifacts-id", rules: [{ bucketKeyEnabled: true }, { applyServerSideEncryptionByDefault: { sseAlgorithm } }] }, "sse");
                    assert.deepEqual(await violationsOf(all[2], [bucket, sse]), [], `${type} ${sseAlgorithm}`);
                }
            }
            assertOne(await violationsOf(all[2], [bucket, resource(S3_TYPES.encryption, { bucket: "artifacts-id", rules: [{ bucketKeyEnabled: true }] }, "sse")]), "no default encryption");
            const inline = { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } } };
            assert.deepEqual(await violationsOf(all[2], resource(S3_TYPES.bucket, inline, "artifacts")), []);
            const inlineV2 = { serverSideEncryptionConfigurations: [{ rules: [{ applyServerSideEncryptionByDefaults: [{ sseAlgorithm: "aws:kms" }] }] }] };
            assert.deepEqual(await violationsOf(all[2], resource(S3_TYPES.bucketV2, inlineV2, "artifacts")), []);
        });

        describe("under the engine, where ids are unknown during preview", () => {
            /** A PolicyResource as the policy server builds it: inputs behind its unknown-checking proxy. */
            function policyResource(type: string, name: string, props: Record<string, unknown>, propertyDependencies: Record<string, PolicyResource[]> = {}): PolicyResource {
                const isType = ((cls: { __pulumiType?: string }) => cls.__pulumiType === type) as PolicyResource["isType"];
                return {
                    type,
                    name,
                    urn: `urn:pulumi:dev::modelship::${type}::${name}`,
                    props: engine.unknownCheckingProxy(props),
                    opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
                    dependencies: Object.values(propertyDependencies).flat(),
                    propertyDependencies,
                    isType,
                    asType: ((cls: { __pulumiType?: string }) => (cls.__pulumiType === type ? props : undefined)) as PolicyResource["asType"],
                };
            }

            async function validate(subject: ModelshipPolicy, resources: PolicyResource[]): Promise<{ message: string; urn?: string }[]> {
                const reports: { message: string; urn?: string }[] = [];
                const report: ReportViolation = (message, urn) => reports.push({ message, ...(urn ? { urn } : {}) });
                const args: StackValidationArgs = {
                    resources,
                    stackTags: new Map(),
                    getConfig: <T extends object>() => ({}) as T,
                    notApplicable: () => {
                        throw new Error("not applicable");
                    },
                };
                await (subject as StackValidationPolicy).validateStack(args, report);
                return reports;
            }

            function stack(companionOf: (buckets: { artifacts: PolicyResource; logs: PolicyResource }) => PolicyResource) {
                const unknown = engine.unknownStringValue;
                const artifacts = policyResource(S3_TYPES.bucketV2, "artifacts", { bucket: unknown, tags: { "modelship:environment": "dev" } });
                const logs = policyResource(S3_TYPES.bucketV2, "logs", { bucket: unknown });
                const owner = companionOf({ artifacts, logs });
                const dependsOn = { bucket: [owner] };
                return {
                    artifacts,
                    resources: [
                        artifacts,
                        logs,
                        policyResource(S3_TYPES.publicAccessBlock, "pab", { bucket: unknown, ...PRIVATE }, dependsOn),
                        policyResource(S3_TYPES.versioningV2, "versioning", { bucket: unknown, versioningConfiguration: { status: "Enabled" } }, dependsOn),
                        policyResource(S3_TYPES.encryptionV2, "sse", { bucket: unknown, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] }, dependsOn),
                    ],
                };
            }

            it("matches companions through propertyDependencies.bucket", async () => {
                const { resources } = stack(({ artifacts }) => artifacts);
                const expected: Record<(typeof BUCKET_POLICIES)[number], string> = {
                    "s3-bucket-private": "S3 bucket logs has no aws.s3.BucketPublicAccessBlock",
                    "s3-bucket-versioned": "S3 bucket logs is not versioned",
                    "s3-bucket-encrypted": "S3 bucket logs has no default encryption",
                };
                for (const name of BUCKET_POLICIES) {
                    const reports = await validate(policy(name), resources);
                    assert.equal(reports.length, 1, `${name}: ${JSON.stringify(reports)}`);
                    assert.ok(reports[0].message.startsWith(`${expected[name]}:`), reports[0].message);
                    assert.equal(reports[0].urn, "urn:pulumi:dev::modelship::aws:s3/bucketV2:BucketV2::logs");
                }
            });

            it("reports the bucket's urn when the dependency is on another bucket", async () => {
                const { resources, artifacts } = stack(({ logs }) => logs);
                for (const subject of all) {
                    const reports = await validate(subject, resources);
                    assert.equal(reports.length, 1, subject.name);
                    assert.equal(reports[0].urn, artifacts.urn);
                    assert.ok(reports[0].message.startsWith("S3 bucket artifacts "));
                }
            });
        });
    });
});
