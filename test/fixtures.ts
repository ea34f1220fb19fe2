/** Raw stack configs (as they arrive from Pulumi.<stack>.yaml) for tests to start from and break. */
import type { RawConfig } from "../components/config/parse";

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

export type KubernetesRouter = { type: "gateway-api"; gateway: { name: string; namespace: string } } | { type: "nginx"; image: string } | { type: "none" };

export const GATEWAY_ROUTER: KubernetesRouter = { type: "gateway-api", gateway: { name: "inference", namespace: "gateway-system" } };
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
    const singlePool = strategy === "recreate" || strategy === "rolling";
    return { ...base, strategy: STRATEGIES[strategy], tracks: singlePool ? { stable: tracks.stable } : tracks };
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
