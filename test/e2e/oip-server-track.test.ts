/**
 * A canary between two servers under the real engine on the local Docker engine: stable runs
 * modelship's own server (the ONNX fraud-scorer 2.0.0, built), the candidate MLServer (the
 * scikit-learn fraud-scorer 2.1.0, the image of scripts/mlserver-image.sh) declared by
 * `tracks.candidate.server`. Both pass their smoke gates (the candidate's with the protocol's
 * checks only), and the router splits requests between them within binomial bounds.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PIN_HEADER } from "../../components/traffic/types";
import { must, run as runSync } from "../support/docker";
import { freePort } from "../support/http";
import { binomialBounds, countBy, failed, LoopbackClient, runLoad, within } from "../support/load";
import { INFER_PATH, inferBody } from "../support/model-server";
import { PrometheusProcess, prometheusOrSkip } from "../support/prometheus";
import { prepareDockerMachine, releaseDockerMachine, trackContainers, type DockerMachine } from "./support/docker-machine";
import { EngineStack, engineOrSkip, run } from "./support/engine";

const STACK = "dev";
const MODEL = "fraud-scorer";
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-docker", "pulumi-resource-docker-build", "pulumi-resource-command"];
const STABLE = "2.0.0";
const CANDIDATE = "2.1.0";
const REQUESTS = 1000;

/** MLServer answers it with a 500 (modelship's server with a 400). */
const WRONG_WIDTH = JSON.stringify({ inputs: [{ name: "features", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] });

const SELECTOR = 'model="{{model}}",track="{{track}}"';
/** MLServer's REST metrics for inferences: by route template, with no model or track label of their own. */
const MLSERVER_INFER = `${SELECTOR},path=~".*/infer"`;
/** modelship's server's series, or else MLServer's: each track's scrape has one or the other. */
const either = ([ours, theirs]: readonly [string, string]) => `(${ours}) or (${theirs})`;
const SERVED = [`sum(increase(modelship_requests_total{${SELECTOR}}[{{window}}]))`, `sum(increase(rest_server_requests_total{${MLSERVER_INFER}}[{{window}}]))`] as const;
const RATE = [`sum(rate(modelship_requests_total{${SELECTOR}}[{{window}}]))`, `sum(rate(rest_server_requests_total{${MLSERVER_INFER}}[{{window}}]))`] as const;
const ERRORS = [`sum(rate(modelship_request_errors_total{${SELECTOR}}[{{window}}]))`, `sum(rate(rest_server_requests_total{${MLSERVER_INFER},status_code=~"5.."}[{{window}}]))`] as const;
const BUCKETS = [
    `sum by (le) (rate(modelship_request_duration_seconds_bucket{${SELECTOR}}[{{window}}]))`,
    `sum by (le) (rate(rest_server_request_duration_seconds_bucket{${MLSERVER_INFER}}[{{window}}]))`,
] as const;
const TEMPLATES = [
    { name: "error-rate", kind: "infrastructure", query: `(${either(ERRORS)} or vector(0)) / (${either(RATE)})`, max: 0.02, unit: "ratio" },
    { name: "p95-latency", kind: "infrastructure", query: `histogram_quantile(0.95, ${either(BUCKETS)})`, max: 0.3, unit: "seconds" },
];

describe("a canary from modelship's server to MLServer, under the real engine on the local Docker engine", function () {
    this.timeout(40 * 60_000);
    let machine: DockerMachine | undefined;
    let stack: EngineStack;
    let client: LoopbackClient | undefined;
    let prometheus: PrometheusProcess | undefined;
    let committedDevFile = "";
    const figures: string[] = [];
    const npm = (script: string, ...args: string[]) => run("npm", ["run", script, "--", "--config-file", stack.configFile, ...args], { cwd: stack.projectDir, env: stack.env, timeoutMs: 20 * 60_000 });
    const running = () => trackContainers(STACK);

    before(async function () {
        const bin = engineOrSkip(this, ENGINE_BINARIES);
        stack = new EngineStack(STACK, bin);
        committedDevFile = fs.readFileSync(path.join(stack.projectDir, "Pulumi.dev.yaml"), "utf8");
        machine = prepareDockerMachine();
        const { docker, routerImage } = machine;
        const built =
            must("bash", [path.join(stack.projectDir, "scripts", "mlserver-image.sh"), docker.registry], { timeout: 20 * 60_000 })
                .split("\n")
                .pop() ?? "";
        // Without a HEALTHCHECK, as the official MLServer and Triton images are: the docker target asks its readiness route instead.
        const mlserver = `${docker.registry}/modelship/mlserver-no-healthcheck:e2e`;
        must("docker", ["build", "--quiet", "--tag", mlserver, "-"], { input: `FROM ${built}\nHEALTHCHECK NONE\n` });
        must("docker", ["push", "--quiet", mlserver]);
        // One directory of versions: modelship's files for stable's version, MLServer's for the candidate's.
        const artifacts = path.join(stack.dir, "artifacts", MODEL);
        fs.cpSync(path.join(stack.projectDir, "model-server", "models", MODEL, STABLE), path.join(artifacts, STABLE), { recursive: true });
        fs.cpSync(path.join(stack.projectDir, "model-server", "mlserver", "models", MODEL, "2.0.0"), path.join(artifacts, CANDIDATE), { recursive: true });
        const settingsFile = path.join(artifacts, CANDIDATE, "model-settings.json");
        const settings = JSON.parse(fs.readFileSync(settingsFile, "utf8")) as { parameters: Record<string, unknown> };
        settings.parameters.version = CANDIDATE;
        fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
        const routerPort = await freePort();
        stack.writeConfig({
            "modelship:environment": STACK,
            "modelship:targets": { local: { type: "docker", port: routerPort, routerImage } },
            "modelship:registry": { type: "local" },
            "modelship:models": {
                [MODEL]: {
                    artifact: artifacts,
                    tracks: {
                        stable: { version: STABLE, build: { context: "model-server", baseImage: docker.baseImage } },
                        // MLServer's REST API on 8080, its metrics on 8082; its replicas are asked the model's readiness before the router moves.
                        candidate: { version: CANDIDATE, image: mlserver, server: { port: 8080, metricsPort: 8082 } },
                    },
                    strategy: { type: "canary", steps: [50, 100], step: 0 },
                    gates: { scan: { enabled: false }, smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } },
                    // Judged by templates that read either server's metrics: modelship's, or MLServer's REST metrics with the model and track Prometheus adds to its target.
                    analysis: { bakeSeconds: 60, requests: either(SERVED), metrics: TEMPLATES },
                },
            },
        });
        client = new LoopbackClient(routerPort, 4);
    });

    after(async function () {
        for (const line of figures) console.log(`      ${line}`);
        client?.close();
        await prometheus?.stop();
        if (stack && running().length > 0) await stack.destroy();
        if (machine) runSync("bash", ["-c", `docker image ls -q 'modelship/${MODEL}' | xargs -r docker rmi -f`]);
        const devFile = stack ? path.join(stack.projectDir, "Pulumi.dev.yaml") : "";
        const changed = devFile !== "" && fs.readFileSync(devFile, "utf8") !== committedDevFile;
        if (changed) fs.writeFileSync(devFile, committedDevFile);
        stack?.cleanup();
        releaseDockerMachine(machine);
        assert.equal(changed, false, "Pulumi.dev.yaml is left as committed");
    });

    it("`npm run up`: both tracks healthy, both smoke gates pass (MLServer's with the protocol's checks), the canary's half answered by each server", async () => {
        const up = await npm("up", "--yes", "--skip-preview");
        assert.equal(up.status, 0, up.all);
        figures.push(`up with a modelship track and an MLServer track: ${(up.ms / 1000).toFixed(1)} s`);
        assert.match(up.stdout, new RegExp(`${MODEL}-gates-stable-smoke .*smoke: v1 ok`), up.stdout);
        assert.match(up.stdout, new RegExp(`${MODEL}-gates-candidate-smoke .*smoke: infer ok`), up.stdout);
        assert.match(up.stdout, new RegExp(`${MODEL}-gates-candidate-smoke .*smoke: v1 and X-Model-Version not checked \\(--server oip`), up.stdout);
        for (const track of ["stable", "candidate"]) assert.match(up.stdout, new RegExp(`${MODEL}-gates-${track}-smoke .*smoke: passed`), up.stdout);
        assert.match(up.stdout, new RegExp(`${MODEL}-candidate-ready .*http://127\\.0\\.0\\.1:\\d+/v2/models/${MODEL}/ready is ready`), up.stdout);
        const containers = running();
        assert.equal(containers.length, 2, containers.join("\n"));
        const [candidate, stable] = [containers.filter((c) => c.startsWith("candidate ")), containers.filter((c) => c.startsWith("stable "))];
        assert.match(stable.join(), /\(healthy\)/, "modelship's server: its health check");
        assert.equal(candidate.length, 1, containers.join("\n"));
        assert.doesNotMatch(candidate[0], /health/, "MLServer's image here has none");

        const load = await runLoad({ send: (i) => client!.request({ path: INFER_PATH, body: inferBody(i) }), concurrency: 4, total: REQUESTS });
        assert.equal(load.samples.filter(failed).length, 0, JSON.stringify(load.samples.filter(failed).slice(0, 3)));
        const counts = countBy(load.samples, (s) => s.routerTrack);
        const bounds = binomialBounds(REQUESTS, 0.5);
        figures.push(`canary 50%: MLServer answered ${counts.candidate ?? 0}/${REQUESTS} (bounds ${bounds.low}..${bounds.high}), modelship ${counts.stable ?? 0}`);
        assert.ok(within(counts.candidate ?? 0, bounds), JSON.stringify(counts));
        // Each answer came from the server the router named: modelship's carry X-Model-Version, MLServer's none.
        assert.deepEqual(
            countBy(load.samples, (s) => s.version),
            { [STABLE]: counts.stable },
            "X-Model-Version on modelship's answers only",
        );
    });

    it("`modelship analyze`: Prometheus scrapes each track where the stack's outputs say (MLServer's own metrics port), and the model's templates judge both servers", async function () {
        const bin = prometheusOrSkip(this);
        const outputs = await stack.pulumi(["stack", "output", "models", "--json", "--stack", STACK], 60_000);
        assert.equal(outputs.status, 0, outputs.all);
        const metrics = (JSON.parse(outputs.stdout) as Record<string, { metrics: Record<string, string> }>)[MODEL].metrics;
        assert.match(metrics.stable, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        assert.match(metrics.candidate, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        assert.notEqual(new URL(metrics.candidate).port, new URL(metrics.stable).port);
        // MLServer creates a status code's series at its first such answer, and rate() cannot see the count a series starts with:
        // one error before the first scrape makes its 500 series exist (modelship's server starts its error counters at 0).
        const first = await client!.request({ path: INFER_PATH, body: WRONG_WIDTH, headers: { [PIN_HEADER]: "candidate" } });
        assert.equal(first.status, 500, first.body);
        prometheus = new PrometheusProcess();
        // modelship's server names its model and track in its metrics; MLServer's target gets them as labels.
        await prometheus.start(bin, { stable: new URL(metrics.stable).host, candidate: new URL(metrics.candidate).host }, { candidate: { model: MODEL, track: "candidate" } });
        await prometheus.waitUntil(async () => (await prometheus!.query('up{job="modelship"} == 1')).length === 2, 30_000, "both tracks scraped");
        const load = await runLoad({ send: (i) => client!.request({ path: INFER_PATH, body: inferBody(i) }), concurrency: 4, total: REQUESTS });
        assert.equal(load.samples.filter(failed).length, 0);
        // Every request scraped on both tracks before judging.
        const scraped = `sum(modelship_requests_total{model="${MODEL}",track="stable"}) + sum(rest_server_requests_total{track="candidate",path=~".*/infer"})`;
        await prometheus.waitUntil(async () => Number((await prometheus!.query(scraped))[0]?.value[1] ?? 0) >= REQUESTS, 30_000, "the load scraped");
        const analyze = await stack.modelship("analyze", "--stack", STACK, "--config-file", stack.configFile, "--prometheus", `http://127.0.0.1:${prometheus.port}`);
        assert.equal(analyze.status, 0, analyze.all);
        figures.push(`analyze, modelship stable against MLServer candidate: ${analyze.stdout.trim().split("\n").join(" | ")}`);
        assert.match(analyze.stdout, /^fraud-scorer: PROMOTE/m, analyze.stdout);
        assert.match(analyze.stdout, /error rate 0% within 2%/, analyze.stdout);
        assert.match(analyze.stdout, /p95 latency [0-9.]+ ms within 300\.0 ms/, analyze.stdout);

        // MLServer answers a wrong input width with a 500: 100 of them, pinned to the candidate, are its errors.
        const broken = await runLoad({ send: () => client!.request({ path: INFER_PATH, body: WRONG_WIDTH, headers: { [PIN_HEADER]: "candidate" } }), concurrency: 4, total: 100 });
        const statuses = countBy(broken.samples, (s) => String(s.status));
        // Some are retried on stable (the canary's fallback after a connection error on the candidate; 5 to 41 of 100 in runs here), which answers its own 400.
        assert.ok((statuses["500"] ?? 0) >= 20 && (statuses["500"] ?? 0) + (statuses["400"] ?? 0) === 100, JSON.stringify(statuses));
        figures.push(`100 wrong widths pinned to MLServer: ${JSON.stringify(statuses)}`);
        const errors = `sum(rest_server_requests_total{track="candidate",path=~".*/infer",status_code="500"})`;
        await prometheus.waitUntil(async () => Number((await prometheus!.query(errors))[0]?.value[1] ?? 0) >= (statuses["500"] ?? 0) + 1, 30_000, "the errors scraped");
        const failing = await stack.modelship("analyze", "--stack", STACK, "--config-file", stack.configFile, "--prometheus", `http://127.0.0.1:${prometheus.port}`);
        figures.push(`analyze after 100 of MLServer's 500s: ${failing.stdout.trim().split("\n").join(" | ")}`);
        assert.match(failing.stdout, /^fraud-scorer: ROLLBACK/m, failing.all);
        assert.match(failing.stdout, /error rate: candidate [0-9.]+% over 2% \(stable 0%\)/, failing.stdout);
    });
});
