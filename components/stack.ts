/**
 * The stack program: registry, target, one ModelService per model, then the router in front of
 * them all. index.ts runs it with the loaded config; the render tool and tests run it under mocks.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AwsVmTarget } from "./targets/aws-vm/target";
import type { ModelshipConfig, TargetConfig } from "./config/schema";
import { DockerTarget } from "./targets/docker/target";
import { KubernetesTarget } from "./targets/kubernetes/target";
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

function createTarget(name: string, target: TargetConfig, config: ModelshipConfig, registry: ContainerRegistry): ModelTarget {
    const environment = config.environment;
    switch (target.type) {
        case "docker":
            return new DockerTarget(name, { config: target, environment });
        case "kubernetes":
            return new KubernetesTarget(name, { config: target, environment, registry });
        case "aws-vm":
            return new AwsVmTarget(name, { config: target, environment, registry, models: Object.keys(config.models).filter((m) => config.models[m].target === name) });
    }
}

export function deployModelship(config: ModelshipConfig): StackOutputs {
    const names = Object.keys(config.models);
    const registry = new ContainerRegistry("registry", { config: config.registry, environment: config.environment, models: names });
    const targets = new Map(Object.entries(config.targets).map(([name, target]) => [name, createTarget(name, target, config, registry)]));
    const targetOf = (model: string): ModelTarget => {
        const target = targets.get(config.models[model].target);
        if (!target) throw new Error(`model ${model}: no target ${config.models[model].target}`);
        return target;
    };
    const services = names.map((name) => new ModelService(name, { environment: config.environment, config: config.models[name], registry, target: targetOf(name) }));
    // One router per target, in front of the models it runs.
    const endpoints: Record<string, pulumi.Output<string>> = {};
    for (const [name, target] of targets) {
        Object.assign(endpoints, target.route(services.filter((s) => config.models[s.plan.model].target === name).map((s) => s.deployed)));
    }
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
