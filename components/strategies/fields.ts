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

/** A ladder of candidate weights is strictly increasing, or a step would move traffic back. */
export function strictlyIncreasing(steps: readonly number[]): boolean {
    return steps.every((weight, i) => i === 0 || weight > steps[i - 1]);
}

/**
 * Keeps the pool losing traffic at its size through the update that takes the traffic away; it
 * shrinks in the next update, which `promote` and `auto` apply no sooner than this many seconds
 * after the one before (Argo Rollouts' scaleDownDelaySeconds), so a flip back finds it warm.
 */
export const scaleDownDelaySchema = z.number().int().min(0).max(86_400).optional();

/**
 * The check of a pool before any live traffic moves to it: the smoke gate's recorded request and
 * `requests` more (replayed from `replay`, a JSON-lines file of recorded Open Inference Protocol
 * requests, or the recorded one again), pinned to the pool through the router, each answer
 * checked like the smoke gate's; then the pool's metrics judged by the analysis templates.
 */
export const previewCheckSchema = z.strictObject({
    requests: z.number().int().min(1).max(10_000).default(100),
    /** Relative to the project. */
    replay: z.string().min(1).optional(),
    /** Whether the metrics are judged too (needs Prometheus); the answers are always checked. */
    analysis: z.boolean().default(true),
    /** How long the check may wait for Prometheus to have scraped the preview requests. */
    scrapeTimeoutSeconds: z.number().int().min(1).max(600).default(60),
});
export type PreviewCheckConfig = z.output<typeof previewCheckSchema>;
