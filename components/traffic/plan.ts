/**
 * Strategy -> TrafficPlan: which track gets which share of live and mirrored requests, and how
 * many replicas each runs. Pure, so every rule in the strategy table is tested without Pulumi.
 */
import type { ModelConfig, StrategyConfig, TrackConfig } from "../config/schema";
import { PIN_HEADER, type PoolUpdate, type StepPosition, type StickyKey, type TrackName, type TrackPlan, type TrafficPlan } from "./types";

interface Split {
    candidateWeight: number;
    mirrorPercent: number;
}

/** Replicas a track runs for the split, from the full size each track declares. */
type Sizing = (tracks: { stable: TrackConfig; candidate: TrackConfig }, split: Split) => { stable: number; candidate: number };

const fullSize: Sizing = ({ stable, candidate }) => ({ stable: stable.replicas, candidate: candidate.replicas });

/** Proportional to the share of requests the candidate sees, never below one so it stays warm. */
function proportional(share: (split: Split) => number, of: "stable" | "candidate"): Sizing {
    return (tracks, split) => ({
        stable: tracks.stable.replicas,
        candidate: Math.max(1, Math.ceil((tracks[of].replicas * share(split)) / 100)),
    });
}

const equalSize: Sizing = ({ stable, candidate }) => {
    const replicas = Math.max(stable.replicas, candidate.replicas);
    return { stable: replicas, candidate: replicas };
};

interface TwoTrackShape {
    split: Split;
    sizing: Sizing;
    sticky?: StickyKey;
    step?: StepPosition;
}

function twoTrackShape(strategy: Exclude<StrategyConfig, { type: "recreate" | "rolling" }>): TwoTrackShape {
    switch (strategy.type) {
        case "blueGreen":
            return { split: { candidateWeight: strategy.active === "candidate" ? 100 : 0, mirrorPercent: 0 }, sizing: fullSize };
        case "canary": {
            const setWeight = canaryWeight(strategy.steps, strategy.step);
            return {
                split: { candidateWeight: setWeight, mirrorPercent: 0 },
                // The candidate's declared replicas are its size once it has all traffic.
                sizing: proportional((s) => s.candidateWeight, "candidate"),
                step: { index: strategy.step, count: strategy.steps.length, steps: strategy.steps, setWeight },
            };
        }
        case "abTest":
            return { split: { candidateWeight: strategy.candidateWeight, mirrorPercent: 0 }, sizing: equalSize, sticky: strategy.stickyBy };
        case "shadow":
            return { split: { candidateWeight: 0, mirrorPercent: strategy.mirrorPercent }, sizing: proportional((s) => s.mirrorPercent, "stable") };
    }
}

export function canaryWeight(steps: readonly number[], step: number): number {
    if (!Number.isInteger(step) || step < 0 || step >= steps.length) {
        throw new RangeError(`canary step ${step} is outside the steps list (0..${steps.length - 1})`);
    }
    return steps[step];
}

function poolUpdateOf(strategy: StrategyConfig): PoolUpdate {
    if (strategy.type === "recreate") return { kind: "recreate" };
    if (strategy.type === "rolling") return { kind: "rolling", maxSurge: strategy.maxSurge, maxUnavailable: strategy.maxUnavailable };
    // Two-track strategies move traffic with the router; each track's own pool is only ever
    // replaced when its version changes, and then without losing capacity.
    return { kind: "rolling", maxSurge: "25%", maxUnavailable: 0 };
}

function track(name: TrackName, config: TrackConfig, weight: number, mirrorPercent: number, replicas: number): TrackPlan {
    return { track: name, version: config.version, weight, mirrorPercent, replicas, featureFlags: config.featureFlags };
}

export function planTraffic(name: string, model: ModelConfig): TrafficPlan {
    const { strategy, tracks } = model;
    // The other strategies have one live track at most: only a request pinned elsewhere can fall back, onto it.
    const fallback = "fallback" in strategy ? strategy.fallback : true;
    const base = { model: name, strategy: strategy.type, poolUpdate: poolUpdateOf(strategy), pinHeader: PIN_HEADER, fallback };
    if (strategy.type === "recreate" || strategy.type === "rolling") {
        return { ...base, tracks: [track("stable", tracks.stable, 100, 0, tracks.stable.replicas)], aborted: false };
    }
    if (!tracks.candidate) throw new Error(`model ${name}: ${strategy.type} needs a candidate track`);
    const shape = twoTrackShape(strategy);
    const both = { stable: tracks.stable, candidate: tracks.candidate };
    // Abort sends every live request to stable and stops the mirror; the candidate stays warm
    // (at its minimum size) so that it can be inspected.
    const split: Split = strategy.abort ? { candidateWeight: 0, mirrorPercent: 0 } : shape.split;
    const replicas = shape.sizing(both, split);
    return {
        ...base,
        tracks: [
            track("stable", tracks.stable, 100 - split.candidateWeight, 0, replicas.stable),
            track("candidate", tracks.candidate, split.candidateWeight, split.mirrorPercent, replicas.candidate),
        ],
        ...(shape.sticky ? { sticky: shape.sticky } : {}),
        ...(shape.step ? { step: shape.step } : {}),
        aborted: strategy.abort,
    };
}
