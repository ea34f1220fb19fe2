/**
 * Config fields several strategies share, so each strategy file builds its schema variant from
 * them without importing config/schema.ts (which imports the strategies).
 */
import { z } from "zod";

/** Every two-track strategy has it: true sends all live traffic back to stable and stops the mirror. */
export const abortSchema = z.boolean().default(false);

/**
 * Whether a request its track fails (no connection, a timeout, 502/503/504) is sent once more to
 * the other live track, which then answers it: on for a canary, off for an A/B test, whose shares
 * and stickiness would otherwise move with every failure.
 */
export const fallbackSchema = (byDefault: boolean) => z.boolean().default(byDefault);

/**
 * The key that keeps a user on one track: a request header, or a cookie. Requests without it are
 * split per request.
 */
export const stickyBySchema = z.union([z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/) }), z.strictObject({ cookie: z.string().regex(/^[A-Za-z0-9_]+$/) })]);
