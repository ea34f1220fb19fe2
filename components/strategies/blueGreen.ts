/** blueGreen: both tracks at full size, all live traffic on one of them; `promote` switches, then concludes. */
import { z } from "zod";
import { TRACK_NAMES } from "../config/tracks";
import { abortSchema } from "./fields";
import { fullSize } from "./sizing";
import { twoTrack } from "./strategy";

export const blueGreen = twoTrack({
    schema: z.strictObject({
        type: z.literal("blueGreen"),
        /** Which track takes all live traffic; the other stays warm at full size. */
        active: z.enum(TRACK_NAMES).default("stable"),
        abort: abortSchema,
    }),
    needs: ["split"],
    candidateAnswers: true,
    candidateMayRunStableVersion: false,
    shape: (strategy) => ({ split: { candidateWeight: strategy.active === "candidate" ? 100 : 0, mirrorPercent: 0 }, sizing: fullSize }),
    promote: (strategy, { model, stable, candidate }) =>
        strategy.active === "stable"
            ? { description: `${model}: blue-green switch: all traffic to ${candidate} (stable ${stable} kept warm)`, edits: [{ path: ["strategy", "active"], value: "candidate" }] }
            : { conclude: "blue-green done" },
});
