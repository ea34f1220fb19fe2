/**
 * The model's `analysis` block: what a rollout is judged by (metric templates, each of kind
 * infrastructure or quality), what `auto` does per kind when a judgement fails, the A/B test and
 * shadow comparison settings, webhooks and where rollout events are sent. Parsed once, here;
 * the judgement itself is components/analysis/.
 */
import { z } from "zod";

/** The placeholders a template's query may use; anything else in `{{ }}` is a config error. */
export const TEMPLATE_PLACEHOLDERS = ["model", "track", "namespace", "window"] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** infrastructure: the deployment is broken (rolled back by itself); quality: the model is in doubt (a person decides). */
export const METRIC_KINDS = ["infrastructure", "quality"] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

/** The placeholders a query names that are not TEMPLATE_PLACEHOLDERS. */
export function unknownPlaceholders(query: string): string[] {
    return [...query.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "").filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
}

/** PromQL with {{model}}, {{track}}, {{namespace}} and {{window}} placeholders, and no others. */
const templateQuery = z
    .string()
    .min(1)
    .superRefine((query, ctx) => {
        const unknown = unknownPlaceholders(query);
        if (unknown.length > 0) {
            ctx.addIssue({
                code: "custom",
                message: `unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(", ")}: a query may use ${TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`,
            });
        }
    });

export const metricTemplateSchema = z
    .strictObject({
        /** Names the metric in judgements, notifications and errors. */
        name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a lower-case name like error-rate" }),
        /** PromQL yielding one number per track, with {{model}}, {{track}}, {{namespace}} and {{window}} placeholders. */
        query: templateQuery,
        kind: z.enum(METRIC_KINDS),
        /** The candidate fails above this. */
        max: z.number().optional(),
        /** The candidate fails below this. */
        min: z.number().optional(),
        /** The candidate fails above this multiple of stable's value over the same window (stable must have data). */
        maxRatioToStable: z.number().positive().optional(),
        /** Inference requests the candidate must have served in the window before this metric counts; 0 for metrics of the process (memory, restarts). */
        minSamples: z.number().int().min(0).default(50),
        /** How values are shown: a share as a percentage, seconds as ms, bytes, or a plain number. */
        unit: z.enum(["ratio", "seconds", "bytes", "count", "number"]).default("number"),
    })
    .refine((t) => t.max !== undefined || t.min !== undefined || t.maxRatioToStable !== undefined, { error: "a metric needs a threshold: max, min or maxRatioToStable" });

export type MetricTemplate = z.infer<typeof metricTemplateSchema>;

const onFailureAction = z.enum(["rollback", "pause"]);

/** Per kind; a single value (the earlier form) applies to both kinds. */
export const onFailureSchema = z
    .union([onFailureAction, z.strictObject({ infrastructure: onFailureAction.default("rollback"), quality: onFailureAction.default("pause") })])
    .transform((v) => (typeof v === "string" ? { infrastructure: v, quality: v } : v));
export type OnFailure = z.output<typeof onFailureSchema>;

export const abTestAnalysisSchema = z.strictObject({
    /** binary: outcome feedback with a label (correct or not at the decision threshold), compared by a two-proportion test; reward: rewards compared by a Mann-Whitney test. */
    outcome: z.enum(["binary", "reward"]).default("binary"),
    /** Two-sided confidence of the test. */
    confidence: z.number().gt(0.5).lt(1).default(0.95),
    /** superiority: promote only when the candidate is significantly better; non-inferiority: when it is not worse by more than `margin`. */
    mode: z.enum(["superiority", "non-inferiority"]).default("superiority"),
    /** non-inferiority: how much worse (absolute success rate, or probability of superiority below 0.5) still counts as not worse. */
    margin: z.number().min(0).max(0.5).default(0.01),
    /** Feedback per track before the test may decide. */
    minSamples: z.number().int().min(1).default(200),
    /**
     * Always-valid intervals (a confidence sequence) instead of fixed-sample ones, so that judging
     * after every bake does not inflate false decisions; off: a classical test, valid at one look.
     */
    sequential: z.boolean().default(true),
    /** How far back feedback counts, in seconds (the whole experiment, not the bake). */
    windowSeconds: z.number().int().min(60).default(86_400),
});
export type AbTestAnalysis = z.infer<typeof abTestAnalysisSchema>;

export const shadowAnalysisSchema = z.strictObject({
    /** Share of paired requests on which both versions give the same class at the decision threshold. */
    minAgreement: z.number().min(0).max(1).default(0.95),
    /** Population stability index between the two versions' score distributions. */
    maxPsi: z.number().positive().default(0.2),
    /** Kolmogorov-Smirnov distance between the two score distributions. */
    maxKs: z.number().gt(0).max(1).default(0.2),
    /** Paired requests before the comparison may decide. */
    minPairs: z.number().int().min(1).default(100),
});
export type ShadowAnalysis = z.infer<typeof shadowAnalysisSchema>;

export const webhookSchema = z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a lower-case name like load-test" }),
    url: z.url({ protocol: /^https?$/, error: "an http(s) URL" }),
    /** pre-step: before each step is applied (a confirmation or a veto); bake: during each bake (a load test). */
    when: z.enum(["pre-step", "bake"]),
    timeoutSeconds: z.number().int().min(1).max(3600).default(30),
    /** What a non-2xx answer or an unreachable hook means. Never a promote. */
    onFailure: z.enum(["hold", "rollback"]).default("hold"),
    /** Sent to the hook as it is. */
    metadata: z.record(z.string(), z.string()).default({}),
});
export type WebhookConfig = z.infer<typeof webhookSchema>;

export const notificationsSchema = z.strictObject({
    /** An Alertmanager (its v2 alerts API), e.g. http://alertmanager.monitoring:9093. */
    alertmanager: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
    /** Any URL that takes the event as JSON. */
    webhook: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
});
export type NotificationsConfig = z.infer<typeof notificationsSchema>;

export const analysisSchema = z.strictObject({
    /** The default error-rate template's threshold. */
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    /** The default p95-latency template's threshold. */
    maxP95LatencyMs: z.number().positive().default(250),
    bakeSeconds: z.number().int().min(0).default(300),
    /** What `modelship auto` does when an analysis fails, per kind of metric that failed. */
    onFailure: onFailureSchema.default({ infrastructure: "rollback", quality: "pause" }),
    /** The metric templates; left out, the defaults (components/analysis/templates.ts). Listed, they replace the defaults, which `defaults: true` keeps. */
    metrics: z.array(metricTemplateSchema).optional(),
    /**
     * The inference requests a track served over the window, which each template's minSamples is
     * held against (a query template); left out, modelship's server's request counter. Another
     * server's track counts by its own metrics.
     */
    requests: templateQuery.optional(),
    abTest: abTestAnalysisSchema.prefault({}),
    shadow: shadowAnalysisSchema.prefault({}),
    webhooks: z.array(webhookSchema).default([]),
    notifications: notificationsSchema.default({}),
});
export type AnalysisConfig = z.infer<typeof analysisSchema>;
