/**
 * A track that runs another Open Inference Protocol server (`tracks.<track>.server`): where the
 * config accepts it, and what the docker target declares for it under mocks: its own port for
 * the router, its own environment and command, the version's files mounted as they are, its
 * metrics port published and in the outputs, and a smoke gate with the protocol's checks only.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as http from "http";
import * as path from "path";
import { readinessWaitScript } from "../../components/targets/docker/readiness";
import { freePort, listen } from "../support/http";
import { parseConfig } from "../../components/config/parse";
import { requestsTemplate } from "../../components/analysis/templates";
import { findProjectDir } from "../../tools/render";
import { canaryModel, dockerConfig, DIGEST, kubernetesConfig, prodModel, configIssues } from "../fixtures";
import { at, named, ofType, runStack, T } from "../mock-stack";

const projectDir = findProjectDir();
const MLSERVER = { port: 9000, metricsPort: 8082, args: ["mlserver", "start", "/models"], env: { MLSERVER_HTTP_PORT: "9000" } };

function otherServerModel(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const base = canaryModel();
    const tracks = base.tracks as Record<string, Record<string, unknown>>;
    return { ...base, tracks: { stable: tracks.stable, candidate: { version: "1.5.0", image: `registry.example/mlserver@${DIGEST}`, replicas: 1, server: MLSERVER } }, ...overrides };
}

describe("a track running another Open Inference Protocol server", () => {
    it("the docker target takes it, with the defaults filled in", () => {
        const config = parseConfig(dockerConfig({ "fraud-scorer": otherServerModel() }), "dev");
        assert.deepEqual(config.models["fraud-scorer"].tracks.candidate?.server, { ...MLSERVER, metricsPath: "/metrics", modelsDir: "/models" });
    });

    it("refused on the kubernetes target (for now), and on docker where the artifact is not a directory here, each naming why", () => {
        const model = { ...prodModel(), tracks: { ...(prodModel().tracks as object), candidate: { version: "1.5.0", image: `registry.example/mlserver@${DIGEST}`, replicas: 4, server: MLSERVER } } };
        const cluster = configIssues(kubernetesConfig(undefined, { "fraud-scorer": model }), "prod").find((i) => i.path === "modelship:models.fraud-scorer.tracks.candidate.server");
        assert.ok(cluster);
        assert.match(cluster.expected, /nothing on the kubernetes target, for now: another server's track runs on the docker target/);
        const remote = configIssues(dockerConfig({ "fraud-scorer": otherServerModel({ artifact: "https://models.example/fraud-scorer" }) }), "dev").find(
            (i) => i.path === "modelship:models.fraud-scorer.tracks.candidate.server",
        );
        assert.ok(remote);
        assert.match(remote.expected, /mounts <artifact>\/<version> as it is \(https:\/\/models\.example\/fraud-scorer is not one\)/);
        assert.deepEqual(
            configIssues(
                dockerConfig({ "fraud-scorer": otherServerModel({ tracks: { stable: { version: "1", image: `x@${DIGEST}`, server: { port: 0 } } }, strategy: { type: "rolling" } }) }),
                "dev",
            ).map((i) => i.path),
            ["modelship:models.fraud-scorer.tracks.stable.server.port"],
        );
    });

    it("docker: its own port, environment and command, the version's directory mounted read-only, no project health check, its metrics port published", async () => {
        const { resources, outputs } = await runStack(dockerConfig({ "fraud-scorer": otherServerModel() }), "dev");
        const container = named(resources, T.container, "fraud-scorer-candidate-0");
        assert.deepEqual(at(container, "envs"), ["MLSERVER_HTTP_PORT=9000"], "nothing of modelship's server's environment");
        assert.deepEqual(at(container, "command"), MLSERVER.args);
        assert.deepEqual(at(container, "mounts"), [{ type: "bind", source: path.join(projectDir, "model-server/models/fraud-scorer/1.5.0"), target: "/models/fraud-scorer/1.5.0", readOnly: true }]);
        assert.equal(at(container, "healthcheck"), undefined, "no probe program of modelship's in another image");
        assert.equal(at(container, "wait"), undefined, "docker's wait needs a HEALTHCHECK, which many server images lack");
        const ready = named(resources, T.command, "fraud-scorer-candidate-ready");
        assert.match(String(at(ready, "create")), /^node -e '.*\["http:\/\/127\.0\.0\.1:\d+\/v2\/models\/fraud-scorer\/ready"\].*is not ready after 600 s/);
        assert.equal(resources.filter((r) => r.name === "fraud-scorer-stable-ready").length, 0, "modelship's server: its health check, waited for by docker");
        assert.equal(at(named(resources, T.container, "fraud-scorer-stable-0"), "wait"), true);
        assert.deepEqual(at(container, "ports"), [
            { internal: 9000, ip: "127.0.0.1" },
            { internal: 8082, ip: "127.0.0.1" },
        ]);
        assert.equal(resources.filter((r) => r.name === "fraud-scorer-candidate-artifact-fetch").length, 0, "no fetch into a volume: the image has no fetch-artifact");
        // Stable still runs modelship's server, fetched and verified.
        const stable = named(resources, T.container, "fraud-scorer-stable-0");
        assert.ok(at<string[]>(stable, "envs").includes("MODEL_TRACK=stable"));
        assert.ok(ofType(resources, T.command).some((r) => r.name === "fraud-scorer-stable-artifact-fetch"));
        // The router reaches it on its port; its smoke gate checks the protocol only.
        const reload = named(resources, T.command, "router-reload");
        assert.match(String(at(reload, "stdin")), /upstream fraud_scorer_candidate \{\n\s+server dev-fraud-scorer-candidate-1\.5\.0-0:9000 max_fails=0;/);
        const smoke = named(resources, T.command, "fraud-scorer-gates-candidate-smoke");
        assert.match(String(at(smoke, "create")), / --server oip$/);
        assert.doesNotMatch(String(at(named(resources, T.command, "fraud-scorer-gates-stable-smoke"), "create")), /--server/);
        const metrics = (outputs.models as Record<string, { metrics: Record<string, string> }>)["fraud-scorer"].metrics;
        assert.deepEqual(Object.keys(metrics).sort(), ["candidate", "stable"]);
        assert.match(metrics.candidate, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    });

    it("docker: a file:// artifact is the directory it names, for another server's mount as for modelship's fetch; a URI elsewhere is refused", async () => {
        const directory = path.join(projectDir, "model-server/models/fraud-scorer");
        const fileUrl = `file://${directory.split(path.sep).map(encodeURIComponent).join("/")}`;
        const { resources } = await runStack(dockerConfig({ "fraud-scorer": otherServerModel({ artifact: fileUrl }) }), "dev");
        assert.deepEqual(at(named(resources, T.container, "fraud-scorer-candidate-0"), "mounts"), [
            { type: "bind", source: path.join(directory, "1.5.0"), target: "/models/fraud-scorer/1.5.0", readOnly: true },
        ]);
        assert.ok(String(at(named(resources, T.command, "fraud-scorer-stable-artifact-fetch"), "create")).includes(`'--source' '${directory}' '--version' '1.4.0'`));
        const s3 = configIssues(dockerConfig({ "fraud-scorer": canaryModel({ artifact: "s3://bucket/models/fraud-scorer/" }) }), "dev").find(
            (i) => i.path === "modelship:models.fraud-scorer.artifact",
        );
        assert.ok(s3);
        assert.match(s3.expected, /a local path or file:\/\/ URL: the docker target mounts the model files from this machine/);
    });

    it("docker: each replica asked at its readinessPath (by default the model's readiness), within the model's readyTimeoutSeconds", async () => {
        const model = otherServerModel({
            readyTimeoutSeconds: 90,
            strategy: { type: "rolling" },
            tracks: { stable: { version: "1.5.0", image: `registry.example/mlserver@${DIGEST}`, replicas: 2, server: { ...MLSERVER, readinessPath: "/health/ready" } } },
        });
        const { resources } = await runStack(dockerConfig({ "fraud-scorer": model }), "dev");
        const script = String(at(named(resources, T.command, "fraud-scorer-stable-ready"), "create"));
        assert.equal(script.match(/http:\/\/127\.0\.0\.1:\d+\/health\/ready/g)?.length, 2, script);
        assert.match(script, /is not ready after 90 s/);
        const refused = configIssues(
            dockerConfig({ "fraud-scorer": otherServerModel({ tracks: { stable: { version: "1", image: `x@${DIGEST}`, server: { readinessPath: "ready" } } }, strategy: { type: "rolling" } }) }),
            "dev",
        );
        assert.deepEqual(
            refused.map((i) => [i.path, i.expected]),
            [["modelship:models.fraud-scorer.tracks.stable.server.readinessPath", "an absolute URL path such as /metrics"]],
        );
    });

    describe("the readiness wait, run by Node.js against servers on loopback", () => {
        const servers: http.Server[] = [];
        after(() => servers.forEach((s) => s.close()));
        const serve = async (answer: (asked: number) => number) => {
            let asked = 0;
            const server = http.createServer((req, res) => {
                asked += 1;
                res.writeHead(req.url === "/v2/health/ready" ? answer(asked) : 404).end();
            });
            servers.push(server);
            return `http://127.0.0.1:${await listen(server)}/v2/health/ready`;
        };
        const wait = (urls: string[], seconds: number) =>
            new Promise<{ code: number | null; out: string; err: string; ms: number }>((resolve) => {
                const started = Date.now();
                const child = spawn(process.execPath, ["-e", readinessWaitScript(urls, seconds)]);
                let out = "";
                let err = "";
                child.stdout.on("data", (d: Buffer) => (out += d.toString()));
                child.stderr.on("data", (d: Buffer) => (err += d.toString()));
                child.on("close", (code) => resolve({ code, out, err, ms: Date.now() - started }));
            });

        it("returns once every replica answers 2xx, asking again after a 503", async () => {
            const first = await serve((asked) => (asked < 3 ? 503 : 200));
            const second = await serve(() => 200);
            const result = await wait([first, second], 30);
            assert.equal(result.code, 0, result.err);
            assert.equal(result.out, `${first} is ready\n${second} is ready\n`);
            assert.ok(result.ms >= 1800, `asked three times, a second apart: ${result.ms} ms`);
        });

        it("fails after the timeout, naming the replica and its last answer: a status, or a refused connection", async () => {
            const never = await serve(() => 503);
            const refused = `http://127.0.0.1:${await freePort()}/v2/health/ready`;
            const unready = await wait([never], 2);
            assert.equal(unready.code, 1);
            assert.equal(unready.err, `${never} is not ready after 2 s (last answer: HTTP 503)\n`);
            assert.ok(unready.ms >= 2000 && unready.ms < 10_000, `${unready.ms} ms`);
            const closed = await wait([refused], 1);
            assert.equal(closed.code, 1);
            assert.equal(closed.err, `${refused} is not ready after 1 s (last answer: ECONNREFUSED)\n`);
        });
    });

    it("analysis.requests counts another server's requests; left out, modelship's server's counter", () => {
        assert.match(requestsTemplate({}), /^sum\(increase\(modelship_requests_total\{model="\{\{model\}\}",track="\{\{track\}\}"/);
        const custom = 'sum(increase(rest_server_requests_total{model="{{model}}",track="{{track}}"}[{{window}}]))';
        assert.equal(requestsTemplate({ requests: custom }), custom);
        const refused = configIssues(dockerConfig({ "fraud-scorer": canaryModel({ analysis: { requests: "sum(x{pod={{pod}}})" } }) }), "dev");
        assert.deepEqual(
            refused.map((i) => i.path),
            ["modelship:models.fraud-scorer.analysis.requests"],
        );
    });
});
