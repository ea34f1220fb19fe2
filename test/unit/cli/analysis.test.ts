import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { judge, MIN_REQUESTS, type TrackHealth } from "../../../cli/analysis";
import { nextAction } from "../../../cli/auto";
import { analysisSchema } from "../../../components/config/analysis";
import { PrometheusClient, PrometheusError } from "../../../cli/prometheus";
import { freePort } from "../../support/http";

const ROLLBACK = { infrastructure: "rollback", quality: "rollback" } as const;
const ANALYSIS = analysisSchema.parse({ maxErrorRate: 0.01, maxP95LatencyMs: 250, bakeSeconds: 300, onFailure: "rollback" });
const HEALTHY: TrackHealth = { requests: 1200, errorRate: 0.002, p95Ms: 80 };

describe("rollout analysis (pure)", () => {
    it("promotes a candidate under every threshold over enough requests, with the numbers", () => {
        const verdict = judge(ANALYSIS, { requests: 600, errorRate: 0.004, p95Ms: 120.25 }, HEALTHY);
        assert.equal(verdict.decision, "promote");
        assert.deepEqual(verdict.reasons, ["error rate 0.4% within 1%", "p95 latency 120.3 ms within 250.0 ms", "over 600 requests"]);
    });

    it("rolls back a candidate over a threshold that stable is under, naming both", () => {
        const errors = judge(ANALYSIS, { requests: 600, errorRate: 0.052, p95Ms: 90 }, HEALTHY);
        assert.equal(errors.decision, "rollback");
        assert.equal(errors.reasons[0], "error rate: candidate 5.2% over 1% (stable 0.2%)");
        const slow = judge(ANALYSIS, { requests: 600, errorRate: 0, p95Ms: 410 }, HEALTHY);
        assert.equal(slow.decision, "rollback");
        assert.equal(slow.reasons[0], "p95 latency: candidate 410.0 ms over 250.0 ms (stable 80.0 ms)");
    });

    it("holds, never promotes, on no data: no requests, or no latency figure", () => {
        assert.equal(judge(ANALYSIS, {}, HEALTHY).decision, "hold");
        assert.match(judge(ANALYSIS, { requests: 0 }, HEALTHY).reasons[0], /no data: the candidate served no requests/);
        const noLatency = judge(ANALYSIS, { requests: 600, errorRate: 0 }, HEALTHY);
        assert.deepEqual(noLatency, { decision: "hold", reasons: ["no data for the candidate's p95 latency"] });
        assert.equal(judge(ANALYSIS, { requests: 600, errorRate: Number.NaN, p95Ms: 10 }, HEALTHY).decision, "hold");
    });

    it("holds on too few requests, whether they look good or bad", () => {
        const few = MIN_REQUESTS - 1;
        assert.match(judge(ANALYSIS, { requests: few, errorRate: 0, p95Ms: 10 }, HEALTHY).reasons[0], new RegExp(`only ${few} requests .*too few to call the candidate healthy`));
        const bad = judge(ANALYSIS, { requests: few, errorRate: 1, p95Ms: 10 }, HEALTHY);
        assert.equal(bad.decision, "hold");
        assert.match(bad.reasons.at(-1)!, /too few to judge/);
    });

    it("holds when stable is over the same threshold: a shared cause is not the candidate's fault", () => {
        const verdict = judge(ANALYSIS, { requests: 600, errorRate: 0.2, p95Ms: 90 }, { requests: 6000, errorRate: 0.18, p95Ms: 85 });
        assert.equal(verdict.decision, "hold");
        assert.match(verdict.reasons[0], /candidate 20% and stable 18% both over 1%: a shared cause/);
    });
});

describe("the Prometheus client against a stand-in API", () => {
    let server: http.Server;
    let answer: { status: number; body: string } = { status: 200, body: "" };
    const queries: string[] = [];
    let base = "";

    before(async () => {
        server = http.createServer((req, res) => {
            queries.push(new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "");
            res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const vector = (...values: string[]) => JSON.stringify({ status: "success", data: { resultType: "vector", result: values.map((v) => ({ metric: {}, value: [1, v] })) } });

    it("reads one number; an empty result or NaN is no data", async () => {
        const client = new PrometheusClient(base);
        answer = { status: 200, body: vector("0.25") };
        assert.equal(await client.scalar("up"), 0.25);
        answer = { status: 200, body: vector() };
        assert.equal(await client.scalar("up"), undefined);
        answer = { status: 200, body: vector("NaN") };
        assert.equal(await client.scalar("up"), undefined);
    });

    it("refuses several series, an error answer and a non-JSON answer, each by name", async () => {
        const client = new PrometheusClient(base);
        answer = { status: 200, body: vector("1", "2") };
        await assert.rejects(client.scalar("up"), /expected one series from the query, got 2/);
        answer = { status: 400, body: JSON.stringify({ status: "error", errorType: "bad_data", error: 'parse error at char 4: unexpected "}"' }) };
        await assert.rejects(client.scalar("up}"), /Prometheus refused the query \(400\): parse error/);
        answer = { status: 502, body: "<html>bad gateway</html>" };
        await assert.rejects(client.scalar("up"), /answered 502 with something that is not JSON/);
    });

    it("says Prometheus is unreachable, naming where, rather than answering no data", async () => {
        const port = await freePort();
        await assert.rejects(
            new PrometheusClient(`http://127.0.0.1:${port}`).scalar("up"),
            (e: unknown) => e instanceof PrometheusError && new RegExp(`Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable`).test(e.message),
        );
        assert.throws(() => new PrometheusClient("prometheus:9090"), /is not an http\(s\) URL/);
    });

    it("asks for a track's requests, error rate and p95 over the bake window, with the alert rules' selectors", async () => {
        const client = new PrometheusClient(base);
        queries.length = 0;
        answer = { status: 200, body: vector("0.1") };
        const health = await client.trackHealth("fraud-scorer", "candidate", 300);
        assert.deepEqual(health, { requests: 0, errorRate: 0.1, p95Ms: 100 });
        assert.equal(queries.length, 3);
        for (const q of queries) assert.match(q, /model="fraud-scorer",track="candidate",route=~".+"\}\[300s\]/);
    });
});

describe("auto: what to do after an analysis", () => {
    const promoteJ = { decision: "promote" as const, reasons: ["fine"] };
    const holdJ = { decision: "hold" as const, reasons: ["no data"] };
    const rollbackJ = { decision: "rollback" as const, reasons: ["error rate: candidate 50% over 1%"] };

    it("promotes on promote; bakes again on hold, and pauses after three holds in a row", () => {
        assert.deepEqual(nextAction(promoteJ, 0, ROLLBACK), { kind: "promote" });
        assert.deepEqual(nextAction(holdJ, 0, ROLLBACK), { kind: "wait", reason: "no data" });
        assert.deepEqual(nextAction(holdJ, 1, ROLLBACK), { kind: "wait", reason: "no data" });
        assert.equal(nextAction(holdJ, 2, ROLLBACK).kind, "pause");
        assert.match((nextAction(holdJ, 2, ROLLBACK) as { reason: string }).reason, /held 3 times in a row \(no data\): pausing for a person to decide/);
    });

    it("rolls back on a failed analysis, or pauses where the model says onFailure: pause", () => {
        assert.deepEqual(nextAction(rollbackJ, 0, ROLLBACK), { kind: "rollback", reason: "infrastructure: error rate: candidate 50% over 1%" });
        const paused = nextAction(rollbackJ, 0, { infrastructure: "pause", quality: "pause" });
        assert.equal(paused.kind, "pause");
        assert.match((paused as { reason: string }).reason, /analysis\.onFailure\.infrastructure is pause: the rollout stays where it is/);
    });
});
