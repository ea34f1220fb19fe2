/**
 * The stack program: registry, target, one ModelService per model, then the router in front of
 * them all. index.ts runs it with the loaded config; the render tool and tests run it under mocks.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelshipConfig } from "./config/schema";
import { targetModels, type TargetModels } from "./model-service";
import { ContainerRegistry } from "./registry";
import { targetDefinition, type TargetConfig } from "./targets/registry";
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
    /** Each track's Prometheus metrics URL on the deployer's machine, where the target publishes one (docker). */
    metrics: pulumi.Output<Partial<Record<TrackName, string>>>;
}

export interface StackOutputs {
    environment: string;
    models: Record<string, ModelOutputs>;
}

function createTarget(name: string, target: TargetConfig, config: ModelshipConfig, registry: ContainerRegistry): TargetModels {
    const models = Object.keys(config.models).filter((m) => config.models[m].target === name);
    return targetDefinition(target.type).create(name, target, { environment: config.environment, registry, models }, targetModels);
}

export function deployModelship(config: ModelshipConfig): StackOutputs {
    const names = Object.keys(config.models);
    const registry = new ContainerRegistry("registry", { config: config.registry, environment: config.environment, models: names });
    const targets = new Map(Object.entries(config.targets).map(([name, target]) => [name, createTarget(name, target, config, registry)]));
    const targetOf = (model: string): TargetModels => {
        const target = targets.get(config.models[model].target);
        if (!target) throw new Error(`model ${model}: no target ${config.models[model].target}`);
        return target;
    };
    const services = names.map((name) => targetOf(name).deploy(name, { environment: config.environment, config: config.models[name], registry }));
    // One router per target, in front of the models it runs.
    const endpoints: Record<string, pulumi.Output<string>> = {};
    for (const target of targets.values()) Object.assign(endpoints, target.route());
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
                    metrics: service.metrics,
                };
                return [plan.model, outputs];
            }),
        ),
    };
}
