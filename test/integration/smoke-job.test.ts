import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { smokeScript, type SmokeCheck } from "../../components/targets/kubernetes/smoke-job";
import { findProjectDir } from "../../tools/render";
import { startModelServer, stopAll } from "../support/model-server";

/** Runs the in-cluster smoke program with this machine's Node.js, as the Job's container would. */
function runScript(script: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
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

describe("the in-cluster smoke program against a real model server", function () {
    this.timeout(60_000);
    const request = fs.readFileSync(path.join(findProjectDir(), "model-server", "models", "fraud-scorer", "smoke-request.json"), "utf8");
    let healthy: string;
    let failing: string;

    before(async () => {
        healthy = `http://127.0.0.1:${(await startModelServer({ track: "candidate", version: "1.5.0" })).port}`;
        failing = `http://127.0.0.1:${(await startModelServer({ track: "candidate", version: "1.5.0", faults: { errorRate: 1 } })).port}`;
    });
    after(() => stopAll());

    const check = (url: string, change: Partial<SmokeCheck> = {}): SmokeCheck => ({ url, model: "fraud-scorer", version: "1.5.0", request, min: 0.05, max: 0.995, timeoutMs: 5000, ...change });

    it("passes a healthy candidate: ready, inference in range with its version, the legacy route's headers", async () => {
        const result = await runScript(smokeScript(check(healthy)));
        assert.equal(result.code, 0, result.output);
        assert.match(result.output, /smoke: ready[\s\S]*smoke: infer ok[\s\S]*smoke: passed/);
    });

    it("fails naming the check: another version, outputs out of range, a failing server, no server", async () => {
        const cases: Array<[string, SmokeCheck, RegExp]> = [
            ["version", check(healthy, { version: "9.9.9" }), /FAILED version: answered 1\.5\.0, expected 9\.9\.9/],
            ["range", check(healthy, { max: 0.5 }), /FAILED infer: outputs \[.*\] outside 0\.05\.\.0\.5/],
            ["faults", check(failing), /FAILED infer: status 500/],
            ["no server", check("http://127.0.0.1:9", { timeoutMs: 1500 }), /FAILED ready: http:\/\/127\.0\.0\.1:9 not ready within 1500 ms/],
        ];
        for (const [label, c, expected] of cases) {
            const result = await runScript(smokeScript(c));
            assert.equal(result.code, 1, `${label}: ${result.output}`);
            assert.match(result.output, expected, label);
        }
    });
});
