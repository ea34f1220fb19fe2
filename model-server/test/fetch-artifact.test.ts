/**
 * The artifact initializer as a real process (`node dist/src/fetch-artifact.js`) against a local
 * directory, a loopback HTTP server, and a loopback stand-in for S3 that answers the SDK's
 * path-style GET (`/<bucket>/<key>`) with S3's XML errors. The stand-in is not S3: it proves the
 * client's requests, credentials wiring and error mapping, not a real store's behaviour.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { promises as fs } from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { checksumFileText, parseChecksumFile } from "../src/checksum";
import { MAX_ARTIFACT_BYTES } from "../src/limits";
import { MODELS_DIR, request, runProgram, startServer, stopAll, waitForStatus } from "./support/process";

const VERSION = "1.4.0";

const runCli = (args: string[], env: Record<string, string> = {}) => runProgram("fetch-artifact.js", args, env);

const shipped = async (version = VERSION) => fs.readFile(path.join(MODELS_DIR, "fraud-scorer", version, "model.json"));

type Route = (res: http.ServerResponse) => void;

/** A loopback HTTP server answering each path from `routes`, 404 otherwise; records the paths asked. */
async function serve(routes: Record<string, Route>): Promise<{ base: string; asked: string[]; close: () => Promise<void> }> {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
        const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
        asked.push(`${req.method} ${pathname}`);
        const route = routes[pathname];
        if (route) route(res);
        else res.writeHead(404).end("not found");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        base: `http://127.0.0.1:${port}`,
        asked,
        close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
}

const body =
    (data: Buffer | string, status = 200): Route =>
    (res) =>
        res.writeHead(status, { "content-length": Buffer.byteLength(data) }).end(data);
const s3Error =
    (status: number, code: string): Route =>
    (res) =>
        res.writeHead(status, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>1</RequestId></Error>`);

describe("fetch-artifact", function () {
    this.timeout(30_000);
    let work: string;
    let dest: string;
    const closers: (() => Promise<void>)[] = [];

    beforeEach(async () => {
        work = await fs.mkdtemp(path.join(os.tmpdir(), "fetch-artifact-"));
        dest = path.join(work, "dest");
    });
    afterEach(async () => {
        await stopAll();
        await Promise.all(closers.splice(0).map((close) => close()));
        await fs.rm(work, { recursive: true, force: true });
    });

    const written = () => path.join(dest, VERSION, "model.json");
    async function assertNothingWritten(): Promise<void> {
        await assert.rejects(fs.access(written()), { code: "ENOENT" }, "no artifact may be written after a failure");
        const left = await fs.readdir(path.join(dest, VERSION)).catch(() => []);
        assert.deepEqual(left, [], "no temporary file may be left");
    }
    async function localSource(artifact: Buffer | undefined, checksum: string | undefined): Promise<string> {
        const dir = path.join(work, "source", VERSION);
        await fs.mkdir(dir, { recursive: true });
        if (artifact) await fs.writeFile(path.join(dir, "model.json"), artifact);
        if (checksum !== undefined) await fs.writeFile(path.join(dir, "model.json.sha256"), checksum);
        return path.join(work, "source");
    }
    async function http(routes: Record<string, Route>) {
        const server = await serve(routes);
        closers.push(server.close);
        return server;
    }

    describe("checksums", () => {
        it("parses a bare digest and sha256sum's text and binary formats, and refuses anything else", () => {
            const digest = "a".repeat(64);
            assert.deepEqual(parseChecksumFile(digest + "\n"), { digest });
            assert.deepEqual(parseChecksumFile(`${digest.toUpperCase()}  model.json\n`), { digest });
            assert.deepEqual(parseChecksumFile(`${digest} *model.json`), { digest });
            assert.ok("problem" in parseChecksumFile(""));
            assert.ok("problem" in parseChecksumFile("a".repeat(63)));
            assert.ok("problem" in parseChecksumFile(`${digest}\n${digest}\n`));
        });

        it("every shipped model.json has a model.json.sha256 that matches it (run scripts/write-checksums.mjs after an edit)", async () => {
            const models: string[] = [];
            for (const entry of await fs.readdir(MODELS_DIR, { recursive: true, withFileTypes: true })) {
                if (entry.isFile() && entry.name === "model.json") models.push(path.join(entry.parentPath, entry.name));
            }
            assert.ok(models.length >= 2, `expected the shipped models under ${MODELS_DIR}, found ${models.length}`);
            for (const model of models) {
                const recorded = await fs.readFile(model + ".sha256", "utf8").catch(() => undefined);
                assert.ok(recorded !== undefined, `${model}.sha256 is missing: run node scripts/write-checksums.mjs`);
                assert.equal(recorded, checksumFileText(await fs.readFile(model), "model.json"), `${model}.sha256 does not match ${model}: run node scripts/write-checksums.mjs`);
            }
        });
    });

    describe("a local path", () => {
        it("the shipped models directory: writes <dest>/<version>/model.json byte for byte, exit 0", async () => {
            const outcome = await runCli(["--source", path.join(MODELS_DIR, "fraud-scorer"), "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(written()), await shipped());
            assert.match(outcome.stdout, /wrote .*1\.4\.0\/model\.json/);
        });

        it("the server serves what it wrote: MODEL_ARTIFACT=<dest> becomes ready with that version", async () => {
            const outcome = await runCli(["--source", path.join(MODELS_DIR, "fraud-scorer"), "--version", "1.5.0", "--dest", dest]);
            assert.equal(outcome.code, 0, outcome.stderr);
            const server = await startServer({ MODEL_ARTIFACT: dest, MODEL_VERSION: "1.5.0" });
            await waitForStatus(server.base, "/v2/health/ready", 200);
            const metadata = await request(server.base, "GET", "/v2/models/fraud-scorer");
            assert.deepEqual(metadata.body.versions, ["1.5.0"]);
        });

        it("a file:// URL, and an existing older file is replaced", async () => {
            const artifact = await shipped();
            const source = await localSource(artifact, checksumFileText(artifact, "model.json"));
            await fs.mkdir(path.dirname(written()), { recursive: true });
            await fs.writeFile(written(), "stale");
            const outcome = await runCli(["--source", pathToFileURL(source).href, "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(written()), artifact);
        });

        it("missing version: exit 1, one line naming the source, the version and the fix", async () => {
            const source = path.join(MODELS_DIR, "fraud-scorer");
            const outcome = await runCli(["--source", source, "--version", "9.9.9", "--dest", dest]);
            assert.equal(outcome.code, 1);
            assert.equal(outcome.stderr.trim().split("\n").length, 1, outcome.stderr);
            assert.match(outcome.stderr, new RegExp(`cannot fetch version 9\\.9\\.9 from ${source}: .*9\\.9\\.9/model\\.json \\(ENOENT\\) does not exist; upload`));
            await assert.rejects(fs.access(path.join(dest, "9.9.9", "model.json")));
        });

        it("corrupt: a model.json that does not match its checksum is never written", async () => {
            const artifact = await shipped();
            const source = await localSource(Buffer.concat([artifact, Buffer.from(" ")]), checksumFileText(artifact, "model.json"));
            const outcome = await runCli(["--source", source, "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 1);
            assert.match(outcome.stderr, /does not match its checksum \(sha256 [0-9a-f]{64}, model\.json\.sha256 records [0-9a-f]{64}\)/);
            await assertNothingWritten();
        });

        it("corrupt: a model.json without a checksum file is never written", async () => {
            const source = await localSource(await shipped(), undefined);
            const outcome = await runCli(["--source", source, "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 1);
            assert.match(outcome.stderr, /no checksum file: .*model\.json\.sha256 \(ENOENT\) does not exist; record one beside model\.json/);
            await assertNothingWritten();
        });
    });

    describe("http on loopback", () => {
        const key = `/models/${VERSION}/model.json`;

        it("ok: fetches the artifact and its checksum", async () => {
            const artifact = await shipped();
            const server = await http({ [key]: body(artifact), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", `${server.base}/models/`, "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(written()), artifact);
            assert.deepEqual([...server.asked].sort(), [`GET ${key}`, `GET ${key}.sha256`]);
        });

        for (const [status, kind, pattern] of [
            [404, "missing", /model\.json \(HTTP 404\) does not exist/],
            [403, "forbidden", /access to .*model\.json \(HTTP 403\) is denied; grant/],
        ] as const) {
            it(`${status}: ${kind}, exit 1, nothing written`, async () => {
                const artifact = await shipped();
                const server = await http({ [key]: body("no", status), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
                const outcome = await runCli(["--source", `${server.base}/models`, "--version", VERSION, "--dest", dest]);
                assert.equal(outcome.code, 1);
                assert.match(outcome.stderr, new RegExp(`^fetch-artifact: cannot fetch version 1\\.4\\.0 from ${server.base}/models: `));
                assert.match(outcome.stderr, pattern);
                await assertNothingWritten();
            });
        }

        it("corrupt: a body that does not match the checksum", async () => {
            const artifact = await shipped();
            const server = await http({ [key]: body(Buffer.from(artifact.toString().replace("1.4.0", "1.4.1"))), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", `${server.base}/models`, "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 1);
            assert.match(outcome.stderr, /does not match its checksum/);
            await assertNothingWritten();
        });

        it("oversized: refused by Content-Length, and by counting when no length is sent", async () => {
            const big = Buffer.alloc(MAX_ARTIFACT_BYTES + 1, 0x20);
            const chunked: Route = (res) => {
                res.writeHead(200);
                res.end(big);
            };
            const server = await http({
                [key]: body(big),
                [key + ".sha256"]: body(checksumFileText(big, "model.json")),
                [`/chunked/${VERSION}/model.json`]: chunked,
                [`/chunked/${VERSION}/model.json.sha256`]: body(checksumFileText(big, "model.json")),
            });
            for (const prefix of ["models", "chunked"]) {
                const outcome = await runCli(["--source", `${server.base}/${prefix}`, "--version", VERSION, "--dest", dest]);
                assert.equal(outcome.code, 1);
                assert.match(outcome.stderr, prefix === "models" ? /Content-Length 16777217, the limit is 16777216\) is larger than allowed/ : /more than 16777216 bytes\) is larger than allowed/);
                await assertNothingWritten();
            }
        });

        it("slow: a body that stalls past --timeout-ms fails with a timeout, exit 1", async () => {
            const artifact = await shipped();
            const stall: Route = (res) => {
                res.writeHead(200, { "content-length": artifact.length });
                res.write(artifact.subarray(0, 10)); // and never the rest
            };
            const server = await http({ [key]: stall, [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const started = Date.now();
            const outcome = await runCli(["--source", `${server.base}/models`, "--version", VERSION, "--dest", dest, "--timeout-ms", "500"]);
            assert.equal(outcome.code, 1, outcome.stderr);
            assert.match(outcome.stderr, /no complete answer within 500 ms; check that the store is reachable/);
            assert.ok(Date.now() - started < 10_000);
            await assertNothingWritten();
        });

        it("plain http to a host that is not loopback is a usage error (exit 2)", async () => {
            const outcome = await runCli(["--source", "http://example.com/models", "--version", VERSION, "--dest", dest]);
            assert.equal(outcome.code, 2);
            assert.match(outcome.stderr, /plain http:\/\/ is accepted only for loopback hosts \(got example\.com\): use https:\/\//);
        });
    });

    describe("a version pinned from a model registry (--sha256)", () => {
        const ONNX = path.join(MODELS_DIR, "fraud-scorer", "2.0.0");
        const prefix = "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/model";
        const pinnedWritten = (file: string) => path.join(dest, "2.0.0", file);
        async function registryServer() {
            const [manifest, onnx] = await Promise.all([fs.readFile(path.join(ONNX, "model.json")), fs.readFile(path.join(ONNX, "model.onnx"))]);
            const server = await http({ [`${prefix}/model.json`]: body(manifest), [`${prefix}/model.onnx`]: body(onnx) });
            return { server, manifest, onnx, sha256: createHash("sha256").update(manifest).digest("hex") };
        }

        it("reads <source>/model.json and the file it names, checks model.json against the pin, asks for no checksum file", async () => {
            const { server, manifest, onnx, sha256 } = await registryServer();
            const outcome = await runCli(["--source", server.base + prefix, "--version", "2.0.0", "--sha256", sha256, "--dest", dest]);
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(pinnedWritten("model.json")), manifest);
            assert.deepEqual(await fs.readFile(pinnedWritten("model.onnx")), onnx);
            assert.deepEqual([...server.asked].sort(), [`GET ${prefix}/model.json`, `GET ${prefix}/model.onnx`]);
        });

        it("a model.json that changed since it was pinned is never written, and the message says to pin again", async () => {
            const { server, sha256 } = await registryServer();
            const other = sha256.replace(/^./, (c) => (c === "0" ? "1" : "0"));
            const outcome = await runCli(["--source", server.base + prefix, "--version", "2.0.0", "--sha256", other, "--dest", dest]);
            assert.equal(outcome.code, 1);
            assert.match(outcome.stderr, new RegExp(`does not match its checksum \\(sha256 ${sha256}, the pin \\(--sha256\\) records ${other}\\); .*pin the version again`));
            await assert.rejects(fs.access(pinnedWritten("model.json")), { code: "ENOENT" });
        });

        it("--sha256 that is not 64 hex digits is a usage error", async () => {
            const outcome = await runCli(["--source", "x", "--version", "1", "--dest", "d", "--sha256", "ABC"]);
            assert.equal(outcome.code, 2);
            assert.match(outcome.stderr, /--sha256 "ABC" is not a SHA-256: 64 lowercase hex digits/);
        });
    });

    describe("s3 against a loopback stand-in (path-style)", () => {
        const credentials = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
        const key = `/bucket/models/fraud-scorer/${VERSION}/model.json`;

        it("ok: GET /<bucket>/<prefix>/<version>/model.json and .sha256 through --endpoint", async () => {
            const artifact = await shipped();
            const server = await http({ [key]: body(artifact), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", "s3://bucket/models/fraud-scorer", "--version", VERSION, "--dest", dest, "--endpoint", server.base], credentials);
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(written()), artifact);
            assert.deepEqual([...server.asked].sort(), [`GET ${key}`, `GET ${key}.sha256`]);
        });

        it("AWS_ENDPOINT_URL_S3 stands for --endpoint", async () => {
            const artifact = await shipped();
            const server = await http({ [key]: body(artifact), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", "s3://bucket/models/fraud-scorer/", "--version", VERSION, "--dest", dest], { ...credentials, AWS_ENDPOINT_URL_S3: server.base });
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.deepEqual(await fs.readFile(written()), artifact);
        });

        it("NoSuchKey: missing; AccessDenied: forbidden; exit 1, nothing written", async () => {
            const artifact = await shipped();
            const server = await http({
                [key]: s3Error(404, "NoSuchKey"),
                [key + ".sha256"]: body(checksumFileText(artifact, "model.json")),
                [`/locked/m/${VERSION}/model.json`]: s3Error(403, "AccessDenied"),
                [`/locked/m/${VERSION}/model.json.sha256`]: s3Error(403, "AccessDenied"),
            });
            const missing = await runCli(["--source", "s3://bucket/models/fraud-scorer", "--version", VERSION, "--dest", dest, "--endpoint", server.base], credentials);
            assert.equal(missing.code, 1);
            assert.match(
                missing.stderr,
                /cannot fetch version 1\.4\.0 from s3:\/\/bucket\/models\/fraud-scorer: s3:\/\/bucket\/models\/fraud-scorer\/1\.4\.0\/model\.json \(NoSuchKey, HTTP 404\) does not exist; upload/,
            );
            await assertNothingWritten();
            const forbidden = await runCli(["--source", "s3://locked/m", "--version", VERSION, "--dest", dest, "--endpoint", server.base], credentials);
            assert.equal(forbidden.code, 1);
            assert.match(forbidden.stderr, /access to s3:\/\/locked\/m\/1\.4\.0\/model\.json \(AccessDenied, HTTP 403\) is denied; grant the pod's role/);
            await assertNothingWritten();
        });

        it("slow: an object whose body stalls past --timeout-ms fails with a timeout", async () => {
            const artifact = await shipped();
            const stall: Route = (res) => {
                res.writeHead(200, { "content-length": artifact.length });
                res.write(artifact.subarray(0, 10));
            };
            const server = await http({ [key]: stall, [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", "s3://bucket/models/fraud-scorer", "--version", VERSION, "--dest", dest, "--endpoint", server.base, "--timeout-ms", "500"], credentials);
            assert.equal(outcome.code, 1, outcome.stderr);
            assert.match(outcome.stderr, /s3:\/\/bucket\/models\/fraud-scorer\/1\.4\.0\/model\.json .*no complete answer within 500 ms/);
            await assertNothingWritten();
        });

        it("corrupt: an object that does not match its checksum", async () => {
            const artifact = await shipped();
            const server = await http({ [key]: body(await shipped("1.5.0")), [key + ".sha256"]: body(checksumFileText(artifact, "model.json")) });
            const outcome = await runCli(["--source", "s3://bucket/models/fraud-scorer", "--version", VERSION, "--dest", dest, "--endpoint", server.base], credentials);
            assert.equal(outcome.code, 1);
            assert.match(outcome.stderr, /does not match its checksum/);
            await assertNothingWritten();
        });
    });

    describe("usage", () => {
        it("--help prints usage on stdout, exit 0", async () => {
            const outcome = await runCli(["--help"]);
            assert.equal(outcome.code, 0);
            assert.match(outcome.stdout, /^Usage: node dist\/src\/fetch-artifact\.js --source <uri> --version <version> --dest <dir>/);
            assert.equal(outcome.stderr, "");
        });

        for (const [args, pattern] of [
            [["--version", VERSION], /missing --source, --dest/],
            [["--source", "x", "--version", "../1", "--dest", "d"], /--version "\.\.\/1" is not a version/],
            [["--source", "x", "--version", "1", "--dest", "d", "--bogus"], /Unknown option '--bogus'/],
            [["--source", "x", "--version", "1", "--dest", "d", "--timeout-ms", "soon"], /--timeout-ms soon is not an integer/],
            [["--source", "gs://b/p", "--version", "1", "--dest", "d"], /the "gs:\/\/" scheme is not supported/],
        ] as const) {
            it(`${args.join(" ")}: exit 2`, async () => {
                const outcome = await runCli([...args]);
                assert.equal(outcome.code, 2, outcome.stderr);
                assert.match(outcome.stderr, pattern);
            });
        }
    });
});
