/**
 * Prometheus metrics, on a registry of their own (so several servers can live in one test process).
 * Every series carries model, version and track, prom-client's process and Node.js metrics too (the
 * registry's default labels), so a rule can tell the candidate's memory or restarts from stable's;
 * `route` is always a route template (e.g. /v2/models/:name/infer), never the raw path, so the
 * label set stays bounded. Feedback and shadow comparison add their own metrics to this registry
 * (src/feedback.ts, src/shadow-*.ts).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { IN_FLIGHT_METRIC } from "./metric-names";

/** Seconds: from a sub-millisecond health check to an inference slowed down by a fault knob. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** 0, 0.05, ..., 1: fine enough for a distance (PSI, KS) between two tracks' score distributions. */
export const SCORE_BUCKETS = Array.from({ length: 21 }, (_, i) => i / 20);

export interface Identity {
    readonly model: string;
    readonly version: string;
    readonly track: string;
}

export class Metrics {
    readonly registry = new Registry();
    private readonly requests: Counter<"model" | "version" | "track" | "route" | "code">;
    private readonly errors: Counter<"model" | "version" | "track" | "route">;
    private readonly duration: Histogram<"model" | "version" | "track" | "route">;
    private readonly ready: Gauge<"model" | "version" | "track">;
    private readonly scores: Histogram;

    /**
     * @param zeroRoutes routes whose error, answered (200) and duration series exist from the start at 0: a
     *   healthy track then has an error rate of 0 in PromQL rather than no series at all, and
     *   requests answered before the first scrape still count in increase(), which reads a series'
     *   first sample as its start.
     * @param memoryLimitBytes the container's memory limit (src/memory-limit.ts); no gauge when unknown.
     */
    constructor(
        private readonly identity: Identity,
        zeroRoutes: readonly string[] = [],
        memoryLimitBytes?: number,
    ) {
        this.registry.setDefaultLabels({ ...identity });
        collectDefaultMetrics({ register: this.registry });
        this.requests = new Counter({
            name: "modelship_requests_total",
            help: "HTTP requests answered, by route template and status code.",
            labelNames: ["model", "version", "track", "route", "code"],
            registers: [this.registry],
        });
        this.errors = new Counter({
            name: "modelship_request_errors_total",
            help: "HTTP requests answered with a 5xx status, by route template.",
            labelNames: ["model", "version", "track", "route"],
            registers: [this.registry],
        });
        this.duration = new Histogram({
            name: "modelship_request_duration_seconds",
            help: "Time from receiving a request to finishing its response, by route template.",
            labelNames: ["model", "version", "track", "route"],
            buckets: DURATION_BUCKETS,
            registers: [this.registry],
        });
        this.ready = new Gauge({
            name: "modelship_model_ready",
            help: "1 while the model is loaded and the server accepts inferences, else 0.",
            labelNames: ["model", "version", "track"],
            registers: [this.registry],
        });
        this.scores = new Histogram({
            name: "modelship_prediction_score",
            help: "Every probability answered, one per row (v2 and v1).",
            buckets: SCORE_BUCKETS,
            registers: [this.registry],
        });
        if (memoryLimitBytes !== undefined) {
            new Gauge({
                name: "modelship_memory_limit_bytes",
                help: "The memory the container may use: MODELSHIP_MEMORY_LIMIT_BYTES, else the cgroup v2 memory.max.",
                registers: [this.registry],
            }).set(memoryLimitBytes);
        }
        for (const route of zeroRoutes) {
            this.errors.inc({ ...this.identity, route }, 0);
            this.requests.inc({ ...this.identity, route, code: "200" }, 0);
            this.duration.zero({ ...this.identity, route });
        }
        this.setReady(false);
    }

    /** What an autoscaler keeping a concurrency per pod reads (IN_FLIGHT_METRIC): requests received and not yet answered, read at each scrape. */
    countInFlight(read: () => number): void {
        new Gauge({
            name: IN_FLIGHT_METRIC,
            help: "HTTP requests received and not yet answered, at the scrape (this one included).",
            registers: [this.registry],
            collect() {
                this.set(read());
            },
        });
    }

    observeScores(probabilities: readonly number[]): void {
        for (const p of probabilities) this.scores.observe(p);
    }

    observe(route: string, status: number, seconds: number): void {
        const labels = { ...this.identity, route };
        this.requests.inc({ ...labels, code: String(status) });
        if (status >= 500) this.errors.inc(labels);
        this.duration.observe(labels, seconds);
    }

    setReady(ready: boolean): void {
        this.ready.set({ ...this.identity }, ready ? 1 : 0);
    }

    get contentType(): string {
        return this.registry.contentType;
    }

    render(): Promise<string> {
        return this.registry.metrics();
    }
}
