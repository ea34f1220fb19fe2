/**
 * A bounded load generator for loopback HTTP: a fixed number of workers share one keep-alive
 * agent and send until a request count or a duration runs out, recording every request.
 * Used by the router and Prometheus integration tests and by bench/router.bench.ts, so the
 * figures the bench prints and the ones the tests assert come from the same code.
 */
import * as http from "http";
import { performance } from "perf_hooks";

/** Hard limits, whatever a caller asks for: a typo must not turn a test into a flood. */
export const MAX_TOTAL = 100_000;
export const MAX_DURATION_MS = 60_000;
export const MAX_CONCURRENCY = 128;
const DEFAULT_TIMEOUT_MS = 10_000;

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
    /** True when the connection closed before any answer and the request was sent again (see ClosedBeforeAnswer). */
    retried: boolean;
}

export interface Sample {
    index: number;
    /** performance.now() when the request was handed to the agent. */
    startMs: number;
    endMs: number;
    latencyMs: number;
    /** 0 when no HTTP answer arrived. */
    status: number;
    /** The model server's X-Model-Track, else the router's X-Modelship-Track. */
    track: string | undefined;
    version: string | undefined;
    /** The router's own view of the track, to check it against the server's. */
    routerTrack: string | undefined;
    error: string | undefined;
    retried: boolean;
}

export interface RequestOptions {
    path: string;
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string;
    timeoutMs?: number;
}

const CLOSED_ERRORS = new Set(["ECONNRESET", "EPIPE"]);
/** The first attempt plus this many: each retry runs on a connection of its own. */
const MAX_RETRIES = 2;

/**
 * The server closed the connection before any answer byte: an nginx reload retires the old
 * workers, and each closes its idle connections at once, both kept-alive ones (the request was
 * on its way) and freshly accepted ones whose request had not arrived yet. Neither reached a
 * model server. Node documents retrying the first case (`request.reusedSocket`); the second is
 * retried too because an inference is a pure function of its input, the same reason the router
 * retries POSTs on its upstreams.
 */
class ClosedBeforeAnswer extends Error {
    constructor(
        readonly connection: string,
        cause: Error,
    ) {
        super(`${cause.message} before any answer on ${connection}`);
    }
}

/** HTTP to one loopback port over a keep-alive agent. */
export class LoopbackClient {
    readonly agent: http.Agent;

    constructor(
        readonly port: number,
        maxSockets = 16,
        /** Send a request again when the connection closed before any answer (see ClosedBeforeAnswer); recorded as `retried`. */
        private readonly retryClosed = true,
        /** Loopback, or an address inside a network namespace the test created (a Service of the real node). */
        readonly host = "127.0.0.1",
    ) {
        this.agent = new http.Agent({ keepAlive: true, maxSockets });
    }

    async request(options: RequestOptions): Promise<Reply> {
        // Other pooled sockets may be just as closed (a retiring worker closes them all), so retries use one-off connections.
        for (let attempt = 0; ; attempt++) {
            try {
                const reply = await this.once(options, attempt === 0 ? this.agent : false);
                return { ...reply, retried: attempt > 0 };
            } catch (error) {
                if (!(error instanceof ClosedBeforeAnswer) || !this.retryClosed || attempt >= MAX_RETRIES) throw error;
            }
        }
    }

    close(): void {
        this.agent.destroy();
    }

    private once(options: RequestOptions, agent: http.Agent | false): Promise<Reply> {
        const method = options.method ?? (options.body === undefined ? "GET" : "POST");
        // A Content-Length (not chunked encoding), as the usual inference clients send.
        const bodyHeaders = options.body !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(options.body) } : {};
        const headers = { ...bodyHeaders, ...options.headers };
        return new Promise((resolve, reject) => {
            let answered = false;
            const req = http.request({ host: this.host, port: this.port, path: options.path, method, headers, agent, timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, (res) => {
                answered = true;
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, retried: false }));
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
            req.on("error", (error: NodeJS.ErrnoException) => {
                const connection = agent === false ? "a one-off connection" : req.reusedSocket ? "a reused keep-alive connection" : "a new keep-alive connection";
                if (!answered && CLOSED_ERRORS.has(error.code ?? "")) return reject(new ClosedBeforeAnswer(connection, error));
                reject(new Error(`${error.message}${answered ? " after the answer began" : ""} on ${connection}`));
            });
            req.end(options.body);
        });
    }
}

export type Send = (index: number) => Promise<Reply>;

export interface LoadOptions {
    /** Sends request number `index` (0, 1, 2, ...): lets a caller vary keys or headers by index. */
    send: Send;
    concurrency: number;
    /** Stop after this many requests... */
    total?: number;
    /** ...or once this much time has passed; whichever comes first. At least one is required. */
    durationMs?: number;
}

export interface LoadResult {
    /** Ordered by start time. */
    samples: Sample[];
    startMs: number;
    elapsedMs: number;
    /** Answered requests (any status) per second. */
    throughput: number;
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}

async function measure(send: Send, index: number): Promise<Sample> {
    const startMs = performance.now();
    const done = (fields: Pick<Sample, "status" | "track" | "version" | "routerTrack" | "error" | "retried">): Sample => {
        const endMs = performance.now();
        return { index, startMs, endMs, latencyMs: endMs - startMs, ...fields };
    };
    try {
        const reply = await send(index);
        const routerTrack = header(reply.headers, "x-modelship-track");
        return done({
            status: reply.status,
            track: header(reply.headers, "x-model-track") ?? routerTrack,
            version: header(reply.headers, "x-model-version"),
            routerTrack,
            error: undefined,
            retried: reply.retried,
        });
    } catch (error) {
        return done({ status: 0, track: undefined, version: undefined, routerTrack: undefined, error: (error as Error).message, retried: false });
    }
}

function checkLoadOptions(options: LoadOptions): void {
    const { concurrency, total, durationMs } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new RangeError(`concurrency must be an integer 1..${MAX_CONCURRENCY}, got ${concurrency}`);
    if (total === undefined && durationMs === undefined) throw new RangeError("runLoad needs total or durationMs");
    if (total !== undefined && (!Number.isInteger(total) || total < 1 || total > MAX_TOTAL)) throw new RangeError(`total must be an integer 1..${MAX_TOTAL}, got ${total}`);
    if (durationMs !== undefined && (!(durationMs > 0) || durationMs > MAX_DURATION_MS)) throw new RangeError(`durationMs must be in (0, ${MAX_DURATION_MS}], got ${durationMs}`);
}

/** Runs `concurrency` workers in a closed loop until `total` requests are sent or `durationMs` is over. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
    checkLoadOptions(options);
    const total = Math.min(options.total ?? MAX_TOTAL, MAX_TOTAL);
    const startMs = performance.now();
    const deadline = startMs + Math.min(options.durationMs ?? MAX_DURATION_MS, MAX_DURATION_MS);
    const samples: Sample[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < total && performance.now() < deadline) samples.push(await measure(options.send, next++));
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const elapsedMs = performance.now() - startMs;
    samples.sort((a, b) => a.startMs - b.startMs);
    return { samples, startMs, elapsedMs, throughput: (samples.length * 1000) / elapsedMs };
}

/** Several runs as one, e.g. the halves of an interleaved comparison: samples pooled, time summed. */
export function combine(results: readonly LoadResult[]): LoadResult {
    const samples = results.flatMap((r) => r.samples).sort((a, b) => a.startMs - b.startMs);
    const elapsedMs = results.reduce((total, r) => total + r.elapsedMs, 0);
    return { samples, startMs: Math.min(...results.map((r) => r.startMs)), elapsedMs, throughput: (samples.length * 1000) / elapsedMs };
}

export interface TimedAction {
    /** Milliseconds after the load starts. */
    atMs: number;
    run: () => void | Promise<void>;
}

/**
 * Load plus actions at fixed offsets into it (e.g. a router reload); returns once the load and
 * every action are done. `actionAtMs` and `actionDoneMs` (when each action started and ended) are
 * on the samples' clock (performance.now).
 */
export async function runLoadWith(options: LoadOptions, actions: readonly TimedAction[]): Promise<{ load: LoadResult; actionAtMs: number[]; actionDoneMs: number[] }> {
    const actionAtMs: number[] = [];
    const actionDoneMs: number[] = [];
    const timed = actions.map(async (action, i) => {
        await new Promise((resolve) => setTimeout(resolve, action.atMs));
        actionAtMs[i] = performance.now();
        await action.run();
        actionDoneMs[i] = performance.now();
    });
    // Settle both before throwing, so a failed action never leaves the load running unobserved.
    const [load, acted] = await Promise.allSettled([runLoad(options), Promise.all(timed)]);
    if (acted.status === "rejected") throw acted.reason;
    if (load.status === "rejected") throw load.reason;
    return { load: load.value, actionAtMs, actionDoneMs };
}

// ---------------------------------------------------------------------------------------------
// Figures.

export function failed(sample: Sample): boolean {
    return sample.error !== undefined || sample.status !== 200;
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * sorted.length);
    return sorted[Math.max(rank - 1, 0)];
}

export interface Bounds {
    low: number;
    high: number;
}

/**
 * The counts a Binomial(n, p) lands in with overwhelming probability: mean ± z standard
 * deviations (z = 4 fails a correct router about once in 16,000 runs).
 */
export function binomialBounds(n: number, p: number, z = 4): Bounds {
    const mean = n * p;
    const sd = Math.sqrt(n * p * (1 - p));
    return { low: Math.max(0, Math.floor(mean - z * sd)), high: Math.min(n, Math.ceil(mean + z * sd)) };
}

export function within(count: number, bounds: Bounds): boolean {
    return count >= bounds.low && count <= bounds.high;
}

export function countBy<K extends string>(samples: readonly Sample[], key: (s: Sample) => K | undefined): Partial<Record<K, number>> {
    const counts: Partial<Record<K, number>> = {};
    for (const s of samples) {
        const k = key(s);
        if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
}

export interface Settle {
    /** Milliseconds from `sinceMs` to the start of the first request of the final all-`track` run. */
    ms: number;
    /** Requests in that final run. */
    run: number;
}

/**
 * How long after `sinceMs` (e.g. a reload) every answer comes from `track`: the requests started
 * in [sinceMs, untilMs) must end in a run of at least `minRun` consecutive answers from `track`,
 * and the settle time is when that run began. Undefined when there is no such run.
 */
export function settleTime(samples: readonly Sample[], track: string, sinceMs: number, untilMs: number, minRun = 50): Settle | undefined {
    const window = samples.filter((s) => s.startMs >= sinceMs && s.startMs < untilMs);
    let first = window.length;
    while (first > 0 && window[first - 1].track === track && !failed(window[first - 1])) first--;
    const run = window.length - first;
    if (run < minRun) return undefined;
    return { ms: Math.max(0, window[first].startMs - sinceMs), run };
}

export interface LatencySummary {
    requests: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    throughput: number;
}

export function summarize(result: LoadResult): LatencySummary {
    const latencies = result.samples.map((s) => s.latencyMs);
    return {
        requests: result.samples.length,
        errors: result.samples.filter(failed).length,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        throughput: result.throughput,
    };
}
