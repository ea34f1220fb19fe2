/**
 * The generated nginx.conf, run by the real nginx, in front of two real model servers (stable
 * 1.4.0 and candidate 1.5.0). Plans come from planTraffic on parsed model configs, exactly as a
 * stack would build them, and every strategy is measured with the same load generator the bench
 * uses. Splits are checked against binomial bounds (z = 4), not hand-picked ranges.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { SHADOW_COPIES_IN_FLIGHT, type ModelRoute } from "../../components/traffic/nginx";
import { binomialBounds, countBy, failed, LoopbackClient, runLoad, runLoadWith, summarize, within, type LoadResult, type Sample } from "../support/load";
import {
    blueGreenUnderLoad,
    inferBody,
    INFER_PATH,
    INFER_ROUTE,
    inferencesServed,
    routeFor,
    startModelServer,
    stopAll,
    sumMetric,
    VERSIONS,
    type Faults,
    type ModelServerProcess,
    type Strategy,
    type Track,
} from "../support/model-server";
import { MAX_BODY_BYTES } from "../../model-server/src/limits";
import { nginxOrSkip, NginxProcess } from "../support/nginx";
import { sleep } from "../support/http";

const CANARY_STEPS = [10, 25, 50, 100];
const CONCURRENCY = 16;
const Z = 4;

/** ESTABLISHED TCP connections to a loopback port, from /proc (0 where there is no /proc). */
function establishedTo(port: number): number {
    const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
    return ["/proc/net/tcp", "/proc/net/tcp6"].reduce((total, file) => {
        if (!fs.existsSync(file)) return total;
        // Columns: sl local_address rem_address st ...; state 01 is ESTABLISHED.
        const rows = fs
            .readFileSync(file, "utf8")
            .split("\n")
            .slice(1)
            .map((line) => line.trim().split(/\s+/));
        return total + rows.filter((cols) => cols[2]?.endsWith(hexPort) && cols[3] === "01").length;
    }, 0);
}

/** nginx worker pids of a master, from /proc (empty where there is no /proc). */
function workerPids(master: number): number[] {
    if (!fs.existsSync("/proc/self/stat")) return [];
    return fs.readdirSync("/proc").flatMap((entry) => {
        if (!/^\d+$/.test(entry)) return [];
        try {
            const stat = fs.readFileSync(path.join("/proc", entry, "stat"), "utf8");
            // The command name may hold spaces; the parent pid is the second field after ")".
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            return ppid === master ? [Number(entry)] : [];
        } catch {
            return [];
        }
    });
}

/** Two model servers behind one nginx, and a keep-alive client of the router. */
class Fleet {
    readonly nginx = new NginxProcess();
    readonly servers: Partial<Record<Track, ModelServerProcess>> = {};
    private client: LoopbackClient | undefined;
    private strategy: Strategy = {};

    async start(bin: string, strategy: Strategy): Promise<void> {
        [this.servers.stable, this.servers.candidate] = await Promise.all([
            startModelServer({ track: "stable", version: VERSIONS.stable }),
            startModelServer({ track: "candidate", version: VERSIONS.candidate }),
        ]);
        this.strategy = strategy;
        await this.nginx.start(bin, [this.route(strategy)]);
        this.client = new LoopbackClient(this.nginx.port, CONCURRENCY);
    }

    server(track: Track): ModelServerProcess {
        const server = this.servers[track];
        assert.ok(server, `no ${track} server`);
        return server;
    }

    route(strategy: Strategy): ModelRoute {
        return routeFor(strategy, { stable: this.server("stable"), candidate: this.server("candidate") });
    }

    /**
     * Re-renders and reloads nginx, then waits until the old workers have exited, so that every
     * later request is routed by the new config. The client's keep-alive connections would keep
     * old workers alive, so they are dropped first.
     */
    async apply(strategy: Strategy): Promise<void> {
        this.strategy = strategy;
        const master = Number(fs.readFileSync(path.join(this.nginx.dir, "nginx.pid"), "utf8").trim());
        const before = workerPids(master);
        this.nginx.reload([this.route(strategy)]);
        this.client?.close();
        this.client = new LoopbackClient(this.nginx.port, CONCURRENCY);
        if (before.length === 0) return void (await sleep(1000));
        for (let attempt = 0; attempt < 100; attempt++) {
            const now = workerPids(master);
            if (now.length > 0 && now.every((pid) => !before.includes(pid))) return;
            await sleep(100);
        }
        assert.fail(`nginx workers ${before.join(", ")} still running 10 s after the reload`);
    }

    /** Replaces a track's server (e.g. with fault knobs) and re-applies the current strategy with its new port. */
    async replace(track: Track, faults: Faults): Promise<void> {
        await this.servers[track]?.stop();
        this.servers[track] = await startModelServer({ track, version: VERSIONS[track], faults });
        await this.apply(this.strategy);
    }

    /** The router's current keep-alive client (apply() replaces it). */
    connect(): LoopbackClient {
        assert.ok(this.client, "the fleet is not started");
        return this.client;
    }

    send(index: number, headers: Record<string, string> = {}) {
        return this.connect().request({ path: INFER_PATH, body: inferBody(index), headers });
    }

    load(total: number, headersOf: (index: number) => Record<string, string> = () => ({})): Promise<LoadResult> {
        return runLoad({ send: (i) => this.send(i, headersOf(i)), concurrency: CONCURRENCY, total });
    }

    async stop(): Promise<void> {
        this.client?.close();
        await this.nginx.stop();
        await stopAll();
    }
}

function firstFailure(samples: readonly Sample[]): string {
    return JSON.stringify(samples.find(failed));
}

/** Every answer is a 200 whose server headers agree with the router's and with the track's version. */
function assertAllAnswered(samples: readonly Sample[]): void {
    assert.equal(samples.filter(failed).length, 0, `failed requests, e.g. ${firstFailure(samples)}`);
    for (const s of samples) {
        assert.ok(s.track === "stable" || s.track === "candidate", `answer without a track: ${JSON.stringify(s)}`);
        assert.equal(s.routerTrack, s.track, "X-Modelship-Track names the track whose server answered");
        assert.equal(s.version, VERSIONS[s.track], "the answering server's version is its track's");
    }
}

function share(count: number, n: number): string {
    return `${count}/${n} (${((100 * count) / n).toFixed(1)}%)`;
}

/** Counter readings settle once nginx's background mirror subrequests are done; bounded. */
async function settledCount(read: () => Promise<number>): Promise<number> {
    let last = await read();
    for (let attempt = 0; attempt < 25; attempt++) {
        await sleep(200);
        const now = await read();
        if (now === last) return now;
        last = now;
    }
    return last;
}

describe("nginx router in front of real model servers", function () {
    this.timeout(120000);
    const fleet = new Fleet();

    before(async function () {
        const bin = nginxOrSkip(this);
        await fleet.start(bin, { type: "canary", steps: CANARY_STEPS, step: 0 });
    });
    after(() => fleet.stop());

    for (const [step, weight] of [
        [0, 10],
        [1, 25],
    ] as const) {
        it(`canary ${100 - weight}/${weight}: splits 2,000 requests within binomial bounds, every answer 200`, async () => {
            await fleet.apply({ type: "canary", steps: CANARY_STEPS, step });
            const { samples } = await fleet.load(2000);
            assertAllAnswered(samples);
            const candidate = countBy(samples, (s) => s.track).candidate ?? 0;
            const bounds = binomialBounds(samples.length, weight / 100, Z);
            console.log(`measured: canary ${100 - weight}/${weight}: candidate ${share(candidate, samples.length)}, accepted ${bounds.low}..${bounds.high}`);
            assert.ok(within(candidate, bounds), `candidate answered ${candidate} of ${samples.length}, outside ${bounds.low}..${bounds.high}`);
        });
    }

    it("canary 95/5 with stable failing once under load: the candidate answers its share plus the retried request, no more", async () => {
        const strategy = { type: "canary", steps: [5, 50, 100], step: 0 };
        await fleet.apply(strategy);
        const N = 2000;
        const BLIP_AT = 100;
        try {
            await fleet.replace("stable", { failOnceAt: BLIP_AT });
            const { samples, elapsedMs } = await fleet.load(N);
            const stableErrors = sumMetric(await fleet.server("stable").metrics(), "modelship_request_errors_total", { route: INFER_ROUTE });
            const candidate = countBy(samples, (s) => s.track).candidate ?? 0;
            const bounds = binomialBounds(N, 0.05, Z);
            console.log(
                `measured: canary 95/5, stable answering its ${BLIP_AT}th inference 503 once: candidate answered ${share(candidate, N)} in ${elapsedMs.toFixed(0)} ms, ` +
                    `accepted ${bounds.low}..${bounds.high} + ${stableErrors} retried; client errors ${samples.filter(failed).length}`,
            );
            assert.equal(stableErrors, 1, "stable failed exactly once");
            assertAllAnswered(samples);
            assert.ok(
                within(candidate, { low: bounds.low, high: bounds.high + stableErrors }),
                `candidate answered ${candidate} of ${N}, outside ${bounds.low}..${bounds.high} + ${stableErrors} retried`,
            );
        } finally {
            await fleet.replace("stable", {});
        }
    });

    it("abTest sticky by header: each key stays on one track, keys split about 50/50", async () => {
        await fleet.apply({ type: "abTest", stickyBy: { header: "x-user-id" } });
        const KEYS = 200;
        const { samples } = await fleet.load(KEYS * 5, (i) => ({ "x-user-id": `user-${i % KEYS}` }));
        assertAllAnswered(samples);
        const tracksOf = new Map<number, Set<string>>();
        for (const s of samples) tracksOf.set(s.index % KEYS, (tracksOf.get(s.index % KEYS) ?? new Set<string>()).add(s.track ?? "?"));
        const split = [...tracksOf.entries()].filter(([, tracks]) => tracks.size > 1).map(([key]) => `user-${key}`);
        assert.deepEqual(split, [], "keys answered by both tracks");
        const candidateKeys = [...tracksOf.values()].filter((t) => t.has("candidate")).length;
        const bounds = binomialBounds(KEYS, 0.5, Z);
        console.log(
            `measured: abTest 50/50 sticky: ${KEYS} keys x 5 requests, candidate keys ${share(candidateKeys, KEYS)}, accepted ${bounds.low}..${bounds.high}, keys on both tracks ${split.length}`,
        );
        assert.ok(within(candidateKeys, bounds), `${candidateKeys} of ${KEYS} keys on candidate, outside ${bounds.low}..${bounds.high}`);
    });

    it("abTest with stable failing once under load: the failed request is stable's 503, no key is answered by both tracks", async () => {
        const KEYS = 200;
        const strategy = { type: "abTest", stickyBy: { header: "x-user-id" } };
        await fleet.apply(strategy);
        try {
            await fleet.replace("stable", { failOnceAt: 100 });
            const { samples } = await fleet.load(KEYS * 5, (i) => ({ "x-user-id": `user-${i % KEYS}` }));
            const failures = samples.filter(failed);
            const tracksOf = new Map<number, Set<string>>();
            for (const s of samples) tracksOf.set(s.index % KEYS, (tracksOf.get(s.index % KEYS) ?? new Set<string>()).add(s.track ?? "?"));
            const split = [...tracksOf.entries()].filter(([, tracks]) => tracks.size > 1).map(([key]) => `user-${key}`);
            console.log(
                `measured: abTest 50/50 with stable answering its 100th inference 503 once: ${failures.length} client error(s) ${JSON.stringify(failures.map((f) => [f.status, f.routerTrack]))}, keys on both tracks ${split.length}`,
            );
            assert.deepEqual(split, [], "keys answered by both tracks");
            assert.deepEqual(
                failures.map((f) => [f.status, f.track, f.routerTrack]),
                [[503, "stable", "stable"]],
                "the one failure is stable's own answer, and says so",
            );
        } finally {
            await fleet.replace("stable", {});
        }
    });

    it("a request its track fails: the answer names the track that answered; an abTest falls back only where its config allows it", async () => {
        const pinned = { "x-modelship-track": "stable" };
        const answer = async (strategy: Strategy) => {
            await fleet.apply(strategy);
            await fleet.replace("stable", { failOnceAt: 1 });
            const reply = await fleet.send(0, pinned);
            return { status: reply.status, server: reply.headers["x-model-track"], router: reply.headers["x-modelship-track"] };
        };
        try {
            const canary = await answer({ type: "canary", steps: CANARY_STEPS, step: 0 });
            const abTest = await answer({ type: "abTest", stickyBy: { header: "x-user-id" } });
            const abTestAllowed = await answer({ type: "abTest", stickyBy: { header: "x-user-id" }, fallback: true });
            console.log(`measured: pinned to stable, stable failing: canary ${JSON.stringify(canary)}, abTest ${JSON.stringify(abTest)}, abTest fallback: true ${JSON.stringify(abTestAllowed)}`);
            assert.deepEqual(canary, { status: 200, server: "candidate", router: "candidate" }, "a canary falls back, and X-Modelship-Track names the track that answered");
            assert.deepEqual(abTest, { status: 503, server: "stable", router: "stable" }, "an abTest does not fall back by default");
            assert.deepEqual(abTestAllowed, { status: 200, server: "candidate", router: "candidate" }, "an abTest with fallback: true does");
        } finally {
            await fleet.replace("stable", {});
        }
    });

    it("shadow 20%: clients get only stable answers, the candidate gets the mirrored share; a failing or stopped candidate costs clients nothing", async () => {
        await fleet.apply({ type: "shadow", mirrorPercent: 20 });
        const served = (track: Track) => async () => sumMetric(await fleet.server(track).metrics(), "modelship_requests_total", { route: INFER_ROUTE });
        const [stableBefore, candidateBefore] = [await served("stable")(), await served("candidate")()];
        const N = 2000;
        const { samples } = await fleet.load(N);
        assertAllAnswered(samples);
        assert.deepEqual(
            countBy(samples, (s) => s.track),
            { stable: N },
            "clients see stable answers only",
        );
        const mirrored = (await settledCount(served("candidate"))) - candidateBefore;
        const bounds = binomialBounds(N, 0.2, Z);
        console.log(`measured: shadow 20%: candidate received ${share(mirrored, N)} mirrored, accepted ${bounds.low}..${bounds.high}; clients: ${N} stable answers`);
        assert.ok(within(mirrored, bounds), `candidate received ${mirrored} of ${N}, outside ${bounds.low}..${bounds.high}`);
        assert.equal((await served("stable")()) - stableBefore, N, "stable answered each client request once and no mirror copy");

        try {
            await fleet.replace("candidate", { errorRate: 1 });
            const errors = async () => sumMetric(await fleet.server("candidate").metrics(), "modelship_request_errors_total", { route: INFER_ROUTE });
            const failing = await fleet.load(1000);
            assertAllAnswered(failing.samples);
            assert.deepEqual(
                countBy(failing.samples, (s) => s.track),
                { stable: 1000 },
            );
            const candidateErrors = await settledCount(errors);
            console.log(
                `measured: shadow 20% with candidate FAULT_ERROR_RATE=1: client errors ${failing.samples.filter(failed).length}/1000, candidate answered ${candidateErrors} mirrored copies with 500`,
            );
            assert.ok(within(candidateErrors, binomialBounds(1000, 0.2, Z)), `candidate saw ${candidateErrors} mirrored copies`);

            await fleet.server("candidate").stop();
            const stopped = await fleet.load(500);
            assertAllAnswered(stopped.samples);
            console.log(`measured: shadow 20% with candidate stopped: client errors ${stopped.samples.filter(failed).length}/500`);
        } finally {
            await fleet.replace("candidate", {});
        }
    });

    it("shadow 20% with a candidate 3 s slow: clients' p99 stays the fast candidate's within noise, and connections to it stay bounded", async () => {
        await fleet.apply({ type: "shadow", mirrorPercent: 20 });
        const N = 1000;
        const measure = async () => {
            const port = fleet.server("candidate").port;
            let peak = 0;
            let done = false;
            const loaded = fleet.load(N).finally(() => (done = true));
            while (!done) {
                peak = Math.max(peak, establishedTo(port));
                await sleep(50);
            }
            const result = await loaded;
            assertAllAnswered(result.samples);
            return { p99: summarize(result).p99Ms, peak };
        };
        const fast = await measure();
        let slow: { p99: number; peak: number };
        let copies: number;
        try {
            await fleet.replace("candidate", { latencyMs: 3000 });
            slow = await measure();
            await sleep(3500);
            copies = await inferencesServed(fleet.server("candidate"));
        } finally {
            await fleet.replace("candidate", {});
        }
        const limit = 2 * fast.p99 + 100;
        const maxConnections = SHADOW_COPIES_IN_FLIGHT + 16 * Math.max(1, os.cpus().length);
        console.log(
            `measured: shadow 20%, ${N} requests each: client p99 ${fast.p99.toFixed(1)} ms with a fast candidate, ${slow.p99.toFixed(1)} ms with the candidate at FAULT_LATENCY_MS=3000 ` +
                `(accepted up to ${limit.toFixed(1)} ms); connections to the candidate at most ${fast.peak} and ${slow.peak} (accepted up to ${maxConnections}); the slow candidate answered ${copies} copies`,
        );
        assert.ok(slow.p99 <= limit, `client p99 ${slow.p99.toFixed(1)} ms with a slow shadow, over ${limit.toFixed(1)} ms`);
        if (fs.existsSync("/proc/net/tcp")) assert.ok(slow.peak <= maxConnections, `${slow.peak} connections to the slow shadow, over ${maxConnections}`);
        assert.ok(copies > 0, "the slow shadow still receives copies");
    });

    it("refuses a body over the model server's limit at the router (413), and passes one just under it", async () => {
        await fleet.apply({ type: "canary", steps: CANARY_STEPS, step: 0 });
        const body = inferBody(1);
        // JSON allows whitespace before the closing brace: a valid request of exactly `size` bytes.
        const sized = (size: number) => `${body.slice(0, -1)}${" ".repeat(size - Buffer.byteLength(body))}}`;
        const under = await fleet.connect().request({ path: INFER_PATH, body: sized(MAX_BODY_BYTES) });
        const over = await fleet.connect().request({ path: INFER_PATH, body: sized(MAX_BODY_BYTES + 1) });
        console.log(
            `measured: body of ${MAX_BODY_BYTES} bytes: ${under.status} from ${String(under.headers["x-model-track"])}; ${MAX_BODY_BYTES + 1} bytes: ${over.status} from ${over.headers["x-model-track"] === undefined ? "the router" : `the ${String(over.headers["x-model-track"])} server`}`,
        );
        assert.equal(under.status, 200, under.body);
        assert.equal(over.status, 413);
        assert.equal(over.headers["x-model-track"], undefined, "the router refused it; no model server saw it");
    });

    it("keeps upstream connections across an idle spell longer than Node's 5 s keep-alive: none closed, none retried", async function () {
        if (!fs.existsSync("/proc/net/tcp")) return this.skip();
        await fleet.apply({ type: "canary", steps: CANARY_STEPS, step: 0 });
        await fleet.load(200);
        const port = fleet.server("stable").port;
        const before = establishedTo(port);
        await sleep(6500);
        const after = establishedTo(port);
        const logLines = fleet.nginx.accessLog().split("\n").length;
        const { samples } = await fleet.load(200);
        await sleep(200);
        const retried = fleet.nginx
            .accessLog()
            .split("\n")
            .slice(logLines - 1)
            .filter((l) => l.includes('"upstream_status":"') && /"upstream_status":"[^"]*,/.test(l));
        console.log(
            `measured: connections nginx -> stable ${before} before and ${after} after 6.5 s idle; then ${samples.filter(failed).length} failed and ${retried.length} retried of ${samples.length}`,
        );
        assert.ok(before > 0, "nginx keeps connections to stable open");
        assert.equal(after, before, "no connection closed while idle");
        assertAllAnswered(samples);
        assert.deepEqual(retried, [], "requests retried after an upstream failure");
    });

    it("header pin: x-modelship-track pins every request, including to a 0-weight track", async () => {
        for (const strategy of [
            { type: "canary", steps: CANARY_STEPS, step: 0 },
            { type: "blueGreen", active: "stable" },
        ]) {
            await fleet.apply(strategy);
            for (const track of ["candidate", "stable"] as const) {
                const { samples } = await fleet.load(200, () => ({ "x-modelship-track": track }));
                assertAllAnswered(samples);
                assert.deepEqual(
                    countBy(samples, (s) => s.track),
                    { [track]: 200 },
                    `${strategy.type} pinned to ${track}`,
                );
            }
        }
        console.log("measured: header pin: 4 x 200 pinned requests (canary 90/10 and blue-green preview, each track), 100% on the pinned track");
    });

    it("gradual blue-green with long requests: every request in flight on the pool losing traffic finishes, through each step and its teardown", async () => {
        const LATENCY_MS = 1500;
        const STEPS = [25, 50, 100];
        const PHASE_MS = 4000;
        await Promise.all([fleet.replace("stable", { latencyMs: LATENCY_MS }), fleet.replace("candidate", { latencyMs: LATENCY_MS })]);
        const client = new LoopbackClient(fleet.nginx.port, CONCURRENCY);
        try {
            await fleet.apply({ type: "blueGreen", steps: STEPS });
            const servers = { stable: fleet.server("stable"), candidate: fleet.server("candidate") };
            const stableExited = { at: 0 };
            const { load, actionAtMs } = await runLoadWith(
                { send: (i) => client.request({ path: INFER_PATH, body: inferBody(i), timeoutMs: 10 * LATENCY_MS }), concurrency: CONCURRENCY, durationMs: (STEPS.length + 1) * PHASE_MS },
                [
                    ...STEPS.map((_, step) => ({ atMs: (step + 1) * PHASE_MS, run: () => fleet.nginx.reload([routeFor({ type: "blueGreen", steps: STEPS, step }, servers)]) })),
                    // The last step took stable's last live share: its pool is torn down at once (SIGTERM), with requests still in flight on it.
                    {
                        atMs: STEPS.length * PHASE_MS + 200,
                        run: async () => {
                            await servers.stable.stop();
                            stableExited.at = performance.now();
                        },
                    },
                ],
            );
            const { samples } = load;
            const [lastStepAt, teardownAt] = [actionAtMs[STEPS.length - 1], actionAtMs[STEPS.length]];
            // In flight at a step: started before its reload, answered after it, by the pool losing share.
            const inFlight = actionAtMs.slice(0, STEPS.length).map((at) => samples.filter((s) => s.startMs < at && s.endMs > at && s.track === "stable"));
            const inFlightAtTeardown = samples.filter((s) => s.startMs < teardownAt && s.endMs > teardownAt && s.track === "stable");
            const resets = samples.filter((s) => s.error !== undefined && /ECONNRESET|EPIPE|socket hang up/.test(s.error));
            const failures = samples.filter(failed);
            const shares = actionAtMs.slice(0, STEPS.length).map((at, i) => {
                const until = i + 1 < STEPS.length ? actionAtMs[i + 1] : Infinity;
                const settled = samples.filter((s) => s.startMs > at + 500 && s.startMs < until);
                return `${Math.round((100 * settled.filter((s) => s.track === "candidate").length) / Math.max(1, settled.length))}%`;
            });
            console.log(
                `measured: gradual blue-green ${STEPS.join(" -> ")} with ${LATENCY_MS} ms requests, ${samples.length} requests at ${CONCURRENCY} in flight: ` +
                    `candidate share after each step ${shares.join(", ")}; in flight on stable at each step ${inFlight.map((f) => f.length).join(", ")} and at its teardown ${inFlightAtTeardown.length}, all answered 200; ` +
                    `reset connections ${resets.length}, failed requests ${failures.length}; connections a retiring nginx worker closed before reading a request (re-sent by the client, never reaching a server) ${samples.filter((s) => s.retried).length}; ` +
                    `stable exited ${(stableExited.at - teardownAt).toFixed(0)} ms after its SIGTERM`,
            );
            assert.ok(lastStepAt > 0);
            assert.deepEqual(
                resets.map((s) => s.error),
                [],
                "reset connections",
            );
            assertAllAnswered(samples);
            assert.ok(inFlight.every((f) => f.length > 0) && inFlightAtTeardown.length > 0, "requests were in flight on stable at every step and at its teardown");
            assert.ok([...inFlight.flat(), ...inFlightAtTeardown].every((s) => s.status === 200 && s.version === VERSIONS.stable));
            assert.ok(
                samples.filter((s) => s.startMs > teardownAt + 500).every((s) => s.track === "candidate"),
                "after the last step only the candidate answers",
            );
        } finally {
            client.close();
            await Promise.all([fleet.replace("stable", {}), fleet.replace("candidate", {})]);
        }
    });

    it("blue-green: switch and rollback by reload under continuous load lose no request and settle within 5 s", async () => {
        await fleet.apply({ type: "blueGreen", active: "stable" });
        const figures = await blueGreenUnderLoad(fleet.nginx, { stable: fleet.server("stable"), candidate: fleet.server("candidate") }, fleet.connect(), 3000, 8);
        const { samples } = figures.load;
        const settled = (ms: number | undefined, run: number, track: Track) => (ms === undefined ? "never settled" : `${ms.toFixed(0)} ms (then ${run} consecutive ${track} answers)`);
        console.log(
            `measured: blue-green switch ${settled(figures.switchMs, figures.switchRun, "candidate")}, rollback ${settled(figures.rollbackMs, figures.rollbackRun, "stable")} ` +
                `(reload calls ${figures.switchReloadMs.toFixed(0)} and ${figures.rollbackReloadMs.toFixed(0)} ms); ` +
                `lost ${figures.lostDuringSwitch} during switch, ${figures.lostDuringRollback} during rollback, of ${samples.length} requests; ` +
                `connections closed before an answer by retiring nginx workers (sent again by the client): ${figures.retriedDuringSwitch} during switch, ${figures.retriedDuringRollback} during rollback`,
        );
        assertAllAnswered(samples);
        assert.ok(
            samples.filter((s) => s.endMs < figures.switchAt).every((s) => s.track === "stable"),
            "all stable before the switch",
        );
        assert.ok(figures.switchMs !== undefined && figures.switchMs < 5000, `the switch settled ${figures.switchMs === undefined ? "never" : `after ${figures.switchMs} ms`}`);
        assert.ok(figures.rollbackMs !== undefined && figures.rollbackMs < 5000, `the rollback settled ${figures.rollbackMs === undefined ? "never" : `after ${figures.rollbackMs} ms`}`);
    });
});
