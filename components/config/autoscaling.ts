/**
 * A track's `autoscaling` key: the bounds it scales between at full size, and what it scales on.
 * The bounds it runs with follow its share of traffic (traffic/capacity.ts).
 */
import { z } from "zod";

export const autoscalingSchema = z
    .strictObject({
        /** Replicas at the least, at full size (all of the track's traffic). */
        min: z.number().int().min(1).max(1000),
        /** Replicas at the most, at full size. */
        max: z.number().int().min(1).max(1000),
        /** Average CPU use to keep, in percent of the pods' CPU request. */
        targetCPU: z.number().int().min(1).max(100).optional(),
        /** Requests in flight per pod to keep (the model server's `modelship_requests_in_flight`, through a metrics adapter). */
        targetConcurrency: z.number().positive().optional(),
        /** A Prometheus metric per pod, through a metrics adapter (prometheus-adapter, KEDA): its name and the average value to keep. */
        metric: z.strictObject({ name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { error: "a Prometheus metric name" }), target: z.number().positive() }).optional(),
    })
    .refine((a) => a.min <= a.max, { error: "min no greater than max" })
    .refine((a) => [a.targetCPU, a.targetConcurrency, a.metric].filter((t) => t !== undefined).length === 1, {
        error: "exactly one of targetCPU, targetConcurrency or metric: what the track scales on",
    });

export type AutoscalingConfig = z.infer<typeof autoscalingSchema>;
