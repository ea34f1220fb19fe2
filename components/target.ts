/**
 * What a target does for the stack: run the tracks of each model, then put one router in front
 * of all of them. Every target under components/targets/ implements it; ModelService and the
 * stack program only see this interface.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "./config/schema";
import type { GateSpec } from "./gates/plan";
import type { ModelImage } from "./image";
import type { ModelRoute } from "./traffic/nginx";
import type { TrackName, TrafficPlan } from "./traffic/types";

/** What a target is asked to deploy: one model, its plan, and the image of each track. */
export interface ModelToDeploy {
    name: string;
    config: ModelConfig;
    plan: TrafficPlan;
    images: Partial<Record<TrackName, ModelImage>>;
}

/** Creates a track's smoke gate as a child of `parent` (the model's gates), against the server the track's deployment made. */
export type SmokeGate = (spec: GateSpec, parent: pulumi.Resource) => pulumi.Resource;

/** What a target made of one track. */
export interface DeployedTrack<B> {
    /** Where the target's router finds the track, in the target's own terms (addresses, a Service, a target group). */
    backend: B;
    /** The router must wait for these before it sends traffic to the track. */
    resources: readonly pulumi.Resource[];
    /** The track's smoke gate; absent where the target cannot reach the track's own server. */
    smoke?: SmokeGate;
    /** Where a Prometheus on the deployer's machine scrapes the track's first replica, where the target publishes it (docker). */
    metrics?: pulumi.Output<string>;
}

/** What a target made of one model: each track, and whether its smoke gate runs unless the config says. */
export interface DeployedModel<B> {
    plan: TrafficPlan;
    tracks: Partial<Record<TrackName, DeployedTrack<B>>>;
    /** Whether the smoke gate runs when the model's config does not say. */
    smokeByDefault: boolean;
    /** The gates each track passed; filled in by the ModelService before routing. */
    gates?: Partial<Record<TrackName, readonly pulumi.Resource[]>>;
}

/** A backend the nginx router reaches by address: host:port of each replica or of the track's Service. */
export interface AddressedBackend {
    addresses: readonly string[];
}

/** A target, generic over what its router needs of each track (`B`). */
export interface ModelTarget<B> {
    /** Creates the model's workloads (and each track's smoke gate maker) as children of `parent` (its ModelService). */
    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel<B>;
    /** Creates the router in front of every model; returns each model's endpoint URL by model name. */
    route(models: readonly DeployedModel<B>[]): Record<string, pulumi.Output<string>>;
}

/** What the nginx renderer needs of deployed models: each track's addresses. */
export function nginxRoutes(models: readonly DeployedModel<AddressedBackend>[]): ModelRoute[] {
    return models.map((m) => ({
        plan: m.plan,
        backends: Object.fromEntries(Object.entries(m.tracks).map(([track, deployed]) => [track, deployed.backend.addresses])),
    }));
}

/**
 * Everything a router must wait for before it sends traffic to these models: every track's
 * workloads, and the gates of every track it sends requests to (live or mirrored).
 */
export function routeDependencies(models: readonly DeployedModel<unknown>[]): pulumi.Resource[] {
    return models.flatMap((m) => [
        ...Object.values(m.tracks).flatMap((t) => [...t.resources]),
        ...m.plan.tracks.filter((t) => t.weight > 0 || t.mirrorPercent > 0).flatMap((t) => [...(m.gates?.[t.track] ?? [])]),
    ]);
}
