/**
 * The rollout analysis: a candidate's health over the bake window, next to stable's, judged
 * against the model's `analysis` thresholds. Pure: the Prometheus client fetches the figures,
 * `analyze` and `auto` print and act on the judgement.
 *
 *   rollback - the candidate is over a threshold that stable is under;
 *   hold     - not enough to decide: no data, too few requests, or stable over the threshold
 *              too (a shared cause, not the candidate). No data is never taken as healthy;
 *   promote  - enough requests, and the candidate under every threshold.
 */
import type { Judgement } from "../components/analysis/types";
import type { AnalysisConfig } from "../components/config/schema";

/** One track over the window, as Prometheus answered; undefined where it had no data. */
export interface TrackHealth {
    /** Inference requests the track served in the window. */
    requests?: number;
    /** Share of those answered 5xx, 0..1. */
    errorRate?: number;
    /** 95th percentile latency in milliseconds. */
    p95Ms?: number;
}

export type { Decision, Judgement } from "../components/analysis/types";

/** Fewer requests than this in the window are too few to call a candidate healthy. */
export const MIN_REQUESTS = 50;

const percent = (x: number) => `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
const ms = (x: number) => `${x.toFixed(1)} ms`;

interface Threshold {
    name: string;
    value: (h: TrackHealth) => number | undefined;
    limit: number;
    show: (x: number) => string;
}

function thresholds(analysis: AnalysisConfig): Threshold[] {
    return [
        { name: "error rate", value: (h) => h.errorRate, limit: analysis.maxErrorRate, show: percent },
        { name: "p95 latency", value: (h) => h.p95Ms, limit: analysis.maxP95LatencyMs, show: ms },
    ];
}

const known = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

export function judge(analysis: AnalysisConfig, candidate: TrackHealth, stable: TrackHealth, minRequests = MIN_REQUESTS): Judgement {
    if (!known(candidate.requests) || candidate.requests === 0) {
        return { decision: "hold", reasons: ["no data: the candidate served no requests in the window (no data is never taken as healthy)"] };
    }
    const rollback: string[] = [];
    const shared: string[] = [];
    const missing: string[] = [];
    for (const t of thresholds(analysis)) {
        const value = t.value(candidate);
        if (!known(value)) {
            missing.push(`no data for the candidate's ${t.name}`);
            continue;
        }
        if (value <= t.limit) continue;
        const stableValue = t.value(stable);
        if (known(stableValue) && stableValue > t.limit) {
            shared.push(`${t.name}: candidate ${t.show(value)} and stable ${t.show(stableValue)} both over ${t.show(t.limit)}: a shared cause, not the candidate`);
        } else {
            rollback.push(`${t.name}: candidate ${t.show(value)} over ${t.show(t.limit)} (stable ${known(stableValue) ? t.show(stableValue) : "no data"})`);
        }
    }
    const enough = candidate.requests >= minRequests;
    // A breach on few requests could be noise; on enough it is the candidate's.
    if (rollback.length > 0 && enough) return { decision: "rollback", reasons: [...rollback, `over ${candidate.requests} requests`] };
    if (rollback.length > 0) return { decision: "hold", reasons: [...rollback, `but only ${candidate.requests} requests (fewer than ${minRequests}): too few to judge`] };
    if (shared.length > 0 || missing.length > 0) return { decision: "hold", reasons: [...shared, ...missing] };
    if (!enough) return { decision: "hold", reasons: [`only ${candidate.requests} requests in the window (fewer than ${minRequests}): too few to call the candidate healthy`] };
    const within = thresholds(analysis).map((t) => `${t.name} ${t.show(t.value(candidate) as number)} within ${t.show(t.limit)}`);
    return { decision: "promote", reasons: [...within, `over ${candidate.requests} requests`] };
}
