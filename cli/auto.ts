/**
 * `modelship auto`: promote step by step, baking between steps and analyzing before each. What
 * to do after an analysis is decided here, without Pulumi or Prometheus:
 *   promote  -> take the next step;
 *   hold     -> bake again, at most `maxHolds` times in a row, then pause (a person decides);
 *   rollback -> abort the rollout (all traffic to stable), or pause where the model's
 *               `analysis.onFailure` says so.
 */
import type { OnFailure } from "../components/config/analysis";
import type { Judgement } from "../components/analysis/types";

export type AutoAction = { kind: "promote" } | { kind: "wait"; reason: string } | { kind: "rollback"; reason: string } | { kind: "pause"; reason: string };

/** Holds in a row before `auto` stops and leaves the decision to a person. */
export const MAX_HOLDS = 3;

export function nextAction(judgement: Judgement, holdsInARow: number, onFailure: OnFailure, maxHolds = MAX_HOLDS): AutoAction {
    const why = judgement.reasons.join("; ");
    switch (judgement.decision) {
        case "promote":
            return { kind: "promote" };
        case "hold":
            return holdsInARow + 1 >= maxHolds ? { kind: "pause", reason: `held ${holdsInARow + 1} times in a row (${why}): pausing for a person to decide` } : { kind: "wait", reason: why };
        case "rollback": {
            const kind = judgement.failedKind ?? "infrastructure";
            return onFailure[kind] === "pause"
                ? { kind: "pause", reason: `analysis failed on ${kind} (${why}); analysis.onFailure.${kind} is pause: the rollout stays where it is for a person to decide` }
                : { kind: "rollback", reason: `${kind}: ${why}` };
        }
    }
}
