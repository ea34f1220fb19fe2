/**
 * Shadow comparison: stable reports its answers to the candidate, which pairs them with its own
 * answers to the mirrored copies. Real processes and loopback receivers on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as http from "http";
import * as net from "net";
import { Registry } from "prom-client";
import { ProtocolError } from "../src/protocol";
import { parseShadowAnswers } from "../src/shadow-pairs";
import { MAX_QUEUE, MAX_QUEUE_BYTES, ShadowReporter } from "../src/shadow-reports";
import { request, sample, startServer, stopAll, waitForStatus, type ParsedJson, type Running } from "./support/process";

const INFER = "/v2/models/fraud-scorer/infer";
const ANSWERS = "/v2/models/fraud-scorer/shadow/answers";
const ROW_A = [1, 0.5, 0, 2];
const tensor = (rows: number[][]) => ({ inputs: [{ name: "features", shape: [rows.length, 4], datatype: "FP32", data: rows.flat() }] });
/** The 1.4.0 (stable) and 1.5.0 (candidate) artifacts' probabilities. */
const p14 = (x: number[]) => 1 / (1 + Math.exp(-(-0.3 + 0.85 * x[0]! + 1.6 * x[1]! - 0.25 * x[2]! + 0.7 * x[3]!)));
const p15 = (x: number[]) => 1 / (1 + Math.exp(-(-0.45 + 0.92 * x[0]! + 1.45 * x[1]! - 0.4 * x[2]! + 0.95 * x[3]!)));
const quiet = { log() {} };

const scrape = async (base: string) => (await request(base, "GET", "/metrics")).text;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `read` returns what `done` accepts; bounded. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await read();
        if (done(value)) return value;
        if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
        await sleep(50);
    }
}

interface Listening {
    readonly server: net.Server;
    readonly url: string;
}

async function listen(server: net.Server): Promise<Listening> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

/** A TCP server that accepts connections and never answers: a blackholed candidate. */
async function blackhole(): Promise<Listening & { sockets: net.Socket[] }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
        sockets.push(socket);
        socket.on("error", () => {});
    });
    return { ...(await listen(server)), sockets };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
    const { server, url } = await listen(net.createServer());
    await new Promise((resolve) => server.close(resolve));
    return url;
}

function close(server: net.Server): Promise<void> {
    return new Promise((resolve) => server.close(() => resolve()));
}

describe("shadow answer pushes", () => {
    const bad: [string, unknown, RegExp][] = [
        ["no answers", { reports: [] }, /^the body must be \{"answers": \[\{"id", "outputs", "ms"\}, \.\.\.\]\}/],
        ["an answer without an id", { answers: [{ outputs: [0.5], ms: 1 }] }, /^answers\[0\]\.id is missing: expected a request id of 1 to 256 characters/],
        [
            "outputs that are not numbers",
            {
                answers: [
                    { id: "a", outputs: [0.5], ms: 1 },
                    { id: "b", outputs: ["x"], ms: 1 },
                ],
            },
            /^answers\[1\]\.outputs is \["x"\]: expected the probabilities answered, one number per row/,
        ],
        ["a negative duration", { answers: [{ id: "a", outputs: [0.5], ms: -1 }] }, /^answers\[0\]\.ms is -1: expected the answer's duration in milliseconds/],
        ["too many answers", { answers: Array.from({ length: 1001 }, (_, i) => ({ id: `a${i}`, outputs: [0.5], ms: 1 })) }, /^answers has 1001 entries: expected at most 1000 per push/],
    ];
    for (const [what, body, message] of bad) {
        it(`refuses ${what} with a 400 naming the field`, () => {
            assert.throws(
                () => parseShadowAnswers(body),
                (error: unknown) => error instanceof ProtocolError && error.status === 400 && message.test(error.message),
            );
        });
    }

    it(`drops answers past a queue of ${MAX_QUEUE} or larger than a batch, at once, and counts them`, async () => {
        const registry = new Registry();
        const reporter = new ShadowReporter({ compareUrl: await closedPort(), modelName: "fraud-scorer", registry, logger: quiet, flushIntervalMs: 60_000 });
        try {
            reporter.report({ id: "huge", outputs: Array.from({ length: 50_000 }, () => 0.123456789), ms: 1 });
            assert.equal(reporter.queued, 0);
            assert.match(await registry.metrics(), /^modelship_shadow_reports_dropped_total 1$/m, "an answer larger than a batch may be (512 KiB) is dropped");
            for (let i = 0; i < MAX_QUEUE + 50; i++) reporter.report({ id: `r${i}`, outputs: [0.5], ms: 1 });
            assert.equal(reporter.queued, MAX_QUEUE);
            assert.match(await registry.metrics(), /^modelship_shadow_reports_dropped_total 51$/m);
        } finally {
            reporter.close();
        }
    });

    it(`holds at most ${MAX_QUEUE_BYTES} bytes of queued answers, however many rows they have`, async () => {
        const registry = new Registry();
        const reporter = new ShadowReporter({ compareUrl: await closedPort(), modelName: "fraud-scorer", registry, logger: quiet, flushIntervalMs: 60_000 });
        try {
            const answer = (i: number) => ({ id: `big-${i}`, outputs: Array.from({ length: 40_000 }, () => 0.123456789), ms: 1 });
            const bytes = Buffer.byteLength(JSON.stringify(answer(10)));
            for (let i = 10; i < 50; i++) reporter.report(answer(i));
            const fits = Math.floor(MAX_QUEUE_BYTES / bytes);
            assert.ok(fits < 40);
            assert.equal(reporter.queued, fits);
            assert.match(await registry.metrics(), new RegExp(`^modelship_shadow_reports_dropped_total ${40 - fits}$`, "m"));
        } finally {
            reporter.close();
        }
    });
});

describe("model server process: stable reports its answers", function () {
    after(stopAll);

    it("pushes every answer to a request with X-Request-Id, in batches of at most 500, after answering", async () => {
        const batches: ParsedJson[] = [];
        const receiver = await listen(
            http.createServer((req, res) => {
                let text = "";
                req.setEncoding("utf8").on("data", (d: string) => (text += d));
                req.on("end", () => {
                    batches.push({ path: req.url, answers: JSON.parse(text).answers });
                    res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":1}');
                });
            }),
        );
        try {
            const stable = await startServer({ MODELSHIP_SHADOW_COMPARE_URL: `${receiver.url}/` });
            await waitForStatus(stable.base, "/v2/health/ready", 200);
            const sent = new Map<string, number[]>();
            for (let round = 0; round < 60; round++) {
                await Promise.all(
                    Array.from({ length: 10 }, async (_, i) => {
                        const id = `req-${round}-${i}`;
                        const row = [round / 60, i / 10, 0, 1];
                        const answer = await request(stable.base, "POST", INFER, tensor([row, ROW_A]), { "x-request-id": id });
                        assert.equal(answer.status, 200, answer.text);
                        sent.set(id, answer.body.outputs[0].data);
                    }),
                );
            }
            await request(stable.base, "POST", INFER, tensor([ROW_A]));
            await request(stable.base, "POST", INFER, tensor([ROW_A]), { "x-request-id": "" });
            const reported = () => Promise.resolve(batches.reduce((n, b) => n + (b.answers as unknown[]).length, 0));
            await until(reported, (n) => n >= sent.size, "answers reported");
            await sleep(400);
            assert.equal(await reported(), sent.size, "requests without X-Request-Id are not reported");
            assert.ok(batches.every((b) => b.path === "/v2/models/fraud-scorer/shadow/answers" && b.answers.length <= 500));
            for (const batch of batches) {
                for (const answer of batch.answers) {
                    assert.deepEqual(answer.outputs, sent.get(answer.id), `the answer reported for ${answer.id} is the one the client got`);
                    assert.ok(typeof answer.ms === "number" && answer.ms > 0 && answer.ms < 5000);
                }
            }
            assert.equal(sample(await scrape(stable.base), "modelship_shadow_reports_dropped_total", { model: "fraud-scorer", version: "1.4.0", track: "stable" }), 0);
        } finally {
            await close(receiver.server);
        }
    });

    it("answers as fast and the same with a blackholed or unreachable candidate, and counts the lost reports", async () => {
        const hole = await blackhole();
        try {
            const unreachable = await closedPort();
            const servers = {
                alone: await startServer(),
                blackholed: await startServer({ MODELSHIP_SHADOW_COMPARE_URL: hole.url }),
                unreachable: await startServer({ MODELSHIP_SHADOW_COMPARE_URL: unreachable }),
            };
            const names = Object.keys(servers) as (keyof typeof servers)[];
            for (const name of names) await waitForStatus(servers[name].base, "/v2/health/ready", 200);
            const latencies: Record<string, number[]> = { alone: [], blackholed: [], unreachable: [] };
            // Interleaved, so that whatever else the machine does weighs on the three alike; long
            // enough for several pushes to hang (blackholed) or fail (unreachable) meanwhile.
            const started = Date.now();
            let sent = 0;
            for (let i = 0; Date.now() - started < 2500 || i < 300; i++, sent++) {
                const id = `same-${i}`;
                const body = tensor([[i / 100, 0.5, 0, 1]]);
                const answers: ParsedJson[] = [];
                for (const name of names) {
                    const t0 = performance.now();
                    const answer = await request(servers[name].base, "POST", INFER, body, { "x-request-id": id });
                    latencies[name]!.push(performance.now() - t0);
                    assert.equal(answer.status, 200);
                    answers.push(answer.body);
                }
                assert.deepEqual(answers[1], answers[0], "the blackholed server's answer is the same");
                assert.deepEqual(answers[2], answers[0], "the unreachable server's answer is the same");
            }
            const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;
            const figures = Object.fromEntries(names.map((name) => [name, { p50: quantile(latencies[name]!, 0.5), p90: quantile(latencies[name]!, 0.9), max: Math.max(...latencies[name]!) }]));
            for (const name of ["blackholed", "unreachable"] as const) {
                // No shift, and no answer that waited for a push (it would take the push's 1 s timeout).
                assert.ok(figures[name]!.p50 <= Math.max(1.5 * figures.alone!.p50, figures.alone!.p50 + 2), `p50 ${JSON.stringify(figures)}`);
                assert.ok(figures[name]!.p90 <= figures.alone!.p90 + 10, `p90 ${JSON.stringify(figures)}`);
                assert.ok(figures[name]!.max < 500, `max ${JSON.stringify(figures)}`);
            }
            const dropped = async (name: keyof typeof servers) =>
                sample(await scrape(servers[name].base), "modelship_shadow_reports_dropped_total", { model: "fraud-scorer", version: "1.4.0", track: "stable" })!;
            await until(
                () => dropped("blackholed"),
                (n) => n === sent,
                `blackholed pushes time out and all ${sent} answers count as dropped`,
            );
            await until(
                () => dropped("unreachable"),
                (n) => n === sent,
                `refused pushes count all ${sent} answers as dropped`,
            );
            if (process.env.SHADOW_LATENCY_FIGURES) process.stdout.write(`${JSON.stringify({ sent, figures })}\n`);
            // One push at a time, each given up after its 1 s timeout: at most one connection a second.
            assert.ok(hole.sockets.length <= Math.ceil((Date.now() - started) / 1000) + 1, `${hole.sockets.length} pushes in ${Date.now() - started} ms`);
            const failed = servers.blackholed.logs.filter((l) => l.event === "shadow_reports_failed");
            assert.equal(failed.length, 1, "a failing candidate is logged once, not per push");
            assert.match(failed[0]!.msg!, /no answer within 1\.0 s/);
        } finally {
            for (const socket of hole.sockets) socket.destroy();
            await close(hole.server);
        }
    });
});

describe("model server process: the candidate pairs answers", function () {
    const TTL_MS = 1500;
    let candidate: Running;
    const identity = { model: "fraud-scorer", version: "1.5.0", track: "candidate" };
    const counts = async () => {
        const text = await scrape(candidate.base);
        return {
            pairs: sample(text, "modelship_shadow_pairs_total", identity)!,
            agreements: sample(text, "modelship_shadow_agreements_total", identity)!,
            stable: sample(text, "modelship_shadow_unpaired_total", { ...identity, side: "stable" })!,
            candidate: sample(text, "modelship_shadow_unpaired_total", { ...identity, side: "candidate" })!,
        };
    };
    /** The mirrored copy: the candidate answers a request carrying the router's id. */
    const mirrored = async (id: string, rows: number[][] = [ROW_A]) => {
        const answer = await request(candidate.base, "POST", INFER, tensor(rows), { "x-request-id": id });
        assert.equal(answer.status, 200, answer.text);
        return answer.body.outputs[0].data as number[];
    };
    const report = async (id: string, outputs: number[], ms = 4) => {
        const answer = await request(candidate.base, "POST", ANSWERS, { answers: [{ id, outputs, ms }] });
        assert.deepEqual([answer.status, answer.body], [202, { accepted: 1 }]);
    };
    const delta = async <T extends Record<string, number>>(before: T, expected: Partial<T>) => {
        const want = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v + (expected[k] ?? 0)]));
        return until(counts, (now) => JSON.stringify(now) === JSON.stringify(want), `counts from ${JSON.stringify(before)} by ${JSON.stringify(expected)}`, TTL_MS * 4);
    };

    before(async () => {
        candidate = await startServer({ MODEL_VERSION: "1.5.0", MODEL_TRACK: "candidate", MODELSHIP_SHADOW_PAIR_TTL_MS: String(TTL_MS) });
        await waitForStatus(candidate.base, "/v2/health/ready", 200);
    });
    after(stopAll);

    it("exports the comparison's counters at 0 from the start", async () => {
        assert.deepEqual(await counts(), { pairs: 0, agreements: 0, stable: 0, candidate: 0 });
    });

    it("pairs stable's report arriving after the candidate's answer", async () => {
        const before = await counts();
        await mirrored("after-1");
        await report("after-1", [p14(ROW_A)]);
        await delta(before, { pairs: 1, agreements: 1 });
    });

    it("pairs the candidate's answer arriving after stable's report", async () => {
        const before = await counts();
        await report("before-1", [p14(ROW_A)]);
        await mirrored("before-1");
        await delta(before, { pairs: 1, agreements: 1 });
    });

    it("counts a disagreement: a row in another class at the threshold, or another number of rows", async () => {
        const before = await counts();
        await mirrored("differs-1");
        await report("differs-1", [0.3]);
        await report("differs-2", [p14(ROW_A), 0.9]);
        await mirrored("differs-2");
        await delta(before, { pairs: 2 });
    });

    it("still pairs a copy that arrives late, within MODELSHIP_SHADOW_PAIR_TTL_MS", async () => {
        const before = await counts();
        await report("late-1", [p14(ROW_A)]);
        await sleep(TTL_MS * 0.6);
        await mirrored("late-1");
        await delta(before, { pairs: 1, agreements: 1 });
    });

    it("counts a stable report whose mirrored copy was lost as unpaired stable once the TTL passes; a copy later still waits alone", async () => {
        const before = await counts();
        await report("lost-1", [p14(ROW_A)]);
        await sleep(TTL_MS * 0.5);
        assert.deepEqual(await counts(), before, "not yet: the copy may still come");
        await delta(before, { stable: 1 });
        await mirrored("lost-1");
        await delta(before, { stable: 1, candidate: 1 });
    });

    it("keeps only answers to requests that carried X-Request-Id", async () => {
        const before = await counts();
        const answer = await request(candidate.base, "POST", INFER, tensor([ROW_A]));
        await report(answer.body.id, [p14(ROW_A)]);
        await delta(before, { stable: 1 });
    });

    it("refuses malformed pushes, and stable's server refuses pushes with a 409", async () => {
        const bad = await request(candidate.base, "POST", ANSWERS, { answers: [{ id: "x", outputs: [], ms: 1 }] });
        assert.equal(bad.status, 400);
        assert.match(bad.body.error, /answers\[0\]\.outputs is \[\]/);
        const stable = await startServer();
        await waitForStatus(stable.base, "/v2/health/ready", 200);
        const refused = await request(stable.base, "POST", ANSWERS, { answers: [] });
        assert.equal(refused.status, 409);
        assert.match(refused.body.error, /serves the stable track: shadow answers are compared on the candidate's server/);
        const text = await scrape(candidate.base);
        assert.ok(sample(text, "modelship_requests_total", { ...identity, route: "/v2/models/:name/shadow/answers", code: "202" })! >= 7);
        assert.equal(sample(text, "modelship_request_errors_total", { ...identity, route: "/v2/models/:name/shadow/answers" }), undefined);
    });

    it("compares a real stable server's reports with the mirrored copies, agreeing where both models give the same class", async () => {
        const stable = await startServer({ MODELSHIP_SHADOW_COMPARE_URL: candidate.base });
        await waitForStatus(stable.base, "/v2/health/ready", 200);
        const before = await counts();
        // Rows along a line that crosses both models' 0.5 boundaries, which lie apart: some disagree.
        const rows = Array.from({ length: 60 }, (_, i) => [0, (i - 30) / 40, 0, 0.5]);
        const agreeing = rows.filter((row) => p14(row) >= 0.5 === p15(row) >= 0.5).length;
        assert.ok(agreeing > 0 && agreeing < rows.length, `${agreeing} of ${rows.length} rows agree`);
        await Promise.all(
            rows.map(async (row, i) => {
                // As the router does: the original to stable, its mirrored copy to the candidate, one id.
                const id = `e2e-${i}`;
                const answer = await request(stable.base, "POST", INFER, tensor([row]), { "x-request-id": id });
                assert.equal(answer.status, 200);
                await mirrored(id, [row]);
            }),
        );
        await delta(before, { pairs: rows.length, agreements: agreeing });
        const text = await scrape(candidate.base);
        for (const side of ["stable", "candidate"]) assert.ok(sample(text, "modelship_shadow_answer_duration_seconds_count", { ...identity, side })! >= rows.length, side);
    });
});
