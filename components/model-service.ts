/**
 * Everything one model needs on a target: an image per track, the traffic plan, and the
 * workloads the target runs for each track.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "./config/schema";
import { ModelImage } from "./image";
import type { ContainerRegistry } from "./registry";
import type { DeployedModel, ModelTarget } from "./target";
import { planTraffic } from "./traffic/plan";
import { perTrack, type TrackName, type TrafficPlan } from "./traffic/types";

export interface ModelServiceArgs {
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
        super("modelship:model:ModelService", name, {}, opts);
        this.plan = planTraffic(name, args.config);
        const repository = args.registry.repository(name);
        const images: Partial<Record<TrackName, ModelImage>> = {};
        for (const track of this.plan.tracks) {
            const config = args.config.tracks[track.track];
            if (!config) throw new Error(`model ${name}: the plan has a ${track.track} track that the config lacks`);
            images[track.track] = new ModelImage(
                `${name}-${track.track}`,
                { model: name, track: track.track, version: track.version, source: config.source, repository },
                { parent: this },
            );
        }
        this.images = pulumi.all(Object.fromEntries(Object.entries(images).map(([track, image]) => [track, image.ref])));
        this.deployed = args.target.deployModel({ name, config: args.config, plan: this.plan, images }, this);
        this.registerOutputs({ images: this.images, weights: perTrack(this.plan, (t) => t.weight) });
    }
}

