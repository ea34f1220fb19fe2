/**
 * The test artifact store (scripts/s3-store.sh: moto's server with IAM access control on), seeded
 * with model versions and the project's own role documents, read by the real fetch-artifact
 * process the way a pod's init container reads it: a web identity token file, AWS_ROLE_ARN and the
 * endpoints in its environment, no other credentials. On 127.0.0.1, on a free port.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { freePort } from "../support/http";
import { TEST_ENV } from "../../tools/env-vars";

const project = findProjectDir();
const SCRIPT = path.join(project, "scripts", "s3-store.sh");
const FETCH = path.join(project, "model-server", "dist", "src", "fetch-artifact.js");
const SHIPPED = path.join(project, "model-server", "models", "fraud-scorer");
const PREFIX = "s3://modelship-test/models/";

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

describe("the test artifact store (moto, IAM on) read by fetch-artifact through a web identity", function () {
    this.timeout(180_000);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-s3-store-"));
    const models = path.join(work, "models");
    const tokenFile = path.join(work, "token");
    const storeEnv: NodeJS.ProcessEnv = { ...process.env, [TEST_ENV.s3State]: path.join(work, "state") };
    let endpoint = "";
    const roles = new Map<string, string>();

    const script = (...args: string[]) => run("bash", [SCRIPT, ...args], storeEnv, 170_000);

    /** fetch-artifact as the init container runs it: only what the pod spec gives it, no other credentials. */
    const fetchAs = (role: string, model: string, version: string) => {
        const dest = fs.mkdtempSync(path.join(work, "dest-"));
        const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOME: work, // no ~/.aws of this machine's
            AWS_ROLE_ARN: role,
            AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
            AWS_ENDPOINT_URL_S3: endpoint,
            AWS_ENDPOINT_URL_STS: endpoint,
            AWS_REGION: "us-east-1",
        };
        const result = run(process.execPath, [FETCH, "--source", `${PREFIX}${model}`, "--version", version, "--dest", dest, "--timeout-ms", "20000"], env, 60_000);
        return result.then((r) => ({ ...r, file: path.join(dest, version, "model.json") }));
    };

    before(async function () {
        assert.ok(fs.existsSync(FETCH), `${FETCH} is missing: npm run build`);
        // Two models, so that one's role can be shown another's prefix: the shipped fraud-scorer, and a copy of it.
        for (const model of ["fraud-scorer", "churn-predictor"]) {
            for (const version of ["1.4.0", "1.5.0"]) {
                fs.mkdirSync(path.join(models, model, version), { recursive: true });
                for (const file of ["model.json", "model.json.sha256"]) fs.copyFileSync(path.join(SHIPPED, version, file), path.join(models, model, version, file));
            }
        }
        // A token of the shape the kubelet projects; moto does not verify it (the IAM contract tests prove the trust).
        fs.writeFileSync(
            tokenFile,
            "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzLmRlZmF1bHQuc3ZjIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50Om1vZGVsczpmcmF1ZC1zY29yZXIiLCJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXX0.c2ln\n",
        );
        const up = await script("up", "--address", "127.0.0.1", "--port", String(await freePort()));
        assert.equal(up.code, 0, up.stderr);
        endpoint = up.stdout.trim();
        assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
        const seeded = await script("seed", PREFIX, "--models", models, "--corrupt", "fraud-scorer/1.5.0", "--forbid", "fraud-scorer/1.6.0");
        assert.equal(seeded.code, 0, seeded.stderr);
        for (const line of seeded.stdout.trim().split("\n")) {
            const [model, artifact, arn] = line.split(" ");
            assert.equal(artifact, `${PREFIX}${model}/`);
            roles.set(model, arn);
        }
        assert.deepEqual([...roles.keys()].sort(), ["churn-predictor", "fraud-scorer"]);
    });

    after(async function () {
        await script("down");
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("--help prints the commands and exits 0", async () => {
        const help = await run("bash", [SCRIPT, "--help"], storeEnv, 10_000);
        assert.equal(help.code, 0);
        for (const command of ["up", "env", "seed", "down", "--corrupt", "--forbid"]) assert.ok(help.stdout.includes(command), command);
    });

    it("IAM access control is on: a made-up key is refused, the admin key `env` prints is not", async () => {
        const env = await script("env");
        assert.equal(env.code, 0, env.stderr);
        const admin = Object.fromEntries([...env.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
        const fetchWithKey = (id: string, secret: string) => {
            const dest = fs.mkdtempSync(path.join(work, "dest-"));
            const keyEnv = { PATH: process.env.PATH, HOME: work, AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: "us-east-1" };
            return run(process.execPath, [FETCH, "--source", `${PREFIX}fraud-scorer`, "--version", "1.4.0", "--dest", dest, "--timeout-ms", "20000"], keyEnv, 60_000);
        };
        const allowed = await fetchWithKey(admin.AWS_ACCESS_KEY_ID, admin.AWS_SECRET_ACCESS_KEY);
        assert.equal(allowed.code, 0, allowed.stderr);
        const refused = await fetchWithKey("AKIAMADEUPMADEUP0000", "not-a-secret");
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /InvalidAccessKeyId|AccessDenied|HTTP 403/);
    });

    it("the role's web identity reads its model's version: the bytes shipped, verified", async () => {
        const result = await fetchAs(roles.get("fraud-scorer")!, "fraud-scorer", "1.4.0");
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(fs.readFileSync(result.file), fs.readFileSync(path.join(SHIPPED, "1.4.0", "model.json")));
    });

    it("without the role the same read has no credentials, so the read above went through AssumeRoleWithWebIdentity", async () => {
        const result = await fetchAs("", "fraud-scorer", "1.4.0");
        assert.equal(result.code, 1);
        assert.match(result.stderr, /is denied/);
    });

    it("the role may not read another model's prefix: exit 1, forbidden", async () => {
        const result = await fetchAs(roles.get("fraud-scorer")!, "churn-predictor", "1.4.0");
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stderr, /access to s3:\/\/modelship-test\/models\/churn-predictor\/1\.4\.0\/model\.json \(AccessDenied, HTTP 403\) is denied/);
        const own = await fetchAs(roles.get("churn-predictor")!, "churn-predictor", "1.4.0");
        assert.equal(own.code, 0, `its own role may: ${own.stderr}`);
    });

    it("seed --corrupt: a model.json that does not match its checksum is refused", async () => {
        const result = await fetchAs(roles.get("fraud-scorer")!, "fraud-scorer", "1.5.0");
        assert.equal(result.code, 1);
        assert.match(result.stderr, /1\.5\.0\/model\.json does not match its checksum/);
        assert.ok(!fs.existsSync(result.file), "nothing written");
        const other = await fetchAs(roles.get("churn-predictor")!, "churn-predictor", "1.5.0");
        assert.equal(other.code, 0, `only the named model's version: ${other.stderr}`);
    });

    it("seed --forbid: a version the role is denied, beside the project's own policy, is forbidden; seeding again without it restores both", async () => {
        const forbidden = await fetchAs(roles.get("fraud-scorer")!, "fraud-scorer", "1.6.0");
        assert.equal(forbidden.code, 1);
        assert.match(forbidden.stderr, /1\.6\.0\/model\.json \(AccessDenied, HTTP 403\) is denied/);
        const reseeded = await script("seed", PREFIX, "--models", models);
        assert.equal(reseeded.code, 0, reseeded.stderr);
        // 1.6.0 stays uploaded (a copy of the last shipped version) and is now readable; 1.5.0 is as shipped again.
        assert.equal((await fetchAs(roles.get("fraud-scorer")!, "fraud-scorer", "1.6.0")).code, 0);
        const restored = await fetchAs(roles.get("fraud-scorer")!, "fraud-scorer", "1.5.0");
        assert.equal(restored.code, 0, restored.stderr);
    });
});
