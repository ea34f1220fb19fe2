/** shadow: stable answers every request; a share of them is copied to the candidate, whose answers are dropped. */
import { z } from "zod";
import { abortSchema } from "./fields";
import { proportional } from "./sizing";
import { twoTrack } from "./strategy";

export const shadow = twoTrack({
    schema: z.strictObject({
        type: z.literal("shadow"),
        mirrorPercent: z.number().int().min(1).max(100),
        abort: abortSchema,
    }),
    needs: ["mirror"],
    candidateAnswers: false,
    candidateMayRunStableVersion: false,
    shape: (strategy) => ({ split: { candidateWeight: 0, mirrorPercent: strategy.mirrorPercent }, sizing: proportional((s) => s.mirrorPercent, "stable") }),
    promote: () => ({ conclude: "shadow concluded" }),
});
