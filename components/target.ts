/**
 * What a target does for the stack: run the tracks of each model, then put one router in front
 * of all of them. Docker and Kubernetes implement it; ModelService and the stack program only
 * see this interface.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "./config/schema";
import type { GateSpec } from "./gates/plan";
import type { ImageRef, ModelImage } from "./image";
import type { ModelRoute } from "./traffic/nginx";
import type { TrackName, TrafficPlan } from "./traffic/types";

export interface ModelToDeploy {
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
    /** The gates each track passed; filled in by the ModelService before routing. */
    gates?: Partial<Record<TrackName, readonly pulumi.Resource[]>>;
}

/** One smoke gate to create: which track, and the image it checks (its change re-runs the gate). */
export interface SmokeGateRequest {
    model: ModelToDeploy;
    spec: GateSpec;
    image: ImageRef;
    /** The track's workloads: the gate checks them once they are up, never the version they replace. */
    workloads: readonly pulumi.Resource[];
}

/** How a target smoke-tests a track's own server (not through its router). */
export interface SmokeGates {
    /** Whether the smoke gate runs when the model's config does not say. */
    byDefault(config: ModelConfig): boolean;
    /** Creates the gate; the router objects will depend on it. */
    gate(request: SmokeGateRequest, parent: pulumi.Resource): pulumi.Resource;
}

export interface ModelTarget {
    /** Present where the target can smoke-test a track's own server. */
    readonly smoke?: SmokeGates;
    /** Creates the model's workloads as children of `parent` (its ModelService). */
    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel;
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
