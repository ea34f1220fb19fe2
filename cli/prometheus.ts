/**
 * The Prometheus HTTP API, for the rollout analysis: instant queries, and a track's health over a
 * window with the same PromQL the alert rules use. Unreachable, an error answer or a result that
 * is not one number are errors, each saying which; an empty result is "no data" (undefined).
 */
import { errorRateQuery, p95LatencyQuery, requestsQuery } from "../components/monitoring";
import type { TrackName } from "../components/traffic/types";
import { httpRequest, type HttpAnswer } from "../model-server/src/http-client";
import type { TrackHealth } from "./analysis";

export class PrometheusError extends Error {}

const QUERY_TIMEOUT_MS = 10_000;

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

    /** The value of an instant query that yields at most one series; undefined when it yields none or NaN. */
    async scalar(promql: string): Promise<number | undefined> {
        const url = new URL(`${this.base.pathname.replace(/\/+$/, "")}/api/v1/query`, this.base);
        url.searchParams.set("query", promql);
        let answer: HttpAnswer;
        try {
            answer = await httpRequest(url, { timeoutMs: QUERY_TIMEOUT_MS });
        } catch (error) {
            throw new PrometheusError(`Prometheus at ${this.base.origin} is unreachable: ${(error as Error).message}`);
        }
        let parsed: { status?: string; error?: string; data?: { resultType?: string; result?: Array<{ value?: [number, string] }> } };
        try {
            parsed = JSON.parse(answer.body) as typeof parsed;
        } catch {
            throw new PrometheusError(`Prometheus at ${this.base.origin} answered ${answer.status} with something that is not JSON: ${answer.body.slice(0, 200)}`);
        }
        if (parsed.status !== "success") throw new PrometheusError(`Prometheus refused the query (${answer.status}): ${parsed.error ?? answer.body.slice(0, 200)}\n  query: ${promql}`);
        const result = parsed.data?.result ?? [];
        if (parsed.data?.resultType !== "vector") throw new PrometheusError(`expected a vector from the query, got ${parsed.data?.resultType}\n  query: ${promql}`);
        if (result.length > 1) throw new PrometheusError(`expected one series from the query, got ${result.length}\n  query: ${promql}`);
        if (result.length === 0) return undefined;
        const value = Number(result[0].value?.[1]);
        return Number.isFinite(value) ? value : undefined;
    }

    /** A track's requests, error rate and p95 latency over the last `windowSeconds`. */
    async trackHealth(model: string, track: TrackName, windowSeconds: number): Promise<TrackHealth> {
        const window = `${windowSeconds}s`;
        const [requests, errorRate, p95Seconds] = await Promise.all([
            this.scalar(requestsQuery(model, track, window)),
            this.scalar(errorRateQuery(model, track, window)),
            this.scalar(p95LatencyQuery(model, track, window)),
        ]);
        return {
            ...(requests !== undefined ? { requests: Math.round(requests) } : {}),
            ...(errorRate !== undefined ? { errorRate } : {}),
            ...(p95Seconds !== undefined ? { p95Ms: p95Seconds * 1000 } : {}),
        };
    }
}
