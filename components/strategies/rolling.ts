/** rolling: one pool, its replicas replaced a few at a time. */
import { z } from "zod";
import { onePool } from "./strategy";

const percentOrCount = z.union([z.number().int().min(0), z.string().regex(/^(100|[1-9]?[0-9])%$/, { error: "a count or a percentage such as 25%" })]);

function isZero(value: number | string): boolean {
    return value === 0 || value === "0%";
}

export const rolling = onePool({
    schema: z.strictObject({
        type: z.literal("rolling"),
        maxSurge: percentOrCount.default("25%"),
        maxUnavailable: percentOrCount.default(0),
    }),
    needs: [],
    rules: (strategy) =>
        isZero(strategy.maxSurge) && isZero(strategy.maxUnavailable)
            ? [{ path: "strategy.maxUnavailable", value: strategy.maxUnavailable, expected: "more than 0 when maxSurge is 0, or the rollout can never make progress" }]
            : [],
    poolUpdate: (strategy) => ({ kind: "rolling", maxSurge: strategy.maxSurge, maxUnavailable: strategy.maxUnavailable }),
});
