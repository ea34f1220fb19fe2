/**
 * TrafficPlan -> listener rules of an Application Load Balancer, per model: a rule per track for
 * requests pinned by header, ahead of a rule that forwards to the tracks' target groups by weight
 * (sticky by the load balancer's own cookie for an A/B test). Pure; the ARNs are whatever the
 * caller passes (Outputs in the component, strings in tests).
 */
import type { TrackName, TrafficPlan } from "../traffic/types";

/** Rules are evaluated by priority; each model gets a block of priorities of its own. */
export const PRIORITY_BLOCK = 100;
/** ALB stickiness lasts at most 7 days; a day keeps a user's A/B arm through a working session. */
export const STICKINESS_SECONDS = 86_400;

export interface ListenerRuleSpec<Arn> {
    /** `pin-stable`, `pin-candidate` or `split`: part of the resource name. */
    kind: string;
    priority: number;
    conditions: Array<{ pathPattern?: { values: string[] }; httpHeader?: { httpHeaderName: string; values: string[] } }>;
    forward: { targetGroups: Array<{ arn: Arn; weight: number }>; stickiness: { enabled: boolean; duration: number } };
}

/** The model's Open Inference Protocol paths and its legacy predict path (3 of the 5 condition values a rule may have). */
export function modelPaths(model: string): string[] {
    return [`/v2/models/${model}`, `/v2/models/${model}/*`, `/v1/models/${model}:predict`];
}

export function listenerRules<Arn>(plan: TrafficPlan, index: number, targetGroups: Partial<Record<TrackName, Arn>>): Array<ListenerRuleSpec<Arn>> {
    const arnOf = (track: TrackName): Arn => {
        const arn = targetGroups[track];
        if (arn === undefined) throw new Error(`model ${plan.model}: no target group for the ${track} track`);
        return arn;
    };
    const base = PRIORITY_BLOCK * (index + 1);
    const paths = { pathPattern: { values: modelPaths(plan.model) } };
    const pins = plan.tracks.map((t, i) => ({
        kind: `pin-${t.track}`,
        priority: base + 1 + i,
        conditions: [paths, { httpHeader: { httpHeaderName: plan.pinHeader, values: [t.track] } }],
        forward: { targetGroups: [{ arn: arnOf(t.track), weight: 1 }], stickiness: { enabled: false, duration: STICKINESS_SECONDS } },
    }));
    const split = {
        kind: "split",
        priority: base + 50,
        conditions: [paths],
        // Weight 0 stays listed, so a preview shows "candidate 10 -> 0" rather than a vanished group.
        forward: { targetGroups: plan.tracks.map((t) => ({ arn: arnOf(t.track), weight: t.weight })), stickiness: { enabled: plan.sticky !== undefined, duration: STICKINESS_SECONDS } },
    };
    return [...pins, split];
}

/** Instance refresh settings for a track's Auto Scaling group, from how its pool is replaced. */
export function instanceRefreshPreferences(poolUpdate: TrafficPlan["poolUpdate"], replicas: number, defaults: { minHealthyPercentage: number; warmupSeconds: number }) {
    if (poolUpdate.kind === "recreate") {
        // Recreate: every old instance goes before new ones serve.
        return { minHealthyPercentage: 0, maxHealthyPercentage: 100, instanceWarmup: String(defaults.warmupSeconds) };
    }
    const percent = (value: number | string) => (typeof value === "string" ? Number(value.replace("%", "")) : Math.round((value / Math.max(1, replicas)) * 100));
    return {
        minHealthyPercentage: Math.min(defaults.minHealthyPercentage, 100 - Math.min(100, percent(poolUpdate.maxUnavailable))),
        maxHealthyPercentage: Math.min(200, 100 + percent(poolUpdate.maxSurge)),
        instanceWarmup: String(defaults.warmupSeconds),
    };
}
