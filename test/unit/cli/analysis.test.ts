import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { nextAction } from "../../../cli/auto";
import { defaultTemplates } from "../../../components/analysis/templates";
import { analysisSchema } from "../../../components/config/analysis";
import { PrometheusClient, PrometheusError, TemplateError } from "../../../cli/prometheus";
import { freePort } from "../../support/http";

const ROLLBACK = { infrastructure: "rollback", quality: "rollback" } as const;

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

    it("evaluates each template per track with its placeholders filled, and the sample size with the alert rules' selectors", async () => {
        const client = new PrometheusClient(base);
        queries.length = 0;
        answer = { status: 200, body: vector("0.1") };
        const [errorRate] = defaultTemplates({ maxErrorRate: 0.01, maxP95LatencyMs: 250 });
        const readings = await client.readTemplates([errorRate], { model: "fraud-scorer", namespace: "models", window: "300s" });
        assert.deepEqual(readings, [{ template: errorRate, candidate: 0.1, stable: 0.1 }]);
        assert.equal(await client.requests("fraud-scorer", "candidate", "300s"), 0);
        assert.equal(queries.length, 3);
        for (const q of queries) assert.doesNotMatch(q, /\{\{/);
        assert.match(queries[0], /model="fraud-scorer",track="candidate",route=~".+"\}\[300s\]/);
        assert.match(queries[1], /model="fraud-scorer",track="stable",route=~".+"\}\[300s\]/);
    });

    it("a template Prometheus rejects, or that yields several series, is an error naming the template, not no data", async () => {
        const client = new PrometheusClient(base);
        const template = { name: "drift", kind: "quality" as const, query: 'sum(rate(x{model="{{model}}"}[{{window}}]', max: 1, minSamples: 0, unit: "number" as const };
        answer = { status: 400, body: JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error: unclosed left parenthesis" }) };
        await assert.rejects(
            client.readTemplates([template], { model: "m", namespace: "", window: "60s" }),
            (e: unknown) => e instanceof TemplateError && /^metric template drift: Prometheus refused the query \(400\): parse error/.test(e.message),
        );
        answer = { status: 200, body: vector("1", "2", "3") };
        await assert.rejects(
            client.readTemplates([template], { model: "m", namespace: "", window: "60s" }),
            /^TemplateError: metric template drift: expected one series from the query, got 3: aggregate it/,
        );
        // Unreachable is Prometheus's problem, not the template's.
        const port = await freePort();
        await assert.rejects(
            new PrometheusClient(`http://127.0.0.1:${port}`).readTemplates([template], { model: "m", namespace: "", window: "60s" }),
            (e: unknown) => e instanceof PrometheusError && !(e instanceof TemplateError),
        );
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

    it("by default, an infrastructure failure rolls back by itself and a quality failure pauses for a person, with the numbers", () => {
        const defaults = analysisSchema.parse({}).onFailure;
        assert.deepEqual(defaults, { infrastructure: "rollback", quality: "pause" });
        const broken = nextAction({ ...rollbackJ, failedKind: "infrastructure" }, 0, defaults);
        assert.deepEqual(broken, { kind: "rollback", reason: "infrastructure: error rate: candidate 50% over 1%" });
        const doubtful = nextAction({ decision: "rollback", reasons: ["A/B: candidate 48.0% correct vs stable 55.0%"], failedKind: "quality" }, 0, defaults);
        assert.equal(doubtful.kind, "pause");
        assert.match((doubtful as { reason: string }).reason, /analysis failed on quality \(A\/B: candidate 48\.0% correct vs stable 55\.0%\); analysis\.onFailure\.quality is pause/);
        // The earlier single value still applies to both kinds.
        assert.deepEqual(analysisSchema.parse({ onFailure: "pause" }).onFailure, { infrastructure: "pause", quality: "pause" });
    });
});
