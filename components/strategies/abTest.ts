/** abTest: a fixed share of live traffic on the candidate, each user kept on one track by a header or cookie. */
import { z } from "zod";
import { abortSchema, fallbackSchema, stickyBySchema } from "./fields";
import { equalSize } from "./sizing";
import { twoTrack } from "./strategy";

export const abTest = twoTrack({
    schema: z.strictObject({
        type: z.literal("abTest"),
        candidateWeight: z.number().int().min(1).max(99).default(50),
        stickyBy: stickyBySchema,
        abort: abortSchema,
        fallback: fallbackSchema(false),
    }),
    needs: ["split", "sticky"],
    candidateAnswers: true,
    // An A/B test may run one image twice with different feature flags.
    candidateMayRunStableVersion: true,
    stickyBy: (strategy) => strategy.stickyBy,
    shape: (strategy) => ({ split: { candidateWeight: strategy.candidateWeight, mirrorPercent: 0 }, sizing: equalSize, fallback: strategy.fallback }),
    promote: () => ({ conclude: "A/B test concluded for the candidate" }),
});
