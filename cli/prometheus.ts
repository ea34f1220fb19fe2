/**
 * The Prometheus HTTP API, for the rollout analysis: instant queries, metric templates evaluated
 * per track, and histograms as bucket vectors. Unreachable, an error answer or a result of the
 * wrong shape are errors, each saying which (and, for a template, naming it); an empty result is
 * "no data" (undefined).
 */
import type { MetricTemplate } from "../components/config/analysis";
import type { TemplateReading } from "../components/analysis/metrics-judge";
import type { CumulativeBucket } from "../components/analysis/statistics";
import { renderQuery, type TemplateScope } from "../components/analysis/templates";
import { requestsQuery, requestsServedQuery } from "../components/monitoring";
import type { TrackName } from "../components/traffic/types";
import { httpRequest, type HttpAnswer } from "../model-server/src/http-client";

export class PrometheusError extends Error {}

/** Prometheus did not answer, or not with its API: nothing to say about the query. */
export class PrometheusUnavailable extends PrometheusError {}

/** A template Prometheus could not evaluate into one number per track: never judged as a pass. */
export class TemplateError extends PrometheusError {
    constructor(
        readonly template: string,
        problem: string,
    ) {
        super(`metric template ${template}: ${problem}`);
        this.name = "TemplateError";
    }
}

const QUERY_TIMEOUT_MS = 10_000;

export interface Sample {
    metric: Record<string, string>;
    value: number;
}

export class PrometheusClient {
    private readonly base: URL;

    constructor(baseUrl: string) {
        let base: URL | undefined;
        try {
            base = new URL(baseUrl);
        } catch {
            base = undefined;
        }
        if (!base || (base.protocol !== "http:" && base.protocol !== "https:")) {
            throw new PrometheusError(`${baseUrl} is not an http(s) URL: expected e.g. http://prometheus.monitoring:9090`);
        }
        this.base = base;
    }

    /** Every series of an instant query, with its labels. */
    async vector(promql: string): Promise<Sample[]> {
        const url = new URL(`${this.base.pathname.replace(/\/+$/, "")}/api/v1/query`, this.base);
        url.searchParams.set("query", promql);
        let answer: HttpAnswer;
        try {
            answer = await httpRequest(url, { timeoutMs: QUERY_TIMEOUT_MS });
        } catch (error) {
            throw new PrometheusUnavailable(`Prometheus at ${this.base.origin} is unreachable: ${(error as Error).message}`);
        }
        let parsed: { status?: string; error?: string; data?: { resultType?: string; result?: Array<{ metric?: Record<string, string>; value?: [number, string] }> } };
        try {
            parsed = JSON.parse(answer.body) as typeof parsed;
        } catch {
            throw new PrometheusUnavailable(`Prometheus at ${this.base.origin} answered ${answer.status} with something that is not JSON: ${answer.body.slice(0, 200)}`);
        }
        if (parsed.status !== "success") throw new PrometheusError(`Prometheus refused the query (${answer.status}): ${parsed.error ?? answer.body.slice(0, 200)}\n  query: ${promql}`);
        if (parsed.data?.resultType !== "vector") throw new PrometheusError(`expected a vector from the query, got ${parsed.data?.resultType}\n  query: ${promql}`);
        return (parsed.data.result ?? []).map((r) => ({ metric: r.metric ?? {}, value: Number(r.value?.[1]) }));
    }

    /** The value of an instant query that yields at most one series; undefined when it yields none or NaN. */
    async scalar(promql: string): Promise<number | undefined> {
        const result = await this.vector(promql);
        if (result.length > 1) throw new PrometheusError(`expected one series from the query, got ${result.length}: aggregate it (sum, max) to one number per track\n  query: ${promql}`);
        const value = result[0]?.value;
        return value !== undefined && Number.isFinite(value) ? value : undefined;
    }

    /** One template for one track; a query Prometheus rejects or that yields several series is a TemplateError naming the template. */
    async evaluate(template: MetricTemplate, scope: TemplateScope): Promise<number | undefined> {
        try {
            return await this.scalar(renderQuery(template.query, scope));
        } catch (error) {
            if (error instanceof PrometheusError && !(error instanceof PrometheusUnavailable)) throw new TemplateError(template.name, error.message);
            throw error;
        }
    }

    /** Every template for the candidate and for stable, over the same window. */
    async readTemplates(templates: readonly MetricTemplate[], scope: Omit<TemplateScope, "track">): Promise<TemplateReading[]> {
        return Promise.all(
            templates.map(async (template) => {
                const [candidate, stable] = await Promise.all([this.evaluate(template, { ...scope, track: "candidate" }), this.evaluate(template, { ...scope, track: "stable" })]);
                return { template, ...(candidate !== undefined ? { candidate } : {}), ...(stable !== undefined ? { stable } : {}) };
            }),
        );
    }

    /** Inference requests a track served over the window, rounded: the sample size templates are held against; `template` counts them (analysis.requests). */
    async requests(model: string, track: TrackName, window: string, template?: string, namespace = ""): Promise<number | undefined> {
        const requests = await this.scalar(template === undefined ? requestsQuery(model, track, window) : renderQuery(template, { model, track, window, namespace }));
        return requests !== undefined ? Math.round(requests) : undefined;
    }

    /** The track's requests counted at the last scrape (the counters' sum); undefined before Prometheus has scraped any. */
    async requestsServed(model: string, track: TrackName): Promise<number | undefined> {
        const served = await this.scalar(requestsServedQuery(model, track));
        return served !== undefined ? Math.round(served) : undefined;
    }

    /** A histogram's increase over the window as cumulative buckets, summed over instances. */
    async cumulativeBuckets(metric: string, selector: string, window: string): Promise<CumulativeBucket[]> {
        const samples = await this.vector(`sum by (le) (increase(${metric}_bucket{${selector}}[${window}]))`);
        return samples.map((s) => ({ le: s.metric.le ?? "", count: s.value }));
    }
}
