/**
 * The HTTP server: Open Inference Protocol (KServe v2) REST, the legacy v1 `:predict`, health,
 * Prometheus metrics, fault injection and graceful shutdown, on node:http.
 *
 * createServer(options) builds a server without starting anything; listen() binds, load() reads
 * the model artifact (readiness turns 200 once it is loaded), shutdown() drains and closes.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import type { ServerConfig } from "./config";
import { FeedbackStore, parseFeedback } from "./feedback";
import { KEEP_ALIVE_TIMEOUT_MS, MAX_BODY_BYTES } from "./limits";
import { jsonLogger, type Level, type Logger } from "./log";
import { memoryLimit } from "./memory-limit";
import { Metrics } from "./metrics";
import { ArtifactError, roundScore } from "./model";
import { loadServedModel, mapScores, type Inference, type ServedModel } from "./served-model";
import { inferResponse, modelMetadata, parseInferRequest, parseJson, parseV1Request, ProtocolError, v1Response, type ServingContext } from "./protocol";
import { classesOf, headerRequestId, requestId } from "./request-ids";
import { parseShadowAnswers, ShadowPairs } from "./shadow-pairs";
import { ShadowReporter } from "./shadow-reports";
import { version as packageVersion } from "../package.json";

export const SERVER_NAME = "modelship-model-server";
export const SERVER_VERSION: string = packageVersion;
export { MAX_BODY_BYTES } from "./limits";
/** After a 413, how much more of the body is read and thrown away (so the client sees the answer) before the connection is cut. */
const MAX_DISCARD_BYTES = 8 * 1024 * 1024;
/** The legacy v1 API's end of life, announced in the Sunset header of every v1 answer. */
export const V1_SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT";
/** The feature flag that rounds every probability to 4 decimals when set to "true". */
export const CALIBRATED_SCORES_FLAG = "calibratedScores";

const JSON_TYPE = "application/json";

export interface ServerOptions {
    readonly config: ServerConfig;
    /** Defaults to JSON lines on stdout, with model, version and track on every line. */
    readonly log?: Logger;
    /** The source of randomness for FAULT_ERROR_RATE; Math.random by default. */
    readonly random?: () => number;
    /** Where a relative MODEL_ARTIFACT is resolved from; the process's cwd by default. */
    readonly cwd?: string;
    readonly maxBodyBytes?: number;
    /** Where the cgroup v2 memory limit is read when MODELSHIP_MEMORY_LIMIT_BYTES is unset; tests point it elsewhere. */
    readonly cgroupMemoryMax?: string;
}

type State = "loading" | "ready" | "failed";

type RouteKind = "live" | "ready" | "server" | "metadata" | "modelReady" | "infer" | "predictV1" | "feedback" | "shadowAnswers" | "metrics";

interface Route {
    readonly template: string;
    readonly pattern: RegExp;
    readonly kind: RouteKind;
    readonly methods: readonly string[];
}

const GET = ["GET", "HEAD"];
const POST = ["POST"];

/** Every route the server answers; `template` is the `route` label in metrics and logs. */
export const ROUTES: readonly Route[] = [
    { template: "/v2/health/live", pattern: /^\/v2\/health\/live$/, kind: "live", methods: GET },
    { template: "/v2/health/ready", pattern: /^\/v2\/health\/ready$/, kind: "ready", methods: GET },
    { template: "/v2", pattern: /^\/v2$/, kind: "server", methods: GET },
    { template: "/v2/models/:name", pattern: /^\/v2\/models\/([^/]+)$/, kind: "metadata", methods: GET },
    { template: "/v2/models/:name/versions/:version", pattern: /^\/v2\/models\/([^/]+)\/versions\/([^/]+)$/, kind: "metadata", methods: GET },
    { template: "/v2/models/:name/ready", pattern: /^\/v2\/models\/([^/]+)\/ready$/, kind: "modelReady", methods: GET },
    { template: "/v2/models/:name/versions/:version/ready", pattern: /^\/v2\/models\/([^/]+)\/versions\/([^/]+)\/ready$/, kind: "modelReady", methods: GET },
    { template: "/v2/models/:name/infer", pattern: /^\/v2\/models\/([^/]+)\/infer$/, kind: "infer", methods: POST },
    { template: "/v2/models/:name/versions/:version/infer", pattern: /^\/v2\/models\/([^/]+)\/versions\/([^/]+)\/infer$/, kind: "infer", methods: POST },
    { template: "/v1/models/:name:predict", pattern: /^\/v1\/models\/([^/:]+):predict$/, kind: "predictV1", methods: POST },
    { template: "/v2/models/:name/feedback", pattern: /^\/v2\/models\/([^/]+)\/feedback$/, kind: "feedback", methods: POST },
    { template: "/v2/models/:name/shadow/answers", pattern: /^\/v2\/models\/([^/]+)\/shadow\/answers$/, kind: "shadowAnswers", methods: POST },
    { template: "/metrics", pattern: /^\/metrics$/, kind: "metrics", methods: GET },
];
/** The route label of a request that matched no route. */
export const UNMATCHED_ROUTE = "unmatched";

interface Matched {
    readonly route: Route | undefined;
    readonly name?: string;
    readonly version?: string;
}

export function matchRoute(pathname: string): Matched {
    for (const route of ROUTES) {
        const match = route.pattern.exec(pathname);
        if (!match) continue;
        const name = decode(match[1]);
        const version = decode(match[2]);
        if (name === null || version === null) return { route: undefined };
        return { route, ...(name !== undefined ? { name } : {}), ...(version !== undefined ? { version } : {}) };
    }
    return { route: undefined };
}

function decode(segment: string | undefined): string | undefined | null {
    if (segment === undefined) return undefined;
    try {
        return decodeURIComponent(segment);
    } catch {
        return null;
    }
}

export class ModelServer {
    readonly http: http.Server;
    readonly metrics: Metrics;
    private readonly config: ServerConfig;
    private readonly logger: Logger;
    private readonly random: () => number;
    private readonly cwd: string | undefined;
    private readonly maxBodyBytes: number;
    private readonly context: ServingContext;
    private state: State = "loading";
    private model: ServedModel | undefined;
    private shuttingDown = false;
    private stopped: Promise<{ forced: boolean }> | undefined;
    private readonly inflight = new Set<http.ServerResponse>();
    private readonly startup = new AbortController();
    /** Aborted when a shutdown gives up waiting: in-flight FAULT_LATENCY_MS sleeps end with it. */
    private readonly cut = new AbortController();
    /** Inference requests that reached the fault knobs, for FAULT_FAIL_ONCE_AT. */
    private inferences = 0;
    /** What FAULT_LEAK_BYTES_PER_REQUEST retains: never read, never freed. */
    private readonly leaked: Buffer[] = [];
    private readonly feedback: FeedbackStore;
    /** Stable's side of a shadow comparison, when MODELSHIP_SHADOW_COMPARE_URL is set. */
    private readonly shadowReporter: ShadowReporter | undefined;
    /** The candidate's side of a shadow comparison. */
    private readonly shadowPairs: ShadowPairs | undefined;

    constructor(options: ServerOptions) {
        this.config = options.config;
        const identity = { model: this.config.modelName, version: this.config.modelVersion, track: this.config.track };
        this.logger = options.log ?? jsonLogger(identity);
        this.random = options.random ?? Math.random;
        this.cwd = options.cwd;
        this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
        this.context = { track: this.config.track, featureFlags: this.config.featureFlags };
        this.metrics = new Metrics(
            identity,
            ROUTES.filter((r) => r.kind === "infer" || r.kind === "predictV1").map((r) => r.template),
            memoryLimit(this.config.memoryLimitBytes, options.cgroupMemoryMax),
        );
        const { registry } = this.metrics;
        this.metrics.countInFlight(() => this.inflight.size);
        this.feedback = new FeedbackStore(registry, this.config.rewardBuckets);
        const { compareUrl, pairTtlMs } = this.config.shadow;
        this.shadowReporter = compareUrl !== undefined ? new ShadowReporter({ compareUrl, modelName: this.config.modelName, registry, logger: this.logger }) : undefined;
        this.shadowPairs = this.config.track === "candidate" ? new ShadowPairs({ registry, threshold: this.config.decisionThreshold, ttlMs: pairTtlMs }) : undefined;
        this.http = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => this.handle(req, res));
        // Expect: 100-continue: refuse an oversized body before the client sends it.
        this.http.on("checkContinue", (req, res) => {
            if (declaredLength(req) <= this.maxBodyBytes) res.writeContinue();
            this.handle(req, res);
        });
        this.http.on("clientError", (error: NodeJS.ErrnoException, socket) => {
            if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
            const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
            const body = JSON.stringify({ error: `${http.STATUS_CODES[status]}: ${error.code ?? error.message}` });
            const identity = `X-Model-Name: ${this.config.modelName}\r\nX-Model-Version: ${this.config.modelVersion}\r\nX-Model-Track: ${this.config.track}\r\n`;
            socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${identity}Content-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        });
    }

    get ready(): boolean {
        return this.state === "ready" && !this.shuttingDown;
    }

    /** Binds HOST:PORT (PORT=0 picks a free port) and logs the `start` line with the bound port. */
    listen(): Promise<AddressInfo> {
        return new Promise((resolve, reject) => {
            const onError = (error: Error) => reject(error);
            this.http.once("error", onError);
            this.http.listen(this.config.port, this.config.host, () => {
                this.http.off("error", onError);
                const address = this.http.address() as AddressInfo;
                const { faults } = this.config;
                this.logger.log("info", "start", `listening on ${formatUrl(address)}`, {
                    host: address.address,
                    port: address.port,
                    environment: this.config.environment,
                    artifact: this.config.artifact,
                    feature_flags: this.config.featureFlags,
                    faults: {
                        error_rate: faults.errorRate,
                        latency_ms: faults.latencyMs,
                        slow_start_ms: faults.slowStartMs,
                        fail_once_at: faults.failOnceAt,
                        leak_bytes_per_request: faults.leakBytesPerRequest,
                    },
                    decision_threshold: this.config.decisionThreshold,
                    ...(this.config.shadow.compareUrl !== undefined ? { shadow_compare_url: this.config.shadow.compareUrl } : {}),
                    server_version: SERVER_VERSION,
                    pid: process.pid,
                });
                resolve(address);
            });
        });
    }

    /**
     * Waits FAULT_SLOW_START_MS, then loads the artifact. On success readiness turns 200; on failure
     * the server stays up and not ready, and one `model_load_failed` line names the path and the problem.
     */
    async load(): Promise<boolean> {
        const { slowStartMs } = this.config.faults;
        if (slowStartMs > 0) {
            this.logger.log("info", "model_load_delayed", `FAULT_SLOW_START_MS: loading the model in ${slowStartMs} ms`, { delay_ms: slowStartMs });
            const waited = await sleep(slowStartMs, this.startup.signal);
            if (!waited) return false;
        }
        const started = performance.now();
        try {
            const { model, path } = await loadServedModel(this.config.artifact, { name: this.config.modelName, version: this.config.modelVersion }, this.cwd);
            if (this.shuttingDown) return false;
            this.model = model;
            this.state = "ready";
            this.metrics.setReady(true);
            this.logger.log("info", "model_loaded", `model ${model.name} ${model.version} loaded from ${path}`, {
                artifact: path,
                features: model.featureNames ?? model.size,
                platform: model.platform,
                load_ms: round(performance.now() - started),
            });
            return true;
        } catch (error) {
            this.state = "failed";
            const artifact = error instanceof ArtifactError ? error.path : this.config.artifact;
            const problem = error instanceof ArtifactError ? error.problem : `unexpected error: ${(error as Error).message}`;
            this.logger.log("error", "model_load_failed", `cannot serve the model: ${artifact} ${problem}`, { artifact, problem });
            return false;
        }
    }

    /**
     * Graceful stop: readiness answers 503 at once, no new connections are accepted, in-flight
     * requests finish (their keep-alive connections close after the response), idle connections
     * close. Whatever is still open after SHUTDOWN_TIMEOUT_MS is cut and `forced` is true.
     */
    shutdown(reason: string): Promise<{ forced: boolean }> {
        if (this.stopped) return this.stopped;
        this.shuttingDown = true;
        this.startup.abort();
        this.shadowReporter?.close();
        this.shadowPairs?.close();
        this.metrics.setReady(false);
        for (const res of this.inflight) if (!res.headersSent) res.setHeader("Connection", "close");
        const timeoutMs = this.config.shutdownTimeoutMs;
        const started = performance.now();
        const listening = this.http.listening;
        // Stop listening before saying so: once the `shutdown` line is out, new connections are refused.
        const closed = new Promise<void>((resolve) => (listening ? this.http.close(() => resolve()) : resolve()));
        this.http.closeIdleConnections();
        this.logger.log("info", "shutdown", `${reason}: draining ${this.inflight.size} in-flight request(s), at most ${timeoutMs} ms`, {
            reason,
            inflight: this.inflight.size,
            timeout_ms: timeoutMs,
        });
        this.stopped = new Promise((resolve) => {
            let timer: NodeJS.Timeout | undefined;
            const finish = (forced: boolean) => {
                if (timer) clearTimeout(timer);
                const fields = { forced, duration_ms: round(performance.now() - started) };
                if (forced) this.logger.log("warn", "shutdown_forced", `closed ${this.inflight.size} unfinished request(s) after ${timeoutMs} ms`, { ...fields, dropped: this.inflight.size });
                else this.logger.log("info", "shutdown_complete", "all requests finished", fields);
                resolve({ forced });
            };
            timer = setTimeout(() => {
                timer = undefined;
                this.cut.abort();
                this.http.closeAllConnections();
                finish(true);
            }, timeoutMs);
            void closed.then(() => {
                if (timer) finish(false);
            });
        });
        return this.stopped;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const started = performance.now();
        const method = req.method ?? "GET";
        const pathname = (req.url ?? "/").split("?", 1)[0]!;
        const matched = matchRoute(pathname);
        const template = matched.route?.template ?? UNMATCHED_ROUTE;

        this.inflight.add(res);
        res.setHeader("X-Model-Name", this.config.modelName);
        res.setHeader("X-Model-Version", this.config.modelVersion);
        res.setHeader("X-Model-Track", this.config.track);
        if (matched.route?.kind === "predictV1") {
            res.setHeader("Deprecation", "true");
            res.setHeader("Sunset", V1_SUNSET);
            res.setHeader("Link", `</v2/models/${encodeURIComponent(this.config.modelName)}/infer>; rel="successor-version"`);
        }
        if (this.shuttingDown) res.setHeader("Connection", "close");

        res.once("close", () => {
            this.inflight.delete(res);
            const durationMs = performance.now() - started;
            const completed = res.writableFinished;
            if (completed) this.metrics.observe(template, res.statusCode, durationMs / 1000);
            const status = completed ? res.statusCode : 0;
            // A 503 from a readiness route is an answer, not a failure: it is logged at info.
            const readiness = matched.route?.kind === "ready" || matched.route?.kind === "modelReady";
            const level: Level = !completed || (status >= 500 && !readiness) ? "error" : status >= 400 && !readiness ? "warn" : "info";
            this.logger.log(level, "request", `${method} ${template} ${completed ? status : "aborted by the client"}`, {
                method,
                route: template,
                path: pathname.length > 200 ? `${pathname.slice(0, 200)}...` : pathname,
                status,
                duration_ms: round(durationMs),
            });
        });

        this.dispatch(req, res, matched, method, started)
            .catch((error: unknown) => {
                if (error instanceof ProtocolError) return this.sendError(res, error.status, error.message);
                this.logger.log("error", "request_failed", `unexpected error: ${(error as Error)?.message}`, { route: template, error });
                return this.sendError(res, 500, "internal server error");
            })
            .catch(() => res.destroy());
    }

    private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, matched: Matched, method: string, started: number): Promise<void> {
        const route = matched.route;
        if (!route) throw new ProtocolError(404, `no route for ${method} ${(req.url ?? "/").split("?", 1)[0]}`);
        if (!route.methods.includes(method)) {
            res.setHeader("Allow", route.methods.join(", "));
            throw new ProtocolError(405, `${method} is not allowed on ${route.template}: use ${route.methods.filter((m) => m !== "HEAD").join(", ")}`);
        }
        switch (route.kind) {
            case "live":
                return this.sendJson(res, 200, { live: true });
            case "ready":
                return this.sendJson(res, this.ready ? 200 : 503, { ready: this.ready });
            case "server":
                return this.sendJson(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
            case "metrics": {
                this.shadowPairs?.sweep();
                const body = await this.metrics.render();
                return this.send(res, 200, this.metrics.contentType, body);
            }
            case "modelReady":
                this.checkModel(matched);
                return this.sendJson(res, this.ready ? 200 : 503, { name: this.config.modelName, ready: this.ready });
            case "metadata":
                return this.sendJson(res, 200, modelMetadata(this.readyModel(matched)));
            case "infer": {
                const model = this.readyModel(matched);
                const routed = headerRequestId(req.headers);
                if (routed !== undefined) res.setHeader("X-Request-Id", routed);
                const request = parseInferRequest(parseJson(await this.readBody(req, res)), model);
                const id = requestId(routed, request.id);
                res.setHeader("X-Request-Id", id);
                const inference = await this.infer(model, request.rows);
                this.answered(res, id, routed !== undefined, inference.scores, started);
                return this.sendJson(res, 200, inferResponse(model, id, inference.outputs, this.context));
            }
            case "predictV1": {
                const model = this.readyModel(matched);
                const routed = headerRequestId(req.headers);
                const id = requestId(routed, undefined);
                res.setHeader("X-Request-Id", id);
                const rows = parseV1Request(parseJson(await this.readBody(req, res)), model);
                const { scores } = await this.infer(model, rows);
                this.answered(res, id, routed !== undefined, scores, started);
                return this.sendJson(res, 200, v1Response(model, scores, this.context));
            }
            case "feedback": {
                this.checkModel(matched);
                const feedback = parseFeedback(parseJson(await this.readBody(req, res)));
                return this.sendJson(res, 200, this.feedback.record(feedback));
            }
            case "shadowAnswers": {
                this.checkModel(matched);
                if (!this.shadowPairs) throw new ProtocolError(409, `this server serves the ${this.config.track} track: shadow answers are compared on the candidate's server`);
                const answers = parseShadowAnswers(parseJson(await this.readBody(req, res)));
                for (const answer of answers) this.shadowPairs.add("stable", answer);
                return this.sendJson(res, 202, { accepted: answers.length });
            }
        }
    }

    /**
     * What follows an answer: its scores into the histogram, its classes remembered for feedback,
     * and, for a request the router gave an id, once the response is out (so no client waits for
     * it), the answer to the shadow comparison: reported to the candidate from stable, or kept on
     * the candidate for stable's report.
     */
    private answered(res: http.ServerResponse, id: string, routed: boolean, probabilities: readonly number[], started: number): void {
        this.metrics.observeScores(probabilities);
        this.feedback.remember(id, classesOf(probabilities, this.config.decisionThreshold));
        if (!routed || (this.shadowReporter === undefined && this.shadowPairs === undefined)) return;
        res.once("finish", () => {
            const answer = { id, outputs: probabilities, ms: round(performance.now() - started) };
            this.shadowReporter?.report(answer);
            this.shadowPairs?.add("candidate", answer);
        });
    }

    /** 404 unless the path names this server's model (and version, if it names one). */
    private checkModel(matched: Matched): void {
        if (matched.name !== this.config.modelName) throw new ProtocolError(404, `model ${JSON.stringify(matched.name)} not found: this server serves ${JSON.stringify(this.config.modelName)}`);
        if (matched.version !== undefined && matched.version !== this.config.modelVersion) {
            throw new ProtocolError(404, `model ${this.config.modelName} version ${JSON.stringify(matched.version)} not found: this server serves version ${JSON.stringify(this.config.modelVersion)}`);
        }
    }

    private readyModel(matched: Matched): ServedModel {
        this.checkModel(matched);
        if (!this.ready || !this.model) {
            const why = this.shuttingDown ? "the server is shutting down" : this.state === "failed" ? "its artifact could not be loaded" : "it is still loading";
            throw new ProtocolError(503, `model ${this.config.modelName} is not ready: ${why}`);
        }
        return this.model;
    }

    /** The fault knobs, then the model: FAULT_LEAK_BYTES_PER_REQUEST is retained, FAULT_LATENCY_MS is added, FAULT_FAIL_ONCE_AT and FAULT_ERROR_RATE of requests fail. */
    private async infer(model: ServedModel, rows: number[][]): Promise<Inference> {
        const { latencyMs, errorRate, failOnceAt, leakBytesPerRequest } = this.config.faults;
        // Filled with a non-zero byte so every page is written, and so resident, not merely reserved.
        if (leakBytesPerRequest > 0) this.leaked.push(Buffer.alloc(leakBytesPerRequest, 0x6c));
        if (++this.inferences === failOnceAt) throw new ProtocolError(503, `injected fault (FAULT_FAIL_ONCE_AT=${failOnceAt})`);
        if (latencyMs > 0 && !(await sleep(latencyMs, this.cut.signal))) throw new ProtocolError(503, "the server shut down before the request finished");
        if (errorRate > 0 && this.random() < errorRate) throw new ProtocolError(500, `injected fault (FAULT_ERROR_RATE=${errorRate})`);
        let inference: Inference;
        try {
            inference = await model.run(rows);
        } catch (error) {
            if (error instanceof RangeError) throw new ProtocolError(400, error.message);
            throw error;
        }
        return this.config.featureFlags[CALIBRATED_SCORES_FLAG] === "true" ? mapScores(inference, roundScore) : inference;
    }

    /**
     * The body's bytes, at most maxBodyBytes. A larger one (by Content-Length, or once that many
     * bytes have arrived) is a 413 and nothing more of it is buffered: the rest is read and thrown
     * away, up to MAX_DISCARD_BYTES, before the answer goes out, so that the client is not cut off
     * while it is still sending (it would see a reset instead of the 413). A body larger than that
     * gets the 413 at once with `Connection: close`.
     */
    private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer> {
        const limit = this.maxBodyBytes;
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            let size = 0;
            let overflow = false;
            let settled = false;
            const settle = (action: () => void) => {
                if (settled) return;
                settled = true;
                action();
            };
            const tooLarge = () => settle(() => reject(new ProtocolError(413, `the request body is larger than ${limit} bytes`)));
            const startDiscarding = () => {
                overflow = true;
                chunks.length = 0;
                if (declaredLength(req) > limit + MAX_DISCARD_BYTES) {
                    res.setHeader("Connection", "close");
                    tooLarge();
                }
            };
            if (declaredLength(req) > limit) {
                // Expect: 100-continue was not answered with 100 (see checkContinue): the body is not coming.
                if (/100-continue/i.test(req.headers.expect ?? "")) {
                    res.setHeader("Connection", "close");
                    return tooLarge();
                }
                startDiscarding();
            }
            req.on("data", (chunk: Buffer) => {
                size += chunk.length;
                if (!overflow && size > limit) startDiscarding();
                if (!overflow) return void chunks.push(chunk);
                if (size > limit + MAX_DISCARD_BYTES && !settled) {
                    res.setHeader("Connection", "close");
                    tooLarge();
                }
            });
            req.once("end", () => (overflow ? tooLarge() : settle(() => resolve(Buffer.concat(chunks, size)))));
            req.once("error", (error) => settle(() => reject(error)));
            req.once("close", () => settle(() => reject(new ProtocolError(400, "the client closed the connection before sending the whole body"))));
        });
    }

    private sendError(res: http.ServerResponse, status: number, message: string): void {
        this.sendJson(res, status, { error: message });
    }

    private sendJson(res: http.ServerResponse, status: number, body: unknown): void {
        this.send(res, status, JSON_TYPE, JSON.stringify(body));
    }

    private send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
        if (res.headersSent || res.destroyed) return;
        res.statusCode = status;
        res.setHeader("Content-Type", contentType);
        res.setHeader("Content-Length", Buffer.byteLength(body));
        res.setHeader("Cache-Control", "no-store");
        res.end(body);
    }
}

export function createServer(options: ServerOptions): ModelServer {
    return new ModelServer(options);
}

/** Content-Length as a number: 0 when absent, Infinity when unreadable. */
function declaredLength(req: http.IncomingMessage): number {
    const header = req.headers["content-length"];
    if (header === undefined) return 0;
    return /^\d+$/.test(header) ? Number(header) : Infinity;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
        if (signal?.aborted) return resolve(false);
        const onAbort = () => {
            clearTimeout(timer);
            resolve(false);
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve(true);
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function formatUrl(address: AddressInfo): string {
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
}

function round(ms: number): number {
    return Math.round(ms * 1000) / 1000;
}
