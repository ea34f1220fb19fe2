/** abTest: a fixed share of live traffic on the candidate, each user kept on one track by a header or cookie. */
import { z } from "zod";
import { abortSchema, fallbackSchema } from "./fields";
import { equalSize } from "./sizing";
import { twoTrack } from "./strategy";

export const abTest = twoTrack({
    schema: z.strictObject({
        type: z.literal("abTest"),
        candidateWeight: z.number().int().min(1).max(99).default(50),
        stickyBy: z.union([z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/) }), z.strictObject({ cookie: z.string().regex(/^[A-Za-z0-9_]+$/) })]),
        abort: abortSchema,
        fallback: fallbackSchema(false),
    }),
    needs: ["split", "sticky"],
    candidateAnswers: true,
    // An A/B test may run one image twice with different feature flags.
    candidateMayRunStableVersion: true,
    shape: (strategy) => ({ split: { candidateWeight: strategy.candidateWeight, mirrorPercent: 0 }, sizing: equalSize, sticky: strategy.stickyBy, fallback: strategy.fallback }),
    promote: () => ({ conclude: "A/B test concluded for the candidate" }),
});
