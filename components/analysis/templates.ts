/**
 * Metric templates: named PromQL with {{model}}, {{track}}, {{namespace}} and {{window}}
 * placeholders, each with a threshold and a kind. A model without `analysis.metrics` is judged by
 * the defaults below. The first two are the built-in error rate and p95 latency, with the same
 * queries and thresholds as the alert rules; the others read what modelship's model server
 * exports about its own process (components/monitoring.ts and model-server/src/metrics.ts).
 * Pure.
 */
import type { AnalysisConfig, MetricTemplate, TemplatePlaceholder } from "../config/analysis";
import { errorRateQuery, p95LatencyQuery, requestsQuery } from "../monitoring";
import type { TrackName } from "../traffic/types";

/** The candidate's resident memory may come this close to its limit before it counts as leaking. */
export const DEFAULT_MAX_MEMORY_SHARE = 0.9;
/** An event loop this late (p99, seconds) no longer answers in time, whatever the model's latency. */
export const DEFAULT_MAX_EVENT_LOOP_LAG_SECONDS = 0.5;

const SELECTOR = 'model="{{model}}",track="{{track}}"';

/** The built-in templates, from the model's `maxErrorRate` and `maxP95LatencyMs`. */
export function defaultTemplates(analysis: Pick<AnalysisConfig, "maxErrorRate" | "maxP95LatencyMs">): MetricTemplate[] {
    return [
        { name: "error-rate", kind: "infrastructure", query: errorRateQuery("{{model}}", "{{track}}", "{{window}}"), max: analysis.maxErrorRate, minSamples: 50, unit: "ratio" },
        { name: "p95-latency", kind: "infrastructure", query: p95LatencyQuery("{{model}}", "{{track}}", "{{window}}"), max: analysis.maxP95LatencyMs / 1000, minSamples: 50, unit: "seconds" },
        {
            name: "memory",
            kind: "infrastructure",
            // Per instance: one leaking replica is enough. The limit comes from MODELSHIP_MEMORY_LIMIT_BYTES or the cgroup.
            query: `max(process_resident_memory_bytes{${SELECTOR}} / on(instance, job, model, version, track) modelship_memory_limit_bytes{${SELECTOR}})`,
            max: DEFAULT_MAX_MEMORY_SHARE,
            minSamples: 0,
            unit: "ratio",
        },
        // A restart shows as a new process start time on the same scrape target.
        { name: "restarts", kind: "infrastructure", query: `sum(changes(process_start_time_seconds{${SELECTOR}}[{{window}}]))`, max: 0, minSamples: 0, unit: "count" },
        { name: "event-loop-lag", kind: "infrastructure", query: `max(nodejs_eventloop_lag_p99_seconds{${SELECTOR}})`, max: DEFAULT_MAX_EVENT_LOOP_LAG_SECONDS, minSamples: 0, unit: "seconds" },
        // Ready instances scraped now; 0, not "no data", once every instance is down or no longer scraped.
        { name: "available", kind: "infrastructure", query: `sum(modelship_model_ready{${SELECTOR}}) or vector(0)`, min: 1, minSamples: 0, unit: "count" },
    ];
}

/** The query counting the inference requests a track served over the window: the model's own, or modelship's server's counter. */
export function requestsTemplate(analysis: Pick<AnalysisConfig, "requests">): string {
    return analysis.requests ?? requestsQuery("{{model}}", "{{track}}", "{{window}}");
}

/** The templates a model is judged by: its own list, or the defaults. */
export function templatesFor(analysis: AnalysisConfig): MetricTemplate[] {
    return analysis.metrics ?? defaultTemplates(analysis);
}

export interface TemplateScope {
    model: string;
    track: TrackName;
    /** The Kubernetes namespace of the model's workloads; empty on targets without one. */
    namespace: string;
    /** A PromQL duration, e.g. 300s. */
    window: string;
}

/** The query with its placeholders filled in. Unknown placeholders were refused when the config was parsed. */
export function renderQuery(query: string, scope: TemplateScope): string {
    return query.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (whole, name: string) => (name in scope ? scope[name as TemplatePlaceholder] : whole));
}
