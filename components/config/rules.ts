/**
 * Rules that relate one config key to another. Each returns issues instead of throwing, so that
 * every mistake in a stack reaches the user in one message.
 */
import { routerOf, unsupportedMirror } from "../capabilities";
import { strategyRules } from "../strategies/rules";
import { unsupportedStrategy } from "../traffic/features";
import type { ConfigIssue } from "./errors";
import { isPinnedByDigest, type ModelConfig, type RegistryConfig, type TargetConfig } from "./schema";
import { TRACK_NAMES } from "./tracks";

export const PRODUCTION_ENVIRONMENT = "prod";

export function isProduction(environment: string): boolean {
    return environment === PRODUCTION_ENVIRONMENT;
}

/** A path like `s3://bucket/prefix/`; anything without a scheme is a local path. */
function hasUriScheme(location: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//.test(location);
}

type Issue = Omit<ConfigIssue, "path"> & { path: string };

/**
 * A model as far as it parsed. A model with a schema error still has its cross-key rules run on
 * the keys that parsed, so that every mistake is reported at once; each rule checks only what it
 * can see. `tracks` holds the tracks that parsed; `tracksComplete` says whether all of them did.
 */
export type ModelParts = Partial<Omit<ModelConfig, "tracks">> & { tracks: Partial<ModelConfig["tracks"]>; tracksComplete: boolean };

export interface RuleContext {
    stack: string;
    /** Undefined when the target itself failed to parse: target-dependent rules are skipped. */
    target?: TargetConfig;
    /** The target's key under `targets`, for messages that name one of its settings. */
    targetName?: string;
}

export function environmentRules(environment: string, stack: string): Issue[] {
    if (environment === stack) return [];
    return [{ path: "environment", value: environment, expected: `"${stack}", the name of the stack being deployed (a config file copied from another environment?)` }];
}

/**
 * Rules across targets: one local Docker engine can host one docker target, and a namespace one
 * kubernetes target (each creates the Namespace and its router's objects under fixed names).
 */
export function targetsRules(targets: Readonly<Record<string, TargetConfig>>): Issue[] {
    const docker = Object.entries(targets).filter(([, t]) => t.type === "docker");
    const issues: Issue[] = docker.slice(1).map(([name]) => ({ path: `targets.${name}.type`, value: "docker", expected: `one docker target per stack; ${docker[0][0]} is already one` }));
    const namespaceOwners = new Map<string, string>();
    for (const [name, target] of Object.entries(targets)) {
        if (target.type !== "kubernetes") continue;
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

/** Rules for one target; paths are relative to `targets.<name>`. */
export function targetRules(target: TargetConfig, registry: RegistryConfig | undefined, stack: string): Issue[] {
    const issues: Issue[] = [];
    if (target.type === "aws-vm" && registry !== undefined && registry.type !== "ecr") {
        issues.push({ path: "type", value: target.type, expected: `registry type ecr with an aws-vm target: instances pull with their instance role (registry is ${registry.type})` });
    } else if (target.type !== "docker" && registry?.type === "local") {
        issues.push({ path: "type", value: target.type, expected: `a docker target, or a registry other than local (ecr or external): ${target.type === "kubernetes" ? "a cluster" : "an instance"} cannot pull images that exist only in the local Docker engine` });
    }
    if (isProduction(stack)) {
        const routerImage =
            target.type === "docker" ? { path: "routerImage", image: target.routerImage } : target.type === "kubernetes" && target.router.type === "nginx" ? { path: "router.image", image: target.router.image } : undefined;
        if (routerImage && !isPinnedByDigest(routerImage.image)) {
            issues.push({ path: routerImage.path, value: routerImage.image, expected: "an image pinned by digest (name@sha256:...) in prod" });
        }
    }
    return issues;
}

/** Rules for one model; paths are relative to `models.<name>`. */
export function modelRules(model: ModelParts, context: RuleContext): Issue[] {
    return [...strategyRules(model), ...pinningRules(model, context.stack), ...(context.target ? targetFitRules(model, context.target, context.targetName ?? "") : [])];
}

function pinningRules(model: ModelParts, stack: string): Issue[] {
    if (!isProduction(stack)) return [];
    return TRACK_NAMES.flatMap((name) => {
        const source = model.tracks[name]?.source;
        return source && "image" in source && !isPinnedByDigest(source.image)
            ? [{ path: `tracks.${name}.image`, value: source.image, expected: "an image pinned by digest (name@sha256:...) in prod, so what was reviewed is what runs" }]
            : [];
    });
}

function targetFitRules(model: ModelParts, target: TargetConfig, targetName: string): Issue[] {
    const issues: Issue[] = [];
    const unsupported = model.strategy && unsupportedStrategy(routerOf(target), model.strategy.type);
    if (unsupported) issues.push({ path: "strategy.type", value: model.strategy?.type, expected: unsupported });
    const mirror = model.strategy?.type === "shadow" ? unsupportedMirror(target, targetName, model.strategy.mirrorPercent) : undefined;
    if (!unsupported && mirror) issues.push(mirror);
    const smoke = model.gates?.smoke;
    if (smoke?.enabled === true && target.type !== "docker" && smoke.request === undefined) {
        const where = target.type === "kubernetes" ? "the in-cluster smoke Job" : "the smoke gate through the load balancer";
        issues.push({ path: "gates.smoke.request", value: undefined, expected: `a recorded inference request (a JSON file in the project) for ${where}; the artifact is in the model registry, not here` });
    }
    if (smoke && smoke.expect.min > smoke.expect.max) issues.push({ path: "gates.smoke.expect", value: smoke.expect, expected: "min no greater than max" });
    if (target.type !== "kubernetes") {
        const kubernetesOnly: Array<[keyof ModelConfig, boolean]> = [
            ["gpu", model.gpu !== undefined],
            ["dependsOn", (model.dependsOn ?? []).length > 0],
            ["serviceAccountRoleArn", model.serviceAccountRoleArn !== undefined],
        ];
        for (const [key, present] of kubernetesOnly) {
            if (present) issues.push({ path: key, value: model[key], expected: `nothing on the ${target.type} target; this setting is for the kubernetes target` });
        }
    }
    if (model.artifact === undefined) return issues;
    if (target.type === "docker" && hasUriScheme(model.artifact)) {
        issues.push({ path: "artifact", value: model.artifact, expected: "a local path: the docker target mounts the model files from this machine" });
    } else if (target.type === "kubernetes" && target.irsa && model.serviceAccountRoleArn === undefined && !model.artifact.startsWith("s3://")) {
        issues.push({ path: "artifact", value: model.artifact, expected: "an S3 URI such as s3://bucket/models/name/: the model's IRSA role grants read access to exactly that prefix" });
    } else if (target.type === "kubernetes" && !/^(s3|https):\/\//i.test(model.artifact)) {
        issues.push({
            path: "artifact",
            value: model.artifact,
            expected: hasUriScheme(model.artifact)
                ? "a model registry URI the pods' fetch-artifact init container reads: s3://bucket/models/name/ or https://host/models/name/"
                : "a model registry URI such as s3://bucket/models/name/: a cluster cannot read this machine's files",
        });
    } else if (target.type === "aws-vm" && !model.artifact.startsWith("s3://")) {
        issues.push({ path: "artifact", value: model.artifact, expected: "an S3 URI such as s3://bucket/models/name/: instances copy the model from the model bucket at boot" });
    }
    return issues;
}
