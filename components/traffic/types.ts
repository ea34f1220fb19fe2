/**
 * The traffic vocabulary shared by strategies, renderers and targets. A canary's `steps` and
 * `setWeight` are Argo Rollouts' words; the tracks are not (Argo's are stable and canary): they are
 * the config's own, `stable` and `candidate`, whatever the strategy.
 */
import type { TrackName } from "../config/tracks";
import type { ImageSource } from "../config/schema";
import type { RouteConfig } from "../config/routes";
import type { Bounds } from "./capacity";

export { TRACK_NAMES, type TrackName } from "../config/tracks";

/** The request header that pins a request to one track, whatever the weights say (for QA). */
export const PIN_HEADER = "x-modelship-track";

/** How a track's own pool is replaced when its version changes. */
export type PoolUpdate = { kind: "recreate" } | { kind: "rolling"; maxSurge: number | string; maxUnavailable: number | string };

export type StickyKey = { header: string } | { cookie: string };

export interface TrackPlan {
    track: TrackName;
    version: string;
    /** The image the track runs: a prebuilt reference or a build, as its config gives it. */
    source: ImageSource;
    /** Share of live requests answered by this track, an integer 0..100. */
    weight: number;
    /** Share of requests copied to this track, an integer 0..100; its answers are dropped. */
    mirrorPercent: number;
    replicas: number;
    /** Where the track autoscales: its bounds for this plan's split, and what it scales on. */
    autoscaling?: TrackAutoscaling;
    /**
     * Replicas that must be ready before the router sends this plan's traffic, where the autoscaler
     * alone would not make the update wait: stable's full floor in the update that aborts a canary
     * whose stable had shrunk (dynamicStableScale), so traffic returns to a stable that has grown back.
     */
    readyBeforeRoute?: number;
    /** Passed to the containers so that two tracks can share one image and differ by flags. */
    featureFlags: Readonly<Record<string, string>>;
}

export interface TrackAutoscaling extends Bounds {
    /** What the track scales on, as its config says. */
    on: { cpuPercent: number } | { concurrency: number } | { metric: string; target: number };
}

export interface StepPosition {
    /** Index into the strategy's steps. */
    index: number;
    count: number;
    /** Every step's candidate weight, so a reviewer (and the policy pack) sees the whole ladder. */
    steps: readonly number[];
    /** The candidate weight the step sets. */
    setWeight: number;
}

export interface TrafficPlan {
    model: string;
    /** The strategy's type: its key in the strategy registry (components/strategies). */
    strategy: string;
    /** Stable first, then candidate when the strategy has one. */
    tracks: readonly TrackPlan[];
    poolUpdate: PoolUpdate;
    /** abTest, a sticky canary: requests with the same key always reach the same track. */
    sticky?: StickyKey;
    /**
     * Requests whose header or cookie matches go to the route's track, before the split; the first
     * match wins, and the pin header wins over all. None while aborted: all live traffic on stable.
     */
    routes: readonly RouteConfig[];
    /** Canary only: where the rollout stands. */
    step?: StepPosition;
    /** True when the rollout was aborted: all live traffic on stable, no mirror. */
    aborted: boolean;
    /**
     * Whether a request its track fails (no connection, a timeout, 502/503/504) is sent once more
     * to the other live track, which then answers it. Off where the shares must hold (an A/B test,
     * unless its config allows it).
     */
    fallback: boolean;
    pinHeader: string;
}

export function trackPlan(plan: TrafficPlan, track: TrackName): TrackPlan | undefined {
    return plan.tracks.find((t) => t.track === track);
}

/** One value per track of the plan, e.g. `{ stable: 90, candidate: 10 }` for the weights. */
export function perTrack<T>(plan: TrafficPlan, pick: (track: TrackPlan) => T): Partial<Record<TrackName, T>> {
    return Object.fromEntries(plan.tracks.map((t) => [t.track, pick(t)]));
}
