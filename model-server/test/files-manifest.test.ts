/**
 * A version another server reads: `files-manifest.js` lists its files in model.json, and
 * `fetch-artifact.js` copies exactly those files and verifies each, as real processes against a
 * local directory and a loopback HTTP server.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { promises as fs } from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { InvalidArtifact } from "../src/model";
import { validateFilesManifest } from "../src/files-manifest";
import { runProgram } from "./support/process";

/** The MLServer example version shipped with the project (model-server/mlserver/models). */
const SHIPPED = path.resolve(__dirname, "..", "..", "mlserver", "models", "fraud-scorer", "2.0.0");
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

const node = runProgram;

describe("a version another server reads (modelship-files/v1)", function () {
    this.timeout(30_000);
    let work: string;
    beforeEach(async () => (work = await fs.mkdtemp(path.join(os.tmpdir(), "files-manifest-"))));
    afterEach(async () => fs.rm(work, { recursive: true, force: true }));

    /** A version directory with a nested file, its manifest written by the CLI. */
    async function version(name = "fraud-scorer", v = "3.1.0"): Promise<string> {
        const dir = path.join(work, "source", v);
        await fs.mkdir(path.join(dir, "1"), { recursive: true });
        await fs.writeFile(path.join(dir, "config.pbtxt"), 'name: "fraud-scorer"\n');
        await fs.writeFile(path.join(dir, "1", "model.onnx"), Buffer.from([0, 1, 2, 3, 255]));
        const written = await node("files-manifest.js", ["--dir", dir, "--model", name]);
        assert.equal(written.code, 0, written.stderr);
        return dir;
    }

    it("files-manifest lists every file below the directory, sorted, with its SHA-256, and writes model.json.sha256 for it", async () => {
        const dir = await version();
        const manifest = JSON.parse(await fs.readFile(path.join(dir, "model.json"), "utf8")) as Record<string, unknown>;
        assert.deepEqual(manifest, {
            format: "modelship-files/v1",
            name: "fraud-scorer",
            version: "3.1.0",
            files: [
                { path: "1/model.onnx", sha256: sha256(Buffer.from([0, 1, 2, 3, 255])) },
                { path: "config.pbtxt", sha256: sha256('name: "fraud-scorer"\n') },
            ],
        });
        assert.equal(await fs.readFile(path.join(dir, "model.json.sha256"), "utf8"), `${sha256(await fs.readFile(path.join(dir, "model.json")))}  model.json\n`);
        // Run again, the manifest and its checksum are neither listed nor changed.
        const before = await fs.readFile(path.join(dir, "model.json"));
        assert.equal((await node("files-manifest.js", ["--dir", dir, "--model", "fraud-scorer"])).code, 0);
        assert.deepEqual(await fs.readFile(path.join(dir, "model.json")), before);
    });

    it("the shipped MLServer version's manifest is the one files-manifest writes for it", async () => {
        const copy = path.join(work, "2.0.0");
        await fs.cp(SHIPPED, copy, { recursive: true });
        assert.equal((await node("files-manifest.js", ["--dir", copy, "--model", "fraud-scorer"])).code, 0);
        for (const file of ["model.json", "model.json.sha256"])
            assert.deepEqual(await fs.readFile(path.join(copy, file)), await fs.readFile(path.join(SHIPPED, file)), `${file}: run files-manifest.js again`);
    });

    it("files-manifest: --help exit 0; a missing flag or a version that is no path segment exit 2; a missing directory exit 1", async () => {
        const help = await node("files-manifest.js", ["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /^Usage: node dist\/src\/files-manifest\.js --dir/);
        const missing = await node("files-manifest.js", ["--dir", work]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^files-manifest: missing --model\n/);
        const badVersion = await node("files-manifest.js", ["--dir", work, "--model", "m", "--version", "../x"]);
        assert.equal(badVersion.code, 2);
        assert.match(badVersion.stderr, /the version "\.\.\/x" is not one/);
        const absent = await node("files-manifest.js", ["--dir", path.join(work, "absent"), "--model", "m"]);
        assert.equal(absent.code, 1);
        assert.match(absent.stderr, /cannot write the manifest of .*absent: ENOENT/);
    });

    it("fetch-artifact copies every listed file of a local version, nested ones included, byte for byte", async () => {
        const dir = await version();
        const dest = path.join(work, "dest");
        const fetched = await node("fetch-artifact.js", ["--source", path.dirname(dir), "--version", "3.1.0", "--dest", dest]);
        assert.equal(fetched.code, 0, fetched.stderr);
        for (const file of ["model.json", "config.pbtxt", "1/model.onnx"]) assert.deepEqual(await fs.readFile(path.join(dest, "3.1.0", file)), await fs.readFile(path.join(dir, file)), file);
        assert.deepEqual((await fs.readdir(path.join(dest, "3.1.0"))).sort(), ["1", "config.pbtxt", "model.json"], "the checksum file is not copied; nothing unlisted is");
    });

    it("fetch-artifact over http: asks for model.json, its checksum and each listed file; a listed file that changed is never written", async () => {
        const dir = await version();
        const files: Record<string, Buffer> = {};
        for (const file of ["model.json", "model.json.sha256", "config.pbtxt", "1/model.onnx"]) files[`/v/3.1.0/${file}`] = await fs.readFile(path.join(dir, file));
        const asked: string[] = [];
        const server = http.createServer((req, res) => {
            asked.push(req.url ?? "");
            const data = files[req.url ?? ""];
            if (data) res.writeHead(200, { "content-length": data.length }).end(data);
            else res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v`;
            const dest = path.join(work, "dest");
            const fetched = await node("fetch-artifact.js", ["--source", base, "--version", "3.1.0", "--dest", dest]);
            assert.equal(fetched.code, 0, fetched.stderr);
            assert.deepEqual([...asked].sort(), ["/v/3.1.0/1/model.onnx", "/v/3.1.0/config.pbtxt", "/v/3.1.0/model.json", "/v/3.1.0/model.json.sha256"]);

            files["/v/3.1.0/config.pbtxt"] = Buffer.from("tampered\n");
            const tampered = await node("fetch-artifact.js", ["--source", base, "--version", "3.1.0", "--dest", path.join(work, "dest2")]);
            assert.equal(tampered.code, 1);
            assert.match(tampered.stderr, /config\.pbtxt does not match the sha256 its manifest records .*; upload the files and their manifest of the same build/);
            await assert.rejects(fs.access(path.join(work, "dest2", "3.1.0", "model.json")), { code: "ENOENT" }, "model.json never names a file that is not there");
        } finally {
            server.close();
        }
    });

    it("fetch-artifact refuses another version's manifest, and one whose paths leave the directory", async () => {
        const dir = await version("fraud-scorer", "3.1.0");
        const source = path.dirname(dir);
        await fs.cp(dir, path.join(source, "3.2.0"), { recursive: true });
        const wrong = await node("fetch-artifact.js", ["--source", source, "--version", "3.2.0", "--dest", path.join(work, "dest")]);
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /model\.json is a modelship-files\/v1 manifest that cannot be used: it is version 3\.1\.0's manifest, not 3\.2\.0's/);
        const escaping = JSON.stringify({ format: "modelship-files/v1", name: "m", version: "3.1.0", files: [{ path: "../../etc/passwd", sha256: "a".repeat(64) }] });
        await fs.writeFile(path.join(dir, "model.json"), escaping);
        await fs.writeFile(path.join(dir, "model.json.sha256"), `${sha256(escaping)}  model.json\n`);
        const refused = await node("fetch-artifact.js", ["--source", source, "--version", "3.1.0", "--dest", path.join(work, "dest")]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /files\[0\]\.path is "\.\.\/\.\.\/etc\/passwd": expected a relative path of the version's directory/);
    });

    it("validateFilesManifest names the first problem: no files, a reserved or duplicate path, a bad checksum", () => {
        const file = { path: "model.joblib", sha256: "b".repeat(64) };
        const check = (files: unknown) => () => validateFilesManifest({ name: "m", version: "1", files });
        assert.throws(check([]), (e: unknown) => e instanceof InvalidArtifact && /files is \[\]: expected 1 to 256 entries/.test(e.message));
        assert.throws(check([{ ...file, path: "model.json" }]), /files\[0\]\.path is "model\.json": .*no hidden or reserved file/);
        assert.throws(check([{ ...file, path: ".hidden" }]), /files\[0\]\.path is "\.hidden"/);
        assert.throws(check([file, file]), /files\[1\]\.path model\.joblib is listed twice/);
        assert.throws(check([{ ...file, sha256: "B".repeat(64) }]), /files\[0\]\.sha256 is "B+\.\.\.: expected the file's SHA-256 in hex \(`sha256sum model\.joblib`\)/);
        assert.deepEqual(check([file])(), { name: "m", version: "1", files: [file] });
    });
});
