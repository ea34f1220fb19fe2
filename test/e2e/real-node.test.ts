/**
 * The lab stack (Pulumi.lab.yaml) under the real Pulumi engine on a real node (scripts/kube-node.sh):
 * containers that run, init containers that fetch each version's artifact from an S3-compatible
 * store (moto, scripts/s3-store.sh) with the role the pod assumes through its own projected token,
 * readiness through the real probes, smoke Jobs that run their in-cluster check, and traffic
 * through the in-cluster nginx router. The API server, the store and the router's Service live
 * inside the node's network namespace; the engine and the load clients run there too. The steps
 * run in order: each starts from the state the one before left.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { must, prepareDocker, run as runSync, stopDocker, BUILD_ENV, type DockerEnvironment } from "../support/docker";
import { binomialBounds, countBy, failed, within, type Sample } from "../support/load";
import { LABEL } from "../../components/naming";
import type { KubeObject } from "./support/cluster";
import { EngineStack, engineOrSkip } from "./support/engine";
import type { NetnsLoadOutput } from "./support/netns-load";
import { RealNode } from "./support/real-node";
import { findProjectDir } from "../../tools/render";
import { S3Store } from "./support/s3-store";
import { isOn, TEST_ENV } from "../../tools/env-vars";

const STACK = "lab";
const GATEWAY_NS = "lab-gateway";
const NGINX_NS = "lab-nginx";
const ENVIRONMENT_LABEL = "app.kubernetes.io/managed-by=modelship,modelship.dev/environment=lab";
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-command", "kubectl", "kubelet", "kube-proxy", "coredns", "etcd", "kube-apiserver"];
const SHARE_REQUESTS = 2000;
const CONCURRENCY = 8;
const BUCKET = "lab-models";
/** Versions the failure tests upload beside the shipped ones. */
const CORRUPT = "1.6.0-corrupt";
const FORBIDDEN = "1.6.1-forbidden";
const CRASHING = "1.6.2-crashing";
const CANARY_STEPS = [10, 25, 50, 75, 100];
/** fraud-scorer's MLServer version: the shipped scikit-learn one under a version of its own, its manifest written again. */
const MLSERVER_VERSION = "2.1.0";
/** The node's containerd knows images by tag (see the router's). */
const MLSERVER_IMAGE = "127.0.0.1:5000/modelship/mlserver:1.7.1";

type Config = Record<string, unknown>;
type Models = Record<string, Record<string, unknown>>;
interface PodStatus {
    phase?: string;
    conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>;
    initContainerStatuses?: Array<{
        name: string;
        restartCount: number;
        state: { terminated?: { exitCode: number; reason?: string; message?: string }; waiting?: { reason?: string } };
        lastState?: { terminated?: { exitCode: number; message?: string } };
    }>;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state: Record<string, unknown>; lastState?: { terminated?: { exitCode: number } } }>;
}

function describeFailures(samples: readonly Sample[]): string {
    const failures = samples.filter(failed);
    return `${failures.length} of ${samples.length} failed${
        failures.length > 0
            ? `: ${failures
                  .slice(0, 5)
                  .map((s) => s.error ?? `HTTP ${s.status}`)
                  .join("; ")}`
            : ""
    }`;
}

describe("the lab stack under the real engine on a real node (real pods, real traffic)", function () {
    this.timeout(60 * 60_000);
    let docker: DockerEnvironment | undefined;
    let node: RealNode | undefined;
    let store: S3Store | undefined;
    let stack: EngineStack;
    let base: Config;
    let routerAddress = "";
    const timings: Record<string, number> = {};
    const figures: string[] = [];
    const labFile = () => path.join(stack.projectDir, "Pulumi.lab.yaml");
    let committedLabFile = "";

    const models = (config: Config) => config["modelship:models"] as Models;
    const image = (model: string, version: string) => `127.0.0.1:5000/modelship/${model}:${version}`;
    /** The test's config with changes to fraud-scorer's and churn-predictor's settings. */
    const withModels = (changes: { fraud?: Record<string, unknown>; churn?: Record<string, unknown> }): Config => {
        const copy = structuredClone(base);
        Object.assign(models(copy)["fraud-scorer"], changes.fraud ?? {});
        Object.assign(models(copy)["churn-predictor"], changes.churn ?? {});
        return copy;
    };
    const fraudCandidate = (version: string, extra: Record<string, unknown> = {}) => ({
        tracks: { stable: (models(base)["fraud-scorer"].tracks as Config).stable, candidate: { version, image: image("fraud-scorer", version), replicas: 1 } },
        strategy: { type: "canary", steps: CANARY_STEPS, step: 1 },
        ...extra,
    });
    const churnCanary = (step: number) => ({ strategy: { type: "canary", steps: CANARY_STEPS, step } });
    const readConfig = (): Config => (parse(fs.readFileSync(stack.configFile, "utf8")) as { config: Config }).config;
    const upOk = async (label: string, config: Config) => {
        stack.writeConfig(config);
        const result = await stack.up(label);
        assert.equal(result.status, 0, result.all);
        timings[label] = result.ms;
    };
    const modelship = (...args: string[]) => stack.modelship(...args, "--stack", STACK, "--config-file", stack.configFile);
    const pods = async (namespace: string, selector: string) => {
        const result = await node!.kubectl(["get", "pods", "-n", namespace, "-l", selector, "-o", "json"]);
        assert.equal(result.status, 0, result.all);
        return (JSON.parse(result.stdout) as { items: KubeObject[] }).items.filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    };
    const route = async () => {
        const found = await node!.get("httproute", "fraud-scorer", GATEWAY_NS);
        assert.ok(found, "the fraud-scorer HTTPRoute exists");
        return found;
    };
    /** Load through the nginx router's Service, from inside the node's namespace. */
    const load = (args: readonly string[]): Promise<NetnsLoadOutput> => {
        const [host, port] = routerAddress.split(":");
        return node!.load({ host, port, path: "/v2/models/churn-predictor/infer" }, args, { concurrency: CONCURRENCY, timeoutMs: 10 * 60_000 });
    };
    /**
     * Until the router pods of the previous config are gone: they keep serving the connections
     * they hold (with the previous weights) while they drain, for the drain delay at most.
     */
    const routerSettled = async () => {
        const deadline = Date.now() + 90_000;
        for (;;) {
            const result = await node!.kubectl(["get", "pods", "-n", NGINX_NS, "-l", `${LABEL.component}=router`, "-o", "json"]);
            assert.equal(result.status, 0, result.all);
            const routers = (JSON.parse(result.stdout) as { items: KubeObject[] }).items;
            if (routers.every((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp)) return;
            assert.ok(Date.now() < deadline, `the retiring router pods are gone within 90 s: ${routers.map((p) => p.metadata.name).join(", ")}`);
            await new Promise((r) => setTimeout(r, 1000));
        }
    };
    const shares = async (label: string, candidateShare: number) => {
        await routerSettled();
        const { samples, throughput } = await load(["--total", String(SHARE_REQUESTS)]);
        assert.equal(samples.filter(failed).length, 0, describeFailures(samples));
        const counts = countBy(samples, (s) => s.track);
        const bounds = binomialBounds(SHARE_REQUESTS, candidateShare);
        figures.push(`${label}: candidate ${counts.candidate ?? 0}/${SHARE_REQUESTS} (bounds ${bounds.low}..${bounds.high} for ${candidateShare * 100}%), ${throughput.toFixed(0)} req/s`);
        assert.ok(within(counts.candidate ?? 0, bounds), `${label}: ${JSON.stringify(counts)} against ${JSON.stringify(bounds)}`);
        assert.equal((counts.candidate ?? 0) + (counts.stable ?? 0), SHARE_REQUESTS, JSON.stringify(counts));
    };
    /** An update that must fail on the fraud-scorer candidate, leaving the route as it was; the candidate's pods for inspection. */
    const failingCandidate = async (label: string, version: string) => {
        const before = await route();
        stack.writeConfig(withModels({ fraud: fraudCandidate(version, { readyTimeoutSeconds: 45 }) }));
        const result = await stack.up(label);
        timings[label] = result.ms;
        assert.notEqual(result.status, 0, result.all);
        assert.match(result.stdout + result.stderr, /fraud-scorer-candidate/, result.all);
        const after = await route();
        assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "the route object was not touched");
        const candidates = await pods(GATEWAY_NS, `${LABEL.track}=candidate,${LABEL.version}=${version},${LABEL.component}=model-server`);
        assert.ok(candidates.length > 0, `the ${version} pods exist for inspection`);
        return { result, pods: candidates.map((p) => p.status as PodStatus) };
    };

    before(async function () {
        const bin = engineOrSkip(this, ENGINE_BINARIES);
        docker = prepareDocker(20 * 60_000);
        committedLabFile = fs.readFileSync(path.join(findProjectDir(), "Pulumi.lab.yaml"), "utf8");

        // One model-server image under every name the stack uses: the artifact, not the image, carries the version.
        const server = `${docker.registry}/modelship-e2e/model-server:node`;
        must("docker", ["build", "-q", "--build-arg", `BASE_IMAGE=${docker.baseImage}`, "-t", server, path.join(findProjectDir(), "model-server")], { env: BUILD_ENV, timeout: 20 * 60_000 });
        // A server that exits at start (an invalid fault setting baked into the image): a crash loop.
        const crashing = image("fraud-scorer", CRASHING);
        must("bash", ["-c", `printf 'FROM %s\\nENV FAULT_ERROR_RATE=not-a-rate\\n' "$0" | docker build -q -t "$1" -`, server, crashing], { env: BUILD_ENV, timeout: 5 * 60_000 });
        const servers = [
            image("fraud-scorer", "1.4.0"),
            image("fraud-scorer", "1.5.0"),
            image("fraud-scorer", CORRUPT),
            image("fraud-scorer", FORBIDDEN),
            image("churn-predictor", "2.0.1"),
            image("churn-predictor", "2.1.0"),
        ];
        for (const name of servers) must("docker", ["tag", server, name]);
        const routerDigest =
            must("bash", [path.join(findProjectDir(), "scripts", "router-image.sh"), docker.registry], { timeout: 10 * 60_000 })
                .split("\n")
                .pop() ?? "";
        // The node's containerd gets images without their registry digests: the router is named by tag.
        const router = "127.0.0.1:5000/modelship/router:1.27";
        must("docker", ["tag", routerDigest, router]);
        const mlserver =
            must("bash", [path.join(findProjectDir(), "scripts", "mlserver-image.sh"), docker.registry], { timeout: 20 * 60_000 })
                .split("\n")
                .pop() ?? "";
        must("docker", ["tag", mlserver, MLSERVER_IMAGE]);

        const started = performance.now();
        node = await RealNode.up(bin);
        timings["kube-node.sh up"] = performance.now() - started;
        stack = new EngineStack(STACK, bin, node.kubeconfig, RealNode.launcher);
        await node.loadImages([...servers, crashing, router, MLSERVER_IMAGE]);

        // The shipped versions, and one more the crash-loop test runs: an artifact of its own that verifies.
        const modelsDir = path.join(stack.dir, "models");
        fs.cpSync(path.join(findProjectDir(), "model-server", "models"), modelsDir, { recursive: true });
        const crashDir = path.join(modelsDir, "fraud-scorer", CRASHING);
        fs.mkdirSync(crashDir);
        const artifact = JSON.parse(fs.readFileSync(path.join(modelsDir, "fraud-scorer", "1.5.0", "model.json"), "utf8")) as Record<string, unknown>;
        const crashArtifact = JSON.stringify({ ...artifact, version: CRASHING });
        fs.writeFileSync(path.join(crashDir, "model.json"), crashArtifact);
        fs.writeFileSync(path.join(crashDir, "model.json.sha256"), `${createHash("sha256").update(crashArtifact).digest("hex")}  model.json\n`);

        // MLServer's files as another version of fraud-scorer, listed in its manifest again for that version.
        const mlserverDir = path.join(modelsDir, "fraud-scorer", MLSERVER_VERSION);
        fs.cpSync(path.join(findProjectDir(), "model-server", "mlserver", "models", "fraud-scorer", "2.0.0"), mlserverDir, { recursive: true });
        const settingsFile = path.join(mlserverDir, "model-settings.json");
        const settings = JSON.parse(fs.readFileSync(settingsFile, "utf8")) as { parameters: Record<string, unknown> };
        settings.parameters.version = MLSERVER_VERSION;
        fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + "\n");
        must(process.execPath, [path.join(findProjectDir(), "model-server", "dist", "src", "files-manifest.js"), "--dir", mlserverDir, "--model", "fraud-scorer"]);

        store = await S3Store.up(node, await node.address());
        // A version whose model.json is not the one its checksum names, and one its role is denied.
        const seeded = await store.seed(`s3://${BUCKET}/`, {
            models: modelsDir,
            environment: STACK,
            namespace: GATEWAY_NS,
            corrupt: [`fraud-scorer/${CORRUPT}`],
            forbid: [`fraud-scorer/${FORBIDDEN}`],
        });
        assert.deepEqual(Object.keys(seeded).sort(), ["churn-predictor", "fraud-scorer"], "both models seeded, each with its role");

        base = (parse(committedLabFile) as { config: Config }).config;
        const access = { endpoint: store.endpoint, stsEndpoint: store.endpoint, region: "us-east-1" };
        for (const target of Object.values(base["modelship:targets"] as Record<string, Record<string, unknown>>)) target.artifactStore = access;
        for (const [name, model] of Object.entries(models(base))) {
            assert.equal(model.artifact, seeded[name].artifact, `the lab's ${name} artifact is where the store has it`);
            model.serviceAccountRoleArn = seeded[name].roleArn;
            model.readyTimeoutSeconds = 180;
        }
        // The smoke gate for the nginx router's model too: the shipped lab file checks only fraud-scorer's.
        (models(base)["churn-predictor"].gates as Record<string, unknown>).smoke = { request: "model-server/models/churn-predictor/smoke-request.json", expect: { min: 0.01, max: 0.99 } };
        stack.writeConfig(base);
    });

    after(async function () {
        if (committedLabFile) fs.writeFileSync(labFile(), committedLabFile);
        if (Object.keys(timings).length > 0)
            console.log(
                `      engine timings: ${Object.entries(timings)
                    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
                    .join(", ")}`,
            );
        for (const line of figures) console.log(`      ${line}`);
        if (node && !isOn(TEST_ENV.keepCluster)) {
            await store?.down();
            await node.down();
        }
        stack?.cleanup();
        if (docker)
            runSync("bash", ["-c", "docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^127\\.0\\.0\\.1:5000/modelship/(fraud-scorer|churn-predictor|router):' | xargs -r docker rmi"]);
        stopDocker(docker);
    });

    it("`npm run up -- --stack lab`: init containers fetch and verify each artifact, every pod is Ready by its probe, the smoke Jobs pass in the cluster", async () => {
        const started = Date.now();
        const result = await stack.run("npm", ["run", "up", "--", "--stack", STACK, "--config-file", stack.configFile, "--yes", "--skip-preview"], 20 * 60_000);
        assert.equal(result.status, 0, result.all);
        timings["npm run up"] = result.ms;
        assert.equal(fs.readFileSync(labFile(), "utf8"), committedLabFile, "Pulumi.lab.yaml is left as shipped");

        let lastReady = started;
        for (const [namespace, model, versions] of [
            [GATEWAY_NS, "fraud-scorer", { stable: "1.4.0", candidate: "1.5.0" }],
            [NGINX_NS, "churn-predictor", { stable: "2.0.1", candidate: "2.1.0" }],
        ] as const) {
            for (const [track, version] of Object.entries(versions)) {
                const trackPods = await pods(namespace, `${LABEL.name}=${model},${LABEL.track}=${track},${LABEL.component}=model-server`);
                assert.ok(trackPods.length > 0, `${model} ${track} has pods`);
                for (const pod of trackPods) {
                    const status = pod.status as PodStatus;
                    const fetch = status.initContainerStatuses?.find((c) => c.name === "fetch-artifact");
                    assert.equal(fetch?.state.terminated?.exitCode, 0, `${pod.metadata.name}: fetch-artifact exited 0: ${JSON.stringify(fetch)}`);
                    const server = status.containerStatuses?.find((c) => c.name === "model-server");
                    assert.equal(server?.ready, true, `${pod.metadata.name} is ready`);
                    assert.equal(server?.restartCount, 0, `${pod.metadata.name} never restarted`);
                    const ready = status.conditions?.find((c) => c.type === "Ready");
                    assert.equal(ready?.status, "True");
                    lastReady = Math.max(lastReady, Date.parse(ready?.lastTransitionTime ?? ""));
                    const logs = await node!.kubectl(["logs", "-n", namespace, pod.metadata.name, "-c", "fetch-artifact"]);
                    const recorded = fs.readFileSync(path.join(stack.projectDir, "model-server", "models", model, version, "model.json.sha256"), "utf8").split(" ")[0];
                    assert.ok(logs.stdout.includes(recorded), `${pod.metadata.name} fetched ${version} and verified sha256 ${recorded}:\n${logs.all}`);
                }
            }
        }
        figures.push(`npm run up: all pods Ready ${((lastReady - started) / 1000).toFixed(0)} s after it started (up took ${(result.ms / 1000).toFixed(1)} s)`);
        const jobs = await node!.list("jobs", `${LABEL.component}=smoke-gate`);
        assert.ok(jobs.length >= 2, `smoke Jobs ran: ${jobs.map((j) => j.metadata.name).join(", ")}`);
        for (const job of jobs) assert.equal((job.status as { succeeded?: number }).succeeded, 1, `${job.metadata.name} succeeded`);
        const service = await node!.get("service", "modelship-router", NGINX_NS);
        const spec = service?.spec as { clusterIP: string; ports: Array<{ port: number }> } | undefined;
        assert.ok(spec, "the nginx router's Service exists");
        routerAddress = `${spec.clusterIP}:${spec.ports[0].port}`;
    });

    it("a second preview right after `up` shows no change", async () => {
        const preview = await stack.preview();
        timings["preview, no change"] = preview.run.ms;
        assert.deepEqual(
            preview.changes.map((c) => `${c.op} ${c.type} ${c.name}`),
            [],
        );
    });

    it("a blue-green switch and `modelship rollback --yes` under a steady load through the router's Service lose no request", async () => {
        const stopFile = path.join(stack.dir, "stop-load");
        const running = load(["--until-file", stopFile]);
        try {
            await new Promise((r) => setTimeout(r, 5000));
            await upOk("blue-green switch under load", withModels({ churn: { strategy: { type: "blueGreen", active: "candidate" } } }));
            await new Promise((r) => setTimeout(r, 5000));
            const rolledBack = await modelship("rollback", "--model", "churn-predictor", "--yes");
            assert.equal(rolledBack.status, 0, rolledBack.all);
            timings["modelship rollback --yes under load"] = rolledBack.ms;
            await new Promise((r) => setTimeout(r, 5000));
        } finally {
            fs.writeFileSync(stopFile, "");
        }
        const { samples } = await running;
        const byTrack = countBy(samples, (s) => s.track);
        const retried = samples.filter((s) => s.retried).length;
        figures.push(
            `blue-green switch + rollback under load: ${describeFailures(samples)}, ${retried} connections a retiring router closed before answering (sent again), answers ${JSON.stringify(byTrack)}`,
        );
        assert.equal(samples.filter(failed).length, 0, describeFailures(samples));
        assert.ok((byTrack.candidate ?? 0) > 0 && (byTrack.stable ?? 0) > 0, `both pools answered: ${JSON.stringify(byTrack)}`);
        const last = samples.slice(-50);
        assert.deepEqual([...new Set(last.map((s) => s.track))], ["stable"], "after the rollback, stable answers");
    });

    it("traffic through the in-cluster nginx router splits within binomial bounds at each canary step, stepped by `modelship promote`", async () => {
        await upOk("churn-predictor canary", withModels({ churn: churnCanary(0) }));
        await shares("canary step 1/5", CANARY_STEPS[0] / 100);
        for (let step = 1; step < CANARY_STEPS.length; step++) {
            const promoted = await modelship("promote", "--model", "churn-predictor", "--yes");
            assert.equal(promoted.status, 0, promoted.all);
            timings[`promote to ${CANARY_STEPS[step]}%`] = promoted.ms;
            const strategy = models(readConfig())["churn-predictor"].strategy as { step: number };
            assert.equal(strategy.step, step, "the config file holds the step");
            await shares(`canary step ${step + 1}/5`, CANARY_STEPS[step] / 100);
        }
        base = readConfig();
    });

    it("an MLServer candidate: modelship's image fetches and verifies its listed files, its probes ask the model's readiness, its smoke Job passes, it answers through its Service", async () => {
        const config = withModels({
            fraud: fraudCandidate(MLSERVER_VERSION, {
                tracks: {
                    stable: (models(base)["fraud-scorer"].tracks as Config).stable,
                    candidate: { version: MLSERVER_VERSION, image: MLSERVER_IMAGE, replicas: 1, server: { port: 8080, metricsPort: 8082 } },
                },
                // MLServer answers predict_proba, both classes' probabilities: the smoke range is the whole of [0, 1].
                gates: { ...(models(base)["fraud-scorer"].gates as Config), smoke: { request: "model-server/models/fraud-scorer/smoke-request.json", expect: { min: 0, max: 1 } } },
            }),
        });
        (config["modelship:targets"] as Record<string, Config>).gateway.modelServerImage = image("fraud-scorer", "1.4.0");
        await upOk("an MLServer candidate", config);
        const [candidate] = await pods(GATEWAY_NS, `${LABEL.track}=candidate,${LABEL.component}=model-server`);
        const status = candidate.status as PodStatus;
        assert.deepEqual(
            status.initContainerStatuses?.map((c) => [c.name, c.state.terminated?.exitCode]),
            [["fetch-artifact", 0]],
        );
        assert.ok(
            status.containerStatuses?.every((c) => c.ready),
            JSON.stringify(status.containerStatuses),
        );
        const service = await node!.get("service", "fraud-scorer-candidate", GATEWAY_NS);
        const ip = (service?.spec as { clusterIP: string }).clusterIP;
        const request = fs.readFileSync(path.join(stack.projectDir, "model-server", "models", "fraud-scorer", "smoke-request.json"), "utf8");
        const infer = await node!.exec("curl", ["-sS", "--max-time", "10", "-H", "content-type: application/json", "--data", request, `http://${ip}/v2/models/fraud-scorer/infer`]);
        assert.equal(infer.status, 0, infer.all);
        assert.equal((JSON.parse(infer.stdout) as { model_version: string }).model_version, MLSERVER_VERSION, infer.stdout);
        // Where the ServiceMonitor scrapes: the pod's address with the port and path its annotations name (MLServer's own metrics port).
        const annotations = (candidate.metadata as { annotations: Record<string, string> }).annotations;
        const podIp = (candidate.status as { podIP: string }).podIP;
        const metrics = await node!.exec("curl", ["-sS", "--max-time", "10", `http://${podIp}:${annotations["prometheus.io/port"]}${annotations["prometheus.io/path"]}`]);
        assert.match(metrics.stdout, /^rest_server_requests_total\{/m, metrics.all);
        figures.push(`MLServer candidate: up ${(timings["an MLServer candidate"] / 1000).toFixed(1)} s, fetched and Ready, answered ${MLSERVER_VERSION} through its Service`);
    });

    it("a candidate whose artifact does not match its checksum never becomes ready: the update fails before the route", async () => {
        const { pods: candidates } = await failingCandidate("candidate with a corrupt artifact", CORRUPT);
        const messages = candidates.flatMap((p) => (p.initContainerStatuses ?? []).map((c) => c.lastState?.terminated?.message ?? c.state.terminated?.message ?? ""));
        assert.ok(
            messages.some((m) => /does not match its checksum/.test(m)),
            `the init container says why:\n${messages.join("\n")}`,
        );
    });

    it("a candidate whose artifact its role may not read never becomes ready: the update fails before the route", async () => {
        const { pods: candidates } = await failingCandidate("candidate with a forbidden artifact", FORBIDDEN);
        const messages = candidates.flatMap((p) => (p.initContainerStatuses ?? []).map((c) => c.lastState?.terminated?.message ?? c.state.terminated?.message ?? ""));
        assert.ok(
            messages.some((m) => /forbidden|AccessDenied/i.test(m)),
            `the init container says why:\n${messages.join("\n")}`,
        );
    });

    it("a candidate that crash-loops fails the update before the route", async () => {
        const { pods: candidates } = await failingCandidate("candidate that crash-loops", CRASHING);
        const restarts = candidates.flatMap((p) =>
            (p.containerStatuses ?? []).filter((c) => c.name === "model-server").map((c) => ({ restarts: c.restartCount, exit: c.lastState?.terminated?.exitCode })),
        );
        assert.ok(
            restarts.some((r) => r.restarts >= 1 && r.exit === 1),
            `the server exited 1 and was restarted: ${JSON.stringify(restarts)}`,
        );
    });

    it("back to a good candidate: the update succeeds, and a second preview shows no change", async () => {
        await upOk("a good candidate again", withModels({ fraud: fraudCandidate("1.5.0") }));
        const preview = await stack.preview();
        assert.deepEqual(
            preview.changes.map((c) => `${c.op} ${c.type} ${c.name}`),
            [],
        );
        const candidates = await pods(GATEWAY_NS, `${LABEL.track}=candidate,${LABEL.component}=model-server`);
        assert.deepEqual([...new Set(candidates.map((p) => p.metadata.labels?.[LABEL.version]))], ["1.5.0"], "the broken candidates' pods are gone");
    });

    it("`pulumi destroy` leaves no pod, object or state", async () => {
        const result = await stack.destroy();
        assert.equal(result.status, 0, result.all);
        timings.destroy = result.ms;
        assert.deepEqual(
            (await stack.resources()).map((r) => r.type),
            [],
        );
        const deadline = Date.now() + 120_000;
        let left: KubeObject[];
        do {
            left = await node!.list("all,configmaps,httproutes,poddisruptionbudgets,serviceaccounts,jobs", ENVIRONMENT_LABEL);
            const remaining = [...(await pods(GATEWAY_NS, "")), ...(await pods(NGINX_NS, ""))];
            if (left.length === 0 && remaining.length === 0) break;
            await new Promise((r) => setTimeout(r, 2000));
        } while (Date.now() < deadline);
        assert.deepEqual(
            left.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
            [],
        );
    });
});
