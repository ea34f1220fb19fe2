/**
 * TrafficPlan -> listener rules of an Application Load Balancer, per model: a rule per track for
 * requests pinned by header, ahead of a rule that forwards to the tracks' target groups by weight
 * (sticky by the load balancer's own cookie for an A/B test). Pure; the ARNs are whatever the
 * caller passes (Outputs in the component, strings in tests).
 */
import { planTags } from "../../traffic/plan-annotation";
import type { RouteMatch } from "../../config/routes";
import type { TrackName, TrafficPlan } from "../../traffic/types";

/** Rules are evaluated by priority; each model gets a block of priorities of its own. */
export const PRIORITY_BLOCK = 100;
/** Header and cookie routes take priorities from here on in the model's block (the config allows 8), pins below, the split above. */
const ROUTE_PRIORITY_OFFSET = 10;
/** ALB stickiness lasts at most 7 days; a day keeps a user's A/B arm through a working session. */
export const STICKINESS_SECONDS = 86_400;

export interface ListenerRuleSpec<Arn> {
    /** `pin-stable`, `pin-candidate` or `split`: part of the resource name. */
    kind: string;
    priority: number;
    conditions: Array<{ pathPattern?: { values: string[] }; httpHeader?: { httpHeaderName: string; values: string[] } }>;
    forward: { targetGroups: Array<{ arn: Arn; weight: number }>; stickiness: { enabled: boolean; duration: number } };
    /** The split rule's plan (plan-annotation.ts), which the policy pack reads beside the weights. */
    tags?: Record<string, string>;
}

/** The model's Open Inference Protocol paths and its legacy predict path (3 of the 5 condition values a rule may have). */
export function modelPaths(model: string): string[] {
    return [`/v2/models/${model}`, `/v2/models/${model}/*`, `/v1/models/${model}:predict`];
}

function arnFor<Arn>(plan: TrafficPlan, targetGroups: Partial<Record<TrackName, Arn>>, track: TrackName): Arn {
    const arn = targetGroups[track];
    if (arn === undefined) throw new Error(`model ${plan.model}: no target group for the ${track} track`);
    return arn;
}

const pathCondition = (plan: TrafficPlan) => ({ pathPattern: { values: modelPaths(plan.model) } });

/**
 * A rule per track for requests pinned to it by header. Pins move no traffic of their own, so
 * they exist before the gates: the smoke gate reaches a track through its pin.
 */
export function pinRules<Arn>(plan: TrafficPlan, index: number, targetGroups: Partial<Record<TrackName, Arn>>): Array<ListenerRuleSpec<Arn>> {
    const base = PRIORITY_BLOCK * (index + 1);
    return plan.tracks.map((t, i) => ({
        kind: `pin-${t.track}`,
        priority: base + 1 + i,
        conditions: [pathCondition(plan), { httpHeader: { httpHeaderName: plan.pinHeader, values: [t.track] } }],
        forward: { targetGroups: [{ arn: arnFor(plan, targetGroups, t.track), weight: 1 }], stickiness: { enabled: false, duration: STICKINESS_SECONDS } },
    }));
}

/**
 * The ALB's header conditions compare whole values with `*` and `?` wildcards, case-insensitively,
 * and have no regular expressions (the aws-vm target refuses a `regex` route): a header route
 * matches its value; a cookie route matches the Cookie header with the cookie first or after
 * another (`name=value`, `name=value;*`, `*; name=value`, `*; name=value;*` would be four values,
 * over the rule's five with the three paths), so `*name=value*` stands for them.
 */
function routeCondition(match: RouteMatch): { httpHeader: { httpHeaderName: string; values: string[] } } {
    if (match.header !== undefined) return { httpHeader: { httpHeaderName: match.header, values: [match.value ?? ""] } };
    return { httpHeader: { httpHeaderName: "Cookie", values: [`*${match.cookie ?? ""}=${match.value ?? ""}*`] } };
}

/** A rule per header or cookie route, after the pins and before the split, in the order the config lists them. */
export function routeRules<Arn>(plan: TrafficPlan, index: number, targetGroups: Partial<Record<TrackName, Arn>>): Array<ListenerRuleSpec<Arn>> {
    const base = PRIORITY_BLOCK * (index + 1) + ROUTE_PRIORITY_OFFSET;
    return plan.routes.map((route, i) => ({
        kind: `route-${i}`,
        priority: base + i,
        conditions: [pathCondition(plan), routeCondition(route.match)],
        forward: { targetGroups: [{ arn: arnFor(plan, targetGroups, route.track), weight: 1 }], stickiness: { enabled: false, duration: STICKINESS_SECONDS } },
    }));
}

/** The rule that splits the model's unpinned requests between the tracks by the plan's weights. */
export function splitRule<Arn>(plan: TrafficPlan, index: number, targetGroups: Partial<Record<TrackName, Arn>>): ListenerRuleSpec<Arn> {
    return {
        kind: "split",
        priority: PRIORITY_BLOCK * (index + 1) + 50,
        conditions: [pathCondition(plan)],
        // Weight 0 stays listed, so a preview shows "candidate 10 -> 0" rather than a vanished group.
        forward: {
            targetGroups: plan.tracks.map((t) => ({ arn: arnFor(plan, targetGroups, t.track), weight: t.weight })),
            stickiness: { enabled: plan.sticky !== undefined, duration: STICKINESS_SECONDS },
        },
        tags: planTags(plan),
    };
}

export function listenerRules<Arn>(plan: TrafficPlan, index: number, targetGroups: Partial<Record<TrackName, Arn>>): Array<ListenerRuleSpec<Arn>> {
    return [...pinRules(plan, index, targetGroups), ...routeRules(plan, index, targetGroups), splitRule(plan, index, targetGroups)];
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
