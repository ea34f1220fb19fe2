/**
 * The gate programs (tools/gate.ts, run as `node dist/tools/gate.js <gate>`) as real processes:
 * hadolint on real Dockerfiles, the scan gate with no scanner and with fake `trivy` executables on
 * PATH, and the smoke gate against real model-server processes on 127.0.0.1.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GATE_RESULT_PATTERN, parseGateResult } from "../../components/gates/reports";
import { TRIVY_ARGS, TRIVY_OFFLINE_ARGS } from "../../tools/gate";
import { findProjectDir } from "../../tools/render";
import { freePort } from "../support/http";
import { inferencesServed, ModelServerProcess, routeFor, startModelServer, type ModelServerProcess as Server } from "../support/model-server";
import { NginxProcess, nginxOrSkip } from "../support/nginx";
import { HADOLINT, toolOrSkip } from "../support/tools";

const projectDir = findProjectDir();
const gateJs = path.join(projectDir, "dist", "tools", "gate.js");
const smokeRequest = path.join(projectDir, "model-server", "models", "fraud-scorer", "smoke-request.json");

interface GateRun {
    status: number | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr, for assertion messages. */
    all: string;
}

/** Runs the gate program as its own process (async: the model servers' logs keep draining meanwhile). */
function gate(args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<GateRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [gateJs, ...args], { cwd: projectDir, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.once("error", reject);
        child.once("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr, all: `--- stdout\n${stdout}--- stderr\n${stderr}` });
        });
    });
}

function lastLine(text: string): string {
    return text.trim().split("\n").pop() ?? "";
}

/** The last line is the result line with a duration, for the deployer's timings. */
function assertResult(result: GateRun, gateName: string, verdict: string): void {
    const line = lastLine(result.stdout);
    assert.match(line, GATE_RESULT_PATTERN, `result line\n${result.all}`);
    const parsed = parseGateResult(result.stdout);
    assert.equal(parsed?.gate, gateName, result.all);
    assert.equal(parsed?.verdict, verdict, result.all);
}

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `modelship-gates-${prefix}-`));
    tmpDirs.push(dir);
    return dir;
}

/** A PATH holding only `node` (a link to this node): no hadolint, no trivy, plus `extra` dirs first. */
function barePath(...extra: string[]): NodeJS.ProcessEnv {
    const bin = tmpDir("bin");
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    return { ...process.env, PATH: [...extra, bin].join(path.delimiter) };
}

function dockerfile(lines: readonly string[]): string {
    const file = path.join(tmpDir("dockerfile"), "Dockerfile");
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
}

/** The usual mistakes: hadolint 2.15 rates all four as warnings (plus two infos). */
const BROKEN = ["FROM node:latest", "RUN apt-get update && apt-get install -y curl", "RUN cd /app && npm install", "CMD node main.js"];

describe("gate programs (node dist/tools/gate.js)", () => {
    after(() => {
        for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("usage", () => {
        it("exits 2 with a usage line for an unknown gate, an unknown flag, a missing flag or a bad value", async () => {
            for (const args of [
                ["deploy"],
                [],
                ["lint"],
                ["lint", "--dockerfile", "x", "--bogus", "1"],
                ["lint", "--dockerfile", "x", "--required", "maybe"],
                ["scan", "--image", "x", "--scanner", "grype"],
                ["smoke", "--url", "http://127.0.0.1:1", "--model", "m", "--version", "1", "--input", smokeRequest, "--expect-min", "0"],
            ]) {
                const result = await gate(args);
                assert.equal(result.status, 2, `${args.join(" ")}\n${result.all}`);
                assert.match(result.stderr, /^usage: node dist\/tools\/gate\.js <lint\|scan\|smoke>/m, result.all);
            }
        });

        it("exits 2 when the recorded request is not a KServe v2 request", async () => {
            const result = await gate(["smoke", "--url", "http://127.0.0.1:1", "--model", "m", "--version", "1", "--input", '{"instances": [[1, 2]]}', "--expect-min", "0", "--expect-max", "1"]);
            assert.equal(result.status, 2, result.all);
            assert.match(result.stderr, /--input inline JSON: not a usable KServe v2 inference request/, result.all);
        });
    });

    describe("lint", () => {
        it("passes the project's model-server/Dockerfile", async function () {
            toolOrSkip(this, HADOLINT);
            const result = await gate(["lint", "--dockerfile", "model-server/Dockerfile"]);
            assert.equal(result.status, 0, result.all);
            assert.match(result.stdout, /^lint: hadolint model-server\/Dockerfile: 0 findings/m, result.all);
            assert.match(lastLine(result.stdout), /^lint: passed in \d+\.\d s$/, result.all);
        });

        it("fails on an error-level finding and names it", async function () {
            toolOrSkip(this, HADOLINT);
            const file = dockerfile(["FROM node:latest", "MAINTAINER someone@example.com", "WORKDIR app", 'CMD ["node", "main.js"]']);
            const result = await gate(["lint", "--dockerfile", file]);
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^lint: error DL4000 line 2: MAINTAINER is deprecated$/m, result.all);
            assert.match(result.stdout, /^lint: error DL3000 line 3: /m, result.all);
            assert.match(result.stdout, /^lint: warning DL3007 line 1: /m, result.all);
            assert.match(lastLine(result.stdout), /^lint: FAILED \(DL4000, DL3000\) in \d+\.\d s$/, result.all);
            assertResult(result, "lint", "FAILED");
        });

        it("passes a Dockerfile with only warnings and infos, and prints each (the usual mistakes are warnings)", async function () {
            toolOrSkip(this, HADOLINT);
            const result = await gate(["lint", "--dockerfile", dockerfile(BROKEN)]);
            assert.equal(result.status, 0, result.all);
            assert.match(result.stdout, /: 6 findings \(0 error, 4 warning, 2 info, 0 style\); failing on error$/m, result.all);
            for (const [rule, line] of [
                ["DL3007", 1],
                ["DL3008", 2],
                ["DL3003", 3],
                ["DL3025", 4],
            ])
                assert.match(result.stdout, new RegExp(`^lint: warning ${rule} line ${line}: \\S`, "m"), `${rule}\n${result.all}`);
            assert.match(result.stdout, /^lint: info DL3015 line 2: /m, result.all);
            assertResult(result, "lint", "passed");
        });

        it("fails the usual mistakes with --failure-threshold warning, naming DL3007, DL3008, DL3003 and DL3025", async function () {
            toolOrSkip(this, HADOLINT);
            const result = await gate(["lint", "--dockerfile", dockerfile(BROKEN), "--failure-threshold", "warning"]);
            assert.equal(result.status, 1, result.all);
            assert.match(lastLine(result.stdout), /^lint: FAILED \(DL3007, DL3008, DL3003, DL3025\) in \d+\.\d s$/, result.all);
        });

        it("without hadolint on PATH: exit 1 when required (the default), 0 with the message when not", async () => {
            const env = barePath();
            const file = dockerfile(BROKEN);
            for (const [flags, status, detail] of [
                [[], 1, "required"],
                [["--required", "true"], 1, "required"],
                [["--required", "false"], 0, "advisory"],
            ] as const) {
                const result = await gate(["lint", "--dockerfile", file, ...flags], env);
                assert.equal(result.status, status, `${flags.join(" ")}\n${result.all}`);
                assert.match(result.stdout, /^lint not run: hadolint not found on PATH$/m, result.all);
                assert.doesNotMatch(result.stdout, /passed|clean/i, result.all);
                assert.match(lastLine(result.stdout), new RegExp(`^lint: NOT RUN \\(${detail}\\) in \\d+\\.\\d s$`), result.all);
            }
        });

        it("fails when the Dockerfile does not exist", async () => {
            const result = await gate(["lint", "--dockerfile", path.join(tmpDir("none"), "Dockerfile")], barePath());
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^lint: FAILED: no Dockerfile at /m, result.all);
        });
    });

    describe("scan", () => {
        const IMAGE = "registry.example/fraud-scorer@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

        /** A `trivy` on PATH: a node script that records its arguments and answers as told. */
        function fakeTrivy(behaviour: { stdout?: string; stderr?: string; exit?: number }): { env: NodeJS.ProcessEnv; argsFile: string } {
            const dir = tmpDir("trivy");
            const argsFile = path.join(dir, "args.json");
            const script = [
                `#!${process.execPath}`,
                `require("fs").writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));`,
                `process.stdout.write(${JSON.stringify(behaviour.stdout ?? "")});`,
                `process.stderr.write(${JSON.stringify(behaviour.stderr ?? "")});`,
                `process.exitCode = ${behaviour.exit ?? 0};`,
                "",
            ].join("\n");
            fs.writeFileSync(path.join(dir, "trivy"), script, { mode: 0o755 });
            return { env: barePath(dir), argsFile };
        }

        function report(results: unknown[] | undefined): string {
            return JSON.stringify({ SchemaVersion: 2, ArtifactName: IMAGE, ArtifactType: "container_image", ...(results ? { Results: results } : {}) });
        }

        const vuln = (id: string, severity: string, pkg = "openssl") => ({
            VulnerabilityID: id,
            PkgName: pkg,
            InstalledVersion: "3.0.11-1",
            FixedVersion: "3.0.13-1",
            Severity: severity,
            Title: `${pkg}: something (${id})`,
        });

        function assertNotScanned(result: GateRun, status: number, reason: RegExp): void {
            assert.equal(result.status, status, result.all);
            assert.match(result.stdout, /^scan: NOT SCANNED: /m, result.all);
            assert.match(result.stdout, reason, result.all);
            assert.doesNotMatch(result.stdout, /clean|passed|no findings/i, result.all);
            assert.match(lastLine(result.stdout), new RegExp(`^scan: NOT SCANNED \\(${status === 1 ? "required" : "advisory"}\\) in \\d+\\.\\d s$`), result.all);
        }

        it("without trivy on PATH: NOT SCANNED, exit 1 when required (the default), 0 when not", async () => {
            const env = barePath();
            assertNotScanned(await gate(["scan", "--image", IMAGE], env), 1, /trivy not found on PATH/);
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--scanner", "trivy", "--required", "true"], env), 1, /trivy not found on PATH/);
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--required", "false"], env), 0, /trivy not found on PATH/);
        });

        it("--scanner none: NOT SCANNED, exit 1 when required, 0 when not", async () => {
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--scanner", "none"]), 1, /^scan: NOT SCANNED: no scanner configured$/m);
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--scanner", "none", "--required", "false"]), 0, /^scan: NOT SCANNED: no scanner configured$/m);
        });

        it("fails on a CRITICAL vulnerability and names it; trivy gets the documented arguments", async () => {
            const { env, argsFile } = fakeTrivy({
                stdout: report([{ Target: "debian 12.5", Class: "os-pkgs", Vulnerabilities: [vuln("CVE-2024-0001", "CRITICAL"), vuln("CVE-2024-0002", "LOW", "zlib")] }]),
            });
            const result = await gate(["scan", "--image", IMAGE, "--required", "false"], env);
            assert.equal(result.status, 1, `a finding fails even an advisory scan's exit code\n${result.all}`);
            assert.deepEqual(JSON.parse(fs.readFileSync(argsFile, "utf8")), ["image", "--quiet", "--format", "json", "--cache-backend", "memory", "--scanners", "vuln,secret,misconfig", IMAGE]);
            assert.match(result.stdout, /^scan: CRITICAL vulnerability CVE-2024-0001 openssl 3\.0\.11-1 \(fixed in 3\.0\.13-1\) in debian 12\.5: /m, result.all);
            assert.match(result.stdout, /^scan: LOW vulnerability CVE-2024-0002 zlib /m, result.all);
            assert.match(result.stdout, /^scan: trivy \S+: 2 findings \(1 CRITICAL, 0 HIGH, 0 MEDIUM, 1 LOW, 0 UNKNOWN\)$/m, result.all);
            assert.match(lastLine(result.stdout), /^scan: FAILED \(1 CRITICAL\/HIGH: CVE-2024-0001\) in \d+\.\d s$/, result.all);
        });

        it("fails on a HIGH secret or misconfiguration too", async () => {
            const { env } = fakeTrivy({
                stdout: report([
                    { Target: "/app/.env", Class: "secret", Secrets: [{ RuleID: "aws-access-key-id", Category: "AWS", Severity: "HIGH", Title: "AWS Access Key ID", StartLine: 3 }] },
                    {
                        Target: "Dockerfile",
                        Class: "config",
                        Misconfigurations: [
                            { ID: "DS002", AVDID: "AVD-DS-0002", Title: "Image user should not be 'root'", Severity: "HIGH", Status: "FAIL" },
                            { ID: "DS026", Title: "No HEALTHCHECK", Severity: "HIGH", Status: "PASS" },
                        ],
                    },
                ]),
            });
            const result = await gate(["scan", "--image", IMAGE], env);
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^scan: HIGH secret aws-access-key-id in \/app\/\.env:3: AWS Access Key ID$/m, result.all);
            assert.match(result.stdout, /^scan: HIGH misconfiguration AVD-DS-0002 in Dockerfile: /m, result.all);
            assert.doesNotMatch(result.stdout, /DS026/, `a PASS is not a finding\n${result.all}`);
        });

        it("passes with only LOW/MEDIUM findings and prints them", async () => {
            const { env } = fakeTrivy({ stdout: report([{ Target: "debian 12.5", Class: "os-pkgs", Vulnerabilities: [vuln("CVE-2023-1111", "LOW"), vuln("CVE-2023-2222", "MEDIUM", "libc6")] }]) });
            const result = await gate(["scan", "--image", IMAGE], env);
            assert.equal(result.status, 0, result.all);
            assert.match(result.stdout, /^scan: MEDIUM vulnerability CVE-2023-2222 libc6 /m, result.all);
            assert.match(result.stdout, /^scan: LOW vulnerability CVE-2023-1111 openssl /m, result.all);
            assertResult(result, "scan", "passed");
        });

        it("passes a report with nothing in it (trivy leaves Results out)", async () => {
            const { env } = fakeTrivy({ stdout: report(undefined) });
            const result = await gate(["scan", "--image", IMAGE], env);
            assert.equal(result.status, 0, result.all);
            assert.match(result.stdout, /^scan: trivy \S+: no findings$/m, result.all);
        });

        it("a vulnerability DB that cannot be downloaded is NOT SCANNED, never clean", async () => {
            const stderr =
                "2026-01-10T10:00:00Z\tINFO\t[vulndb] Need to update DB\n" +
                "2026-01-10T10:00:01Z\tFATAL\tFatal error\tinit error: DB error: failed to download vulnerability DB: OCI artifact error: failed to download artifact from any source: GET https://mirror.gcr.io/v2/aquasec/trivy-db/manifests/2: dial tcp: lookup mirror.gcr.io: no such host\n";
            const { env } = fakeTrivy({ stderr, exit: 1 });
            assertNotScanned(
                await gate(["scan", "--image", IMAGE], env),
                1,
                /^scan: NOT SCANNED: trivy could not download or open its vulnerability DB \(exit code 1\): .*failed to download vulnerability DB/m,
            );
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--required", "false"], env), 0, /vulnerability DB/);
        });

        /** A `trivy` with no vulnerability DB: a run that asks for vulnerabilities fails on the DB; one that does not answers `offline`. */
        function trivyWithoutDb(offline: string): { env: NodeJS.ProcessEnv; callsFile: string } {
            const dir = tmpDir("trivy-no-db");
            const callsFile = path.join(dir, "calls.jsonl");
            const script = [
                `#!${process.execPath}`,
                "const args = process.argv.slice(2);",
                `require("fs").appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify(args) + "\\n");`,
                'if (args[args.indexOf("--scanners") + 1].includes("vuln")) {',
                '    process.stderr.write("FATAL\\tFatal error\\tinit error: DB error: failed to download vulnerability DB: OCI artifact error\\n");',
                "    process.exitCode = 1;",
                `} else process.stdout.write(${JSON.stringify(offline)});`,
                "",
            ].join("\n");
            fs.writeFileSync(path.join(dir, "trivy"), script, { mode: 0o755 });
            return { env: barePath(dir), callsFile };
        }

        it("without a vulnerability DB, secrets and misconfigurations are still scanned, and the image is NOT SCANNED, not clean", async () => {
            const { env, callsFile } = trivyWithoutDb(report([{ Target: "app", Class: "os-pkgs" }]));
            const required = await gate(["scan", "--image", IMAGE], env);
            assertNotScanned(required, 1, /^scan: NOT SCANNED: vulnerabilities: trivy could not download or open its vulnerability DB \(exit code 1\)/m);
            assert.match(required.stdout, /^scan: trivy \S+, secrets and misconfigurations only: 0 findings$/m, required.all);
            const calls = fs
                .readFileSync(callsFile, "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as string[]);
            assert.deepEqual(calls, [TRIVY_ARGS(IMAGE), TRIVY_OFFLINE_ARGS(IMAGE)]);
            assertNotScanned(await gate(["scan", "--image", IMAGE, "--required", "false"], env), 0, /vulnerabilities: trivy could not download/);
        });

        it("without a vulnerability DB, a secret still fails the gate, advisory or not", async () => {
            const secret = { RuleID: "aws-access-key-id", Category: "AWS", Severity: "CRITICAL", Title: "AWS Access Key ID", StartLine: 2 };
            const { env } = trivyWithoutDb(report([{ Target: "/app/credentials", Class: "secret", Secrets: [secret] }]));
            const result = await gate(["scan", "--image", IMAGE, "--required", "false"], env);
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^scan: FAILED: 1 CRITICAL\/HIGH finding: aws-access-key-id$/m, result.all);
        });

        it("any other trivy failure, or an unreadable report, is NOT SCANNED as well", async () => {
            const failing = fakeTrivy({ stderr: "FATAL\tFatal error\tunable to find the specified image\n", exit: 1 });
            assertNotScanned(await gate(["scan", "--image", IMAGE], failing.env), 1, /trivy failed \(exit code 1\): FATAL Fatal error unable to find the specified image/);
            const garbage = fakeTrivy({ stdout: "Total: 0 (UNKNOWN: 0)\n" });
            assertNotScanned(await gate(["scan", "--image", IMAGE], garbage.env), 1, /trivy gave no readable report/);
        });
    });

    describe("smoke", () => {
        let stable: Server | undefined;
        let candidate: Server | undefined;
        let failing: Server | undefined;
        const started: Server[] = [];

        before(async () => {
            [stable, candidate, failing] = await Promise.all([
                startModelServer({ track: "stable", version: "1.4.0" }),
                startModelServer({ track: "candidate", version: "1.5.0" }),
                startModelServer({ track: "candidate", version: "1.5.0", faults: { errorRate: 1 } }),
            ]);
            started.push(stable, candidate, failing);
        });

        after(async () => {
            await Promise.all(started.map((s) => s.stop()));
        });

        const url = (server: Server | undefined) => `http://${server!.address}`;
        /** The smoke gate of fraud-scorer's recorded request against a URL (a server's, or a router's with --pin). */
        const smokeAt = (target: string, version: string, extra: readonly string[] = []) =>
            gate(["smoke", "--url", target, "--model", "fraud-scorer", "--version", version, "--input", smokeRequest, "--expect-min", "0", "--expect-max", "1", ...extra]);
        const smoke = (server: Server | undefined, version: string, extra: readonly string[] = []) => smokeAt(url(server), version, extra);

        it("passes against the stable 1.4.0 server, one line per check", async () => {
            const result = await smoke(stable, "1.4.0");
            assert.equal(result.status, 0, result.all);
            const lines = result.stdout.trim().split("\n");
            assert.match(lines[0], /^smoke: ready after \d+\.\d s$/, result.all);
            assert.equal(lines[1], "smoke: infer ok (2 rows, 0.285..0.9743)", result.all);
            assert.match(
                lines[2],
                /^smoke: v1 ok \(2 instances, 0\.285\.\.0\.9743; Deprecation: true, Sunset: .+ GMT, Link: <\/v2\/models\/fraud-scorer\/infer>; rel="successor-version"\)$/,
                result.all,
            );
            assert.equal(lines[3], "smoke: version ok (X-Model-Version 1.4.0 on infer and v1)", result.all);
            assert.match(lines[4], /^smoke: passed in \d+\.\d s$/, result.all);
            assert.equal(lines.length, 5, result.all);
        });

        it("the recorded request fits the candidate 1.5.0 too (inline JSON input, trailing slash in the URL)", async () => {
            const inline = fs.readFileSync(smokeRequest, "utf8");
            const result = await gate(["smoke", "--url", `${url(candidate)}/`, "--model", "fraud-scorer", "--version", "1.5.0", "--input", inline, "--expect-min", "0.05", "--expect-max", "0.995"]);
            assert.equal(result.status, 0, result.all);
            assert.match(result.stdout, /^smoke: infer ok \(2 rows, 0\.2201\.\.0\.9816\)$/m, result.all);
        });

        it("fails naming the version check when --version is not what the server serves", async () => {
            const result = await smoke(stable, "9.9.9");
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^smoke: FAILED infer: model_version is "1\.4\.0", expected --version "9\.9\.9"$/m, result.all);
            assert.match(result.stdout, /^smoke: FAILED version: X-Model-Version is "1\.4\.0" on the infer answer, "1\.4\.0" on the v1 answer, expected --version "9\.9\.9"$/m, result.all);
            assert.match(lastLine(result.stdout), /^smoke: FAILED \(infer, v1, version\) in \d+\.\d s$/, result.all);
        });

        it("--server oip: the model's readiness and the inference only (its model_version checked), no v1 and no X-Model-Version", async () => {
            const result = await smoke(stable, "1.4.0", ["--server", "oip"]);
            assert.equal(result.status, 0, result.all);
            const lines = result.stdout.trim().split("\n");
            assert.match(lines[0], /^smoke: ready after /, result.all);
            assert.equal(lines[1], "smoke: infer ok (2 rows, 0.285..0.9743)", result.all);
            assert.equal(lines[2], "smoke: v1 and X-Model-Version not checked (--server oip: another server's answers are checked by the protocol alone)");
            assert.match(lines[3], /^smoke: passed in /, result.all);
            const wrong = await smoke(stable, "9.9.9", ["--server", "oip"]);
            assert.equal(wrong.status, 1, wrong.all);
            assert.match(wrong.stdout, /^smoke: FAILED infer: model_version is "1\.4\.0", expected --version "9\.9\.9"$/m, wrong.all);
            const bad = await smoke(stable, "1.4.0", ["--server", "triton"]);
            assert.equal(bad.status, 2, bad.all);
            assert.match(bad.stderr, /--server "triton": expected modelship or oip/, bad.all);
        });

        it("fails naming the values when they are out of the expected range", async () => {
            const result = await smoke(stable, "1.4.0", ["--expect-max", "0.0001"]);
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^smoke: FAILED infer: output values outside \[0, 0\.0001\]: probability\[0\] = 0\.2849\d+, probability\[1\] = 0\.9742\d+$/m, result.all);
            assert.match(result.stdout, /^smoke: FAILED v1: .*predictions outside \[0, 0\.0001\]: predictions\[0\] = 0\.2849/m, result.all);
            assert.match(lastLine(result.stdout), /^smoke: FAILED \(infer, v1\) in /, result.all);
        });

        it("retries a server that answers 500 (FAULT_ERROR_RATE=1), then fails with the last status and body", async () => {
            const before = await inferencesServed(failing!);
            const result = await smoke(failing, "1.5.0", ["--retries", "3"]);
            assert.equal(result.status, 1, result.all);
            assert.match(result.stdout, /^smoke: ready after /m, result.all);
            assert.match(
                result.stdout,
                /^smoke: FAILED infer: POST http:\/\/127\.0\.0\.1:\d+\/v2\/models\/fraud-scorer\/infer failed after 4 attempts: last answer 500 \{"error":"injected fault \(FAULT_ERROR_RATE=1\)"\}$/m,
                result.all,
            );
            assert.match(result.stdout, /^smoke: FAILED v1: POST .*:predict failed after 4 attempts: last answer 500 /m, result.all);
            assert.match(lastLine(result.stdout), /^smoke: FAILED \(infer, v1\) in \d+\.\d s$/, result.all);
            assert.equal((await inferencesServed(failing!)) - before, 4, "1 attempt + 3 retries reached the server's v2 route");
            assert.ok(parseGateResult(result.stdout)!.seconds >= 2, `two rounds of 0.2 + 0.4 + 0.8 s backoff\n${result.all}`);
        });

        it("waits for a slow start (FAULT_SLOW_START_MS=1500), then passes", async () => {
            // Not startModelServer: that waits for readiness itself. Only the start line is awaited here.
            const slow = new ModelServerProcess({ track: "candidate", version: "1.5.0", faults: { slowStartMs: 1500 } });
            started.push(slow);
            await slow.portLine;
            const result = await smoke(slow, "1.5.0");
            assert.equal(result.status, 0, result.all);
            const ready = /^smoke: ready after (\d+\.\d) s$/m.exec(result.stdout);
            assert.ok(ready && Number(ready[1]) >= 1.0 && Number(ready[1]) <= 3, `ready after ~1.5 s\n${result.all}`);
        });

        it("--pin: through a router, to the track the header pins, even at weight 0", async function () {
            const nginx = new NginxProcess();
            await nginx.start(nginxOrSkip(this), [routeFor({ type: "canary", steps: [10, 100], step: 0, abort: true }, { stable: stable!, candidate: candidate! })]);
            try {
                const through = `http://127.0.0.1:${nginx.port}`;
                const pinned = (track: string, version: string) => smokeAt(through, version, ["--pin", `x-modelship-track=${track}`]);
                const candidateRun = await pinned("candidate", "1.5.0");
                assert.equal(candidateRun.status, 0, `the aborted candidate (weight 0) is reached through its pin\n${candidateRun.all}`);
                const stableRun = await pinned("stable", "1.5.0");
                assert.equal(stableRun.status, 1, stableRun.all);
                assert.match(stableRun.stdout, /^smoke: FAILED infer: model_version is "1\.4\.0", expected --version "1\.5\.0"$/m, stableRun.all);
                const unpinned = await smokeAt(through, "1.5.0", ["--timeout-ms", "1500"]);
                assert.equal(unpinned.status, 1, `without --pin the router's own readiness path is not a model server's\n${unpinned.all}`);
                const bad = await smokeAt(through, "1.5.0", ["--pin", "candidate"]);
                assert.equal(bad.status, 2, bad.all);
                assert.match(bad.stderr + bad.stdout, /--pin candidate: expected <header>=<track>/, bad.all);
            } finally {
                await nginx.stop();
            }
        });

        it("fails naming the URL when nothing listens (--timeout-ms 1500)", async () => {
            const port = await freePort();
            const result = await smokeAt(`http://127.0.0.1:${port}`, "1.4.0", ["--timeout-ms", "1500"]);
            assert.equal(result.status, 1, result.all);
            assert.match(
                result.stdout,
                new RegExp(`^smoke: FAILED ready: GET http://127\\.0\\.0\\.1:${port}/v2/health/ready did not answer 200 within 1\\.5 s \\(last: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`, "m"),
                result.all,
            );
            const seconds = parseGateResult(result.stdout)!.seconds;
            assert.ok(seconds >= 1.4 && seconds < 5, result.all);
            assert.match(lastLine(result.stdout), /^smoke: FAILED \(ready\) in /, result.all);
        });
    });
});
