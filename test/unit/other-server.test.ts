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
import { canaryModel, dockerConfig, DIGEST, kubernetesConfig, OTHER_DIGEST, prodModel, configIssues } from "../fixtures";
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
        assert.deepEqual(config.models["fraud-scorer"].tracks.candidate?.server, { ...MLSERVER, metricsPath: "/metrics", livenessPath: "/v2/health/live", modelsDir: "/models" });
    });

    it("refused on kubernetes unless the target names modelship's image, unpinned in prod, and on docker where the artifact is not a directory here, each naming why", () => {
        const model = { ...prodModel(), tracks: { ...(prodModel().tracks as object), candidate: { version: "1.5.0", image: `registry.example/mlserver@${DIGEST}`, replicas: 4, server: MLSERVER } } };
        const cluster = configIssues(kubernetesConfig(undefined, { "fraud-scorer": model }), "prod").find((i) => i.path === "modelship:models.fraud-scorer.tracks.candidate.server");
        assert.ok(cluster);
        assert.match(cluster.expected, /a kubernetes target that names modelship's model-server image \(modelServerImage: .*\): it fetches and verifies the version's listed files/);
        const named = (image: string) => {
            const config = kubernetesConfig(undefined, { "fraud-scorer": model });
            (config.targets as Record<string, Record<string, unknown>>).cluster.modelServerImage = image;
            return config;
        };
        assert.deepEqual(configIssues(named(`registry.example/fraud-scorer@${DIGEST}`), "prod"), []);
        assert.deepEqual(
            configIssues(named("registry.example/fraud-scorer:1.4.0"), "prod").map((i) => [i.path, i.expected]),
            [["modelship:targets.cluster.modelServerImage", "an image pinned by digest (name@sha256:...) in prod"]],
        );
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

    it("kubernetes: its image with its own command, environment, ports and probes; modelship's image fetches its listed files and runs its smoke Job", async () => {
        const image = `registry.example/fraud-scorer@${DIGEST}`;
        const candidate = { version: "1.5.0", image: `registry.example/mlserver@${OTHER_DIGEST}`, replicas: 2, server: { ...MLSERVER, livenessPath: "/alive" } };
        const config = kubernetesConfig(
            { type: "nginx", image: `registry.example/nginx@${DIGEST}` },
            {
                "fraud-scorer": { ...prodModel(), tracks: { ...(prodModel().tracks as object), candidate }, gates: { smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } } },
            },
        );
        Object.assign((config.targets as Record<string, Record<string, unknown>>).cluster, { modelServerImage: image, monitoring: { prometheusOperator: true } });
        const { resources } = await runStack(config, "prod");
        const pod = at<Record<string, Array<Record<string, unknown>>>>(named(resources, T.deployment, "fraud-scorer-candidate"), "spec.template.spec");
        const [server] = pod.containers;
        assert.equal(server.image, candidate.image);
        assert.deepEqual(server.args, MLSERVER.args);
        assert.deepEqual(server.env, [{ name: "MLSERVER_HTTP_PORT", value: "9000" }], "nothing of modelship's server's environment");
        assert.deepEqual(server.ports, [
            { name: "http", containerPort: 9000 },
            { name: "metrics", containerPort: 8082 },
        ]);
        const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({ httpGet: { path, port: "http" }, periodSeconds, failureThreshold, timeoutSeconds: 3 });
        assert.deepEqual(server.startupProbe, probe("/v2/models/fraud-scorer/ready", 5, 60), "by default the model's own readiness");
        assert.deepEqual(server.readinessProbe, probe("/v2/models/fraud-scorer/ready", 5, 3));
        assert.deepEqual(server.livenessProbe, probe("/alive", 10, 3));
        assert.deepEqual(server.volumeMounts, [
            { name: "tmp", mountPath: "/tmp" },
            { name: "model", mountPath: "/models", readOnly: true },
        ]);
        const [fetch] = pod.initContainers;
        assert.equal(fetch.image, image, "the track's image has no fetch-artifact");
        assert.deepEqual(fetch.command, ["node", "dist/src/fetch-artifact.js", "--source", "s3://models-prod/fraud-scorer/", "--version", "1.5.0", "--dest", "/models/fraud-scorer"]);
        const annotations = at<Record<string, string>>(named(resources, T.deployment, "fraud-scorer-candidate"), "spec.template.metadata.annotations");
        assert.equal(annotations["prometheus.io/port"], "8082");
        assert.equal(annotations["prometheus.io/path"], "/metrics");
        // The Services stay as they are whatever server a track runs: a Service update waits for ready endpoints, which a failing version never has.
        const ports = (track: string) => at<unknown[]>(named(resources, T.service, `fraud-scorer-${track}`), "spec.ports");
        assert.deepEqual(ports("candidate"), [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
        assert.deepEqual(ports("candidate"), ports("stable"));
        // The ServiceMonitor scrapes where each pod's annotations say, anchored as Prometheus anchors a relabel regex (RE2 and JavaScript agree on this one).
        const [endpoint] = at<Array<{ relabelings: Array<{ sourceLabels: string[]; regex: string; replacement?: string; targetLabel: string }> }>>(
            named(resources, T.serviceMonitor, "fraud-scorer-scrape"),
            "spec.endpoints",
        );
        const [pathRule, addressRule] = endpoint.relabelings;
        assert.deepEqual(pathRule.sourceLabels, ["__meta_kubernetes_pod_annotation_prometheus_io_path"]);
        assert.equal(pathRule.targetLabel, "__metrics_path__");
        const rewrite = (address: string, port: string) => `${address};${port}`.replace(new RegExp(`^(?:${addressRule.regex})$`), addressRule.replacement!);
        assert.deepEqual(addressRule.sourceLabels, ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"]);
        assert.equal(rewrite("10.244.0.12:9000", "8082"), "10.244.0.12:8082");
        assert.equal(rewrite("10.244.0.12", "8082"), "10.244.0.12:8082");
        assert.equal(rewrite("[fd00::12]:9000", "8082"), "[fd00::12]:8082");
        const jobs = ofType(resources, T.job);
        const smoke = (track: string) => jobs.find((j) => j.name.startsWith(`fraud-scorer-gates-${track}`));
        const container = (track: string) => at<Array<Record<string, unknown>>>(smoke(track)!, "spec.template.spec.containers")[0];
        assert.equal(container("candidate").image, image);
        assert.ok((container("candidate").command as string[]).includes("--server=oip"), JSON.stringify(container("candidate").command));
        assert.equal(container("stable").image, `registry.example/fraud-scorer@${DIGEST}`);
        assert.ok(!(container("stable").command as string[]).some((a) => a.startsWith("--server")));
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
