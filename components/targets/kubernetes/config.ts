/** The kubernetes target's config, and the rules it and the models on it must meet. */
import { z } from "zod";
import { imageRefSchema, nameSchema } from "../../config/schema";
import { isRegistryReference } from "../../config/model-registry";
import { hasUriScheme, REGISTRY_ON_DOCKER_ONLY, pinnedImageRules } from "../checks";
import type { ModelPartsView, TargetIssue } from "../definition";
import { GATEWAY_IMPLEMENTATION_NAMES } from "./gateway-implementations";

export const routerSchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("gateway-api"),
            gateway: z.strictObject({ name: z.string().min(1), namespace: z.string().min(1), sectionName: z.string().optional() }),
            hostnames: z.array(z.string().min(1)).default([]),
            /** The Gateway's implementation: what it does with RequestMirror (gateway-implementations.ts) decides whether shadow can run. */
            implementation: z.enum(GATEWAY_IMPLEMENTATION_NAMES, { error: `a Gateway API implementation: ${GATEWAY_IMPLEMENTATION_NAMES.join(", ")}` }).optional(),
            /** The Gateway API release channel of the cluster's CRDs: sticky strategies need experimental's `sessionPersistence`. */
            channel: z.enum(["standard", "experimental"]).default("standard"),
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
        .strictObject({
            oidcProviderArn: z
                .string()
                .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/.+$/, { error: "an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)" }),
        })
        .optional(),
    /**
     * modelship's model-server image (by digest in prod), for tracks whose image is another server
     * (`tracks.<track>.server`): it runs their pods' fetch-artifact init container and their smoke Jobs.
     */
    modelServerImage: imageRefSchema.optional(),
    /** How pods reach the model artifacts' store and STS; default: AWS's own. */
    artifactStore: artifactStoreSchema.default({}),
    monitoring: z
        .strictObject({
            /** The cluster runs the Prometheus Operator: ServiceMonitor and PrometheusRule objects; otherwise a rules ConfigMap. */
            prometheusOperator: z.boolean().default(false),
        })
        .default({ prometheusOperator: false }),
});

export type KubernetesTargetConfig = z.infer<typeof kubernetesTargetSchema>;
export type ArtifactStoreConfig = z.infer<typeof artifactStoreSchema>;
export type RouterConfig = z.infer<typeof routerSchema>;

export function kubernetesTargetRules(config: KubernetesTargetConfig, context: { registry: { type: string } | undefined; production: boolean }): TargetIssue[] {
    const issues: TargetIssue[] = [];
    if (context.registry?.type === "local") {
        issues.push({
            path: "type",
            value: config.type,
            expected: "a docker target, or a registry other than local (ecr or external): a cluster cannot pull images that exist only in the local Docker engine",
        });
    }
    if (config.router.type === "nginx") issues.push(...pinnedImageRules("router.image", config.router.image, context.production));
    if (config.modelServerImage !== undefined) issues.push(...pinnedImageRules("modelServerImage", config.modelServerImage, context.production));
    return issues;
}

/** A namespace hosts one kubernetes target: each creates the Namespace and its router's objects under fixed names. */
export function kubernetesTargetsRules(targets: ReadonlyArray<[string, KubernetesTargetConfig]>): TargetIssue[] {
    const issues: TargetIssue[] = [];
    const namespaceOwners = new Map<string, string>();
    for (const [name, target] of targets) {
        const owner = namespaceOwners.get(target.namespace);
        if (owner === undefined) {
            namespaceOwners.set(target.namespace, name);
            continue;
        }
        issues.push({
            path: `targets.${name}.namespace`,
            value: target.namespace,
            expected: `a namespace no other kubernetes target uses: ${owner} deploys into "${target.namespace}" too, and a target owns its namespace (the Namespace object, the modelship-router objects); run both targets' models on one target, or give ${name} a namespace of its own`,
        });
    }
    return issues;
}

export function kubernetesArtifactRule(artifact: string, model: ModelPartsView, config: KubernetesTargetConfig): TargetIssue | undefined {
    if (isRegistryReference(artifact)) return { path: "artifact", value: artifact, expected: REGISTRY_ON_DOCKER_ONLY };
    if (config.irsa && model.serviceAccountRoleArn === undefined && !artifact.startsWith("s3://")) {
        return { path: "artifact", value: artifact, expected: "an S3 URI such as s3://bucket/models/name/: the model's IRSA role grants read access to exactly that prefix" };
    }
    if (/^(s3|https):\/\//i.test(artifact)) return undefined;
    return {
        path: "artifact",
        value: artifact,
        expected: hasUriScheme(artifact)
            ? "a model registry URI the pods' fetch-artifact init container reads: s3://bucket/models/name/ or https://host/models/name/"
            : "a model registry URI such as s3://bucket/models/name/: a cluster cannot read this machine's files",
    };
}

/** Another server's track fetches its files and runs its smoke check with modelship's own image, which the target names. */
export function kubernetesOtherServerRule(_model: ModelPartsView, config: KubernetesTargetConfig): string | undefined {
    return config.modelServerImage === undefined
        ? "a kubernetes target that names modelship's model-server image (modelServerImage: registry/modelship/fraud-scorer@sha256:...): it fetches and verifies the version's listed files into the pod (a modelship-files/v1 model.json, written by files-manifest.js) and runs the smoke Job"
        : undefined;
}
