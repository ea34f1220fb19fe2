import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { shellQuote } from "../../components/shell";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir, renderStack } from "../../tools/render";
import { BUILD_ENV, dockerRunArgs, must, prepareDocker, run, stopDocker, type DockerEnvironment } from "../support/docker";
import { request, sleep, type Answer } from "../support/http";
import { toolOrSkip, TRIVY } from "../support/tools";
import { run as runAsync } from "../e2e/support/engine";
import { isOn, TEST_ENV } from "../../tools/env-vars";
import { TYPES } from "../../components/type-tokens";

const projectDir = findProjectDir();
const MODEL = "fraud-scorer";
const VERSIONS = { stable: "1.4.0", candidate: "1.5.0" } as const;
type Track = keyof typeof VERSIONS;
const INFER_BODY = JSON.stringify({ id: "docker-test", inputs: [{ name: "features", shape: [2, 4], datatype: "FP32", data: [0.2, 0.1, 0.5, 0.3, 3.5, 0.9, -0.8, 2.0] }] });

/** An engine answers, or one can be started, or (as root) installed from Debian. */
function dockerObtainable(): boolean {
    return run("docker", ["info"]).status === 0 || run("dockerd", ["--version"]).status === 0 || process.getuid?.() === 0;
}

describe("the model-server image on a real Docker engine", function () {
    // First run on a fresh machine: install the engine, debootstrap, npm ci inside the build.
    this.timeout(20 * 60_000);
    const id = randomBytes(4).toString("hex");
    const network = `modelship-test-${id}`;
    const agent = new http.Agent({ keepAlive: false });
    const ports: Partial<Record<Track, number>> = {};
    const images: Partial<Record<Track, string>> = {};
    const containers: string[] = [];
    const volumes: string[] = [];
    let environment: DockerEnvironment | undefined;

    const containerName = (track: Track) => `modelship-test-${id}-${track}`;
    /** The track's declared fetch step with this test's image and a volume of its own in place of the stack's. */
    const declaredFetch = (resources: readonly RecordedResource[], track: Track, image: string, artifact?: string) => {
        const step = resources.find((r) => r.type === TYPES.command && r.name === `${MODEL}-${track}-artifact-fetch`);
        assert.ok(step, `the dev stack declares ${MODEL}-${track}-artifact-fetch`);
        const create = String(step.inputs.create);
        const declaredVolume = /type=volume,source=([^,']+),/.exec(create)?.[1];
        assert.ok(declaredVolume, create);
        const volume = `modelship-test-${id}-${track}${artifact ? "-corrupt" : ""}`;
        let script = create
            .split(shellQuote(`modelship/${MODEL}:${VERSIONS[track]}`))
            .join(shellQuote(image))
            .split(declaredVolume)
            .join(volume);
        if (artifact) script = script.split(path.join(projectDir, "model-server", "models", MODEL)).join(artifact);
        assert.ok(script.includes(shellQuote(image)), `the declared step runs the track's image: ${create}`);
        return { script, declaredVolume, volume };
    };
    const send = (track: Track, urlPath: string, method = "GET", body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> =>
        request(agent, ports[track]!, urlPath, headers, method, body);

    before(function () {
        if (!dockerObtainable()) {
            if (isOn(TEST_ENV.requireDocker)) assert.fail("no Docker engine and no way to install one (not root)");
            this.skip();
        }
        environment = prepareDocker(15 * 60_000);
        for (const track of ["stable", "candidate"] as const) {
            const version = VERSIONS[track];
            const tag = `${environment.registry}/modelship/${MODEL}:${version}`;
            must(
                "docker",
                [
                    "build",
                    "--quiet",
                    "--build-arg",
                    `BASE_IMAGE=${environment.baseImage}`,
                    "--build-arg",
                    `MODEL_NAME=${MODEL}`,
                    "--build-arg",
                    `MODEL_VERSION=${version}`,
                    "-t",
                    tag,
                    path.join(projectDir, "model-server"),
                ],
                { env: BUILD_ENV, timeout: 15 * 60_000 },
            );
            // Pushed, then run by digest, as the registry-backed targets do.
            must("docker", ["push", tag], { timeout: 120_000 });
            images[track] = must("docker", ["image", "inspect", "--format", "{{index .RepoDigests 0}}", tag]);
        }
        must("docker", ["network", "create", network]);
    });

    before(async function () {
        if (!environment) return;
        // The containers run exactly as the dev stack declares them (env, mounts, read-only root, health check...).
        const dev = await renderStack(projectDir, "dev");
        for (const track of ["stable", "candidate"] as const) {
            const declared: RecordedResource | undefined = dev.resources.find((r) => r.type === TYPES.container && r.name === `${MODEL}-${track}-0`);
            assert.ok(declared, `the dev stack declares ${MODEL}-${track}-0`);
            // The artifact as the stack fetches it: the declared step, into a volume of this test's own.
            const fetch = declaredFetch(dev.resources, track, images[track]!);
            must("docker", ["volume", "create", fetch.volume]);
            volumes.push(fetch.volume);
            must("bash", ["-c", fetch.script]);
            containers.push(containerName(track));
            // Published on a free loopback port, as declared (the smoke gate's way in).
            must("docker", dockerRunArgs(declared, { name: containerName(track), network, image: images[track]!, volumes: { [fetch.declaredVolume]: fetch.volume } }));
            const published = must("docker", ["port", containerName(track), "8080/tcp"]).split("\n")[0];
            ports[track] = Number(published.slice(published.lastIndexOf(":") + 1));
        }
    });

    after(() => {
        agent.destroy();
        for (const name of containers) run("docker", ["rm", "-f", name]);
        for (const volume of volumes) run("docker", ["volume", "rm", volume]);
        run("docker", ["network", "rm", network]);
        stopDocker(environment);
    });

    it("labels the image with OCI annotations and the model's name and version, and runs it as a non-root user", () => {
        for (const track of ["stable", "candidate"] as const) {
            const config = JSON.parse(must("docker", ["image", "inspect", "--format", "{{json .Config}}", images[track]!])) as {
                Labels: Record<string, string>;
                User: string;
                Healthcheck?: { Test: string[] };
            };
            assert.equal(config.Labels["org.opencontainers.image.version"], VERSIONS[track]);
            assert.equal(config.Labels["dev.modelship.model.name"], MODEL);
            assert.equal(config.Labels["dev.modelship.model.version"], VERSIONS[track]);
            assert.ok(config.Labels["org.opencontainers.image.title"]);
            assert.match(config.User, /^[1-9][0-9]*(:[0-9]+)?$/, "a numeric non-root user");
            assert.ok(config.Healthcheck?.Test.length, "the image has a HEALTHCHECK");
        }
        assert.equal(must("docker", ["exec", containerName("stable"), "id", "-u"]), "10001");
    });

    it("both containers turn healthy through the health check the dev stack declares", async () => {
        for (const track of ["stable", "candidate"] as const) {
            let status = "";
            for (let attempt = 0; attempt < 120 && status !== "healthy"; attempt++) {
                status = must("docker", ["inspect", "--format", "{{.State.Health.Status}}", containerName(track)]);
                if (status !== "healthy") await sleep(500);
            }
            assert.equal(status, "healthy", `${track}: ${must("docker", ["logs", "--tail", "20", containerName(track)])}`);
        }
    });

    it("answers health, readiness and model metadata", async () => {
        for (const track of ["stable", "candidate"] as const) {
            assert.equal((await send(track, "/v2/health/live")).status, 200);
            assert.equal((await send(track, "/v2/health/ready")).status, 200);
            const metadata = await send(track, `/v2/models/${MODEL}`);
            assert.equal(metadata.status, 200);
            assert.deepEqual((JSON.parse(metadata.body) as { versions: string[] }).versions, [VERSIONS[track]]);
        }
    });

    it("infers with the version's own model, fetched and verified into a volume it mounts read-only", async () => {
        const answers: Record<string, number[]> = {};
        for (const track of ["stable", "candidate"] as const) {
            const answer = await send(track, `/v2/models/${MODEL}/infer`, "POST", INFER_BODY, { "content-type": "application/json" });
            assert.equal(answer.status, 200, answer.body);
            const body = JSON.parse(answer.body) as { model_version: string; outputs: Array<{ data: number[]; shape: number[] }>; id: string };
            assert.equal(body.model_version, VERSIONS[track]);
            assert.equal(body.id, "docker-test");
            assert.deepEqual(body.outputs[0].shape, [2, 1]);
            assert.ok(body.outputs[0].data.every((p) => p > 0 && p < 1));
            answers[track] = body.outputs[0].data;
        }
        assert.notDeepEqual(answers.stable, answers.candidate, "1.4.0 and 1.5.0 carry different weights");
    });

    it("keeps the legacy v1 predict route with Deprecation and Sunset headers", async () => {
        const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
            const req = http.request({ host: "127.0.0.1", port: ports.stable, path: `/v1/models/${MODEL}:predict`, method: "POST", agent, headers: { "content-type": "application/json" } }, resolve);
            req.on("error", reject);
            req.end(JSON.stringify({ instances: [[0.2, 0.1, 0.5, 0.3]] }));
        });
        response.resume();
        assert.equal(response.statusCode, 200);
        assert.ok(response.headers.deprecation);
        assert.ok(!Number.isNaN(Date.parse(String(response.headers.sunset))));
        assert.match(String(response.headers.link), new RegExp(`/v2/models/${MODEL}/infer`));
    });

    it("exports Prometheus metrics labelled with model, version and track", async () => {
        const metrics = (await send("candidate", "/metrics")).body;
        assert.match(metrics, new RegExp(`modelship_requests_total\\{[^}]*model="${MODEL}"[^}]*version="1\\.5\\.0"[^}]*track="candidate"`));
        assert.match(metrics, /modelship_request_duration_seconds_bucket\{/);
    });

    describe("the scan gate with the real trivy", () => {
        const gateJs = path.join(projectDir, "dist", "tools", "gate.js");
        /** No vulnerability DB, as on a machine without network: a fresh cache and a DB repository nothing answers on. */
        const offline = () => ({ ...process.env, TRIVY_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "trivy-cache-")), TRIVY_DB_REPOSITORY: "127.0.0.1:9/no/trivy-db", TRIVY_NO_PROGRESS: "true" });
        const scan = (image: string, required: boolean) => run(process.execPath, [gateJs, "scan", "--image", image, "--required", String(required)], { env: offline(), timeout: 300_000 });

        it("scans the model-server image for secrets and misconfigurations, and calls it NOT SCANNED without a vulnerability DB", function () {
            toolOrSkip(this, TRIVY);
            const required = scan(images.candidate!, true);
            assert.equal(required.status, 1, required.stdout + required.stderr);
            assert.match(required.stdout, /^scan: trivy \S+, secrets and misconfigurations only: 0 findings$/m, required.stdout);
            assert.match(required.stdout, /^scan: NOT SCANNED: vulnerabilities: trivy could not download or open its vulnerability DB/m, required.stdout);
            assert.equal(scan(images.candidate!, false).status, 0, "advisory: reported, not blocking");
        });

        it("two scans at once (the stable and candidate gates of one update) both report; neither waits on the other's cache lock", async function () {
            toolOrSkip(this, TRIVY);
            const env = offline();
            const scanAsync = () => runAsync(process.execPath, [gateJs, "scan", "--image", images.candidate!, "--required", "false"], { cwd: projectDir, env, timeoutMs: 300_000 });
            const results = await Promise.all([scanAsync(), scanAsync()]);
            for (const result of results) {
                assert.equal(result.status, 0, result.all);
                assert.match(result.stdout, /^scan: trivy \S+, secrets and misconfigurations only: 0 findings$/m, result.all);
                assert.doesNotMatch(result.stdout, /cache may be in use/, result.all);
            }
        });

        it("fails an image with credentials baked in, naming the rule, even where the scan is advisory", function () {
            toolOrSkip(this, TRIVY);
            const context = fs.mkdtempSync(path.join(os.tmpdir(), "leaky-image-"));
            // Assembled here so that no key-shaped string sits in the repository.
            const keyId = ["AKIA", "Z2QX7MPL3TRW5VHD"].join("");
            fs.writeFileSync(path.join(context, "credentials"), `[default]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${"q8Zr3Vn0pL2xW7tK9mB4cY6hJ1sD5fG0aE3uI8oR"}\n`);
            fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${images.candidate}\nCOPY credentials /app/credentials\n`);
            const tag = `modelship-test/leaky:${id}`;
            must("docker", ["build", "--quiet", "-t", tag, context], { env: BUILD_ENV, timeout: 300_000 });
            try {
                const result = scan(tag, false);
                assert.equal(result.status, 1, result.stdout + result.stderr);
                assert.match(result.stdout, /^scan: CRITICAL secret aws-access-key-id in \/app\/credentials:2: /m, result.stdout);
                assert.match(result.stdout, /^scan: FAILED: \d+ CRITICAL\/HIGH findings?: .*aws-access-key-id/m, result.stdout);
            } finally {
                run("docker", ["rmi", "-f", tag]);
                fs.rmSync(context, { recursive: true, force: true });
            }
        });
    });

    it("the declared fetch refuses a corrupt local artifact in the image itself: exit 1, the file and its checksum named, the volume left empty", async () => {
        const dev = await renderStack(projectDir, "dev");
        const artifact = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-corrupt-artifact-"));
        try {
            fs.cpSync(path.join(projectDir, "model-server", "models", MODEL), artifact, { recursive: true });
            const file = path.join(artifact, VERSIONS.candidate, "model.json");
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/"version"/, ' "version"'));
            const fetch = declaredFetch(dev.resources, "candidate", images.candidate!, artifact);
            must("docker", ["volume", "create", fetch.volume]);
            volumes.push(fetch.volume);
            const result = run("bash", ["-c", fetch.script]);
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stderr, new RegExp(`fetch-artifact: cannot fetch version 1\\.5\\.0 from ${artifact}: ${file}.* does not match its checksum`), result.stderr);
            assert.match(result.stderr, /the candidate track's containers are not started/);
            assert.equal(must("docker", ["run", "--rm", "--mount", `type=volume,source=${fetch.volume},target=/v`, "--entrypoint", "ls", images.candidate!, "-A", "/v"]), "", "nothing written");
        } finally {
            fs.rmSync(artifact, { recursive: true, force: true });
        }
    });

    it("cannot write outside /tmp: the root filesystem is read-only", () => {
        assert.notEqual(run("docker", ["exec", containerName("stable"), "sh", "-c", "echo x > /probe"]).status, 0);
        assert.equal(run("docker", ["exec", containerName("stable"), "sh", "-c", "echo x > /tmp/probe"]).status, 0);
    });
});
