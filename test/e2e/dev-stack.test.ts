/**
 * The dev stack (Pulumi.dev.yaml) under the real Pulumi engine on the local Docker engine: the
 * README's `npm run up`, real image builds and gates, real containers answering through the
 * nginx router, one stack update per rollout step under a steady load, a candidate that fails its
 * smoke gate, an automatic rollback judged from Prometheus, and `npm run destroy`. The base and
 * router images come from this machine (scripts/), passed the way a user overrides them: a config
 * file given with --config-file; Pulumi.dev.yaml stays as shipped. The steps run in order: each
 * starts from the state the one before left.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { LABEL } from "../../components/naming";
import { must, run as runSync, type DockerEnvironment } from "../support/docker";
import { freePort, sleep } from "../support/http";
import { binomialBounds, combine, countBy, failed, LoopbackClient, runLoad, settleTime, within, type LoadResult, type Sample } from "../support/load";
import { INFER_PATH, inferBody } from "../support/model-server";
import { PrometheusProcess, prometheusOrSkip } from "../support/prometheus";
import { AlertmanagerProcess, alertmanagerOrSkip, type AlertmanagerWebhook } from "../support/alertmanager";
import { StandInServer } from "../support/stand-in-http";
import { defaultTemplates, renderQuery } from "../../components/analysis/templates";
import { prepareDockerMachine, releaseDockerMachine, type DockerMachine } from "./support/docker-machine";
import { EngineStack, engineOrSkip, run } from "./support/engine";
import { TYPES } from "../../components/type-tokens";

const STACK = "dev";
const MODEL = "fraud-scorer";
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-docker", "pulumi-resource-docker-build", "pulumi-resource-command"];
/** Requests per share measurement: the issue's floor. */
const SHARE_REQUESTS = 2000;
const CONCURRENCY = 8;
/** A candidate that fails 15% of its inferences: it passes its smoke gate, its traffic does not. */
const FAULTY = "1.6.0-faulty";
/** A candidate that fails every inference. */
const SMOKE_FAILS = "1.7.0-smoke-fails";
/** A candidate that keeps 1 MiB of every inference: its memory climbs to its limit (the model's default, 512Mi) under load. */
const LEAKY = "1.8.0-leaky";
const LEAK_BYTES_PER_REQUEST = 2 ** 20;
/** A healthy candidate judged by a quality metric it fails: a person decides, nothing rolls back. */
const DOUBTFUL = "1.9.0-doubtful";
/** A blue-green candidate that fails 30% of its inferences: its preview check stops it before any live request. */
const PREVIEW_FAILS = "2.0.0-preview-fails";
/** A healthy blue-green candidate: its preview check lets its first step through. */
const PREVIEWED = "2.1.0-previewed";

type Config = Record<string, unknown>;
type Model = Record<string, unknown> & { tracks: Record<string, Record<string, unknown>>; strategy: Record<string, unknown> };

/** Load until `until` settles, in bounded rounds; every sample kept. */
async function loadDuring<T>(client: LoopbackClient, until: Promise<T>): Promise<{ load: LoadResult; result: T; startedMs: number; doneMs: number }> {
    let done = false;
    let doneMs = 0;
    const startedMs = performance.now();
    const watched = until.finally(() => {
        done = true;
        doneMs = performance.now();
    });
    const rounds: LoadResult[] = [];
    const send = (i: number) => client.request({ path: INFER_PATH, body: inferBody(i) });
    // At most 30 rounds of 5 s: a step that takes longer fails its own timeout first.
    for (let round = 0; round < 30 && !done; round++) rounds.push(await runLoad({ send, concurrency: CONCURRENCY, durationMs: 5000 }));
    const result = await watched;
    return { load: combine(rounds), result, startedMs, doneMs };
}

function describeFailures(samples: readonly Sample[]): string {
    const failures = samples.filter(failed);
    const examples = failures.slice(0, 5).map((s) => s.error ?? `HTTP ${s.status}`);
    return `${failures.length} of ${samples.length} failed${examples.length > 0 ? `: ${examples.join("; ")}` : ""}`;
}

describe("the dev stack under the real engine on the local Docker engine", function () {
    this.timeout(40 * 60_000);
    let docker: DockerEnvironment | undefined;
    let stack: EngineStack;
    let client: LoopbackClient;
    let prometheus: PrometheusProcess | undefined;
    let alertmanager: AlertmanagerProcess | undefined;
    let receiver: StandInServer | undefined;
    let config: Config;
    let routerPort = 0;
    const timings: Record<string, number> = {};
    const figures: string[] = [];
    const devFile = () => path.join(stack.projectDir, "Pulumi.dev.yaml");
    let shippedDevFile = "";
    let machine: DockerMachine | undefined;

    const model = (c: Config = config) => (c["modelship:models"] as Record<string, Model>)[MODEL];
    /** The config file as the CLI left it after a step. */
    const readConfig = (): Config => (parse(fs.readFileSync(stack.configFile, "utf8")) as { config: Config }).config;
    const npm = (script: string, ...args: string[]) => run("npm", ["run", script, "--", "--config-file", stack.configFile, ...args], { cwd: stack.projectDir, env: stack.env, timeoutMs: 20 * 60_000 });
    const modelship = (...args: string[]) => stack.modelship(...args, "--stack", STACK, "--config-file", stack.configFile);
    /** The share of answers by track over SHARE_REQUESTS requests, none failed. */
    const shares = async (label: string, candidateShare: number) => {
        const load = await runLoad({ send: (i) => client.request({ path: INFER_PATH, body: inferBody(i) }), concurrency: CONCURRENCY, total: SHARE_REQUESTS });
        assert.equal(load.samples.filter(failed).length, 0, describeFailures(load.samples));
        const counts = countBy(load.samples, (s) => s.track);
        const bounds = binomialBounds(SHARE_REQUESTS, candidateShare);
        figures.push(`${label}: candidate ${counts.candidate ?? 0}/${SHARE_REQUESTS} (bounds ${bounds.low}..${bounds.high} for ${candidateShare * 100}%), ${load.throughput.toFixed(0)} req/s`);
        assert.ok(within(counts.candidate ?? 0, bounds), `${label}: ${JSON.stringify(counts)} against ${JSON.stringify(bounds)}`);
        assert.equal((counts.candidate ?? 0) + (counts.stable ?? 0), SHARE_REQUESTS, JSON.stringify(counts));
    };
    /** The stack's containers, by `<component> <track> <version>`, with their name and health. */
    const containers = (): Map<string, { name: string; status: string }> => {
        const format = `{{.Label "${LABEL.component}"}} {{.Label "${LABEL.track}"}} {{.Label "${LABEL.version}"}}\t{{.Names}}\t{{.Status}}`;
        const out = must("docker", ["ps", "-a", "--filter", `label=${LABEL.managedBy}=modelship`, "--filter", `label=${LABEL.environment}=${STACK}`, "--format", format]);
        return new Map(
            out
                .split("\n")
                .filter(Boolean)
                .map((line) => {
                    const [key, name, status] = line.split("\t");
                    return [key.trim(), { name, status }];
                }),
        );
    };
    const replica = (track: string, version: string) => {
        const found = containers().get(`model-server ${track} ${version}`);
        assert.ok(found, `a ${track} ${version} container: ${JSON.stringify([...containers()])}`);
        return found.name;
    };
    const routerConf = () => must("docker", ["exec", `${STACK}-modelship-router`, "cat", "/etc/nginx/nginx.conf"]);

    before(async function () {
        const bin = engineOrSkip(this, ENGINE_BINARIES);
        stack = new EngineStack(STACK, bin);
        machine = prepareDockerMachine();
        docker = machine.docker;
        const routerImage = machine.routerImage;
        shippedDevFile = fs.readFileSync(devFile(), "utf8");
        // A user's own override of the shipped stack file: this machine's images and a free port.
        config = (parse(shippedDevFile) as { config: Config }).config;
        routerPort = await freePort();
        // The model's artifacts, with two more versions for the broken builds below (copies of 1.5.0).
        const artifacts = path.join(stack.dir, "artifacts", MODEL);
        fs.cpSync(path.join(stack.projectDir, model().artifact as string), artifacts, { recursive: true });
        for (const version of [FAULTY, SMOKE_FAILS, LEAKY, DOUBTFUL, PREVIEW_FAILS, PREVIEWED]) {
            // The server checks the artifact is the version it was told to serve.
            const artifact = JSON.parse(fs.readFileSync(path.join(artifacts, "1.5.0", "model.json"), "utf8")) as Record<string, unknown>;
            fs.mkdirSync(path.join(artifacts, version));
            // With its checksum: fetch-artifact serves nothing that does not verify.
            const text = JSON.stringify({ ...artifact, version });
            fs.writeFileSync(path.join(artifacts, version, "model.json"), text);
            fs.writeFileSync(path.join(artifacts, version, "model.json.sha256"), `${createHash("sha256").update(text).digest("hex")}  model.json\n`);
        }
        model().artifact = artifacts;
        const target = (config["modelship:targets"] as Record<string, Record<string, unknown>>).local;
        target.port = routerPort;
        target.routerImage = routerImage;
        for (const track of Object.values(model().tracks)) (track.build as Record<string, unknown>).baseImage = docker.baseImage;
        stack.writeConfig(config);
        client = new LoopbackClient(routerPort, CONCURRENCY);
    });

    after(async function () {
        client?.close();
        await prometheus?.stop();
        await alertmanager?.stop();
        await receiver?.stop();
        if (shippedDevFile) {
            const now = fs.readFileSync(devFile(), "utf8");
            fs.writeFileSync(devFile(), shippedDevFile);
            assert.equal(now, shippedDevFile, "Pulumi.dev.yaml is left as shipped");
        }
        if (Object.keys(timings).length > 0)
            console.log(
                `      engine timings: ${Object.entries(timings)
                    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
                    .join(", ")}`,
            );
        for (const line of figures) console.log(`      ${line}`);
        // Whatever a failed step left behind.
        if (stack && containers().size > 0) await stack.destroy();
        // The prebuilt candidates this test pushed.
        if (docker)
            runSync("bash", ["-c", `docker image ls --format '{{.Repository}}:{{.Tag}}' '${docker.registry}/modelship/${MODEL}' | grep -E ':(1\\.[6-9]|2\\.[01])\\.0-' | xargs -r docker rmi -f`]);
        stack?.cleanup();
        releaseDockerMachine(machine);
    });

    it("`npm run up -- --config-file`: images built, lint/scan/smoke run as real commands, containers healthy, the canary's share answered by each version", async () => {
        const up = await npm("up", "--yes", "--skip-preview");
        assert.equal(up.status, 0, up.all);
        timings["npm run up"] = up.ms;
        for (const track of ["stable", "candidate"]) {
            assert.match(up.stdout, new RegExp(`${MODEL}-gates-${track}-lint .*lint: passed`), `${track} lint ran\n${up.stdout}`);
            assert.match(up.stdout, new RegExp(`${MODEL}-gates-${track}-scan .*scan: (NOT SCANNED \\(advisory\\)|passed)`), `${track} scan ran\n${up.stdout}`);
            assert.match(up.stdout, new RegExp(`${MODEL}-gates-${track}-smoke .*smoke: passed`), `${track} smoke ran\n${up.stdout}`);
        }
        const running = containers();
        assert.deepEqual([...running.keys()].sort(), ["model-server candidate 1.5.0", "model-server stable 1.4.0", "router"]);
        for (const [key, { name, status }] of running) if (key.startsWith("model-server")) assert.match(status, /\(healthy\)/, `${name}: ${status}`);
        const built = must("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", `modelship/${MODEL}`])
            .split("\n")
            .sort();
        assert.deepEqual(built, [`modelship/${MODEL}:1.4.0`, `modelship/${MODEL}:1.5.0`], "both versions were built into the local engine");
        await shares("after up (canary 10%)", 0.1);
    });

    it("a second preview right after `up` shows no change", async () => {
        const preview = await stack.preview();
        timings["preview, no change"] = preview.run.ms;
        assert.deepEqual(
            preview.changes.map((c) => `${c.op} ${c.type} ${c.name}`),
            [],
        );
    });

    it("`modelship promote --yes` under a steady load: the preview lists only the router's reload, the candidate's replicas and its smoke gate; 0 failed requests; the new shares", async () => {
        const next = structuredClone(config);
        model(next).strategy.step = 1;
        stack.writeConfig(next);
        const preview = await stack.preview();
        stack.writeConfig(config);
        const changed = preview.changes.map((c) => `${c.type} ${c.name}`);
        const allowed = [/^command:local:Command router-reload$/, /^docker:index\/container:Container fraud-scorer-candidate-\d+$/, /^command:local:Command fraud-scorer-gates-candidate-smoke$/];
        assert.deepEqual(
            changed.filter((c) => !allowed.some((a) => a.test(c))),
            [],
            `only the reload, replicas and the candidate's gate change:\n${changed.join("\n")}`,
        );
        assert.ok(changed.includes(`${TYPES.command} router-reload`), changed.join("\n"));

        const { load, result, startedMs, doneMs } = await loadDuring(client, modelship("promote", "--yes"));
        assert.equal(result.status, 0, result.all);
        timings["promote --yes"] = doneMs - startedMs;
        figures.push(`promote 10% -> 25% under load: ${describeFailures(load.samples)}, ${load.samples.filter((s) => s.retried).length} retried on a closed connection`);
        assert.equal(load.samples.filter(failed).length, 0, describeFailures(load.samples));
        config = readConfig();
        assert.equal(model().strategy.step, 1, "the config file holds the step");
        await shares("after promote (canary 25%)", 0.25);
    });

    it("a candidate whose smoke gate fails: the update fails before the router moves, and the traffic splits as before", async () => {
        const faulty = SMOKE_FAILS;
        const ref = `${docker?.registry}/modelship/${MODEL}:${faulty}`;
        // A broken build of the candidate: every inference fails.
        must("bash", ["-c", `printf 'FROM modelship/${MODEL}:1.5.0\\nENV FAULT_ERROR_RATE=1\\n' | docker build -q -t ${ref} - && docker push -q ${ref}`], {
            env: { ...process.env, DOCKER_BUILDKIT: "0" },
            timeout: 5 * 60_000,
        });
        const confBefore = routerConf();
        const broken = structuredClone(config);
        model(broken).tracks.candidate = { version: faulty, image: ref, replicas: 1 };
        model(broken).strategy.step = 0;
        stack.writeConfig(broken);
        const up = await stack.up("a candidate that fails its smoke gate");
        stack.writeConfig(config);
        timings["up, smoke gate fails"] = up.ms;
        assert.notEqual(up.status, 0, up.all);
        assert.match(up.all, /smoke: FAILED/, up.all);
        assert.equal(routerConf(), confBefore, "the router's config is the one before the update");
        await shares("after the failed smoke gate (still 25%)", 0.25);
        const versions = countBy((await runLoad({ send: (i) => client.request({ path: INFER_PATH, body: inferBody(i) }), concurrency: CONCURRENCY, total: 200 })).samples, (s) => s.version);
        assert.equal(versions[faulty], undefined, `no answer from ${faulty}: ${JSON.stringify(versions)}`);
    });

    it("`modelship rollback --yes` under a steady load: 0 failed requests, every answer from stable", async () => {
        // The failed update left the broken candidate's container; this step's update replaces it with the config's.
        const { load, result, startedMs, doneMs } = await loadDuring(client, modelship("rollback", "--yes"));
        assert.equal(result.status, 0, result.all);
        timings["rollback --yes"] = doneMs - startedMs;
        const settle = settleTime(load.samples, "stable", startedMs, Number.POSITIVE_INFINITY);
        figures.push(`rollback 25% -> 0% under load: ${describeFailures(load.samples)}; every answer from stable ${settle ? `${(settle.ms / 1000).toFixed(1)} s after the command started` : "never"}`);
        assert.equal(load.samples.filter(failed).length, 0, describeFailures(load.samples));
        assert.ok(settle, "the answers end in a run from stable");
        config = readConfig();
        assert.equal(model().strategy.abort, true, "the config file holds the rollback");
        await shares("after rollback (0%)", 0);
    });

    it("`modelship auto` against Prometheus scraping the containers: a candidate that fails requests is rolled back", async function () {
        const promBin = prometheusOrSkip(this);
        const faulty = FAULTY;
        const ref = `${docker?.registry}/modelship/${MODEL}:${faulty}`;
        must("bash", ["-c", `printf 'FROM modelship/${MODEL}:1.5.0\\nENV FAULT_ERROR_RATE=0.15\\n' | docker build -q -t ${ref} - && docker push -q ${ref}`], {
            env: { ...process.env, DOCKER_BUILDKIT: "0" },
            timeout: 5 * 60_000,
        });
        const next = structuredClone(config);
        model(next).tracks.candidate = { version: faulty, image: ref, replicas: 1 };
        model(next).strategy = { type: "canary", steps: [10, 25, 50, 100], step: 0 };
        // Its smoke gate passes (a retry of eleven that all fail is about 1e-6 likely); its traffic does not.
        model(next).gates = { smoke: { retries: 10 } };
        stack.writeConfig(next);
        const up = await stack.up("a candidate that fails 15% of its requests");
        assert.equal(up.status, 0, up.all);
        config = next;

        const published = (name: string) => must("docker", ["port", name, "8080/tcp"]).split("\n")[0];
        prometheus = new PrometheusProcess();
        await prometheus.start(promBin, { stable: published(replica("stable", "1.4.0")), candidate: published(replica("candidate", faulty)) });
        const { load, result, startedMs, doneMs } = await loadDuring(client, modelship("auto", "--prometheus", `http://127.0.0.1:${prometheus.port}`, "--bake", "20"));
        timings["auto (bake 20 s, analyze, roll back)"] = doneMs - startedMs;
        assert.equal(result.status, 1, result.all);
        assert.match(result.stdout, new RegExp(`${MODEL}: ROLLBACK`), result.all);
        assert.match(result.stdout, /auto: rolling back: /, result.all);
        figures.push(
            `auto: ${result.stdout
                .split("\n")
                .filter((l) => /ROLLBACK|error rate|rolling back/.test(l))
                .join(" | ")}; load ${load.samples.length} requests`,
        );
        config = readConfig();
        assert.equal(model().strategy.abort, true, "the config file holds the rollback");
        await shares("after the automatic rollback (0%)", 0);
    });

    /**
     * A prebuilt candidate: stable's image (the only build still on the engine by now: the stack
     * removed 1.5.0's when the faulty candidate replaced it) with its environment changed, pushed
     * to this machine's registry. The version it serves comes from the stack, not the image.
     */
    const candidateImage = (version: string, env: string) => {
        const ref = `${docker?.registry}/modelship/${MODEL}:${version}`;
        must("bash", ["-c", `printf 'FROM modelship/${MODEL}:1.4.0\\nENV ${env}\\n' | docker build -q -t ${ref} - && docker push -q ${ref}`], {
            env: { ...process.env, DOCKER_BUILDKIT: "0" },
            timeout: 5 * 60_000,
        });
        return ref;
    };
    /** A real Alertmanager routing to a loopback receiver, started once for the notification tests. */
    const notifications = async (context: Mocha.Context) => {
        if (!alertmanager) {
            const bin = alertmanagerOrSkip(context);
            receiver = new StandInServer({ status: 200 });
            await receiver.start();
            alertmanager = new AlertmanagerProcess();
            await alertmanager.start(bin, `${receiver.url}/alerts`);
        }
        return { alertmanager: alertmanager.url };
    };
    /** The rollout alerts the receiver got so far, oldest first. */
    const delivered = () => (receiver?.received ?? []).flatMap((r) => (JSON.parse(r.text) as AlertmanagerWebhook).alerts.map((alert) => ({ alert, at: r.at })));
    /** The first alert of this event after the first `skip` ones, polled for at most 30 s. */
    const deliveredEvent = async (event: string, skip = 0) => {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
            const found = delivered()
                .slice(skip)
                .find((d) => d.alert.labels.event === event);
            if (found) return found;
        }
        assert.fail(`no ${event} alert reached the receiver: ${JSON.stringify(delivered().slice(skip))}`);
    };

    it("`modelship auto`: a candidate that leaks memory is rolled back by itself as an infrastructure failure, and the rollback reaches a receiver through Alertmanager", async function () {
        const promBin = prometheusOrSkip(this);
        const ref = candidateImage(LEAKY, `FAULT_LEAK_BYTES_PER_REQUEST=${LEAK_BYTES_PER_REQUEST}`);
        const next = structuredClone(config);
        model(next).tracks.candidate = { version: LEAKY, image: ref, replicas: 1 };
        model(next).strategy = { type: "canary", steps: [10, 25, 50, 100], step: 0 };
        // A bake webhook (a load test's trigger, say) is called while the candidate bakes; it answers 200: no objection.
        const hook = await new StandInServer({ status: 200, body: '{"started": true}' }).start();
        model(next).analysis = { bakeSeconds: 20, notifications: await notifications(this), webhooks: [{ name: "load-test", url: `${hook.url}/bake`, when: "bake", timeoutSeconds: 10 }] };
        stack.writeConfig(next);
        const up = await stack.up("a candidate that leaks memory");
        assert.equal(up.status, 0, up.all);
        config = next;

        const published = (name: string) => must("docker", ["port", name, "8080/tcp"]).split("\n")[0];
        await prometheus?.stop();
        prometheus = new PrometheusProcess();
        await prometheus.start(promBin, { stable: published(replica("stable", "1.4.0")), candidate: published(replica("candidate", LEAKY)) });
        const memory = defaultTemplates({ maxErrorRate: 0.01, maxP95LatencyMs: 250 }).find((t) => t.name === "memory")!;
        const memoryQuery = renderQuery(memory.query, { model: MODEL, track: "candidate", namespace: "", window: "60s" });
        // When Prometheus first sees the candidate over its memory threshold: the failing signal.
        let signalMs: number | undefined;
        let watching = true;
        const watch = (async () => {
            for (let polls = 0; watching && polls < 2400 && signalMs === undefined; polls++, await sleep(250)) {
                const [ratio] = await prometheus.query(memoryQuery).catch(() => []);
                if (ratio && Number(ratio.value[1]) > memory.max!) signalMs = Date.now();
            }
        })();
        const { load, result } = await loadDuring(client, modelship("auto", "--prometheus", `http://127.0.0.1:${prometheus.port}`));
        const doneMs = Date.now();
        watching = false;
        await watch;
        assert.equal(result.status, 1, result.all);
        assert.match(result.stdout, new RegExp(`${MODEL}: ROLLBACK`), result.all);
        assert.match(result.stdout, /memory: candidate \d+(\.\d+)?% over 90%/, result.all);
        assert.match(result.stdout, /auto: rolling back: infrastructure: /, result.all);
        assert.ok(signalMs !== undefined, "Prometheus saw the candidate over 90% of its memory limit");
        config = readConfig();
        assert.equal(model().strategy.abort, true, "the config file holds the rollback");
        const rolledBack = await deliveredEvent("rolled-back");
        assert.deepEqual(
            { ...rolledBack.alert.labels },
            { alertname: "ModelshipRollout", event: "rolled-back", model: MODEL, track: "candidate", environment: STACK, severity: "critical", stack: STACK, version: LEAKY },
        );
        assert.match(rolledBack.alert.annotations.description ?? "", /memory: candidate/);
        await hook.stop();
        assert.ok(hook.received.length >= 1, "the bake webhook was called");
        assert.deepEqual((({ name, when, model: m, version, stack: st }) => ({ name, when, model: m, version, stack: st }))(JSON.parse(hook.received[0].text) as Record<string, unknown>), {
            name: "load-test",
            when: "bake",
            model: MODEL,
            version: LEAKY,
            stack: STACK,
        });
        timings["auto: failing memory signal in Prometheus to the rollback update finished"] = doneMs - signalMs;
        figures.push(
            `leak: ${result.stdout
                .split("\n")
                .filter((l) => /ROLLBACK|memory|rolled back in/.test(l))
                .join(" | ")}; notification latency, event to receiver ${rolledBack.at - Date.parse(rolledBack.alert.startsAt)} ms; load ${load.samples.length} requests`,
        );
        await shares("after the leak's rollback (0%)", 0);
    });

    it("`modelship auto`: a quality failure pauses for a person and notifies; nothing is rolled back", async function () {
        const promBin = prometheusOrSkip(this);
        const ref = candidateImage(DOUBTFUL, "FAULT_ERROR_RATE=0");
        const next = structuredClone(config);
        model(next).tracks.candidate = { version: DOUBTFUL, image: ref, replicas: 1 };
        model(next).strategy = { type: "canary", steps: [10, 25, 50, 100], step: 0 };
        const score = (agg: string) => `sum(rate(modelship_prediction_score_${agg}{model="{{model}}",track="{{track}}"}[{{window}}]))`;
        model(next).analysis = {
            bakeSeconds: 20,
            notifications: await notifications(this),
            // The mean score must be under half of stable's: a healthy copy of stable's model is not.
            metrics: [{ name: "mean-score", kind: "quality", query: `${score("sum")} / ${score("count")}`, maxRatioToStable: 0.5, minSamples: 20 }],
        };
        stack.writeConfig(next);
        const up = await stack.up("a candidate in doubt on quality");
        assert.equal(up.status, 0, up.all);
        config = next;
        const before = fs.readFileSync(stack.configFile, "utf8");

        const published = (name: string) => must("docker", ["port", name, "8080/tcp"]).split("\n")[0];
        await prometheus?.stop();
        prometheus = new PrometheusProcess();
        await prometheus.start(promBin, { stable: published(replica("stable", "1.4.0")), candidate: published(replica("candidate", DOUBTFUL)) });
        const seen = delivered().length;
        const { result } = await loadDuring(client, modelship("auto", "--prometheus", `http://127.0.0.1:${prometheus.port}`));
        assert.equal(result.status, 1, result.all);
        assert.match(result.stdout, /mean score: candidate [\d.]+ over 0\.5x stable/, result.all);
        assert.match(result.stdout, /auto: paused: .*analysis failed on quality.*onFailure\.quality is pause/, result.all);
        assert.doesNotMatch(result.stdout, /rolling back/, result.all);
        assert.equal(fs.readFileSync(stack.configFile, "utf8"), before, "no step was taken: the stack file is as it was");
        const paused = await deliveredEvent("paused", seen);
        assert.equal(paused.alert.labels.severity, "warning");
        assert.match(paused.alert.annotations.description ?? "", /mean score: candidate/);
        figures.push(
            `quality: ${result.stdout
                .split("\n")
                .filter((l) => /ROLLBACK|mean score|paused/.test(l))
                .join(" | ")}; notification latency ${paused.at - Date.parse(paused.alert.startsAt)} ms`,
        );
    });

    it("gradual blue-green: `modelship promote` checks the candidate's pool as a preview first; a failing pool is stopped before any live request, a healthy one takes its first step", async function () {
        const promBin = prometheusOrSkip(this);
        const published = (name: string) => must("docker", ["port", name, "8080/tcp"]).split("\n")[0];
        const deployPreview = async (version: string, env: string) => {
            const next = structuredClone(config);
            model(next).tracks.candidate = { version, image: candidateImage(version, env), replicas: 1 };
            model(next).strategy = { type: "blueGreen", steps: [50, 100], preview: { requests: 80 } };
            model(next).analysis = { maxErrorRate: 0.02, maxP95LatencyMs: 300 };
            // The failing pool passes its smoke gate (eleven tries); the preview's 81 requests it does not.
            model(next).gates = { smoke: { retries: 10 } };
            stack.writeConfig(next);
            const up = await stack.up(`blue-green preview of ${version}`);
            assert.equal(up.status, 0, up.all);
            config = next;
            await prometheus?.stop();
            prometheus = new PrometheusProcess();
            await prometheus.start(promBin, { stable: published(replica("stable", "1.4.0")), candidate: published(replica("candidate", version)) });
            return `http://127.0.0.1:${prometheus.port}`;
        };

        const failingProm = await deployPreview(PREVIEW_FAILS, "FAULT_ERROR_RATE=0.3");
        await shares("blue-green preview (0%)", 0);
        const before = fs.readFileSync(stack.configFile, "utf8");
        const refused = await modelship("promote", "--yes", "--prometheus", failingProm);
        assert.equal(refused.status, 1, refused.all);
        assert.match(refused.all, /preview check of 2\.0\.0-preview-fails: ROLLBACK/, refused.all);
        assert.match(refused.all, /preview: \d+ of 81 requests pinned to 2\.0\.0-preview-fails failed/, refused.all);
        assert.match(refused.all, /nothing was applied/, refused.all);
        assert.equal(fs.readFileSync(stack.configFile, "utf8"), before, "the stack file is unchanged");
        await shares("after the refused preview (0%)", 0);

        const healthyProm = await deployPreview(PREVIEWED, "FAULT_ERROR_RATE=0");
        const started = performance.now();
        const promoted = await modelship("promote", "--yes", "--prometheus", healthyProm);
        timings["promote with a preview check (81 requests, metrics, update)"] = performance.now() - started;
        assert.equal(promoted.status, 0, promoted.all);
        assert.match(promoted.stdout, /preview: all 81 requests pinned to 2\.1\.0-previewed answered as the smoke gate expects/, promoted.all);
        assert.match(promoted.stdout, /preview check of 2\.1\.0-previewed: PROMOTE/, promoted.all);
        assert.match(promoted.stdout, /done: fraud-scorer: blue-green step 1\/2: 2\.1\.0-previewed's pool from 0% to 50%/, promoted.all);
        config = readConfig();
        assert.equal(model().strategy.step, 0);
        await shares("blue-green step 1/2 (50%)", 0.5);
        figures.push(
            `preview check: refused ${refused.stdout
                .split("\n")
                .filter((l) => /^\s+preview: \d+ of/.test(l))
                .map((l) => l.trim().slice(0, 200))
                .join(" ")}; passed ${promoted.stdout
                .split("\n")
                .filter((l) => /preview: all|error rate|p95/.test(l))
                .join(" | ")}`,
        );
    });

    it("`npm run destroy` leaves no container, network or image of the stack, and an empty state", async () => {
        const destroyed = await npm("destroy", "--yes", "--skip-preview");
        assert.equal(destroyed.status, 0, destroyed.all);
        timings["npm run destroy"] = destroyed.ms;
        assert.deepEqual([...containers().keys()], []);
        assert.equal(runSync("docker", ["network", "inspect", `modelship-${STACK}`]).status, 1, "the network is gone");
        assert.equal(must("docker", ["image", "ls", "-q", `modelship/${MODEL}`]), "", "the built images are gone");
        assert.deepEqual(await stack.resources(), []);
        // The published port is free again.
        await sleep(100);
        assert.equal((await client.request({ path: "/healthz" }).catch((e: Error) => ({ status: 0, error: e.message }))).status, 0);
    });
});
