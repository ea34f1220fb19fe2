/**
 * The traffic plans a router object carries: as an annotation (Kubernetes), in the environment of
 * the command that reloads the docker router's config, and as tags beside the weights on a load
 * balancer's listener rule (AWS). What a reviewer reads in a
 * preview next to the weights, and what the policy pack checks (step sizes, shadow mirroring)
 * without re-reading the stack config.
 */
import { findStrategy } from "../strategies";
import type { RouteConfig } from "../config/routes";
import { perTrack, TRACK_NAMES, type TrackName, type TrafficPlan } from "./types";
import { AWS_TAG } from "../naming";

export const PLANS_ANNOTATION = "modelship.dev/traffic-plans";
/**
 * The same JSON on the docker target, where the object that changes with the routes is the
 * command that reloads the router (a container carrying it would be replaced at every step): an
 * entry of its environment, whose names are shell variable names.
 */
export const PLANS_ENVIRONMENT = "MODELSHIP_TRAFFIC_PLANS";

export interface PlanSummary {
    model: string;
    strategy: TrafficPlan["strategy"];
    weights: Record<string, number>;
    mirrorPercent: Record<string, number>;
    aborted: boolean;
    steps?: number[];
    step?: number;
    /** Header and cookie routes before the split, where the plan has any (not in a listener rule's tags: on the ALB each route is a rule of its own, its conditions in the preview). */
    routes?: RouteConfig[];
}

export function summarizePlan(plan: TrafficPlan): PlanSummary {
    return {
        model: plan.model,
        strategy: plan.strategy,
        weights: perTrack(plan, (t) => t.weight),
        mirrorPercent: perTrack(plan, (t) => t.mirrorPercent),
        aborted: plan.aborted,
        ...(plan.step ? { steps: [...plan.step.steps], step: plan.step.index } : {}),
        ...(plan.routes.length > 0 ? { routes: plan.routes.map((r) => ({ match: { ...r.match }, track: r.track })) } : {}),
    };
}

/** Sorted by model, so the annotation only changes when a plan does. */
export function plansAnnotation(plans: readonly TrafficPlan[]): string {
    return JSON.stringify([...plans].sort((a, b) => a.model.localeCompare(b.model)).map(summarizePlan));
}

/** The plans of an annotation value; an unreadable value gives undefined (the policy reports it). */
export function readPlansAnnotation(value: string | undefined): PlanSummary[] | undefined {
    if (value === undefined) return undefined;
    try {
        const parsed: unknown = JSON.parse(value);
        return Array.isArray(parsed) ? (parsed as PlanSummary[]) : undefined;
    } catch {
        return undefined;
    }
}

/*
 * An AWS load balancer's listener rule cannot carry that JSON: a tag value holds at most 256
 * characters of letters, digits, spaces and `_ . : / = + - @`. So the rule that splits a model's
 * traffic carries its plan as small tags beside the weights its forward action already holds
 * (in the order of `modelship:traffic-tracks`); a list too long for one value (101 canary steps
 * take about 400 characters) continues in `<key>-2`, `<key>-3`, ...
 */

/** What AWS accepts in one tag value. */
export const AWS_TAG_VALUE = { maxLength: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u } as const;

export const PLAN_TAG = {
    model: AWS_TAG.model,
    strategy: "modelship:traffic-strategy",
    /** The tracks in the order of the forward action's target groups. */
    tracks: "modelship:traffic-tracks",
    /** Each track's mirror share, in the same order. */
    mirror: "modelship:traffic-mirror",
    aborted: "modelship:traffic-aborted",
    step: "modelship:traffic-step",
    steps: "modelship:traffic-steps",
} as const;

const continuationKey = (key: string, part: number) => (part === 0 ? key : `${key}-${part + 1}`);

/** Space-separated items under `key`, continued under `key-2`, ... so no value is over the limit. */
function listTags(key: string, items: readonly string[]): Record<string, string> {
    const parts: string[] = [];
    for (const item of items) {
        const last = parts.length - 1;
        if (last >= 0 && parts[last].length + 1 + item.length <= AWS_TAG_VALUE.maxLength) parts[last] += ` ${item}`;
        else parts.push(item);
    }
    return Object.fromEntries(parts.map((value, i) => [continuationKey(key, i), value]));
}

function readList(tags: Readonly<Record<string, unknown>>, key: string): string[] | undefined {
    const parts: string[] = [];
    for (let i = 0; typeof tags[continuationKey(key, i)] === "string"; i++) parts.push(tags[continuationKey(key, i)] as string);
    return parts.length === 0
        ? undefined
        : parts
              .join(" ")
              .split(" ")
              .filter((item) => item !== "");
}

/** The plan of the listener rule that splits `plan.model`'s traffic, as tags; the weights stay in its forward action. */
export function planTags(plan: TrafficPlan): Record<string, string> {
    return {
        [PLAN_TAG.model]: plan.model,
        [PLAN_TAG.strategy]: plan.strategy,
        ...listTags(
            PLAN_TAG.tracks,
            plan.tracks.map((t) => t.track),
        ),
        ...listTags(
            PLAN_TAG.mirror,
            plan.tracks.map((t) => String(t.mirrorPercent)),
        ),
        [PLAN_TAG.aborted]: String(plan.aborted),
        ...(plan.step ? { [PLAN_TAG.step]: String(plan.step.index), ...listTags(PLAN_TAG.steps, plan.step.steps.map(String)) } : {}),
    };
}

export type PlanReading = { plan: PlanSummary } | { problem: string };

const isNumeral = (value: string) => /^\d+$/.test(value);

/**
 * The plan a listener rule carries: its plan tags and the weights its forward action sends to
 * each target group. Undefined when the rule carries no plan (a per-track pin rule).
 */
export function readPlanTags(tags: Readonly<Record<string, unknown>>, weights: readonly unknown[]): PlanReading | undefined {
    const strategy = tags[PLAN_TAG.strategy];
    if (strategy === undefined) return undefined;
    const model = tags[PLAN_TAG.model];
    const tracks = readList(tags, PLAN_TAG.tracks) ?? [];
    const mirror = readList(tags, PLAN_TAG.mirror) ?? [];
    const steps = readList(tags, PLAN_TAG.steps);
    const step = tags[PLAN_TAG.step];
    const problems = [
        ...(typeof model === "string" && model !== "" ? [] : [`${PLAN_TAG.model} is missing`]),
        ...(findStrategy(strategy) ? [] : [`${PLAN_TAG.strategy} ${JSON.stringify(strategy)} is not a strategy`]),
        ...(tracks.length > 0 && tracks.every((t) => TRACK_NAMES.includes(t as TrackName)) ? [] : [`${PLAN_TAG.tracks} ${JSON.stringify(tracks.join(" "))} is not a list of tracks`]),
        ...(tracks.length === weights.length ? [] : [`${PLAN_TAG.tracks} names ${tracks.length} tracks but the rule forwards to ${weights.length} target groups`]),
        ...(mirror.length === tracks.length && mirror.every(isNumeral) ? [] : [`${PLAN_TAG.mirror} ${JSON.stringify(mirror.join(" "))} is not a share per track`]),
        ...(tags[PLAN_TAG.aborted] === "true" || tags[PLAN_TAG.aborted] === "false" ? [] : [`${PLAN_TAG.aborted} is not true or false`]),
        ...((steps === undefined) === (step === undefined) && (steps ?? []).every(isNumeral) && (step === undefined || (typeof step === "string" && isNumeral(step)))
            ? []
            : [`${PLAN_TAG.step} and ${PLAN_TAG.steps} are not an index and a list of weights`]),
    ];
    if (problems.length > 0) return { problem: `the listener rule's plan tags are unreadable: ${problems.join("; ")}` };
    return {
        plan: {
            model: model as string,
            strategy: strategy as string,
            weights: Object.fromEntries(tracks.map((t, i) => [t, weights[i] as number])),
            mirrorPercent: Object.fromEntries(tracks.map((t, i) => [t, Number(mirror[i])])),
            aborted: tags[PLAN_TAG.aborted] === "true",
            ...(steps !== undefined ? { steps: steps.map(Number), step: Number(step) } : {}),
        },
    };
}
