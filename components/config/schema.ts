/**
 * The zod schema of the `modelship:` config namespace. Shapes only: rules that relate one key to
 * another live in rules.ts, so each can be read and tested on its own.
 */
import { Platform } from "@pulumi/docker-build/types/enums";
import { z } from "zod";
import { GATEWAY_IMPLEMENTATION_NAMES } from "../capabilities";
import { strategySchema } from "../strategies";

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** name[:tag][@sha256:digest], with a registry host and path allowed in the name. */
const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const DIGEST_SUFFIX = /@sha256:[a-f0-9]{64}$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

export function isPinnedByDigest(image: string): boolean {
    return DIGEST_SUFFIX.test(image);
}

/** The tag part of an image reference, or undefined when there is none (which means `latest`). */
export function imageTag(image: string): string | undefined {
    const withoutDigest = image.replace(DIGEST_SUFFIX, "");
    const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    return colon === -1 ? undefined : lastSegment.slice(colon + 1);
}

export const imageRefSchema = z
    .string()
    .regex(IMAGE_REF, { error: "an image reference such as repo/name:1.2.3 or repo/name@sha256:<64 hex>", abort: true })
    .refine((ref) => isPinnedByDigest(ref) || (imageTag(ref) !== undefined && imageTag(ref) !== "latest"), {
        // Says everything prod needs too, so that fixing `latest` there takes one round, not two.
        error: "an explicit tag other than `latest`, or a digest: `latest` (or no tag) names a different image on every push; prod needs the digest too, e.g. repo/name:1.2.3@sha256:<64 hex>",
    });

const nameSchema = z.string().regex(DNS_LABEL, { error: "a DNS label: lower-case letters, digits and '-', at most 40 characters, starting with a letter" });
const portSchema = z.number().int().min(1).max(65535);
const stringMap = z.record(z.string(), z.string());

export const buildSchema = z.strictObject({
    /** Directory sent to the Docker engine, relative to the project. */
    context: z.string().min(1),
    dockerfile: z.string().min(1).optional(),
    /** Passed as the BASE_IMAGE build arg, so the Dockerfile can pin its base by digest. */
    baseImage: imageRefSchema.optional(),
    args: stringMap.default({}),
    /** The platform the image is built for (the engine's own when unset), one of those BuildKit targets. */
    platform: z.enum(Platform).optional(),
});

const flagValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

export const trackSchema = z
    .strictObject({
        version: z.string().regex(VERSION, { error: "a version such as 1.4.0 (letters, digits, . + _ -)" }),
        image: imageRefSchema.optional(),
        build: buildSchema.optional(),
        replicas: z.number().int().min(1).max(1000).default(1),
        featureFlags: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: "a flag name: letters, digits, _" }), flagValue).default({}),
    })
    .refine((t) => (t.image === undefined) !== (t.build === undefined), {
        error: "exactly one of `image` (a prebuilt reference) or `build` (a Docker build context)",
    })
    .transform(({ image, build, ...rest }) => ({ ...rest, source: imageSource(image, build) }));

export type ImageSource = { image: string } | { build: BuildConfig };

function imageSource(image: string | undefined, build: BuildConfig | undefined): ImageSource {
    if (image !== undefined) return { image };
    if (build !== undefined) return { build };
    throw new Error("unreachable: the track schema requires image or build");
}

const QUANTITY = "a Kubernetes quantity such as 250m, 0.5, 2 or 512Mi";
const quantity = z
    .union([z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G)?$/, { error: QUANTITY }), z.number().positive()], { error: QUANTITY })
    .transform((v) => String(v));
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

export const resourcesSchema = z.strictObject({
    requests: resourceList.default({ cpu: "250m", memory: "256Mi" }),
    limits: resourceList.default({ cpu: "1", memory: "512Mi" }),
});

export const gpuSchema = z.strictObject({
    count: z.number().int().min(1).max(16),
    resourceName: z.string().default("nvidia.com/gpu"),
    nodeSelector: stringMap.default({}),
    tolerations: z
        .array(
            z.strictObject({
                key: z.string(),
                operator: z.enum(["Equal", "Exists"]).default("Equal"),
                value: z.string().optional(),
                effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
            }),
        )
        .default([]),
});

export const dependencySchema = z.strictObject({
    name: nameSchema,
    host: z.string().min(1),
    port: portSchema,
});

export const analysisSchema = z.strictObject({
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    maxP95LatencyMs: z.number().positive().default(250),
    bakeSeconds: z.number().int().min(0).default(300),
    /** What `modelship auto` does when an analysis fails: abort the rollout, or stop and leave it to a person. */
    onFailure: z.enum(["rollback", "pause"]).default("rollback"),
});

/** A gate that runs unless disabled; what `required` left out means is each kind's own rule (components/gates/plan.ts). */
const gateToggle = { enabled: z.boolean().default(true), required: z.boolean().optional(), timeoutSeconds: z.number().int().min(1).max(3600).default(120) };

export const gatesSchema = z.strictObject({
    /** hadolint on the Dockerfile of each built image. */
    lint: z.strictObject(gateToggle).prefault({}),
    /** An image scanner on each image; without a scanner or its database the outcome is "not scanned". */
    scan: z.strictObject({ ...gateToggle, scanner: z.enum(["trivy", "none"]).default("trivy") }).prefault({}),
    /** Readiness, a recorded inference and the legacy route, against the track's own server (on by default where the deployer reaches it: the docker target). */
    smoke: z
        .strictObject({
            ...gateToggle,
            enabled: z.boolean().optional(),
            /** A recorded Open Inference Protocol request (JSON file, relative to the project); default `<artifact>/smoke-request.json`. */
            request: z.string().min(1).optional(),
            expect: z.strictObject({ min: z.number(), max: z.number() }).default({ min: 0, max: 1 }),
            retries: z.number().int().min(0).max(10).default(3),
        })
        .prefault({}),
});

export const modelSchema = z.strictObject({
    /** Which of `targets` runs the model; may be left out when there is only one. */
    target: nameSchema.optional(),
    /** Where the model's files live: a local path (docker target) or a registry URI such as s3://bucket/prefix/. */
    artifact: z.string().min(1),
    /** The port the model server listens on inside its container. */
    port: portSchema.default(8080),
    tracks: z.strictObject({ stable: trackSchema, candidate: trackSchema.optional() }),
    strategy: strategySchema,
    /** How long a track's new pods may take to become ready before the update fails and leaves the route as it was (Kubernetes). */
    readyTimeoutSeconds: z.number().int().min(10).max(3600).default(600),
    /** Checks a version must pass before any traffic moves to it. */
    gates: gatesSchema.prefault({}),
    /** The thresholds a rollout is judged by; alerts use them too. */
    analysis: analysisSchema.default({ maxErrorRate: 0.01, maxP95LatencyMs: 250, bakeSeconds: 300, onFailure: "rollback" }),
    resources: resourcesSchema.default({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }),
    gpu: gpuSchema.optional(),
    /** Services the model needs before it can start: an init container waits for each. */
    dependsOn: z.array(dependencySchema).default([]),
    /** IAM role for the model's pods (IRSA on EKS). */
    serviceAccountRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_\/-]+$/, { error: "an IAM role ARN" }).optional(),
});

export const dockerTargetSchema = z.strictObject({
    type: z.literal("docker"),
    /** Published on 127.0.0.1 only: the dev router is not meant to face a network. */
    port: portSchema.default(8080),
    routerImage: imageRefSchema,
});

export const routerSchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("gateway-api"),
            gateway: z.strictObject({ name: z.string().min(1), namespace: z.string().min(1), sectionName: z.string().optional() }),
            hostnames: z.array(z.string().min(1)).default([]),
            /** The Gateway's implementation: what it does with RequestMirror (components/capabilities.ts) decides whether shadow can run. */
            implementation: z.enum(GATEWAY_IMPLEMENTATION_NAMES, { error: `a Gateway API implementation: ${GATEWAY_IMPLEMENTATION_NAMES.join(", ")}` }).optional(),
        }),
        z.strictObject({
            type: z.literal("nginx"),
            image: imageRefSchema,
            replicas: z.number().int().min(1).default(2),
        }),
        z.strictObject({ type: z.literal("none") }),
    ],
    { error: "a router type: gateway-api, nginx or none" },
);

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** An endpoint URL: http(s), a host, maybe a port and path; no credentials, query or fragment (the SDK would drop or misuse them). */
function isEndpointUrl(value: string): boolean {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && url.username === "" && url.password === "" && url.search === "" && url.hash === "";
}

const endpointSchema = (what: string) =>
    z.string().refine(isEndpointUrl, { error: `an http:// or https:// URL of ${what}, such as https://s3.eu-west-1.amazonaws.com or http://10.0.0.5:9000, without credentials, query or fragment` });

/**
 * How the pods' fetch-artifact init container reaches the artifact store; it alone gets these
 * (the model server never reads S3). Unset keys leave the AWS SDK's defaults: AWS S3 and STS of
 * the region the SDK finds.
 */
export const artifactStoreSchema = z.strictObject({
    /** An S3-compatible store (MinIO, moto, ...), addressed path-style: AWS_ENDPOINT_URL_S3. */
    endpoint: endpointSchema("the S3 API the pods read artifacts from").optional(),
    /** Where the pods exchange their service account token for the role's credentials (AssumeRoleWithWebIdentity): AWS_ENDPOINT_URL_STS. */
    stsEndpoint: endpointSchema("the STS API that exchanges the pods' service account token for credentials").optional(),
    /** The region requests are signed for: AWS_REGION. */
    region: z.string().regex(AWS_REGION, { error: "an AWS region name such as eu-west-1 (the region the store and STS sign requests for)" }).optional(),
});

export const kubernetesTargetSchema = z.strictObject({
    type: z.literal("kubernetes"),
    namespace: nameSchema,
    createNamespace: z.boolean().default(true),
    router: routerSchema,
    /** EKS: create each model's IAM role for its service account (IRSA), trusted through this OIDC provider. */
    irsa: z
        .strictObject({ oidcProviderArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/.+$/, { error: "an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)" }) })
        .optional(),
    /** How pods reach the model artifacts' store and STS; default: AWS's own. */
    artifactStore: artifactStoreSchema.default({}),
    monitoring: z
        .strictObject({
            /** The cluster runs the Prometheus Operator: ServiceMonitor and PrometheusRule objects; otherwise a rules ConfigMap. */
            prometheusOperator: z.boolean().default(false),
        })
        .default({ prometheusOperator: false }),
});

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

export const awsVmTargetSchema = z.strictObject({
    type: z.literal("aws-vm"),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: "a VPC id such as vpc-0abc1234" }),
    /** At least two, in different availability zones: the load balancer needs both. */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "a subnet id such as subnet-0abc1234" })).min(2),
    /** Who may reach the load balancer; nobody else can. */
    allowedCidrs: z.array(z.string().regex(CIDR, { error: "an IPv4 CIDR such as 10.0.0.0/16" })).min(1),
    /** Internal by default: model endpoints face the VPC, not the internet. */
    internal: z.boolean().default(true),
    listenerPort: portSchema.default(80),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "an EC2 instance type such as t3.medium" }).default("t3.medium"),
    /** The machine image: baking it is out of scope; it needs Docker and the AWS CLI (e.g. Amazon Linux 2023 ECS-optimized). */
    ami: z.union([z.strictObject({ id: z.string().regex(/^ami-[0-9a-f]{8,17}$/) }), z.strictObject({ ssmParameter: z.string().startsWith("/") })]),
    instanceRefresh: z
        .strictObject({ minHealthyPercentage: z.number().int().min(0).max(100).default(90), warmupSeconds: z.number().int().min(0).default(120) })
        .default({ minHealthyPercentage: 90, warmupSeconds: 120 }),
});

export const targetSchema = z.discriminatedUnion("type", [dockerTargetSchema, kubernetesTargetSchema, awsVmTargetSchema], {
    error: "a target type: docker, kubernetes or aws-vm",
});

/** The targets map with each target left unparsed: targets are parsed one at a time. */
export const targetEntriesSchema = z
    .record(nameSchema, z.unknown())
    .refine((targets) => Object.keys(targets).length > 0, { error: "at least one target" });

export const registrySchema = z.discriminatedUnion(
    "type",
    [
        /** Images stay in the local Docker engine; nothing is pushed. */
        z.strictObject({ type: z.literal("local") }),
        z.strictObject({
            type: z.literal("ecr"),
            /** Untagged images older than this are expired by the lifecycle policy. */
            expireUntaggedAfterDays: z.number().int().min(1).default(14),
            keepLastImages: z.number().int().min(1).default(30),
            /** A role CI assumes to push images to these repositories, and do nothing else. */
            deployer: z
                .strictObject({ trustedPrincipalArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[A-Za-z0-9+=,.@_\/-]+$/, { error: "the ARN of the IAM role or user CI runs as" }) })
                .optional(),
        }),
        z.strictObject({ type: z.literal("external"), url: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, { error: "a registry host[:port][/path]" }) }),
    ],
    { error: "a registry type: local, ecr or external" },
);

/** The models map with each model left unparsed: models are parsed one at a time. */
export const modelEntriesSchema = z
    .record(nameSchema, z.unknown())
    .refine((models) => Object.keys(models).length > 0, { error: "at least one model" });

export const environmentSchema = nameSchema;

export type BuildConfig = z.infer<typeof buildSchema>;
export type TrackConfig = z.infer<typeof trackSchema>;
export type ResourcesConfig = z.infer<typeof resourcesSchema>;
export type GpuConfig = z.infer<typeof gpuSchema>;
export type DependencyConfig = z.infer<typeof dependencySchema>;
export type AnalysisConfig = z.infer<typeof analysisSchema>;
export type GatesConfig = z.infer<typeof gatesSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type DockerTargetConfig = z.infer<typeof dockerTargetSchema>;
export type KubernetesTargetConfig = z.infer<typeof kubernetesTargetSchema>;
export type ArtifactStoreConfig = z.infer<typeof artifactStoreSchema>;
export type RouterConfig = z.infer<typeof routerSchema>;
export type AwsVmTargetConfig = z.infer<typeof awsVmTargetSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type RegistryConfig = z.infer<typeof registrySchema>;

/** The whole `modelship:` namespace after parsing and every rule. */
/** A model after parsing, with its target resolved. */
export type ResolvedModelConfig = ModelConfig & { target: string };

export interface ModelshipConfig {
    environment: string;
    targets: Readonly<Record<string, TargetConfig>>;
    registry: RegistryConfig;
    models: Readonly<Record<string, ResolvedModelConfig>>;
}

/** Keys of the namespace, in the order errors are reported. */
export const CONFIG_KEYS = ["environment", "targets", "registry", "models"] as const;
