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
import type { DeployedModel, ModelTarget } from "./target";
import { planTraffic } from "./traffic/plan";
import { perTrack, type TrackName, type TrafficPlan } from "./traffic/types";
import { COMPONENT_TYPES } from "./type-tokens";

export interface ModelServiceArgs {
    environment: string;
    config: ModelConfig;
    registry: ContainerRegistry;
    target: ModelTarget;
}

export class ModelService extends pulumi.ComponentResource {
    readonly plan: TrafficPlan;
    readonly deployed: DeployedModel;
    /** The image reference each track runs. */
    readonly images: pulumi.Output<Partial<Record<TrackName, string>>>;

    constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
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
        const smoke = args.target.smoke;
        const specs = gatePlan(args.config, this.plan, args.environment, smoke?.byDefault(args.config) ?? false);
        const model = { name, config: args.config, plan: this.plan, images };
        const gates =
            specs.length === 0
                ? undefined
                : new ModelGates(
                      `${name}-gates`,
                      { model: name, config: args.config, specs, images, ...(smoke ? { smoke: (spec, image, parent) => smoke.gate({ model, spec, image, workloads: deployed.backends[spec.track]?.resources ?? [] }, parent) } : {}) },
                      { parent: this },
                  );
        this.deployed = { ...deployed, ...(gates ? { gates: gates.byTrack } : {}) };
        this.registerOutputs({ images: this.images, weights: perTrack(this.plan, (t) => t.weight) });
    }
}

