/**
 * IAM policy documents as data, and the one list of AWS actions that may (must) use
 * `Resource: "*"`. Components build their documents with these types; the policy pack checks
 * every document against the same list, so an exception cannot be granted in one place only.
 */
import { physicalName } from "./naming";

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Principal?: "*" | Record<string, string | string[]>;
    NotPrincipal?: Record<string, string | string[]>;
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Why one action is granted on `Resource: "*"`, as checked against AWS's action catalogue. */
export interface ResourceWildcardException {
    reason: string;
    /**
     * Optional resource types the catalogue lists for the action that the requests this project
     * makes never name, so those requests are authorized on `*` all the same. The contract tests
     * fail when the catalogue lists a type that is not here (the grant may now be scopable) or
     * no longer lists one that is (the note is stale).
     */
    unusedResourceTypes?: readonly string[];
}

/**
 * Actions that AWS does not scope to a resource: they are only ever granted on `*`. Each entry
 * says why, so a reviewer can tell an exception from a shortcut; test/contract/iam.test.ts holds
 * every entry against AWS's action catalogue.
 */
export const RESOURCE_WILDCARD_EXCEPTIONS: Readonly<Record<string, ResourceWildcardException>> = {
    "ecr:GetAuthorizationToken": { reason: "the registry login token is account-wide; pulls are then scoped by the repository actions" },
    "cloudwatch:PutMetricData": {
        reason: "a metric in a namespace has no resource ARN (the catalogue's one type is a dataset, dataset/${DatasetId}, which OTLP ingest writes to); AWS scopes it with the cloudwatch:namespace condition",
        unusedResourceTypes: ["dataset"],
    },
    "sts:GetCallerIdentity": { reason: "identity lookup has no resource" },
    "ec2:DescribeInstances": { reason: "EC2 Describe actions do not support resource-level permissions" },
    "ec2:DescribeTags": { reason: "EC2 Describe actions do not support resource-level permissions" },
};

export function asList(value: string | string[] | undefined): string[] {
    if (value === undefined) return [];
    return Array.isArray(value) ? value : [value];
}

/** A document from a resource input: an object, or the JSON string most AWS resources take. */
export function parsePolicyDocument(value: unknown): PolicyDocument | undefined {
    const parsed = typeof value === "string" ? safeJson(value) : value;
    if (parsed === null || typeof parsed !== "object") return undefined;
    const statement = (parsed as { Statement?: unknown }).Statement;
    if (statement === undefined) return undefined;
    return { Version: "2012-10-17", Statement: (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[] };
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/*
 * Least-privilege documents for the identities modelship creates: a model's runtime role (pod
 * via IRSA, or instance via EC2), and the deployer that pushes images. Pure functions of names
 * and ARNs, so the contract tests can put every document through an IAM simulator and the policy
 * pack without a cloud account. Inputs that would put a wildcard or a policy variable into an
 * ARN or a condition are refused: a `*` in a model name must not widen what a role can reach.
 */

/** Where a model's artifacts live: one bucket, one key prefix (a "folder", ending with "/"). */
export interface S3Location {
    bucket: string;
    /** Without a leading slash, ending with "/". Never "": a role may not read a whole bucket. */
    prefix: string;
}

/** The partition, region and account the ARNs are built in. */
export interface AwsScope {
    /** "aws" usually; "aws-cn", "aws-us-gov" elsewhere. */
    partition: string;
    region: string;
    accountId: string;
}

/** What one model's runtime (pod or instance) needs: its artifact prefix, its repository, its log group and metrics. */
export interface ModelRuntimeAccess {
    scope: AwsScope;
    environment: string;
    model: string;
    artifact: S3Location;
    repositoryArn: string;
}

/** The IRSA side of a pod's role: which cluster's OIDC provider, and which one service account. */
export interface IrsaTrust {
    oidcProviderArn: string;
    namespace: string;
    serviceAccount: string;
}

const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** IAM reads `*` and `?` as wildcards and `${...}` as a policy variable, in ARNs and in condition values. */
const IAM_SPECIAL = /[*?$]/;
const PARTITION = /^aws(-[a-z]+)*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_ID = /^\d{12}$/;
/** environment and model names as the config allows them: DNS labels. */
const NAME_SEGMENT = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** ECR repository names: lower-case path components separated by "/". */
const REPOSITORY_NAME = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const REPOSITORY_ARN = /^arn:(aws[a-z-]*):ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/;
const OIDC_PROVIDER_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):oidc-provider\/(.+)$/;
/** An OIDC issuer as IAM keys its conditions: host and path, no scheme, e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
const OIDC_ISSUER = /^[a-z0-9.-]+\.[a-z]{2,}(\/[A-Za-z0-9._~-]+)*$/;
/** Kubernetes names: a namespace is a DNS label, a service account a DNS subdomain. */
const K8S_NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const K8S_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const ROLE_OR_USER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[A-Za-z0-9+=,.@_/-]+$/;

/** The audience EKS's token webhook puts in projected service-account tokens for IRSA. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** ECR actions a runtime needs to pull an image it is allowed to pull. */
const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
/**
 * ECR actions `docker push` makes: it asks which layers exist (BatchCheckLayerAvailability), uploads
 * the missing ones (Initiate/UploadLayerPart/Complete), reads the existing manifest to compare
 * (BatchGetImage) and writes the manifest under its tag (PutImage). Nothing that deletes or
 * re-configures a repository.
 */
const ECR_PUSH_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"];

/**
 * `s3://bucket/models/fraud-scorer/` -> { bucket, prefix: "models/fraud-scorer/" }. A prefix
 * without the trailing slash gets one: `models/fraud-scorer` as an IAM prefix would also match
 * `models/fraud-scorer-v2/`, another model's artifacts.
 */
export function parseS3Uri(uri: string): S3Location {
    const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
    if (!match) throw new Error(`model artifact location ${JSON.stringify(uri)} is not an s3:// URI: expected s3://<bucket>/<prefix>/`);
    const [, bucket, rest = ""] = match;
    const prefix = rest === "" || rest.endsWith("/") ? rest : `${rest}/`;
    return checkS3Location({ bucket, prefix }, uri);
}

function checkS3Location(location: S3Location, source = `s3://${location.bucket}/${location.prefix}`): S3Location {
    const { bucket, prefix } = location;
    if (!BUCKET_NAME.test(bucket)) throw new Error(`model artifact location ${JSON.stringify(source)}: ${JSON.stringify(bucket)} is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')`);
    if (prefix === "") {
        throw new Error(`model artifact location ${JSON.stringify(source)} names no prefix: a runtime role may read only its own model's prefix, never a whole bucket; use s3://${bucket}/<model>/`);
    }
    if (!prefix.endsWith("/")) throw new Error(`model artifact location ${JSON.stringify(source)}: the prefix ${JSON.stringify(prefix)} must end with "/"`);
    if (
        prefix.startsWith("/") ||
        prefix
            .slice(0, -1)
            .split("/")
            .some((segment) => segment === "" || segment === "." || segment === "..")
    ) {
        throw new Error(`model artifact location ${JSON.stringify(source)}: the prefix ${JSON.stringify(prefix)} has an empty, "." or ".." path segment`);
    }
    if (IAM_SPECIAL.test(prefix) || /\s/.test(prefix)) {
        throw new Error(
            `model artifact location ${JSON.stringify(source)}: the prefix ${JSON.stringify(prefix)} contains whitespace, '*', '?' or '$', which IAM would read as wildcards or policy variables`,
        );
    }
    return { bucket, prefix };
}

function checkScope(scope: AwsScope): AwsScope {
    if (!PARTITION.test(scope.partition)) throw new Error(`AWS partition ${JSON.stringify(scope.partition)} is not one such as "aws", "aws-cn" or "aws-us-gov"`);
    if (!REGION.test(scope.region)) throw new Error(`AWS region ${JSON.stringify(scope.region)} is not a region name such as "eu-west-1"`);
    if (!ACCOUNT_ID.test(scope.accountId)) throw new Error(`AWS account id ${JSON.stringify(scope.accountId)} is not 12 digits`);
    return scope;
}

function checkName(kind: string, value: string): string {
    if (!NAME_SEGMENT.test(value)) throw new Error(`${kind} ${JSON.stringify(value)} is not a DNS label (lower-case letters, digits, '-'), so it cannot name a log group or metric namespace`);
    return value;
}

/** `/modelship/<env>/<model>`: one log group per model and environment, so roles can be scoped to it. */
export function logGroupName(environment: string, model: string): string {
    return physicalName("aws-log-group", ["/modelship", checkName("environment", environment), checkName("model", model)], { separator: "/" });
}

/** `modelship/<env>/<model>`: the CloudWatch namespace a model's runtime may publish metrics to. */
export function metricNamespace(environment: string, model: string): string {
    return `modelship/${checkName("environment", environment)}/${checkName("model", model)}`;
}

/** The log group's ARN, without the `:*` suffix DescribeLogGroups shows. */
export function logGroupArn(scope: AwsScope, name: string): string {
    checkScope(scope);
    if (!/^[A-Za-z0-9_\-/.#]{1,512}$/.test(name)) throw new Error(`log group name ${JSON.stringify(name)} has characters CloudWatch Logs does not allow (letters, digits, _ - / . #)`);
    return `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
}

/** `arn:<p>:ecr:<region>:<account>:repository/<name>`. */
export function repositoryArn(scope: AwsScope, repositoryName: string): string {
    checkScope(scope);
    if (!REPOSITORY_NAME.test(repositoryName)) throw new Error(`ECR repository name ${JSON.stringify(repositoryName)} is not valid (lower-case path components such as modelship/fraud-scorer)`);
    return `arn:${scope.partition}:ecr:${scope.region}:${scope.accountId}:repository/${repositoryName}`;
}

/** A repository ARN from outside (config, another stack): exact, and in the scope's partition. */
function checkRepositoryArn(scope: AwsScope, arn: string): string {
    const match = REPOSITORY_ARN.exec(arn);
    if (!match || !REPOSITORY_NAME.test(match[4])) throw new Error(`${JSON.stringify(arn)} is not an ECR repository ARN (arn:<partition>:ecr:<region>:<account>:repository/<name>, no wildcards)`);
    if (match[1] !== scope.partition) throw new Error(`ECR repository ${arn} is in partition ${match[1]}, not ${scope.partition}`);
    return arn;
}

/**
 * A statement on `Resource: "*"`. Only actions AWS cannot scope to a resource may be granted this
 * way, and the list of them is RESOURCE_WILDCARD_EXCEPTIONS, the same list the policy pack checks:
 * a builder asking for anything else is a bug here, not a policy violation found later.
 */
function wildcardResourceStatement(sid: string, actions: string[], condition?: PolicyStatement["Condition"]): PolicyStatement {
    const scoped = actions.filter((action) => !Object.prototype.hasOwnProperty.call(RESOURCE_WILDCARD_EXCEPTIONS, action));
    if (scoped.length > 0) throw new Error(`statement ${sid}: ${scoped.join(", ")} can be scoped to resources, so it may not be granted on "*" (see RESOURCE_WILDCARD_EXCEPTIONS)`);
    return { Sid: sid, Effect: "Allow", Action: sorted(actions), Resource: "*", ...(condition ? { Condition: condition } : {}) };
}

function allow(sid: string, actions: string[], resources: string[], condition?: PolicyStatement["Condition"]): PolicyStatement {
    return { Sid: sid, Effect: "Allow", Action: sorted(actions), Resource: resources.length === 1 ? resources[0] : resources, ...(condition ? { Condition: condition } : {}) };
}

function sorted(values: readonly string[]): string[] {
    return [...new Set(values)].sort();
}

/**
 * The runtime role of one model in one environment (pod or instance): read its artifact prefix,
 * pull its image, write its log streams, publish its metrics. Nothing it could use to change
 * infrastructure, another model's artifacts, or its own artifacts.
 */
export function modelRuntimePolicy(access: ModelRuntimeAccess): PolicyDocument {
    const scope = checkScope(access.scope);
    const { bucket, prefix } = checkS3Location(access.artifact);
    const repository = checkRepositoryArn(scope, access.repositoryArn);
    const bucketArn = `arn:${scope.partition}:s3:::${bucket}`;
    return {
        Version: "2012-10-17",
        Statement: [
            // Objects under the prefix only, at any depth (versions are sub-folders); no Put/Delete:
            // artifacts are written once by the release pipeline, never by the server.
            allow("ReadModelArtifact", ["s3:GetObject"], [`${bucketArn}/${prefix}*`]),
            // ListBucket acts on the bucket, not on keys, so its ARN cannot carry the prefix: without
            // the s3:prefix condition the role could list every model's keys in the bucket. A list
            // call without a prefix has no s3:prefix key, so StringLike fails and it is denied too.
            allow("ListModelArtifact", ["s3:ListBucket"], [bucketArn], { StringLike: { "s3:prefix": [`${prefix}*`] } }),
            // Pull from this model's repository only.
            allow("PullImage", ECR_PULL_ACTIONS, [repository]),
            // The registry login token is account-wide (no resource ARN); what the token can pull is
            // still limited by PullImage above.
            wildcardResourceStatement("RegistryLogin", ["ecr:GetAuthorizationToken"]),
            // Streams of this model's log group only. The group itself is created by the stack, so
            // the role has no logs:CreateLogGroup and cannot create groups with unbounded retention.
            allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroupArn(scope, logGroupName(access.environment, access.model))}:log-stream:*`]),
            // A metric in a namespace has no ARN: the catalogue's one resource type for
            // PutMetricData is an OTLP dataset, which these requests never name, so the grant is on
            // "*". The cloudwatch:namespace condition keeps one model from writing another's (or an
            // AWS/*) namespace and skewing the rollout analysis, and denies OTLP ingest, which
            // carries no namespace.
            wildcardResourceStatement("PutMetrics", ["cloudwatch:PutMetricData"], {
                StringEquals: { "cloudwatch:namespace": metricNamespace(access.environment, access.model) },
            }),
        ],
    };
}

/** `oidc.eks.<region>.amazonaws.com/id/<id>`: the issuer part of an OIDC provider ARN, which prefixes its condition keys. */
function oidcIssuerOf(providerArn: string): string {
    const match = OIDC_PROVIDER_ARN.exec(providerArn);
    if (!match || !OIDC_ISSUER.test(match[3])) {
        throw new Error(`${JSON.stringify(providerArn)} is not an IAM OIDC provider ARN (arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>)`);
    }
    return match[3];
}

/**
 * Trust for IRSA: tokens from this cluster's OIDC provider, for exactly one service account
 * (`sub`), minted for STS (`aud`). Without `sub` any pod of the cluster could become the role;
 * without `aud` a token minted for another audience could be exchanged.
 */
export function irsaTrustPolicy(trust: IrsaTrust): PolicyDocument {
    const issuer = oidcIssuerOf(trust.oidcProviderArn);
    if (!K8S_NAMESPACE.test(trust.namespace)) throw new Error(`Kubernetes namespace ${JSON.stringify(trust.namespace)} is not a DNS label`);
    if (!K8S_SUBDOMAIN.test(trust.serviceAccount)) throw new Error(`Kubernetes service account ${JSON.stringify(trust.serviceAccount)} is not a DNS subdomain name`);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AssumeFromServiceAccount",
                Effect: "Allow",
                Principal: { Federated: trust.oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    // StringEquals, not StringLike: the subject is one exact service account.
                    StringEquals: {
                        [`${issuer}:aud`]: STS_AUDIENCE,
                        [`${issuer}:sub`]: `system:serviceaccount:${trust.namespace}:${trust.serviceAccount}`,
                    },
                },
            },
        ],
    };
}

/** Trust for an instance profile's role: only the EC2 service assumes it, on behalf of the instance. */
export function ec2TrustPolicy(): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "AssumeFromEc2", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
}

/**
 * The deployer (CI) pushes images to the given repositories and nothing else: no pulls from
 * others, no repository deletion or policy changes, no S3, ECS, EKS or IAM. Deploying the stack
 * itself is a different identity's job.
 */
export function deployerPolicy(scope: AwsScope, repositoryArns: string[]): PolicyDocument {
    checkScope(scope);
    if (repositoryArns.length === 0) throw new Error("deployerPolicy needs at least one ECR repository ARN to push to");
    const repositories = sorted(repositoryArns.map((arn) => checkRepositoryArn(scope, arn)));
    return {
        Version: "2012-10-17",
        Statement: [
            allow("PushImage", ECR_PUSH_ACTIONS, repositories),
            // `docker login` comes first; the token is account-wide, the pushes are scoped above.
            wildcardResourceStatement("RegistryLogin", ["ecr:GetAuthorizationToken"]),
        ],
    };
}

/** Trust for the deployer role: exactly one role or user (e.g. the CI runner's role), by ARN. */
export function deployerTrustPolicy(trustedPrincipalArn: string): PolicyDocument {
    if (!ROLE_OR_USER_ARN.test(trustedPrincipalArn)) {
        throw new Error(`${JSON.stringify(trustedPrincipalArn)} is not an IAM role or user ARN: the deployer role trusts one named principal, not an account or "*"`);
    }
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "AssumeFromTrustedPrincipal", Effect: "Allow", Principal: { AWS: trustedPrincipalArn }, Action: "sts:AssumeRole" }],
    };
}
