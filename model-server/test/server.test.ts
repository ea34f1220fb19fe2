/** The real process (`node dist/src/main.js`) on 127.0.0.1, driven over HTTP. */
import { strict as assert } from "assert";
import { promises as fs } from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { version as packageVersion } from "../package.json";
import { MODELS_DIR, request, sample, spawnServer, startServer, stopAll, waitForStatus, type ParsedJson, type Running } from "./support/process";

const INFER = "/v2/models/fraud-scorer/infer";
const ROW_A = [1, 0.5, 0, 2];
const ROW_B = [0, 0, 0, 0];
const tensor = (data: unknown, shape: unknown = [2, 4], datatype = "FP32") => ({ inputs: [{ name: "features", shape, datatype, data }] });
/** The 1.4.0 artifact: weights [0.85, 1.6, -0.25, 0.7], bias -0.3. */
const p14 = (x: number[]) => 1 / (1 + Math.exp(-(-0.3 + 0.85 * x[0]! + 1.6 * x[1]! - 0.25 * x[2]! + 0.7 * x[3]!)));
/** The 1.5.0 artifact: weights [0.92, 1.45, -0.4, 0.95], bias -0.45. */
const p15 = (x: number[]) => 1 / (1 + Math.exp(-(-0.45 + 0.92 * x[0]! + 1.45 * x[1]! - 0.4 * x[2]! + 0.95 * x[3]!)));
const close = (actual: unknown, expected: number, tolerance = 1e-9) => assert.ok(typeof actual === "number" && Math.abs(actual - expected) < tolerance, `${String(actual)} ≉ ${expected}`);

function assertModelHeaders(headers: http.IncomingHttpHeaders, track = "stable", version = "1.4.0"): void {
    assert.equal(headers["x-model-name"], "fraud-scorer");
    assert.equal(headers["x-model-version"], version);
    assert.equal(headers["x-model-track"], track);
}

after(stopAll);

describe("model server process: a ready server", function () {
    let server: Running;
    before(async () => {
        server = await startServer({ FEATURE_FLAGS: '{"newThreshold":"0.7"}' });
        await waitForStatus(server.base, "/v2/health/ready", 200);
    });

    const good = () => request(server.base, "POST", INFER, tensor([...ROW_A, ...ROW_B]));
    async function stillServing(): Promise<void> {
        const answer = await good();
        assert.equal(answer.status, 200, answer.text);
        close(answer.body.outputs[0].data[0], p14(ROW_A));
        assert.equal(server.child.exitCode, null, "the process is still running");
    }

    /** modelship_request_errors_total over every route: what a rollout's error rate is made of. */
    async function serverErrors(): Promise<number> {
        const metrics = (await request(server.base, "GET", "/metrics")).text;
        return [...metrics.matchAll(/^modelship_request_errors_total\{.*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    }

    it("prints a JSON start line with the bound port, and answers health checks", async () => {
        const start = server.logs.find((l) => l.event === "start")!;
        assert.equal(start.port, server.port);
        assert.equal(start.host, "127.0.0.1");
        assert.equal(start.model, "fraud-scorer");
        const live = await request(server.base, "GET", "/v2/health/live");
        assert.deepEqual([live.status, live.body], [200, { live: true }]);
        const ready = await request(server.base, "GET", "/v2/health/ready");
        assert.deepEqual([ready.status, ready.body], [200, { ready: true }]);
        assert.match(ready.headers["content-type"]!, /^application\/json/);
        assertModelHeaders(ready.headers);
    });

    it("serves server and model metadata", async () => {
        const meta = await request(server.base, "GET", "/v2");
        assert.deepEqual(meta.body, { name: "modelship-model-server", version: packageVersion, extensions: [] });
        const expected = {
            name: "fraud-scorer",
            versions: ["1.4.0"],
            platform: "modelship-logreg",
            inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
            outputs: [{ name: "probability", datatype: "FP32", shape: [-1, 1] }],
        };
        for (const pathname of ["/v2/models/fraud-scorer", "/v2/models/fraud-scorer/versions/1.4.0"]) {
            const model = await request(server.base, "GET", pathname);
            assert.equal(model.status, 200);
            assert.deepEqual(model.body, expected);
        }
        for (const pathname of ["/v2/models/fraud-scorer/ready", "/v2/models/fraud-scorer/versions/1.4.0/ready"]) {
            assert.equal((await request(server.base, "GET", pathname)).status, 200);
        }
    });

    it("infers the probabilities the weights give, for flat and nested data", async () => {
        const flat = await request(server.base, "POST", INFER, { id: "req-42", ...tensor([...ROW_A, ...ROW_B]) });
        assert.equal(flat.status, 200, flat.text);
        assertModelHeaders(flat.headers);
        assert.equal(flat.body.model_name, "fraud-scorer");
        assert.equal(flat.body.model_version, "1.4.0");
        assert.equal(flat.body.id, "req-42");
        assert.deepEqual(flat.body.parameters, { track: "stable", feature_flags: { newThreshold: "0.7" } });
        const [output] = flat.body.outputs;
        assert.deepEqual([output.name, output.shape, output.datatype], ["probability", [2, 1], "FP32"]);
        close(output.data[0], p14(ROW_A));
        close(output.data[0], 0.9399133, 1e-7); // sigmoid(2.75), by hand
        close(output.data[1], 0.4255575, 1e-7); // sigmoid(-0.3)

        const nested = await request(server.base, "POST", "/v2/models/fraud-scorer/versions/1.4.0/infer", tensor([ROW_A, ROW_B], [2, 4], "FP64"));
        assert.equal(nested.status, 200, nested.text);
        assert.deepEqual(nested.body.outputs[0].data, output.data);
        assert.match(nested.body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "without an id, one is generated");
    });

    it("answers the legacy v1 predict with Deprecation, Sunset and Link headers", async () => {
        const answer = await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [ROW_A, ROW_B] });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.model_version, "1.4.0");
        assert.equal(answer.body.track, "stable");
        close(answer.body.predictions[0], p14(ROW_A));
        close(answer.body.predictions[1], p14(ROW_B));
        assert.equal(answer.headers["deprecation"], "true");
        const sunset = String(answer.headers["sunset"]);
        assert.ok(!Number.isNaN(Date.parse(sunset)) && new Date(sunset).toUTCString() === sunset, `Sunset is an HTTP date: ${sunset}`);
        assert.equal(answer.headers["link"], '</v2/models/fraud-scorer/infer>; rel="successor-version"');
        assertModelHeaders(answer.headers);
    });

    const badRequests: [string, () => Promise<{ status: number; body: ParsedJson; headers: http.IncomingHttpHeaders }>, number, RegExp][] = [
        ["malformed JSON", () => request(server.base, "POST", INFER, '{"inputs": [}'), 400, /^malformed JSON/],
        ["a wrong shape", () => request(server.base, "POST", INFER, tensor([...ROW_A, ...ROW_B], [2, 3])), 400, /takes 4 features per row/],
        ["data that disagrees with the shape", () => request(server.base, "POST", INFER, tensor(ROW_A, [2, 4])), 400, /has 4 values but the shape \[2, 4\] needs 8/],
        ["non-numeric data", () => request(server.base, "POST", INFER, tensor([1, "high", 0, 2], [1, 4])), 400, /data\[1\] is "high": expected a number/],
        ["an unsupported datatype", () => request(server.base, "POST", INFER, tensor(ROW_A, [1, 4], "BYTES")), 400, /datatype is "BYTES"/],
        ["bad v1 instances", () => request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [[1, 2]] }), 400, /expected 4 numbers/],
        ["an unknown model", () => request(server.base, "POST", "/v2/models/ranker/infer", tensor(ROW_A, [1, 4])), 404, /model "ranker" not found/],
        ["an unknown model (metadata)", () => request(server.base, "GET", "/v2/models/ranker"), 404, /model "ranker" not found/],
        ["an unknown model (v1)", () => request(server.base, "POST", "/v1/models/ranker:predict", { instances: [ROW_A] }), 404, /model "ranker" not found/],
        ["an unknown version", () => request(server.base, "POST", "/v2/models/fraud-scorer/versions/1.5.0/infer", tensor(ROW_A, [1, 4])), 404, /version "1\.5\.0" not found/],
        ["an unknown version (metadata)", () => request(server.base, "GET", "/v2/models/fraud-scorer/versions/9/ready"), 404, /version "9" not found/],
        ["an unknown route", () => request(server.base, "GET", "/v3/everything"), 404, /no route for GET \/v3\/everything/],
        ["a wrong method on infer", () => request(server.base, "GET", INFER), 405, /GET is not allowed on \/v2\/models\/:name\/infer/],
        ["a wrong method on health", () => request(server.base, "DELETE", "/v2/health/live"), 405, /DELETE is not allowed/],
        ["JSON nested 5,000 levels deep (v2)", () => request(server.base, "POST", INFER, "[".repeat(5000) + "]".repeat(5000)), 400, /nested more than \d+ levels deep/],
        [
            "JSON nested 100,000 levels deep inside inputs (v2)",
            () => request(server.base, "POST", INFER, '{"inputs":' + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
            400,
            /nested more than \d+ levels deep/,
        ],
        [
            "JSON nested 5,000 levels deep (v1)",
            () => request(server.base, "POST", "/v1/models/fraud-scorer:predict", '{"instances":' + "[".repeat(5000) + "]".repeat(5000) + "}"),
            400,
            /nested more than \d+ levels deep/,
        ],
        [
            "a body that is not UTF-8",
            () => request(server.base, "POST", INFER, Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","inputs":[]}')])),
            400,
            /not valid UTF-8/,
        ],
        ["a 2 MiB body", () => request(server.base, "POST", INFER, Buffer.alloc(2 * 1024 * 1024, " ")), 413, /larger than 1048576 bytes/],
        ["a 2 MiB chunked body", () => chunked(server.base, INFER, 2 * 1024 * 1024), 413, /larger than 1048576 bytes/],
        ["a 2 MiB body announced with Expect: 100-continue", () => expectContinue(server.base, INFER, 2 * 1024 * 1024), 413, /larger than 1048576 bytes/],
    ];
    for (const [what, send, status, message] of badRequests) {
        it(`answers ${status} to ${what} and keeps serving`, async () => {
            const errorsBefore = await serverErrors();
            const answer = await send();
            assert.equal(answer.status, status, JSON.stringify(answer.body));
            assert.deepEqual(Object.keys(answer.body), ["error"]);
            assert.match(answer.body.error, message);
            assertModelHeaders(answer.headers);
            if (status === 405) assert.ok(answer.headers["allow"], "a 405 names the allowed methods");
            assert.equal(await serverErrors(), errorsBefore, "a client's mistake is not counted in modelship_request_errors_total");
            await stillServing();
        });
    }

    it("answers 400 in the error shape to bytes that are not HTTP, and keeps serving", async () => {
        const raw = await new Promise<string>((resolve, reject) => {
            const socket = net.connect({ host: "127.0.0.1", port: server.port }, () => socket.end("NOT HTTP AT ALL\r\n\r\n"));
            let text = "";
            socket.setEncoding("utf8").on("data", (d: string) => (text += d));
            socket.on("end", () => resolve(text));
            socket.on("error", reject);
        });
        assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.match(raw, /\r\nX-Model-Name: fraud-scorer\r\n/);
        assert.match(raw, /\r\n\r\n\{"error":"Bad Request: [A-Z_]+"\}$/);
        await stillServing();
    });

    it("exposes request counts and a latency histogram by model, version, track and route", async () => {
        const metrics = await request(server.base, "GET", "/metrics");
        assert.equal(metrics.status, 200);
        assert.match(metrics.headers["content-type"]!, /^text\/plain/);
        const text = metrics.text;
        const labels = { model: "fraud-scorer", version: "1.4.0", track: "stable", route: "/v2/models/:name/infer" };
        assert.match(text, /^# TYPE modelship_request_duration_seconds histogram$/m);
        for (const le of ["0.001", "0.005", "0.1", "1", "2.5", "+Inf"]) {
            assert.ok(sample(text, "modelship_request_duration_seconds_bucket", { le, ...labels })! >= 1, `bucket le=${le}`);
        }
        assert.ok(sample(text, "modelship_request_duration_seconds_count", labels)! >= 5);
        assert.ok(sample(text, "modelship_request_duration_seconds_sum", labels)! > 0);
        assert.ok(sample(text, "modelship_requests_total", { ...labels, code: "200" })! >= 5);
        assert.ok(sample(text, "modelship_requests_total", { ...labels, code: "400" })! >= 4);
        assert.ok(sample(text, "modelship_requests_total", { ...labels, code: "413" })! >= 3);
        assert.ok(sample(text, "modelship_requests_total", { ...labels, route: "unmatched", code: "404" })! >= 1);
        assert.equal(sample(text, "modelship_model_ready", { model: "fraud-scorer", version: "1.4.0", track: "stable" }), 1);
        const identity = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
        assert.ok(sample(text, "process_cpu_user_seconds_total", identity)! > 0, "default process metrics, with model, version and track");
        assert.ok(sample(text, "nodejs_heap_size_used_bytes", identity)! > 0, "default Node.js metrics, with model, version and track");
        assert.doesNotMatch(text, /route="\/v2\/models\/fraud-scorer/, "route labels are templates, never raw paths");
        assert.doesNotMatch(text, /route="\/v3/, "unknown paths are not labels");
    });

    it("logs one JSON line per request with method, route, status, duration, track and version", async () => {
        const line = await server.waitForLog((l) => l.event === "request" && l.status === 413);
        assert.equal(line.method, "POST");
        assert.equal(line.route, "/v2/models/:name/infer");
        assert.equal(line.track, "stable");
        assert.equal(line.version, "1.4.0");
        assert.equal(typeof line.duration_ms, "number");
        assert.ok(
            server.logs.every((l) => l.event !== "not-json"),
            "every stdout line is JSON",
        );
    });
});

/** POSTs `size` bytes with Transfer-Encoding: chunked (no Content-Length). */
function chunked(base: string, pathname: string, size: number): Promise<{ status: number; body: ParsedJson; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
        const req = http.request(new URL(pathname, base), { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
        });
        req.on("error", reject);
        const chunk = Buffer.alloc(64 * 1024, " ");
        for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
        req.end();
    });
}

/** Announces `size` bytes with Expect: 100-continue and sends them only if the server says 100 Continue. */
function expectContinue(base: string, pathname: string, size: number): Promise<{ status: number; body: ParsedJson; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
        const req = http.request(new URL(pathname, base), { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": size, expect: "100-continue" } }, (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
        });
        req.on("error", reject);
        req.on("continue", () => req.end(Buffer.alloc(size, " ")));
        req.flushHeaders();
    });
}

describe("model server process: start-up, faults and flags", function () {
    let dir: string;
    before(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "model-server-process-"));
    });
    after(async () => {
        await stopAll();
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("is live but not ready until the model is loaded (FAULT_SLOW_START_MS)", async () => {
        const server = await startServer({ FAULT_SLOW_START_MS: "1500" });
        const ready = await request(server.base, "GET", "/v2/health/ready");
        assert.deepEqual([ready.status, ready.body], [503, { ready: false }]);
        assert.equal((await request(server.base, "GET", "/v2/health/live")).status, 200);
        assert.equal((await request(server.base, "GET", "/v2/models/fraud-scorer/ready")).status, 503);
        const early = await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]));
        assert.equal(early.status, 503);
        assert.match(early.body.error, /not ready: it is still loading/);
        assert.match((await request(server.base, "GET", "/metrics")).text, /^modelship_model_ready\{model="fraud-scorer",version="1.4.0",track="stable"\} 0$/m);

        await waitForStatus(server.base, "/v2/health/ready", 200);
        const loaded = server.logs.find((l) => l.event === "model_loaded")!;
        assert.equal(loaded.artifact, path.join(MODELS_DIR, "fraud-scorer", "1.4.0", "model.json"));
        assert.equal((await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]))).status, 200);
        assert.match((await request(server.base, "GET", "/metrics")).text, /^modelship_model_ready\{model="fraud-scorer",version="1.4.0",track="stable"\} 1$/m);
    });

    it("stays up and not ready with a corrupt artifact, and logs the path and the problem", async () => {
        const file = path.join(dir, "corrupt", "1.4.0", "model.json");
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, JSON.stringify({ format: "modelship-logreg/v1", name: "fraud-scorer", version: "1.4.0", inputs: [{ name: "features", size: 4 }], weights: [0.1, 0.2, 0.3], bias: 0 }));
        const server = await startServer({ MODEL_ARTIFACT: path.join(dir, "corrupt") });
        const failed = await server.waitForLog((l) => l.event === "model_load_failed");
        assert.equal(failed.level, "error");
        assert.equal(failed.artifact, file);
        assert.equal(failed.problem, "weights has 3 values but inputs[0].size is 4");
        assert.match(failed.msg!, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} weights has 3 values`));
        assert.equal(server.logs.filter((l) => l.event === "model_load_failed").length, 1, "one line");

        assert.equal((await request(server.base, "GET", "/v2/health/live")).status, 200);
        assert.equal((await request(server.base, "GET", "/v2/health/ready")).status, 503);
        const infer = await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]));
        assert.equal(infer.status, 503);
        assert.match(infer.body.error, /its artifact could not be loaded/);
        assert.equal(server.child.exitCode, null);
    });

    it("stays not ready for an s3:// artifact, saying the files must be mounted", async () => {
        const server = await startServer({ MODEL_ARTIFACT: "s3://models/fraud-scorer/" });
        const failed = await server.waitForLog((l) => l.event === "model_load_failed");
        assert.equal(failed.artifact, "s3://models/fraud-scorer/");
        assert.match(failed.problem as string, /not supported.*mount the artifact's files into the container/);
        assert.equal((await request(server.base, "GET", "/v2/health/ready")).status, 503);
        assert.equal((await request(server.base, "GET", "/v2/health/live")).status, 200);
    });

    it("answers 500 to every inference with FAULT_ERROR_RATE=1, counted as errors", async () => {
        const server = await startServer({ FAULT_ERROR_RATE: "1" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        for (let i = 0; i < 3; i++) {
            const answer = await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]));
            assert.equal(answer.status, 500);
            assert.match(answer.body.error, /injected fault/);
        }
        const v1 = await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [ROW_A] });
        assert.equal(v1.status, 500);
        assert.equal((await request(server.base, "GET", "/v2/models/fraud-scorer")).status, 200, "only inferences fail");
        const metrics = (await request(server.base, "GET", "/metrics")).text;
        const labels = { model: "fraud-scorer", version: "1.4.0", track: "stable", route: "/v2/models/:name/infer" };
        assert.equal(sample(metrics, "modelship_request_errors_total", labels), 3);
        assert.equal(sample(metrics, "modelship_requests_total", { ...labels, code: "500" }), 3);
        assert.equal(sample(metrics, "modelship_request_errors_total", { ...labels, route: "/v1/models/:name:predict" }), 1);
        assert.equal(sample(metrics, "modelship_request_errors_total", { ...labels, route: "/v2/models/:name" }), undefined);
    });

    it("exports every inference route's error and answered series at 0 from the start: a healthy track's error rate is 0, and a burst before the first scrape still counts in increase()", async () => {
        const server = await startServer();
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const metrics = (await request(server.base, "GET", "/metrics")).text;
        const labels = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
        for (const route of ["/v2/models/:name/infer", "/v2/models/:name/versions/:version/infer", "/v1/models/:name:predict"]) {
            assert.equal(sample(metrics, "modelship_request_errors_total", { ...labels, route }), 0, route);
            assert.equal(sample(metrics, "modelship_requests_total", { ...labels, route, code: "200" }), 0, route);
            assert.equal(sample(metrics, "modelship_request_duration_seconds_count", { ...labels, route }), 0, route);
        }
    });

    it("serves the candidate track's version, and calibratedScores=true rounds to 4 decimals", async () => {
        const server = await startServer({ MODEL_VERSION: "1.5.0", MODEL_TRACK: "candidate", FEATURE_FLAGS: '{"calibratedScores":"true"}' });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const answer = await request(server.base, "POST", "/v2/models/fraud-scorer/versions/1.5.0/infer", tensor([ROW_A], [1, 4]));
        assert.equal(answer.status, 200, answer.text);
        assertModelHeaders(answer.headers, "candidate", "1.5.0");
        assert.equal(answer.body.model_version, "1.5.0");
        assert.deepEqual(answer.body.parameters, { track: "candidate", feature_flags: { calibratedScores: "true" } });
        assert.equal(answer.body.outputs[0].data[0], Math.round(p15(ROW_A) * 10_000) / 10_000);
        assert.notEqual(p15(ROW_A), p14(ROW_A));
    });

    it("adds FAULT_LATENCY_MS to inferences only", async () => {
        const server = await startServer({ FAULT_LATENCY_MS: "300" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        let started = Date.now();
        assert.equal((await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]))).status, 200);
        assert.ok(Date.now() - started >= 290, "the inference took the added latency");
        started = Date.now();
        await request(server.base, "GET", "/v2/health/live");
        assert.ok(Date.now() - started < 250, "health checks are not delayed");
    });

    it("answers exactly one inference 503 with FAULT_FAIL_ONCE_AT, the one with that ordinal", async () => {
        const server = await startServer({ FAULT_FAIL_ONCE_AT: "3" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await request(server.base, "POST", INFER, tensor(ROW_A, [1, 4]))).status);
        assert.deepEqual(statuses, [200, 200, 503, 200, 200, 200]);
    });

    it("exits 1 with a clear message for an invalid environment", async () => {
        const { exited, logs, stderr } = spawnServer({ MODEL_TRACK: "canary", FAULT_ERROR_RATE: "2", FEATURE_FLAGS: "nope" });
        const exit = await exited;
        assert.equal(exit.code, 1);
        assert.match(stderr(), /MODEL_TRACK="canary": expected one of stable, candidate/);
        assert.match(stderr(), /FAULT_ERROR_RATE="2": expected a number from 0 to 1/);
        assert.match(stderr(), /FEATURE_FLAGS is not valid JSON/);
        const line = logs.find((l) => l.event === "config_invalid")!;
        assert.equal(line.level, "error");
        assert.equal((line.problems as string[]).length, 3);
    });
});
