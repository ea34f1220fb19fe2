/**
 * blueGreen: two pools at full size, each its own Deployment or Auto Scaling group, never mixed
 * replicas. Live traffic moves from stable's pool to the candidate's in one switch (`active`) or
 * gradually (`steps`, one per `promote`); before the first live request the candidate's pool can
 * be checked as a preview (`preview`). Both pools stay at full size until the rollout concludes,
 * so a flip back (abort) finds stable warm.
 */
import { z } from "zod";
import { TRACK_NAMES } from "../config/tracks";
import { abortSchema, previewCheckSchema, scaleDownDelaySchema, stickyBySchema, strictlyIncreasing } from "./fields";
import { fullSize } from "./sizing";
import { twoTrack, type StrategyIssue } from "./strategy";

const schema = z.strictObject({
    type: z.literal("blueGreen"),
    /** Which track takes all live traffic in a one-switch blue-green; the other stays warm at full size. */
    active: z.enum(TRACK_NAMES).default("stable"),
    /** Gradual: the candidate pool's share of live traffic, one step per `promote`, ending at 100. */
    steps: z.array(z.number().int().min(1).max(100)).min(1).optional(),
    /** Index into `steps` once live traffic has started to move; absent while the candidate is a preview. */
    step: z.number().int().min(0).optional(),
    /** Keeps each key on the pool it got while the steps allow (gradual steps only move new keys). */
    stickyBy: stickyBySchema.optional(),
    /** Checked before the first live request reaches the candidate's pool. */
    preview: previewCheckSchema.optional(),
    /** The rollout concludes (and stable's old pool is replaced) no sooner than this after the candidate took all traffic. */
    scaleDownDelaySeconds: scaleDownDelaySchema,
    abort: abortSchema,
});
type BlueGreenConfig = z.output<typeof schema>;

/** The candidate pool's live share: the gradual step's, else all or nothing by `active`. */
function candidateWeight(strategy: BlueGreenConfig): number {
    if (strategy.steps && strategy.step !== undefined) return strategy.steps[strategy.step];
    return strategy.active === "candidate" ? 100 : 0;
}

export const blueGreen = twoTrack({
    schema,
    needs: ["split"],
    candidateAnswers: true,
    candidateMayRunStableVersion: false,
    stickyBy: (strategy) => strategy.stickyBy,
    rules: (strategy) => {
        const issues: StrategyIssue[] = [];
        const { steps, step } = strategy;
        if (!steps) {
            if (step !== undefined) issues.push({ path: "strategy.step", value: step, expected: "no step without strategy.steps (a one-switch blue-green moves with strategy.active)" });
            return issues;
        }
        if (!strictlyIncreasing(steps)) issues.push({ path: "strategy.steps", value: steps, expected: "strictly increasing candidate weights, e.g. [10, 50, 100]" });
        if (steps[steps.length - 1] !== 100)
            issues.push({
                path: "strategy.steps",
                value: steps,
                expected: `a last step of 100, e.g. [${[...steps.filter((w) => w < 100), 100].join(", ")}]: a blue-green ends with all traffic on the candidate's pool`,
            });
        if (step !== undefined && step >= steps.length) issues.push({ path: "strategy.step", value: step, expected: `an index into strategy.steps, 0..${steps.length - 1}` });
        if (strategy.active === "candidate")
            issues.push({ path: "strategy.active", value: "candidate", expected: "stable, or no value: a gradual blue-green (strategy.steps) moves traffic with strategy.step, one step per promote" });
        return issues;
    },
    shape: (strategy) => {
        const weight = candidateWeight(strategy);
        const { steps, step } = strategy;
        return {
            split: { candidateWeight: weight, mirrorPercent: 0 },
            sizing: fullSize,
            ...(steps && step !== undefined ? { step: { index: step, count: steps.length, steps, setWeight: weight } } : {}),
            ...(strategy.scaleDownDelaySeconds !== undefined ? { scaleDown: { delaySeconds: strategy.scaleDownDelaySeconds } } : {}),
        };
    },
    promote: (strategy, { model, stable, candidate }) => {
        const check = strategy.preview ? { previewCheck: strategy.preview } : {};
        const { steps, step } = strategy;
        if (!steps) {
            return strategy.active === "stable"
                ? { description: `${model}: blue-green switch: all traffic to ${candidate} (stable ${stable} kept warm)`, edits: [{ path: ["strategy", "active"], value: "candidate" }], ...check }
                : { conclude: "blue-green done" };
        }
        if (step === undefined) {
            return {
                description: `${model}: blue-green step 1/${steps.length}: ${candidate}'s pool from 0% to ${steps[0]}% (stable ${stable} at full size)`,
                edits: [{ path: ["strategy", "step"], value: 0 }],
                ...check,
            };
        }
        const last = steps.length - 1;
        if (step > last) return { refused: `model ${model}: strategy.step ${step} is past the last step (${last}) of ${JSON.stringify(steps)}` };
        if (step === last) return { conclude: "blue-green done" };
        return {
            description: `${model}: blue-green step ${step + 2}/${steps.length}: ${candidate}'s pool from ${steps[step]}% to ${steps[step + 1]}% (stable ${stable} at full size)`,
            edits: [{ path: ["strategy", "step"], value: step + 1 }],
        };
    },
});
