/**
 * What a target does for the stack: run the tracks of each model, then put one router in front
 * of all of them. Docker and Kubernetes implement it; ModelService and the stack program only
 * see this interface.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "./config/schema";
import type { ModelImage } from "./image";
import type { ModelRoute } from "./traffic/nginx";
import type { TrackName, TrafficPlan } from "./traffic/types";

export interface ModelDeployment {
    name: string;
    config: ModelConfig;
    plan: TrafficPlan;
    images: Partial<Record<TrackName, ModelImage>>;
}

/** Where the router finds one track. */
export interface TrackBackend {
    /** host:port of each replica or of the track's Service. */
    addresses: readonly string[];
    /** The Kubernetes Service in front of the track, where there is one. */
    service?: { name: string; port: number };
    /** The load balancer target group of the track, on the aws-vm target. */
    targetGroupArn?: pulumi.Output<string>;
    /** The router must wait for these before it sends traffic to the track. */
    resources: readonly pulumi.Resource[];
}

export interface DeployedModel {
    plan: TrafficPlan;
    backends: Partial<Record<TrackName, TrackBackend>>;
    /** Each track's own server as the deployer reaches it, where the target publishes one (smoke gate). */
    smokeUrls?: Partial<Record<TrackName, pulumi.Output<string>>>;
    /** The gates each track passed; filled in by the ModelService before routing. */
    gates?: Partial<Record<TrackName, readonly pulumi.Resource[]>>;
}

export interface ModelTarget {
    /** Creates the model's workloads as children of `parent` (its ModelService). */
    deployModel(model: ModelDeployment, parent: pulumi.Resource): DeployedModel;
    /** Creates the router in front of every model; returns each model's endpoint URL by model name. */
    route(models: readonly DeployedModel[]): Record<string, pulumi.Output<string>>;
}

/** What the nginx renderer needs of deployed models: each track's addresses. */
export function nginxRoutes(models: readonly DeployedModel[]): ModelRoute[] {
    return models.map((m) => ({
        plan: m.plan,
        backends: Object.fromEntries(Object.entries(m.backends).map(([track, backend]) => [track, backend.addresses])),
    }));
}

/**
 * Everything a router must wait for before it sends traffic to these models: every track's
 * workloads, and the gates of every track it sends requests to (live or mirrored).
 */
export function routeDependencies(models: readonly DeployedModel[]): pulumi.Resource[] {
    return models.flatMap((m) => [
        ...Object.values(m.backends).flatMap((b) => [...b.resources]),
        ...m.plan.tracks.filter((t) => t.weight > 0 || t.mirrorPercent > 0).flatMap((t) => [...(m.gates?.[t.track] ?? [])]),
    ]);
}
