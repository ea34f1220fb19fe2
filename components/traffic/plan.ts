/**
 * Strategy -> TrafficPlan: which track gets which share of live and mirrored requests, and how
 * many replicas each runs. Pure, so every rule in the strategy table is tested without Pulumi.
 * What differs between strategies is each strategy's own (components/strategies); this module
 * applies what they all share: one pool or two tracks, abort, the pin header.
 */
import type { AutoscalingConfig } from "../config/autoscaling";
import type { RouteConfig } from "../config/routes";
import { capacityFor, fixedBounds, type Bounds } from "./capacity";
import type { TrackConfig } from "../config/schema";
import type { TrackName } from "../config/tracks";
import { resolveStrategy, STRATEGIES } from "../strategies";
import type { Split, StrategyRegistry } from "../strategies/strategy";
import { PIN_HEADER, type PoolUpdate, type TrackPlan, type TrafficPlan } from "./types";

/** What a plan is made from: the model's strategy and tracks, as the config gives them. */
export interface PlanInput {
    strategy: { type: string };
    tracks: { stable: TrackConfig; candidate?: TrackConfig };
    routes?: readonly RouteConfig[];
}

/**
 * Two-track strategies move traffic with the router; each track's own pool is only ever replaced
 * when its version changes, and then without losing capacity.
 */
const TWO_TRACK_POOL_UPDATE: PoolUpdate = { kind: "rolling", maxSurge: "25%", maxUnavailable: 0 };

function track(name: TrackName, config: TrackConfig, weight: number, mirrorPercent: number, replicas: number): TrackPlan {
    return { track: name, version: config.version, source: config.source, weight, mirrorPercent, replicas, featureFlags: config.featureFlags };
}

/** An autoscaled track carries its bounds for the split, and runs at least their minimum where replicas are set. */
function withAutoscaling(plan: TrackPlan, autoscaling: AutoscalingConfig | undefined, bounds: Bounds): TrackPlan {
    if (!autoscaling) return plan;
    const on =
        autoscaling.targetCPU !== undefined
            ? { cpuPercent: autoscaling.targetCPU }
            : autoscaling.metric
              ? { metric: autoscaling.metric.name, target: autoscaling.metric.target }
              : { concurrency: autoscaling.targetConcurrency ?? 1 };
    return { ...plan, replicas: bounds.min, autoscaling: { ...bounds, on } };
}

/** @param registry the strategies to find the model's in; the project's own unless a test adds one. */
export function planTraffic(name: string, model: PlanInput, registry: StrategyRegistry = STRATEGIES): TrafficPlan {
    const { tracks } = model;
    const resolved = resolveStrategy(model.strategy, registry);
    if (resolved.tracks === "one") {
        const { strategy, config } = resolved;
        // One live track at most: only a request pinned elsewhere can fall back, onto it.
        const base = { model: name, strategy: config.type, poolUpdate: strategy.poolUpdate(config), pinHeader: PIN_HEADER, fallback: true, routes: model.routes ?? [] };
        const stable = withAutoscaling(track("stable", tracks.stable, 100, 0, tracks.stable.replicas), tracks.stable.autoscaling, fixedBounds(tracks.stable.replicas, tracks.stable.autoscaling));
        return { ...base, tracks: [stable], aborted: false };
    }
    const { strategy, config } = resolved;
    if (!tracks.candidate) throw new Error(`model ${name}: ${config.type} needs a candidate track`);
    const shape = strategy.shape(config);
    const sticky = strategy.stickyBy?.(config);
    const base = {
        model: name,
        strategy: config.type,
        poolUpdate: { ...TWO_TRACK_POOL_UPDATE },
        pinHeader: PIN_HEADER,
        fallback: shape.fallback ?? true,
        routes: config.abort ? [] : (model.routes ?? []),
    };
    const both = { stable: tracks.stable, candidate: tracks.candidate };
    // Abort sends every live request to stable and stops the mirror; the candidate stays warm
    // (at its minimum size) so that it can be inspected.
    const split: Split = config.abort ? { candidateWeight: 0, mirrorPercent: 0 } : shape.split;
    const replicas = shape.sizing(both, split);
    const bounds = capacityFor({
        full: { stable: fixedBounds(tracks.stable.replicas, tracks.stable.autoscaling), candidate: fixedBounds(tracks.candidate.replicas, tracks.candidate.autoscaling) },
        split,
        sizing: shape.sizing,
        dynamicStableScale: shape.dynamicStableScale ?? false,
        ...(shape.scaleDown?.previous ? { previous: shape.scaleDown.previous } : {}),
        aborted: config.abort,
    });
    const scaled = withAutoscaling(track("stable", tracks.stable, 100 - split.candidateWeight, 0, replicas.stable), tracks.stable.autoscaling, bounds.stable);
    // Stable grows back first on abort: the route waits for it (targets make the update wait on these replicas).
    const stable = config.abort && shape.dynamicStableScale && scaled.autoscaling ? { ...scaled, readyBeforeRoute: scaled.autoscaling.min } : scaled;
    const candidate = withAutoscaling(track("candidate", tracks.candidate, split.candidateWeight, split.mirrorPercent, replicas.candidate), tracks.candidate.autoscaling, bounds.candidate);
    return {
        ...base,
        tracks: [stable, candidate],
        ...(sticky ? { sticky } : {}),
        ...(shape.step ? { step: shape.step } : {}),
        aborted: config.abort,
    };
}
