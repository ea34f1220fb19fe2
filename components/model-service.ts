/**
 * Everything one model needs on a target: an image per track, the traffic plan, and the
 * workloads the target runs for each track.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "./config/schema";
import { ModelGates } from "./gates/model-gates";
import { gatePlan } from "./gates/plan";
import { ModelImage } from "./image";
import type { ContainerRegistry } from "./registry";
import type { DeployedModel, ModelTarget, SmokeGate } from "./target";
import { planTraffic } from "./traffic/plan";
import { perTrack, TRACK_NAMES, type TrackName, type TrafficPlan } from "./traffic/types";
import { COMPONENT_TYPES } from "./type-tokens";

export interface ModelServiceArgs<B> {
    /** The stack's environment (dev, lab, prod): gates are required in prod, advisory elsewhere. */
    environment: string;
    /** The model's config, its target resolved. */
    config: ModelConfig;
    /** Where the model's built images are pushed, and prebuilt ones are read from. */
    registry: ContainerRegistry;
    /** The target that runs the model's tracks; its router is created later, for all its models at once. */
    target: ModelTarget<B>;
}

export class ModelService<B> extends pulumi.ComponentResource {
    readonly plan: TrafficPlan;
    readonly deployed: DeployedModel<B>;
    /** The image reference each track runs. */
    readonly images: pulumi.Output<Partial<Record<TrackName, string>>>;
    /** Each track's metrics URL, where the target publishes one. */
    readonly metrics: pulumi.Output<Partial<Record<TrackName, string>>>;

    constructor(name: string, args: ModelServiceArgs<B>, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.modelService, name, {}, opts);
        this.plan = planTraffic(name, args.config);
        const repository = args.registry.repository(name);
        const images: Partial<Record<TrackName, ModelImage>> = {};
        const builtVersions = [...new Set(this.plan.tracks.flatMap((t) => ("build" in t.source ? [t.version] : [])))];
        for (const track of this.plan.tracks) {
            images[track.track] = new ModelImage(
                `${name}-${track.track}`,
                { model: name, track: track.track, version: track.version, source: track.source, repository, builtVersions },
                { parent: this },
            );
        }
        const refs: Partial<Record<TrackName, pulumi.Output<string>>> = Object.fromEntries(Object.entries(images).map(([track, image]) => [track, image.ref]));
        this.images = pulumi.all(refs);
        const deployed = args.target.deployModel({ name, config: args.config, plan: this.plan, images }, this);
        this.metrics = pulumi.all(
            Object.fromEntries(Object.entries(deployed.tracks).flatMap(([track, t]) => (t?.metrics ? [[track, t.metrics]] : []))) as Partial<Record<TrackName, pulumi.Output<string>>>,
        );
        const specs = gatePlan(args.config, this.plan, args.environment, deployed.smokeByDefault);
        const smoke: Partial<Record<TrackName, SmokeGate>> = {};
        for (const track of TRACK_NAMES) {
            const gate = deployed.tracks[track]?.smoke;
            if (gate) smoke[track] = gate;
        }
        const gates = specs.length === 0 ? undefined : new ModelGates(`${name}-gates`, { model: name, config: args.config, specs, images, smoke }, { parent: this });
        this.deployed = { ...deployed, ...(gates ? { gates: gates.byTrack } : {}) };
        this.registerOutputs({ images: this.images, weights: perTrack(this.plan, (t) => t.weight) });
    }
}

/** A target as the stack program holds it, its backend type hidden: models are deployed onto it one by one, then routed together. */
export interface TargetModels {
    /** Creates one model's ModelService on this target. */
    deploy(name: string, args: Omit<ModelServiceArgs<unknown>, "target">): ModelService<unknown>;
    /** Creates the target's router in front of the models deployed so far; each model's endpoint URL by name. */
    route(): Record<string, pulumi.Output<string>>;
}

export function targetModels<B>(target: ModelTarget<B>): TargetModels {
    const deployed: DeployedModel<B>[] = [];
    return {
        deploy(name, args) {
            const service = new ModelService<B>(name, { ...args, target });
            deployed.push(service.deployed);
            return service;
        },
        route: () => target.route(deployed),
    };
}
