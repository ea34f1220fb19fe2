/**
 * One Open Inference Protocol check against two servers in real containers on a real engine:
 * modelship's own (the ONNX fraud-scorer 2.0.0, onnxruntime) and MLServer (`mlserver` and
 * `mlserver-sklearn` from PyPI, built here on the project's base by scripts/mlserver-image.sh,
 * serving the same logistic regression as a scikit-learn object). Both run hardened (read-only
 * root, no capabilities, a non-root user) with their model mounted read-only, published on
 * loopback only. The check is the same for both; where MLServer answers otherwise (a bad input is
 * its 500, its metrics have a port of their own and other names) the test says so, since those
 * are the differences a track running it would have to be told.
 */
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { isOn, TEST_ENV } from "../../tools/env-vars";
import { BUILD_ENV, must, prepareDocker, run, stopDocker, type DockerEnvironment } from "../support/docker";
import { sleep } from "../support/http";

const projectDir = findProjectDir();
const MODEL = "fraud-scorer";
const VERSION = "2.0.0";
const SMOKE = JSON.parse(fs.readFileSync(path.join(projectDir, "model-server", "models", MODEL, "smoke-request.json"), "utf8")) as Record<string, unknown>;

type Server = "modelship" | "mlserver";
interface Answer {
    status: number;
    body: unknown;
    text: string;
}
interface Output {
    name: string;
    datatype: string;
    shape: number[];
    data: number[];
}

describe("the Open Inference Protocol check against modelship's server and MLServer, in containers", function () {
    // A fresh machine builds both images: npm ci for one, pip wheels for the other.
    this.timeout(25 * 60_000);
    const id = randomBytes(4).toString("hex");
    const containers: string[] = [];
    const ports: Record<Server, { http: number; metrics: number }> = { modelship: { http: 0, metrics: 0 }, mlserver: { http: 0, metrics: 0 } };
    const images: Partial<Record<Server, string>> = {};
    const figures: string[] = [];
    let environment: DockerEnvironment | undefined;

    const call = async (server: Server, method: "GET" | "POST", route: string, body?: unknown, port = ports[server].http): Promise<Answer> => {
        const response = await fetch(`http://127.0.0.1:${port}${route}`, {
            method,
            ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
            signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        return { status: response.status, body: parsed, text };
    };
    const published = (name: string, port: number) => {
        const line = must("docker", ["port", name, `${port}/tcp`]).split("\n")[0];
        return Number(line.slice(line.lastIndexOf(":") + 1));
    };
    const start = (name: string, image: string, options: string[], exposed: number[]) => {
        containers.push(name);
        // prettier-ignore
        must("docker", [
            "run", "-d", "--name", name,
            "--read-only", "--tmpfs", "/tmp:rw,size=64m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user", "10001:10001",
            ...exposed.flatMap((port) => ["-p", `127.0.0.1::${port}`]),
            ...options, image,
        ]);
    };
    const ready = async (server: Server) => {
        // Bounded: 120 polls, 0.5 s apart.
        for (let i = 0; i < 120; i++) {
            const answer = await call(server, "GET", `/v2/models/${MODEL}/ready`).catch(() => undefined);
            if (answer?.status === 200) return;
            await sleep(500);
        }
        assert.fail(`${server} did not become ready: ${run("docker", ["logs", "--tail", "20", `oip-${id}-${server}`]).stderr}`);
    };

    before(async function () {
        if (run("docker", ["info"]).status !== 0 && process.getuid?.() !== 0) {
            if (isOn(TEST_ENV.requireDocker)) assert.fail("no Docker engine and no way to install one (not root)");
            this.skip();
        }
        environment = prepareDocker(15 * 60_000);
        const tag = `${environment.registry}/modelship/oip-check:${VERSION}`;
        // prettier-ignore
        must("docker", ["build", "--quiet", "--build-arg", `BASE_IMAGE=${environment.baseImage}`, "--build-arg", `MODEL_NAME=${MODEL}`, "--build-arg", `MODEL_VERSION=${VERSION}`, "-t", tag, path.join(projectDir, "model-server")], { env: BUILD_ENV, timeout: 15 * 60_000 });
        images.modelship = tag;
        const built = must("bash", [path.join(projectDir, "scripts", "mlserver-image.sh"), environment.registry], { timeout: 20 * 60_000 }).split("\n");
        images.mlserver = built[built.length - 1];
        assert.match(images.mlserver, /\/modelship\/mlserver@sha256:[0-9a-f]{64}$/);

        const ours = `oip-${id}-modelship`;
        // prettier-ignore
        start(ours, images.modelship, [
            "--mount", `type=bind,source=${path.join(projectDir, "model-server", "models", MODEL)},target=/models/${MODEL},readonly`,
            "-e", `MODEL_NAME=${MODEL}`, "-e", `MODEL_VERSION=${VERSION}`, "-e", `MODEL_ARTIFACT=/models/${MODEL}`, "-e", "MODEL_TRACK=stable", "-e", "PORT=8080",
        ], [8080]);
        ports.modelship = { http: published(ours, 8080), metrics: published(ours, 8080) };
        const theirs = `oip-${id}-mlserver`;
        // MLServer finds each model by its model-settings.json under MLSERVER_MODELS_DIR.
        start(
            theirs,
            images.mlserver,
            ["--mount", `type=bind,source=${path.join(projectDir, "model-server", "mlserver", "models", MODEL, VERSION)},target=/models/${MODEL}/${VERSION},readonly`],
            [8080, 8082],
        );
        ports.mlserver = { http: published(theirs, 8080), metrics: published(theirs, 8082) };
        await Promise.all([ready("modelship"), ready("mlserver")]);
        for (const server of ["modelship", "mlserver"] as const)
            figures.push(`${server} image: ${(Number(must("docker", ["image", "inspect", "--format", "{{.Size}}", images[server]!])) / 1e6).toFixed(0)} MB`);
    });

    after(() => {
        for (const line of figures) console.log(`      ${line}`);
        for (const name of containers) run("docker", ["rm", "-f", name]);
        if (images.modelship) run("docker", ["rmi", images.modelship]);
        stopDocker(environment);
    });

    for (const server of ["modelship", "mlserver"] as const) {
        describe(server, () => {
            it("health: live, ready, and the model ready (200)", async () => {
                for (const route of ["/v2/health/live", "/v2/health/ready", `/v2/models/${MODEL}/ready`]) assert.equal((await call(server, "GET", route)).status, 200, route);
            });

            it("metadata: the model's name, its one input (features FP32 [-1,4]) and an FP32 [-1,2] probability output", async () => {
                const answer = await call(server, "GET", `/v2/models/${MODEL}`);
                assert.equal(answer.status, 200, answer.text);
                const metadata = answer.body as { name: string; platform: string; inputs: unknown[]; outputs: { name: string; datatype: string; shape: number[] }[] };
                assert.equal(metadata.name, MODEL);
                assert.deepEqual(metadata.inputs, [{ name: "features", datatype: "FP32", shape: [-1, 4] }]);
                assert.ok(
                    metadata.outputs.some((o) => o.datatype === "FP32" && JSON.stringify(o.shape) === "[-1,2]"),
                    JSON.stringify(metadata.outputs),
                );
                figures.push(`${server} metadata: platform ${metadata.platform}, outputs ${metadata.outputs.map((o) => `${o.name} ${o.datatype} [${o.shape.join(",")}]`).join(", ")}`);
            });

            it("infer: the smoke request answered with version 2.0.0 and two probability rows in [0, 1] that sum to 1", async () => {
                const answer = await call(server, "POST", `/v2/models/${MODEL}/infer`, SMOKE);
                assert.equal(answer.status, 200, answer.text);
                const body = answer.body as { model_name: string; model_version: string; outputs: Output[] };
                assert.equal(body.model_name, MODEL);
                assert.equal(body.model_version, VERSION);
                const probabilities = body.outputs.find((o) => o.datatype === "FP32" && JSON.stringify(o.shape) === "[2,2]");
                assert.ok(probabilities, JSON.stringify(body.outputs));
                for (const value of probabilities.data) assert.ok(value >= 0 && value <= 1, String(value));
                for (const row of [0, 1]) assert.ok(Math.abs(probabilities.data[row * 2] + probabilities.data[row * 2 + 1] - 1) < 1e-6);
            });

            it("errors: an unknown model is 404 with a JSON error", async () => {
                const answer = await call(server, "POST", "/v2/models/no-such-model/infer", SMOKE);
                assert.equal(answer.status, 404, answer.text);
                assert.ok(typeof (answer.body as { error?: unknown }).error === "string", answer.text);
            });
        });
    }

    it("both servers score the smoke request alike (the same regression, trained on the same rows): within 1e-6", async () => {
        const [ours, theirs] = await Promise.all((["modelship", "mlserver"] as const).map((s) => call(s, "POST", `/v2/models/${MODEL}/infer`, SMOKE)));
        const pick = (answer: Answer) => (answer.body as { outputs: Output[] }).outputs.find((o) => JSON.stringify(o.shape) === "[2,2]")!.data;
        const difference = Math.max(...pick(ours).map((value, i) => Math.abs(value - pick(theirs)[i])));
        figures.push(`largest difference between the two servers' probabilities: ${difference.toExponential(2)}`);
        assert.ok(difference < 1e-6, String(difference));
    });

    it("where they differ: a wrong input width is modelship's 400 and MLServer's 500; MLServer's metrics have their own port and names", async () => {
        const wrong = { inputs: [{ name: "features", shape: [2, 3], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] }] };
        const [ours, theirs] = await Promise.all((["modelship", "mlserver"] as const).map((s) => call(s, "POST", `/v2/models/${MODEL}/infer`, wrong)));
        assert.equal(ours.status, 400, ours.text);
        assert.equal(theirs.status, 500, `MLServer answers a wrong width with a 500 (counted as a server error): ${theirs.text}`);
        const ourMetrics = await call("modelship", "GET", "/metrics");
        assert.match(ourMetrics.text, /^modelship_requests_total\{/m);
        assert.equal((await call("mlserver", "GET", "/metrics")).status, 404, "MLServer serves no metrics on its HTTP port");
        const theirMetrics = await call("mlserver", "GET", "/metrics", undefined, ports.mlserver.metrics);
        assert.equal(theirMetrics.status, 200);
        for (const name of ["model_infer_request_success_total", "model_infer_request_failure_total", "rest_server_request_duration_seconds_bucket"])
            assert.match(theirMetrics.text, new RegExp(`^${name}\\{`, "m"), name);
        assert.doesNotMatch(theirMetrics.text, /^modelship_/m);
        figures.push(
            `wrong width: modelship ${ours.status}, MLServer ${theirs.status}; metrics: modelship on its HTTP port (modelship_*), MLServer on a port of its own (model_infer_request_*, rest_server_*)`,
        );
    });
});
