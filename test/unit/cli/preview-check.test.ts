/**
 * Blue-green's preview check against a stand-in router on loopback: every request pinned to the
 * candidate and checked as the smoke gate checks its answer, replayed in order from recorded
 * requests; a pool that fails its answers is judged on them alone; the metrics only once
 * Prometheus has counted the preview requests.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import type { Judgement } from "../../../components/analysis/types";
import { previewCheckSchema } from "../../../components/strategies/fields";
import { PreviewCheckError, previewRequests, runPreviewCheck, type PreviewMetrics, type PreviewTarget } from "../../../cli/preview-check";

interface Seen {
    pin: string | undefined;
    id: string;
}

/** A router answering the candidate's version when pinned; `fault(i)` changes the i-th answer. */
async function standInRouter(fault: (i: number) => { status?: number; score?: number } = () => ({})) {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string; inputs: [{ shape: number[] }] };
            const i = seen.length;
            seen.push({ pin: req.headers["x-modelship-track"] as string | undefined, id: body.id });
            const { status = 200, score = 0.4 } = fault(i);
            const rows = body.inputs[0].shape[0];
            const version = req.headers["x-modelship-track"] === "candidate" ? "1.1.0" : "1.0.0";
            res.writeHead(status, { "content-type": "application/json" });
            res.end(
                status === 200
                    ? JSON.stringify({ model_name: "m", model_version: version, outputs: [{ name: "score", shape: [rows, 1], datatype: "FP32", data: Array(rows).fill(score) }] })
                    : '{"error":"no"}',
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return { seen, endpoint: `http://127.0.0.1:${port}/v2/models/m`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const request = (id: string, rows = 1) => JSON.stringify({ id, inputs: [{ name: "features", shape: [rows, 2], datatype: "FP32", data: Array(rows * 2).fill(0.5) }] });

describe("blue-green preview check", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-preview-"));
        fs.writeFileSync(path.join(dir, "smoke.json"), request("smoke", 2));
        fs.writeFileSync(path.join(dir, "replay.jsonl"), `${request("r0")}\n${request("r1", 3)}\n\n${request("r2")}\n`);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const check = (over: Record<string, unknown> = {}) => previewCheckSchema.parse({ requests: 7, replay: "replay.jsonl", ...over });
    const target = (endpoint: string): PreviewTarget => ({ model: "m", version: "1.1.0", endpoint, pin: { header: "x-modelship-track", value: "candidate" }, expect: { min: 0, max: 1 } });

    it("replays the recorded requests in order after the smoke request, every one pinned to the candidate, and passes a pool that answers them all", async () => {
        const router = await standInRouter();
        try {
            const bodies = previewRequests(dir, "smoke.json", check());
            const verdict = await runPreviewCheck(target(router.endpoint), bodies, check(), undefined);
            assert.equal(verdict.decision, "promote", verdict.reasons.join("; "));
            assert.deepEqual(router.seen.map((s) => s.id).sort(), ["r0", "r0", "r0", "r1", "r1", "smoke", "r2", "r2"].sort());
            assert.deepEqual(
                bodies.map((b) => (JSON.parse(b) as { id: string }).id),
                ["smoke", "r0", "r1", "r2", "r0", "r1", "r2", "r0"],
            );
            assert.ok(router.seen.every((s) => s.pin === "candidate"));
            assert.equal(verdict.findings?.[0].values?.requests, 8);
            assert.match(verdict.reasons[0], /all 8 requests pinned to 1\.1\.0 answered as the smoke gate expects/);
        } finally {
            await router.close();
        }
    });

    it("a pool that fails answers is rolled back as infrastructure, one that answers out of range as quality, and neither is judged on metrics", async () => {
        let judged = 0;
        const metrics: PreviewMetrics = { requestsServed: () => Promise.resolve(100), judge: () => Promise.resolve((judged++, { decision: "promote", reasons: ["fine"] })) };
        const failing = await standInRouter((i) => (i % 3 === 1 ? { status: 503 } : {}));
        const wrong = await standInRouter((i) => (i === 4 ? { score: 1.7 } : {}));
        try {
            const bodies = previewRequests(dir, "smoke.json", check());
            const broken = await runPreviewCheck(target(failing.endpoint), bodies, check(), metrics);
            assert.deepEqual([broken.decision, broken.failedKind], ["rollback", "infrastructure"]);
            assert.match(broken.reasons[0], /3 of 8 requests pinned to 1\.1\.0 failed .*answered 503/);
            const doubtful = await runPreviewCheck(target(wrong.endpoint), bodies, check(), metrics);
            assert.deepEqual([doubtful.decision, doubtful.failedKind], ["rollback", "quality"]);
            assert.match(doubtful.reasons[0], /1 of 8 .*outside \[0, 1\]/);
            assert.equal(judged, 0);
        } finally {
            await Promise.all([failing.close(), wrong.close()]);
        }
    });

    it("judges the metrics only once Prometheus has counted every preview request on top of the count before the first, over a window since the check began", async () => {
        const router = await standInRouter();
        // Not scraped yet, then 40 before the preview; after it 43, then 48 = 40 + the 8 sent.
        const counts: Array<number | undefined> = [undefined, 40, 43, 48];
        const windows: number[] = [];
        const metrics: PreviewMetrics = {
            requestsServed: () => Promise.resolve(counts.length > 0 ? counts.shift() : 48),
            judge: (seconds): Promise<Judgement> => {
                windows.push(seconds);
                assert.equal(counts.length, 0, "judged before Prometheus had the requests");
                return Promise.resolve({ decision: "hold", reasons: ["p95-latency: too few requests"] });
            },
        };
        try {
            const verdict = await runPreviewCheck(target(router.endpoint), previewRequests(dir, "smoke.json", check()), check(), metrics);
            assert.equal(verdict.decision, "hold");
            assert.deepEqual(verdict.reasons, ["p95-latency: too few requests"]);
            assert.equal(windows.length, 1);
            assert.ok(windows[0] >= 60, `window ${windows[0]} s`);
        } finally {
            await router.close();
        }
    });

    it("holds when Prometheus never counts the preview requests, or has no counter of the candidate at all, and says how long it waited", async () => {
        const router = await standInRouter();
        const stuck: PreviewMetrics = { requestsServed: () => Promise.resolve(5), judge: () => assert.fail("judged without the requests") };
        const unscraped: PreviewMetrics = { requestsServed: () => Promise.resolve(undefined), judge: () => assert.fail("judged without the requests") };
        try {
            const bodies = previewRequests(dir, "smoke.json", check());
            const verdict = await runPreviewCheck(target(router.endpoint), bodies, check({ scrapeTimeoutSeconds: 1 }), stuck);
            assert.equal(verdict.decision, "hold");
            assert.match(verdict.reasons.join("; "), /counted 0 of the 8 preview requests after 1 s \(strategy\.preview\.scrapeTimeoutSeconds\)/);
            const never = await runPreviewCheck(target(router.endpoint), bodies, check({ scrapeTimeoutSeconds: 1 }), unscraped);
            assert.equal(never.decision, "hold");
            assert.match(never.reasons.join("; "), /no request counter of 1\.1\.0 after 1 s/);
            assert.equal(router.seen.length, 16, "the answers are checked all the same");
        } finally {
            await router.close();
        }
    });

    it("names a replay file that cannot be read, or a line that is not a request, with the key and line", () => {
        assert.throws(
            () => previewRequests(dir, "smoke.json", check({ replay: "gone.jsonl" })),
            (e: Error) => e instanceof PreviewCheckError && /strategy\.preview\.replay is "gone\.jsonl", which cannot be read \(ENOENT\)/.test(e.message),
        );
        fs.writeFileSync(path.join(dir, "bad.jsonl"), `${request("a")}\n{"inputs": []}\n`);
        assert.throws(
            () => previewRequests(dir, "smoke.json", check({ replay: "bad.jsonl" })),
            /strategy\.preview\.replay "bad\.jsonl" line 2: the recorded request must have exactly one input tensor/,
        );
        // Without a replay file the recorded request is sent again.
        assert.deepEqual(
            previewRequests(dir, "smoke.json", previewCheckSchema.parse({ requests: 2 })).map((b) => (JSON.parse(b) as { id: string }).id),
            ["smoke", "smoke", "smoke"],
        );
    });
});
