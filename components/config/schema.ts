/**
 * The zod schema of the `modelship:` config namespace. Shapes only: rules that relate one key to
 * another live in rules.ts, so each can be read and tested on its own.
 */
import { Platform } from "@pulumi/docker-build/types/enums";
import { z } from "zod";
import { strategySchema } from "../strategies";
import type { TargetConfig } from "../targets/registry";
import { autoscalingSchema } from "./autoscaling";
import { routesSchema } from "./routes";
import { analysisSchema } from "./analysis";
import { modelRegistrySchema, pinnedArtifactSchema } from "./model-registry";
import { serverSchema } from "./server";

export type { AnalysisConfig } from "./analysis";

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

export const nameSchema = z.string().regex(DNS_LABEL, { error: "a DNS label: lower-case letters, digits and '-', at most 40 characters, starting with a letter" });
export const portSchema = z.number().int().min(1).max(65535);
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
        /** Scale between bounds instead of a fixed `replicas` (a HorizontalPodAutoscaler, an Auto Scaling group's target tracking). */
        autoscaling: autoscalingSchema.optional(),
        featureFlags: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: "a flag name: letters, digits, _" }), flagValue).default({}),
        /** Another Open Inference Protocol server this track's image runs instead of modelship's own (config/server.ts). */
        server: serverSchema.optional(),
        /** The registry version this track runs, as `modelship pin` wrote it (a model whose artifact is models:/...). */
        artifact: pinnedArtifactSchema.optional(),
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
const quantity = z.union([z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G)?$/, { error: QUANTITY }), z.number().positive()], { error: QUANTITY }).transform((v) => String(v));
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

const QUANTITY_FACTORS: Readonly<Record<string, number>> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A parsed memory quantity in bytes (512Mi -> 536870912), for targets that do not read quantities themselves. */
export function quantityBytes(quantity: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(quantity);
    if (!match) throw new Error(`unreachable: ${quantity} passed the quantity schema`);
    return Math.floor(Number(match[1]) * QUANTITY_FACTORS[match[2] ?? ""]);
}

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
    /**
     * Where the model's files live: a local path (docker target), a store such as
     * s3://bucket/prefix/ holding <version>/model.json, or a model registry's models:/<name>/<version>
     * or models:/<name>@<alias>, which each track pins (model-registry.ts).
     */
    artifact: z.string().min(1),
    /** The port the model server listens on inside its container. */
    port: portSchema.default(8080),
    tracks: z.strictObject({ stable: trackSchema, candidate: trackSchema.optional() }),
    strategy: strategySchema,
    /** Requests with a chosen header or cookie value sent to one track, before the weighted split. */
    routes: routesSchema,
    /** How long a track's new pods may take to become ready before the update fails and leaves the route as it was (Kubernetes). */
    readyTimeoutSeconds: z.number().int().min(10).max(3600).default(600),
    /** Checks a version must pass before any traffic moves to it. */
    gates: gatesSchema.prefault({}),
    /** The thresholds a rollout is judged by; alerts use them too. */
    analysis: analysisSchema.prefault({}),
    resources: resourcesSchema.default({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }),
    gpu: gpuSchema.optional(),
    /** Services the model needs before it can start: an init container waits for each. */
    dependsOn: z.array(dependencySchema).default([]),
    /** IAM role for the model's pods (IRSA on EKS). */
    serviceAccountRoleArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]+$/, { error: "an IAM role ARN" })
        .optional(),
    /** The model registry a models:/ artifact names (MLflow). */
    modelRegistry: modelRegistrySchema.optional(),
});

/** The targets map with each target left unparsed: targets are parsed one at a time. */
export const targetEntriesSchema = z.record(nameSchema, z.unknown()).refine((targets) => Object.keys(targets).length > 0, { error: "at least one target" });

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
                .strictObject({ trustedPrincipalArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[A-Za-z0-9+=,.@_/-]+$/, { error: "the ARN of the IAM role or user CI runs as" }) })
                .optional(),
        }),
        z.strictObject({ type: z.literal("external"), url: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, { error: "a registry host[:port][/path]" }) }),
    ],
    { error: "a registry type: local, ecr or external" },
);

/** The models map with each model left unparsed: models are parsed one at a time. */
export const modelEntriesSchema = z.record(nameSchema, z.unknown()).refine((models) => Object.keys(models).length > 0, { error: "at least one model" });

export const environmentSchema = nameSchema;

export type BuildConfig = z.infer<typeof buildSchema>;
export type TrackConfig = z.infer<typeof trackSchema>;
export type ResourcesConfig = z.infer<typeof resourcesSchema>;
export type GpuConfig = z.infer<typeof gpuSchema>;
export type DependencyConfig = z.infer<typeof dependencySchema>;
export type GatesConfig = z.infer<typeof gatesSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
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
