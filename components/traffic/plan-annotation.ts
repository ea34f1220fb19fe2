/**
 * The traffic plans a router object carries as an annotation (Kubernetes) or label (Docker):
 * what a reviewer reads in a preview next to the weights, and what the policy pack checks
 * (step sizes, shadow mirroring) without re-reading the stack config.
 */
import { perTrack, type TrafficPlan } from "./types";

export const PLANS_ANNOTATION = "modelship.dev/traffic-plans";

export interface PlanSummary {
    model: string;
    strategy: TrafficPlan["strategy"];
    weights: Record<string, number>;
    mirrorPercent: Record<string, number>;
    aborted: boolean;
    steps?: number[];
    step?: number;
}

export function summarizePlan(plan: TrafficPlan): PlanSummary {
    return {
        model: plan.model,
        strategy: plan.strategy,
        weights: perTrack(plan, (t) => t.weight),
        mirrorPercent: perTrack(plan, (t) => t.mirrorPercent),
        aborted: plan.aborted,
        ...(plan.step ? { steps: [...plan.step.steps], step: plan.step.index } : {}),
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
