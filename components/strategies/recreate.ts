/** recreate: one pool, stopped and started again at the new version (a gap, but never two versions at once). */
import { z } from "zod";
import { onePool } from "./strategy";

export const recreate = onePool({
    schema: z.strictObject({ type: z.literal("recreate") }),
    needs: [],
    poolUpdate: () => ({ kind: "recreate" }),
});
