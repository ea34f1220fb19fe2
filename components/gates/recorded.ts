/**
 * What each gate resource checks, kept beside the resource object: readers of a run (the render's
 * gate summary) get the spec itself instead of parsing it back from resource names and command text.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { GateSpec } from "./plan";

export interface RecordedGate extends GateSpec {
    model: string;
}

const recorded = new WeakMap<pulumi.Resource, RecordedGate>();

/** Marks `resource` as the gate `spec` of `model`; returns the resource. */
export function recordGate<R extends pulumi.Resource>(resource: R, model: string, spec: GateSpec): R {
    recorded.set(resource, { model, ...spec });
    return resource;
}

/** The gate a resource was recorded as, or undefined for any other resource. */
export function recordedGate(resource: pulumi.Resource): RecordedGate | undefined {
    return recorded.get(resource);
}
