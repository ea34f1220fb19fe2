/**
 * Names and labels shared by every target, so a resource can be traced back to its model, track
 * and environment whichever target runs it.
 */
import type { TrackName } from "./traffic/types";

export const LABEL = {
    name: "app.kubernetes.io/name",
    version: "app.kubernetes.io/version",
    component: "app.kubernetes.io/component",
    partOf: "app.kubernetes.io/part-of",
    managedBy: "app.kubernetes.io/managed-by",
    track: "modelship.dev/track",
    environment: "modelship.dev/environment",
} as const;

export const PRODUCT = "modelship";

/** Labels every resource carries; policies check the environment label against the stack. */
export function environmentLabels(environment: string): Record<string, string> {
    return { [LABEL.partOf]: PRODUCT, [LABEL.managedBy]: PRODUCT, [LABEL.environment]: environment };
}

/** Selects the pods of one track of one model; stable across versions so a rollout keeps its pods. */
export function trackSelector(model: string, track: TrackName): Record<string, string> {
    return { [LABEL.name]: model, [LABEL.track]: track };
}

export function trackLabels(environment: string, model: string, track: TrackName, version: string): Record<string, string> {
    return { ...environmentLabels(environment), ...trackSelector(model, track), [LABEL.version]: version, [LABEL.component]: "model-server" };
}

/** `fraud-scorer-candidate`: the Deployment, Service and container prefix of one track. */
export function trackName(model: string, track: TrackName): string {
    return `${model}-${track}`;
}

/** AWS tags: same facts as the labels, in the key style AWS consoles show. */
export function awsTags(environment: string, model?: string): Record<string, string> {
    return { "modelship:environment": environment, "modelship:managed-by": PRODUCT, ...(model ? { "modelship:model": model } : {}) };
}
