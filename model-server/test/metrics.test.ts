/** The metrics an analysis judges a track by: identity on every series, memory, scores, a leak. */
import { strict as assert } from "assert";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../src/config";
import { memoryLimit } from "../src/memory-limit";
import { createServer } from "../src/server";
import { BASE_ENV, request, sample, startServer, stopAll, waitForStatus } from "./support/process";

const INFER = "/v2/models/fraud-scorer/infer";
const ROW_A = [1, 0.5, 0, 2];
const ROW_B = [0, 0, 0, 0];
const tensor = (rows: number[][]) => ({ inputs: [{ name: "features", shape: [rows.length, 4], datatype: "FP32", data: rows.flat() }] });
const scrape = async (base: string) => (await request(base, "GET", "/metrics")).text;

describe("model server metrics", function () {
    let dir: string;
    before(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "model-server-metrics-"));
    });
    after(async () => {
        await stopAll();
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("counts the requests in flight at the scrape: the scrape alone when idle, and the slow inferences still running", async () => {
        const server = await startServer({ FAULT_LATENCY_MS: "1500" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const identity = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
        assert.equal(sample(await scrape(server.base), "modelship_requests_in_flight", identity), 1, "only the scrape itself");
        const slow = Array.from({ length: 3 }, () => request(server.base, "POST", INFER, tensor([ROW_A])));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(sample(await scrape(server.base), "modelship_requests_in_flight", identity), 4, "three inferences and the scrape");
        await Promise.all(slow);
        assert.equal(sample(await scrape(server.base), "modelship_requests_in_flight", identity), 1);
    });

    it("labels every series with model, version and track, prom-client's process and Node.js metrics included", async () => {
        const server = await startServer({ MODEL_VERSION: "1.5.0", MODEL_TRACK: "candidate", MODELSHIP_MEMORY_LIMIT_BYTES: "536870912" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const text = await scrape(server.base);
        const identity = { model: "fraud-scorer", version: "1.5.0", track: "candidate" };
        assert.ok(sample(text, "process_resident_memory_bytes", identity)! > 10_000_000, "resident memory");
        assert.ok(sample(text, "nodejs_eventloop_lag_p99_seconds", identity)! >= 0, "event-loop lag p99");
        const startedAt = sample(text, "process_start_time_seconds", identity)!;
        assert.ok(Math.abs(startedAt - Date.now() / 1000) < 60, `process_start_time_seconds ${startedAt} is the process's start`);
        assert.equal(sample(text, "modelship_memory_limit_bytes", identity), 536_870_912);
        const series = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
        assert.ok(series.length > 50);
        for (const line of series) {
            // nodejs_version_info's own `version` label (Node's version) takes the place of the model's.
            if (line.startsWith("nodejs_version_info{")) {
                assert.match(line, /version="v\d+/);
                continue;
            }
            for (const label of ['model="fraud-scorer"', 'version="1.5.0"', 'track="candidate"']) assert.ok(line.includes(label), `${line} has ${label}`);
        }
    });

    it("reads the memory limit from cgroup v2 memory.max when MODELSHIP_MEMORY_LIMIT_BYTES is unset, and exports none without a number", async () => {
        const write = async (name: string, text: string) => {
            const file = path.join(dir, name);
            await fs.writeFile(file, text);
            return file;
        };
        const limited = await write("limited", "1073741824\n");
        const unlimited = await write("unlimited", "max\n");
        assert.equal(memoryLimit(undefined, limited), 1_073_741_824);
        assert.equal(memoryLimit(undefined, unlimited), undefined, '"max" is no limit');
        assert.equal(memoryLimit(undefined, path.join(dir, "absent")), undefined, "no cgroup v2 file");
        assert.equal(memoryLimit(268_435_456, limited), 268_435_456, "the variable wins over the cgroup");

        const config = parseConfig({ ...BASE_ENV });
        const gauge = async (cgroupMemoryMax: string) =>
            sample(await createServer({ config, log: { log() {} }, cgroupMemoryMax }).metrics.render(), "modelship_memory_limit_bytes", { model: "fraud-scorer", version: "1.4.0", track: "stable" });
        assert.equal(await gauge(limited), 1_073_741_824);
        assert.equal(await gauge(unlimited), undefined);
        assert.doesNotMatch(await createServer({ config, log: { log() {} }, cgroupMemoryMax: unlimited }).metrics.render(), /modelship_memory_limit_bytes/);
    });

    it("puts every probability answered (v2 and v1) in modelship_prediction_score, buckets 0 to 1 by 0.05", async () => {
        const server = await startServer();
        await waitForStatus(server.base, "/v2/health/ready", 200);
        // sigmoid(2.75) = 0.93991 and sigmoid(-0.3) = 0.42556 for the 1.4.0 weights.
        assert.equal((await request(server.base, "POST", INFER, tensor([ROW_A, ROW_B]))).status, 200);
        assert.equal((await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [ROW_B] })).status, 200);
        assert.equal((await request(server.base, "POST", INFER, tensor([[1, 2]]))).status, 400, "a refused request answers no score");
        const text = await scrape(server.base);
        const identity = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
        const bucket = (le: string) => sample(text, "modelship_prediction_score_bucket", { ...identity, le });
        assert.deepEqual(
            ["0", "0.05", "0.4", "0.45", "0.9", "0.95", "1", "+Inf"].map((le) => bucket(le)),
            [0, 0, 0, 2, 2, 3, 3, 3],
        );
        assert.equal(text.match(/^modelship_prediction_score_bucket\{/gm)?.length, 22, "21 bounds and +Inf");
        assert.equal(sample(text, "modelship_prediction_score_count", identity), 3);
        assert.ok(Math.abs(sample(text, "modelship_prediction_score_sum", identity)! - (0.9399133 + 2 * 0.4255575)) < 1e-6);
    });

    it("retains FAULT_LEAK_BYTES_PER_REQUEST per inference, so process_resident_memory_bytes grows", async () => {
        const leak = 2 * 1024 * 1024;
        const requests = 40;
        const server = await startServer({ FAULT_LEAK_BYTES_PER_REQUEST: String(leak) });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const identity = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
        const rss = async () => sample(await scrape(server.base), "process_resident_memory_bytes", identity)!;
        const before = await rss();
        for (let i = 0; i < requests; i++) assert.equal((await request(server.base, "POST", INFER, tensor([ROW_A]))).status, 200);
        const grown = (await rss()) - before;
        assert.ok(grown >= 0.75 * leak * requests, `resident memory grew by ${grown} bytes, expected about ${leak * requests}`);
        const start = server.logs.find((l) => l.event === "start")!;
        assert.equal((start.faults as Record<string, number>).leak_bytes_per_request, leak, "the start line names the knob");
    });
});
