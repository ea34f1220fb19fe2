/**
 * The real model server (model-server/dist) as a child process on a free loopback port, for the
 * router, Prometheus and bench runs: start one per track, read its port from the `start` log
 * line, wait for readiness, scrape its /metrics, stop it.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { modelSchema, type ModelConfig } from "../../components/config/schema";
import type { ModelRoute } from "../../components/traffic/nginx";
import { planTraffic } from "../../components/traffic/plan";
import { findProjectDir } from "../../tools/render";
import { DIGEST, OTHER_DIGEST } from "../fixtures";
import { failed, LoopbackClient, runLoadWith, settleTime, type LoadResult, type Sample } from "./load";
import type { NginxProcess } from "./nginx";
import { sleep } from "./http";

export type Track = "stable" | "candidate";

export const MODEL = "fraud-scorer";
export const INFER_PATH = `/v2/models/${MODEL}/infer`;
/** The route label the server puts on inference requests in its metrics. */
export const INFER_ROUTE = "/v2/models/:name/infer";

export interface Faults {
    /** FAULT_ERROR_RATE: share 0..1 of inferences answered 500. */
    errorRate?: number;
    /** FAULT_LATENCY_MS: added to every inference. */
    latencyMs?: number;
    /** FAULT_SLOW_START_MS: delay before the model loads (readiness comes late). */
    slowStartMs?: number;
    /** FAULT_FAIL_ONCE_AT: the inference with this ordinal (1-based) answers 503, no other. */
    failOnceAt?: number;
    /** FAULT_LEAK_BYTES_PER_REQUEST: memory kept for good by every inference (a leaking version). */
    leakBytesPerRequest?: number;
}

export interface ModelServerSpec {
    track: Track;
    /** A version directory under model-server/models/fraud-scorer: 1.4.0 or 1.5.0. */
    version: string;
    faults?: Faults;
    /** How long the start line and then readiness may take, on top of slowStartMs. */
    startTimeoutMs?: number;
    /** More environment, e.g. MODELSHIP_SHADOW_COMPARE_URL, or a MODELSHIP_MEMORY_LIMIT_BYTES other than the default. */
    env?: Readonly<Record<string, string>>;
}

/** What the deployer sets from the model's default memory limit (512Mi): the memory template's denominator. */
export const MEMORY_LIMIT_BYTES = 512 * 2 ** 20;

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
/** The server drains in-flight requests on SIGTERM for this long at most (SHUTDOWN_TIMEOUT_MS). */
const SHUTDOWN_TIMEOUT_MS = 2_000;
/** The server logs every request; only the last lines are kept, for failure messages. */
const LOG_TAIL_LINES = 40;

/** The built entry point, or an Error that says how to build it. */
export function modelServerEntry(root: string = findProjectDir()): string {
    const entry = path.join(root, "model-server", "dist", "src", "main.js");
    if (!fs.existsSync(entry)) {
        throw new Error(`the model server is not built (${entry} is missing): run \`npm --prefix model-server run build\` first`);
    }
    return entry;
}

function faultEnv(faults: Faults = {}): Record<string, string> {
    const env: Record<string, string> = {};
    if (faults.errorRate !== undefined) env.FAULT_ERROR_RATE = String(faults.errorRate);
    if (faults.latencyMs !== undefined) env.FAULT_LATENCY_MS = String(faults.latencyMs);
    if (faults.slowStartMs !== undefined) env.FAULT_SLOW_START_MS = String(faults.slowStartMs);
    if (faults.failOnceAt !== undefined) env.FAULT_FAIL_ONCE_AT = String(faults.failOnceAt);
    if (faults.leakBytesPerRequest !== undefined) env.FAULT_LEAK_BYTES_PER_REQUEST = String(faults.leakBytesPerRequest);
    return env;
}

function serverEnv(spec: ModelServerSpec, root: string): NodeJS.ProcessEnv {
    // Only what the server needs (plus PATH/HOME): no stray FAULT_* from the caller's shell.
    return {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MODEL_NAME: MODEL,
        MODEL_VERSION: spec.version,
        MODEL_TRACK: spec.track,
        MODEL_ARTIFACT: path.join(root, "model-server", "models", MODEL),
        HOST: "127.0.0.1",
        PORT: "0",
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        MODELSHIP_ENVIRONMENT: "test",
        MODELSHIP_MEMORY_LIMIT_BYTES: String(MEMORY_LIMIT_BYTES),
        ...faultEnv(spec.faults),
        ...spec.env,
    };
}

const running = new Set<ModelServerProcess>();

export class ModelServerProcess {
    port = 0;
    private readonly child: ChildProcess;
    private readonly tail: string[] = [];
    private stderr = "";
    private partial = "";
    private readonly exited: Promise<void>;
    private portFound: (port: number) => void = () => undefined;
    readonly portLine: Promise<number>;

    constructor(readonly spec: ModelServerSpec) {
        const root = findProjectDir();
        const entry = modelServerEntry(root);
        this.portLine = new Promise((resolve) => (this.portFound = resolve));
        this.child = spawn(process.execPath, [entry], { cwd: root, env: serverEnv(spec, root), stdio: ["ignore", "pipe", "pipe"] });
        this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
        // Always drained, or a chatty server would block on a full pipe under load.
        this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => this.onStdout(chunk));
        this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    }

    get address(): string {
        return `127.0.0.1:${this.port}`;
    }

    get pid(): number | undefined {
        return this.child.pid;
    }

    get running(): boolean {
        return this.child.exitCode === null && this.child.signalCode === null;
    }

    describe(): string {
        const faults = this.spec.faults && Object.keys(this.spec.faults).length > 0 ? ` faults ${JSON.stringify(this.spec.faults)}` : "";
        return `model server ${this.spec.track} ${this.spec.version}${faults}`;
    }

    /** The last log lines and stderr, for failure messages. */
    diagnostics(): string {
        return `--- stdout (last ${LOG_TAIL_LINES} lines)\n${this.tail.join("\n")}\n--- stderr\n${this.stderr}`;
    }

    private onStdout(chunk: string): void {
        const lines = (this.partial + chunk).split("\n");
        this.partial = lines.pop() ?? "";
        for (const line of lines) {
            this.tail.push(line);
            if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
            if (this.port === 0) this.readStartLine(line);
        }
    }

    private readStartLine(line: string): void {
        let record: unknown;
        try {
            record = JSON.parse(line);
        } catch {
            return;
        }
        if (typeof record !== "object" || record === null) return;
        const { event, port } = record as { event?: unknown; port?: unknown };
        if (event === "start" && typeof port === "number" && port > 0) {
            this.port = port;
            this.portFound(port);
        }
    }

    async waitUntilReady(): Promise<void> {
        const timeoutMs = (this.spec.startTimeoutMs ?? START_TIMEOUT_MS) + (this.spec.faults?.slowStartMs ?? 0);
        const deadline = performance.now() + timeoutMs;
        const exitedEarly = this.exited.then(() => undefined);
        const port = await Promise.race([this.portLine, exitedEarly, sleep(timeoutMs).then(() => undefined)]);
        if (port === undefined)
            throw new Error(`${this.describe()}: no "start" log line with a port ${this.running ? `within ${timeoutMs} ms` : `(exited with ${this.exitStatus()})`}\n${this.diagnostics()}`);
        const client = new LoopbackClient(port, 1);
        try {
            while (performance.now() < deadline) {
                if (!this.running) break;
                const reply = await client.request({ path: "/v2/health/ready", timeoutMs: 1000 }).catch(() => undefined);
                if (reply?.status === 200) return;
                await sleep(50);
            }
        } finally {
            client.close();
        }
        throw new Error(`${this.describe()} on ${this.address} was not ready ${this.running ? `within ${timeoutMs} ms` : `(exited with ${this.exitStatus()})`}\n${this.diagnostics()}`);
    }

    private exitStatus(): string {
        return this.child.signalCode ?? String(this.child.exitCode);
    }

    /** GET /metrics as Prometheus text. */
    async metrics(): Promise<string> {
        const client = new LoopbackClient(this.port, 1);
        try {
            const reply = await client.request({ path: "/metrics" });
            if (reply.status !== 200) throw new Error(`${this.describe()}: GET /metrics answered ${reply.status}`);
            return reply.body;
        } finally {
            client.close();
        }
    }

    /** SIGTERM (the server drains for at most SHUTDOWN_TIMEOUT_MS), then SIGKILL after STOP_GRACE_MS. */
    async stop(): Promise<void> {
        running.delete(this);
        if (!this.running) return;
        this.child.kill("SIGTERM");
        await Promise.race([this.exited, sleep(STOP_GRACE_MS)]);
        if (this.running) {
            this.child.kill("SIGKILL");
            await Promise.race([this.exited, sleep(STOP_GRACE_MS)]);
        }
    }

    /** For the process exit hook only: no waiting. */
    killNow(): void {
        if (this.running) this.child.kill("SIGKILL");
    }
}

/** Starts a server and waits until it is ready; on failure it is stopped and the Error carries its log. */
export async function startModelServer(spec: ModelServerSpec): Promise<ModelServerProcess> {
    const server = new ModelServerProcess(spec);
    running.add(server);
    try {
        await server.waitUntilReady();
        return server;
    } catch (error) {
        await server.stop();
        throw error;
    }
}

/** Stops every server started here that is still running. */
export async function stopAll(): Promise<void> {
    await Promise.all([...running].map((s) => s.stop()));
}

// A crashed or interrupted test run must not leave servers behind on loopback ports.
process.once("exit", () => running.forEach((s) => s.killNow()));

// ---------------------------------------------------------------------------------------------
// Requests and metrics.

/** A valid inference body; `seed` varies the features so answers are not all alike. */
export function inferBody(seed = 0): string {
    const data = [0.1 + (seed % 7) / 10, 0.5, -0.2 + (seed % 3) / 10, 0.3];
    return JSON.stringify({ inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data }] });
}

type Labels = Readonly<Record<string, string>>;

function parseLabels(text: string): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2].replace(/\\(.)/g, "$1");
    return labels;
}

/** The sum of every sample of `metric` whose labels include `match`, from Prometheus text. */
export function sumMetric(text: string, metric: string, match: Labels = {}): number {
    let total = 0;
    for (const line of text.split("\n")) {
        const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
        if (!sample || sample[1] !== metric) continue;
        const labels = parseLabels(sample[2] ?? "");
        if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += Number(sample[3]);
    }
    return total;
}

/** Inference requests the server has answered so far, by its own counter. */
export async function inferencesServed(server: ModelServerProcess): Promise<number> {
    return sumMetric(await server.metrics(), "modelship_requests_total", { route: INFER_ROUTE });
}

// ---------------------------------------------------------------------------------------------
// Routing the two tracks, as a stack would: config -> plan -> nginx route.

export const VERSIONS: Readonly<Record<Track, string>> = { stable: "1.4.0", candidate: "1.5.0" };

export type Strategy = Readonly<Record<string, unknown>>;

/** A model config as a stack holds it, through the real schema (defaults and all). */
export function modelConfig(strategy: Strategy): ModelConfig {
    return modelSchema.parse({
        artifact: `model-server/models/${MODEL}`,
        tracks: {
            stable: { version: VERSIONS.stable, image: `registry.example/${MODEL}@${DIGEST}`, replicas: 2 },
            candidate: { version: VERSIONS.candidate, image: `registry.example/${MODEL}@${OTHER_DIGEST}`, replicas: 2 },
        },
        strategy,
    });
}

export function routeFor(strategy: Strategy, servers: Readonly<Record<Track, ModelServerProcess>>): ModelRoute {
    return { plan: planTraffic(MODEL, modelConfig(strategy)), backends: { stable: [servers.stable.address], candidate: [servers.candidate.address] } };
}

export interface SwitchFigures {
    load: LoadResult;
    switchAt: number;
    rollbackAt: number;
    /** From the reload to the first request of the final all-candidate (then all-stable) run; undefined if it never settled. */
    switchMs: number | undefined;
    rollbackMs: number | undefined;
    switchRun: number;
    rollbackRun: number;
    /** How long each reload call itself took (`nginx -s reload` runs synchronously, so no request starts meanwhile). */
    switchReloadMs: number;
    rollbackReloadMs: number;
    lostDuringSwitch: number;
    lostDuringRollback: number;
    /**
     * Requests whose connection a retiring nginx worker closed before any answer, sent again by the
     * client: what a client that does not retry would have lost.
     */
    retriedDuringSwitch: number;
    retriedDuringRollback: number;
}

/**
 * Blue-green under continuous load: `phaseMs` on stable, reload to `active: candidate`, `phaseMs`,
 * reload with `abort: true` (the rollback), `phaseMs`. nginx must be routing blue-green with
 * stable active when called.
 */
export async function blueGreenUnderLoad(nginx: NginxProcess, servers: Readonly<Record<Track, ModelServerProcess>>, client: LoopbackClient, phaseMs = 3000, concurrency = 8): Promise<SwitchFigures> {
    const { load, actionAtMs, actionDoneMs } = await runLoadWith({ send: (i) => client.request({ path: INFER_PATH, body: inferBody(i) }), concurrency, durationMs: 3 * phaseMs }, [
        { atMs: phaseMs, run: () => nginx.reload([routeFor({ type: "blueGreen", active: "candidate" }, servers)]) },
        { atMs: 2 * phaseMs, run: () => nginx.reload([routeFor({ type: "blueGreen", active: "candidate", abort: true }, servers)]) },
    ]);
    const [switchAt, rollbackAt] = actionAtMs;
    const { samples } = load;
    const count = (from: number, to: number, which: (s: Sample) => boolean) => samples.filter((s) => s.startMs >= from && s.startMs < to && which(s)).length;
    const switched = settleTime(samples, "candidate", switchAt, rollbackAt);
    const rolledBack = settleTime(samples, "stable", rollbackAt, Infinity);
    return {
        load,
        switchAt,
        rollbackAt,
        switchMs: switched?.ms,
        rollbackMs: rolledBack?.ms,
        switchRun: switched?.run ?? 0,
        rollbackRun: rolledBack?.run ?? 0,
        switchReloadMs: actionDoneMs[0] - switchAt,
        rollbackReloadMs: actionDoneMs[1] - rollbackAt,
        lostDuringSwitch: count(switchAt, rollbackAt, failed),
        lostDuringRollback: count(rollbackAt, Infinity, failed),
        retriedDuringSwitch: count(switchAt, rollbackAt, (s) => s.retried),
        retriedDuringRollback: count(rollbackAt, Infinity, (s) => s.retried),
    };
}
