/** canary: the candidate takes a growing share of live traffic, one step of `steps` per `promote`. */
import { z } from "zod";
import { abortSchema, fallbackSchema, scaleDownDelaySchema, stickyBySchema, strictlyIncreasing } from "./fields";
import { proportional } from "./sizing";
import { twoTrack, type StrategyIssue } from "./strategy";

export function canaryWeight(steps: readonly number[], step: number): number {
    if (!Number.isInteger(step) || step < 0 || step >= steps.length) {
        throw new RangeError(`canary step ${step} is outside the steps list (0..${steps.length - 1})`);
    }
    return steps[step];
}

export const canary = twoTrack({
    schema: z.strictObject({
        type: z.literal("canary"),
        /** Candidate weights, in percent, one per step. */
        steps: z.array(z.number().int().min(0).max(100)).min(1),
        step: z.number().int().min(0).default(0),
        /** Steps may end below 100: promoting from the last step then makes the candidate stable, a jump to 100% at once. */
        allowFinalStepBelow100: z.boolean().default(false),
        /**
         * Keeps each key on the track it got while the weights allow: raising the candidate's weight
         * moves only keys new to the candidate, never one back to stable.
         */
        stickyBy: stickyBySchema.optional(),
        /**
         * Autoscaled tracks: stable's bounds shrink as the candidate's weight grows (Argo Rollouts'
         * dynamicStableScale), and are full again in the update that aborts.
         */
        dynamicStableScale: z.boolean().default(false),
        /** With dynamicStableScale: stable keeps the previous step's bounds through a step, and shrinks in the next update. */
        scaleDownDelaySeconds: scaleDownDelaySchema,
        abort: abortSchema,
        fallback: fallbackSchema(true),
    }),
    needs: ["split"],
    candidateAnswers: true,
    candidateMayRunStableVersion: false,
    stickyBy: (strategy) => strategy.stickyBy,
    rules: (strategy) => {
        const issues: StrategyIssue[] = [];
        if (!strictlyIncreasing(strategy.steps)) issues.push({ path: "strategy.steps", value: strategy.steps, expected: "strictly increasing candidate weights, e.g. [5, 25, 50, 100]" });
        const final = strategy.steps[strategy.steps.length - 1];
        if (final < 100 && !strategy.allowFinalStepBelow100) {
            // A step of 0 (a candidate deployed with no traffic) is fine first; as the only weight below the jump it says nothing was tried.
            const zero = strategy.steps.includes(0) ? " (a step of 0 sends the candidate no traffic at all)" : "";
            issues.push({
                path: "strategy.steps",
                value: strategy.steps,
                expected: `a last step of 100, e.g. [${[...strategy.steps.filter((w) => w > 0 && w < 100), 100].join(", ")}]: promoting from the last step makes the candidate stable, so ending at ${final}% jumps from ${final}% to 100% of the traffic at once${zero}; set strategy.allowFinalStepBelow100: true if that jump is intended`,
            });
        }
        if (strategy.step >= strategy.steps.length) {
            issues.push({ path: "strategy.step", value: strategy.step, expected: `an index into strategy.steps, 0..${strategy.steps.length - 1}` });
        }
        if (strategy.scaleDownDelaySeconds !== undefined && !strategy.dynamicStableScale) {
            issues.push({
                path: "strategy.scaleDownDelaySeconds",
                value: strategy.scaleDownDelaySeconds,
                expected: "no value without strategy.dynamicStableScale: true (stable never shrinks during a canary without it, so there is nothing to delay)",
            });
        }
        return issues;
    },
    shape: (strategy) => {
        const setWeight = canaryWeight(strategy.steps, strategy.step);
        return {
            split: { candidateWeight: setWeight, mirrorPercent: 0 },
            // The candidate's declared replicas are its size once it has all traffic.
            sizing: proportional((s) => s.candidateWeight, "candidate"),
            step: { index: strategy.step, count: strategy.steps.length, steps: strategy.steps, setWeight },
            dynamicStableScale: strategy.dynamicStableScale,
            ...(strategy.scaleDownDelaySeconds !== undefined
                ? { scaleDown: { delaySeconds: strategy.scaleDownDelaySeconds, previous: { candidateWeight: strategy.step === 0 ? 0 : strategy.steps[strategy.step - 1], mirrorPercent: 0 } } }
                : {}),
            fallback: strategy.fallback,
        };
    },
    promote: (strategy, { model, candidate }) => {
        const last = strategy.steps.length - 1;
        if (strategy.step > last) return { refused: `model ${model}: strategy.step ${strategy.step} is past the last step (${last}) of ${JSON.stringify(strategy.steps)}` };
        if (strategy.step === last) {
            const final = strategy.steps[last];
            // Only a config with strategy.allowFinalStepBelow100 ends below 100: say the jump in the update's message.
            return { conclude: final < 100 ? `canary done at ${final}%, and from ${final}% to 100% at once (strategy.allowFinalStepBelow100)` : `canary done at ${final}%` };
        }
        const next = strategy.step + 1;
        return {
            description: `${model}: canary step ${next + 1}/${strategy.steps.length}: ${candidate} from ${strategy.steps[strategy.step]}% to ${strategy.steps[next]}%`,
            edits: [{ path: ["strategy", "step"], value: next }],
        };
    },
});
