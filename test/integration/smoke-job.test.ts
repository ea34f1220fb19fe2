import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { smokeCommand, type SmokeCheck } from "../../components/targets/kubernetes/smoke-job";
import { findProjectDir } from "../../tools/render";
import { startModelServer, stopAll } from "../support/model-server";

const projectDir = findProjectDir();

function run(args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, output });
        });
    });
}

/** Runs the Job container's command with this machine's Node.js in model-server/, as the image's /app (where the image has what model-server/dist has). */
function runJob(check: SmokeCheck): Promise<{ code: number | null; output: string }> {
    const [node, ...args] = smokeCommand(check);
    assert.equal(node, "node");
    return run(args, path.join(projectDir, "model-server"));
}

/** The same check as the deployer's machine runs it (`node dist/tools/gate.js smoke`), one attempt per request as in the Job. */
function runLocal(check: SmokeCheck): Promise<{ code: number | null; output: string }> {
    const flags = [
        "--url",
        check.url,
        "--model",
        check.model,
        "--version",
        check.version,
        "--input",
        check.request,
        "--expect-min",
        String(check.min),
        "--expect-max",
        String(check.max),
        "--timeout-ms",
        String(check.timeoutMs),
        "--retries",
        "0",
    ];
    return run([path.join(projectDir, "dist", "tools", "gate.js"), "smoke", ...flags], projectDir);
}

/** Output without timings, which differ from run to run. */
const untimed = (output: string) => output.replace(/\d+\.\d s\b/g, "<s> s");

describe("the in-cluster smoke program against a real model server", function () {
    this.timeout(60_000);
    const request = fs.readFileSync(path.join(projectDir, "model-server", "models", "fraud-scorer", "smoke-request.json"), "utf8");
    let healthy: string;
    let failing: string;

    before(async () => {
        healthy = `http://127.0.0.1:${(await startModelServer({ track: "candidate", version: "1.5.0" })).port}`;
        failing = `http://127.0.0.1:${(await startModelServer({ track: "candidate", version: "1.5.0", faults: { errorRate: 1 } })).port}`;
    });
    after(() => stopAll());

    const check = (url: string, change: Partial<SmokeCheck> = {}): SmokeCheck => ({ url, model: "fraud-scorer", version: "1.5.0", request, min: 0.05, max: 0.995, timeoutMs: 5000, ...change });

    it("passes a healthy candidate: ready, inference in range with its version, the legacy route's headers", async () => {
        const result = await runJob(check(healthy));
        assert.equal(result.code, 0, result.output);
        assert.match(result.output, /smoke: ready[\s\S]*smoke: infer ok[\s\S]*smoke: passed/);
        assert.match(result.output, /smoke: v1 ok .*Deprecation: true, Sunset: .+, Link: <\/v2\/models\/fraud-scorer\/infer>/, "the Link header is checked too");
        assert.match(result.output, /smoke: version ok \(X-Model-Version 1\.5\.0 on infer and v1\)/, "the version header is checked too");
    });

    const cases = (): Array<[string, SmokeCheck, RegExp]> => [
        ["version", check(healthy, { version: "9.9.9" }), /FAILED version: X-Model-Version is "1\.5\.0" on the infer answer, "1\.5\.0" on the v1 answer, expected --version "9\.9\.9"/],
        ["range", check(healthy, { max: 0.5 }), /FAILED infer: output values outside \[0\.05, 0\.5\]: probability\[\d\] = /],
        ["faults", check(failing), /FAILED infer: POST .*\/infer failed after 1 attempt: last answer 500/],
        ["no server", check("http://127.0.0.1:9", { timeoutMs: 1500 }), /FAILED ready: GET http:\/\/127\.0\.0\.1:9\/v2\/health\/ready did not answer 200 within 1\.5 s/],
    ];

    it("fails naming the check: another version, outputs out of range, a failing server, no server", async () => {
        for (const [label, c, expected] of cases()) {
            const result = await runJob(c);
            assert.equal(result.code, 1, `${label}: ${result.output}`);
            assert.match(result.output, expected, label);
        }
    });

    it("is the program the deployer's gate command runs: the same lines and verdict for the same check", async () => {
        for (const [label, c] of [["healthy", check(healthy)] as const, ...cases().map(([l, x]) => [l, x] as const)]) {
            const [job, local] = await Promise.all([runJob(c), runLocal(c)]);
            assert.equal(job.code, local.code, `${label}\n--- job\n${job.output}--- local\n${local.output}`);
            assert.equal(untimed(job.output), untimed(local.output), label);
        }
    });
});
