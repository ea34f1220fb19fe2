/**
 * The stack program: registry, target, one ModelService per model, then the router in front of
 * them all. index.ts runs it with the loaded config; the render tool and tests run it under mocks.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelshipConfig } from "./config/schema";
import { DockerTarget } from "./docker/target";
import { KubernetesTarget } from "./kubernetes/target";
import { ModelService } from "./model-service";
import { ContainerRegistry } from "./registry";
import type { ModelTarget } from "./target";
import { perTrack, type StepPosition, type TrackName } from "./traffic/types";

export interface ModelOutputs {
    endpoint: pulumi.Output<string>;
    strategy: string;
    step?: StepPosition;
    aborted: boolean;
    versions: Partial<Record<TrackName, string>>;
    weights: Partial<Record<TrackName, number>>;
    mirrorPercent: Partial<Record<TrackName, number>>;
    replicas: Partial<Record<TrackName, number>>;
    images: pulumi.Output<Partial<Record<TrackName, string>>>;
}

export interface StackOutputs {
    environment: string;
    models: Record<string, ModelOutputs>;
}

function createTarget(config: ModelshipConfig): ModelTarget {
    const target = config.target;
    return target.type === "docker"
        ? new DockerTarget("docker", { config: target, environment: config.environment })
        : new KubernetesTarget("kubernetes", { config: target, environment: config.environment });
}

export function deployModelship(config: ModelshipConfig): StackOutputs {
    const names = Object.keys(config.models);
    const registry = new ContainerRegistry("registry", { config: config.registry, environment: config.environment, models: names });
    const target = createTarget(config);
    const services = names.map((name) => new ModelService(name, { config: config.models[name], registry, target }));
    const endpoints = target.route(services.map((s) => s.deployed));
    return {
        environment: config.environment,
        models: Object.fromEntries(
            services.map((service) => {
                const plan = service.plan;
                const outputs: ModelOutputs = {
                    endpoint: endpoints[plan.model],
                    strategy: plan.strategy,
                    ...(plan.step ? { step: plan.step } : {}),
                    aborted: plan.aborted,
                    versions: perTrack(plan, (t) => t.version),
                    weights: perTrack(plan, (t) => t.weight),
                    mirrorPercent: perTrack(plan, (t) => t.mirrorPercent),
                    replicas: perTrack(plan, (t) => t.replicas),
                    images: service.images,
                };
                return [plan.model, outputs];
            }),
        ),
    };
}
