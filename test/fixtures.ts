/** Raw stack configs (as they arrive from Pulumi.<stack>.yaml) for tests to start from and break. */
import { ConfigError } from "../components/config/errors";
import { parseConfig, type RawConfig } from "../components/config/parse";
import { isTwoTrack } from "../components/strategies";

export const DIGEST = `sha256:${"a".repeat(64)}`;
export const OTHER_DIGEST = `sha256:${"b".repeat(64)}`;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type RawModel = Record<string, unknown>;

export function canaryModel(overrides: RawModel = {}): RawModel {
    return {
        artifact: "model-server/models/fraud-scorer",
        tracks: {
            stable: { version: "1.4.0", build: { context: "model-server" }, replicas: 2 },
            candidate: { version: "1.5.0", build: { context: "model-server" }, replicas: 2 },
        },
        strategy: { type: "canary", steps: [10, 25, 50, 100], step: 0 },
        ...overrides,
    };
}

export function dockerConfig(models: Record<string, RawModel> = { "fraud-scorer": canaryModel() }): Mutable<RawConfig> {
    return {
        environment: "dev",
        targets: { local: { type: "docker", port: 8080, routerImage: "nginx:1.27-bookworm" } },
        registry: { type: "local" },
        models,
    };
}

export type KubernetesRouter =
    { type: "gateway-api"; gateway: { name: string; namespace: string }; implementation?: string; channel?: "standard" | "experimental" } | { type: "nginx"; image: string } | { type: "none" };

// An implementation that mirrors any share, so every strategy runs on it (test/unit/gateway-mirror.test.ts: the others).
export const GATEWAY_ROUTER: KubernetesRouter = { type: "gateway-api", gateway: { name: "inference", namespace: "gateway-system" }, implementation: "envoy-gateway", channel: "experimental" };
export const NGINX_ROUTER: KubernetesRouter = { type: "nginx", image: `nginx@${DIGEST}` };

export function prodModel(overrides: RawModel = {}): RawModel {
    return {
        artifact: "s3://models-prod/fraud-scorer/",
        tracks: {
            stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, replicas: 4 },
            candidate: { version: "1.5.0", image: `registry.example/fraud-scorer@${OTHER_DIGEST}`, replicas: 4 },
        },
        strategy: { type: "canary", steps: [5, 25, 50, 100], step: 1 },
        ...overrides,
    };
}

export function kubernetesConfig(router: KubernetesRouter = GATEWAY_ROUTER, models: Record<string, RawModel> = { "fraud-scorer": prodModel() }): Mutable<RawConfig> {
    return {
        environment: "prod",
        targets: { cluster: { type: "kubernetes", namespace: "models", router } },
        registry: { type: "ecr" },
        models,
    };
}

/** Strategy configs by type, valid on every router that can split traffic. */
export const STRATEGIES: Record<string, Record<string, unknown>> = {
    recreate: { type: "recreate" },
    rolling: { type: "rolling", maxSurge: 1, maxUnavailable: 0 },
    blueGreen: { type: "blueGreen", active: "candidate" },
    canary: { type: "canary", steps: [10, 50, 100], step: 1 },
    abTest: { type: "abTest", candidateWeight: 30, stickyBy: { cookie: "uid" } },
    shadow: { type: "shadow", mirrorPercent: 20 },
};

/** A model for `strategy`, with a candidate only where the strategy has one. */
export function modelFor(base: RawModel, strategy: string): RawModel {
    const tracks = base.tracks as { stable: unknown; candidate: unknown };
    return { ...base, strategy: STRATEGIES[strategy], tracks: isTwoTrack(strategy) ? tracks : { stable: tracks.stable } };
}

export const AWS_VM_TARGET = {
    type: "aws-vm",
    vpcId: "vpc-0a1b2c3d4e5f60718",
    subnetIds: ["subnet-0a1b2c3d4e5f60719", "subnet-0a1b2c3d4e5f6071a"],
    allowedCidrs: ["10.0.0.0/16"],
    ami: { ssmParameter: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id" },
};

export function awsVmConfig(models: Record<string, RawModel> = { "fraud-scorer": prodModel() }): Mutable<RawConfig> {
    return { environment: "prod", targets: { vms: AWS_VM_TARGET }, registry: { type: "ecr" }, models };
}

/** The longest names the config accepts: 40-character DNS labels (stack, target, model, namespace), 64-character versions. */
export const LONGEST = {
    stack: `stack-${"s".repeat(34)}`,
    target: `target-${"t".repeat(33)}`,
    model: `model-${"m".repeat(34)}`,
    namespace: `namespace-${"n".repeat(30)}`,
    stableVersion: `1.4.0-${"r".repeat(58)}`,
    candidateVersion: `1.5.0-${"r".repeat(58)}`,
};

function longestModel(strategy: string): RawModel {
    const image = (digest: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/${LONGEST.model}@${digest}`;
    return modelFor(
        {
            target: LONGEST.target,
            artifact: `s3://models/${LONGEST.model}/`,
            tracks: {
                stable: { version: LONGEST.stableVersion, image: image(DIGEST), replicas: 2 },
                candidate: { version: LONGEST.candidateVersion, image: image(OTHER_DIGEST), replicas: 2 },
            },
            // A recorded request turns the smoke gate on: on kubernetes, a Job per track.
            gates: { smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } },
        },
        strategy,
    );
}

function longestStack(target: Record<string, unknown>, registry: Record<string, unknown>, model: RawModel): Mutable<RawConfig> {
    return { environment: LONGEST.stack, targets: { [LONGEST.target]: target }, registry, models: { [LONGEST.model]: model } };
}

/** A kubernetes target with IRSA (a role per model) and the Prometheus Operator where the router is the Gateway API. */
export function longestKubernetesStack(router: KubernetesRouter): Mutable<RawConfig> {
    const irsa = { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE" };
    return longestStack(
        { type: "kubernetes", namespace: LONGEST.namespace, router, irsa, monitoring: { prometheusOperator: router.type === "gateway-api" } },
        { type: "ecr", deployer: { trustedPrincipalArn: "arn:aws:iam::123456789012:role/ci" } },
        longestModel(router.type === "none" ? "rolling" : "canary"),
    );
}

/** Stacks of the longest names on every target (stack name: LONGEST.stack), by target. */
export function longestNamesStacks(): Record<string, Mutable<RawConfig>> {
    return {
        docker: longestStack(
            { type: "docker", port: 8080, routerImage: "nginx:1.27-bookworm" },
            { type: "local" },
            {
                ...canaryModel({ target: LONGEST.target }),
                tracks: {
                    stable: { version: LONGEST.stableVersion, build: { context: "model-server" }, replicas: 2 },
                    candidate: { version: LONGEST.candidateVersion, build: { context: "model-server" }, replicas: 2 },
                },
            },
        ),
        "kubernetes, router gateway-api": longestKubernetesStack(GATEWAY_ROUTER),
        "kubernetes, router nginx": longestKubernetesStack(NGINX_ROUTER),
        "kubernetes, router none": longestKubernetesStack({ type: "none" }),
        "aws-vm": longestStack({ ...AWS_VM_TARGET, internal: false }, { type: "ecr" }, longestModel("canary")),
    };
}

/** Every issue a stack's config has (none when it parses), as one ConfigError would list them. */
export function configIssues(raw: RawConfig, stack = "prod"): ConfigError["issues"] {
    try {
        parseConfig(raw, stack);
    } catch (error) {
        if (error instanceof ConfigError) return error.issues;
        throw error;
    }
    return [];
}
