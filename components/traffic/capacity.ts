/**
 * Capacity that follows the weights: the replica bounds each autoscaled track runs with for a
 * plan. A track's `autoscaling.min`/`max` are its bounds at full size, as `replicas` is its size at
 * full size; the strategy's own sizing (strategies/sizing.ts) turns both bounds into the bounds for
 * the split, so a canary step raises the candidate's floor with its weight and never leaves it
 * under-provisioned. Pure, so the arithmetic is property-tested.
 */
import type { AutoscalingConfig } from "../config/autoscaling";
import type { Sizing, Split } from "../strategies/strategy";
import type { TrackName } from "../config/tracks";

export interface Bounds {
    min: number;
    max: number;
}

export interface CapacityInput {
    /** Each track's bounds at full size; a track without autoscaling is fixed at its replicas. */
    full: Readonly<Record<TrackName, Bounds>>;
    split: Split;
    sizing: Sizing;
    /** Argo Rollouts' dynamic stable scale: stable's bounds shrink by the candidate's live share. */
    dynamicStableScale: boolean;
    /** The split before this step (scaleDownDelaySeconds): stable keeps the larger of its bounds for either. */
    previous?: Split;
    aborted: boolean;
}

/** A track fixed at `replicas` is bounded by it both ways. */
export function fixedBounds(replicas: number, autoscaling: AutoscalingConfig | undefined): Bounds {
    return autoscaling ? { min: autoscaling.min, max: autoscaling.max } : { min: replicas, max: replicas };
}

/**
 * The bounds per track for the split. On abort stable has its full bounds (it takes all traffic
 * again, in the update that moves it back) and the candidate stays warm at its smallest.
 */
export function capacityFor(input: CapacityInput): Record<TrackName, Bounds> {
    const { full, split, sizing } = input;
    const at = (pick: (b: Bounds) => number) => sizing({ stable: { replicas: pick(full.stable) }, candidate: { replicas: pick(full.candidate) } }, split);
    const mins = at((b) => b.min);
    const maxes = at((b) => b.max);
    const candidate = { min: mins.candidate, max: Math.max(maxes.candidate, mins.candidate) };
    if (input.aborted || !input.dynamicStableScale) {
        return { stable: { min: mins.stable, max: Math.max(maxes.stable, mins.stable) }, candidate };
    }
    // Stable keeps the share the candidate does not answer, never less than one replica; kept warm,
    // the share it answered before this step.
    const candidateShare = Math.min(split.candidateWeight, input.previous?.candidateWeight ?? split.candidateWeight);
    const keep = (n: number) => Math.max(1, Math.ceil((n * (100 - candidateShare)) / 100));
    return { stable: { min: keep(full.stable.min), max: Math.max(keep(full.stable.max), keep(full.stable.min)) }, candidate };
}
