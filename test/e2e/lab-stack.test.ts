/**
 * The lab stack (Pulumi.lab.yaml) under the real Pulumi engine against a kwok cluster: the
 * README's `npm run up`, then one stack update per rollout step, each read back from the API
 * server. The steps run in order: each starts from the state the one before left.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { parseConfig } from "../../components/config/parse";
import { planTraffic } from "../../components/traffic/plan";
import { perTrack } from "../../components/traffic/types";
import { PLANS_ANNOTATION, readPlansAnnotation } from "../../components/traffic/plan-annotation";
import { LoopbackClient } from "../support/load";
import { inferBody, INFER_PATH, startModelServer, type ModelServerProcess } from "../support/model-server";
import { PrometheusProcess, prometheusOrSkip } from "../support/prometheus";
import { KwokCluster, type KubeObject } from "./support/cluster";
import { EngineStack, engineOrSkip, run, type Run } from "./support/engine";
import { isOn, PULUMI_ENV, TEST_ENV } from "../../tools/env-vars";
import { TYPES } from "../../components/type-tokens";

const STACK = "lab";
const GATEWAY_NS = "lab-gateway";
const NGINX_NS = "lab-nginx";
const ENVIRONMENT_LABEL = "app.kubernetes.io/managed-by=modelship,modelship.dev/environment=lab";
/** Pods of this version never become ready (a kwok Stage below): a candidate that fails its rollout. */
const NEVER_READY = "1.6.0-never-ready";
/** Smoke Job pods checking this version fail (a kwok Stage below): a candidate that fails its smoke gate. */
const SMOKE_FAILS = "1.7.0-smoke-fails";

type Config = Record<string, unknown>;
type Models = Record<string, Record<string, unknown>>;

/** The split rule's weights of a model's HTTPRoute, by track: the last rule, without a header match. */
function routeWeights(route: KubeObject): Record<string, number> {
    const rules = (route.spec?.rules ?? []) as Array<{ backendRefs: Array<{ name: string; weight: number }> }>;
    const split = rules[rules.length - 1];
    return Object.fromEntries(split.backendRefs.map((b) => [b.name.replace(/^fraud-scorer-/, ""), b.weight]));
}

/** One inference to each server every 50 ms until stopped: traffic for the analysis to read. */
function pacedLoad(servers: readonly ModelServerProcess[]): { stop(): Promise<void> } {
    const clients = servers.map((server) => new LoopbackClient(server.port, 2));
    let running = true;
    const loop = (async () => {
        for (let i = 0; running; i++) {
            await Promise.all(clients.map((client) => client.request({ path: INFER_PATH, body: inferBody(i) }).catch(() => undefined)));
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
            clients.forEach((c) => c.close());
        },
    };
}

function stageFor(name: string, selector: Record<string, string>, status: string): string {
    return [
        "apiVersion: kwok.x-k8s.io/v1alpha1",
        "kind: Stage",
        `metadata: { name: ${name} }`,
        "spec:",
        "  resourceRef: { apiGroup: v1, kind: Pod }",
        "  selector:",
        `    matchLabels: ${JSON.stringify(selector)}`,
        "    matchExpressions:",
        "    - { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' }",
        "    - { key: '.status.phase', operator: 'In', values: ['Pending'] }",
        // Above kwok's own pod-ready and pod-complete stages (weight 0) for the pods it selects.
        "  weight: 10",
        "  next:",
        "    statusTemplate: |",
        ...status.split("\n").map((line) => `      ${line}`),
    ].join("\n");
}

const NEVER_READY_STATUS = `{{ $now := Now }}
conditions:
- { type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }} }
- { type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }} }
- { type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }} }
- { type: Ready, status: "False", reason: ContainersNotReady, message: "readiness probe failed", lastTransitionTime: {{ $now | Quote }} }
containerStatuses:
{{ range .spec.containers }}
- { name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: true, restartCount: 0, state: { running: { startedAt: {{ $now | Quote }} } } }
{{ end }}
phase: Running
startTime: {{ $now | Quote }}`;

const FAILED_STATUS = `{{ $now := Now }}
containerStatuses:
{{ range .spec.containers }}
- { name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: Error, message: "smoke: FAILED infer", startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }} } } }
{{ end }}
phase: Failed
startTime: {{ $now | Quote }}`;

describe("the lab stack under the real engine (kwok cluster)", function () {
    this.timeout(15 * 60_000);
    let cluster: KwokCluster;
    let stack: EngineStack;
    let base: Config;
    const timings: Record<string, number> = {};
    const labFile = () => path.join(stack.projectDir, "Pulumi.lab.yaml");
    let committedLabFile = "";

    const models = (config: Config) => config["modelship:models"] as Models;
    /** The lab config with changes to fraud-scorer's and churn-predictor's settings. */
    const withModels = (changes: { fraud?: Record<string, unknown>; churn?: Record<string, unknown> }): Config => {
        const copy = structuredClone(base);
        Object.assign(models(copy)["fraud-scorer"], changes.fraud ?? {});
        Object.assign(models(copy)["churn-predictor"], changes.churn ?? {});
        return copy;
    };
    const canaryStep = (step: number, extra: Record<string, unknown> = {}) => ({ strategy: { type: "canary", steps: [10, 25, 50, 75, 100], step, ...extra } });
    const candidate = (version: string) => ({ candidate: { version, image: `127.0.0.1:5000/modelship/fraud-scorer:${version}`, replicas: 2 } });
    const withCandidate = (version: string) => ({ tracks: { stable: (models(base)["fraud-scorer"].tracks as Config).stable, ...candidate(version) } });
    /** The weights the config's plan gives fraud-scorer. */
    const plannedWeights = (config: Config) => {
        const raw = Object.fromEntries(Object.entries(config).flatMap(([key, value]) => (key.startsWith("modelship:") ? [[key.slice("modelship:".length), value]] : [])));
        const parsed = parseConfig(raw, STACK);
        return perTrack(planTraffic("fraud-scorer", parsed.models["fraud-scorer"]), (t) => t.weight);
    };
    const route = async () => {
        const found = await cluster.get("httproute", "fraud-scorer", GATEWAY_NS);
        assert.ok(found, "the fraud-scorer HTTPRoute exists");
        return found;
    };
    const upOk = async (label: string, config: Config): Promise<Run> => {
        stack.writeConfig(config);
        const result = await stack.up(label);
        assert.equal(result.status, 0, result.all);
        timings[label] = result.ms;
        return result;
    };

    before(async function () {
        const bin = engineOrSkip(this);
        cluster = await KwokCluster.up(bin);
        await cluster.apply(stageFor("modelship-e2e-never-ready", { "app.kubernetes.io/version": NEVER_READY }, NEVER_READY_STATUS));
        await cluster.apply(stageFor("modelship-e2e-smoke-fails", { "app.kubernetes.io/component": "smoke-gate", "app.kubernetes.io/version": SMOKE_FAILS }, FAILED_STATUS));
        stack = new EngineStack(STACK, bin, cluster.kubeconfig);
        committedLabFile = fs.readFileSync(labFile(), "utf8");
        base = (parse(committedLabFile) as { config: Config }).config;
    });

    after(async function () {
        if (committedLabFile) fs.writeFileSync(labFile(), committedLabFile);
        if (Object.keys(timings).length > 0) {
            console.log(
                `      engine timings: ${Object.entries(timings)
                    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
                    .join(", ")}`,
            );
        }
        stack?.cleanup();
        if (cluster && !isOn(TEST_ENV.keepCluster)) await cluster.down();
    });

    it("`npm run up -- --stack lab` creates every object, and the API server has them", async () => {
        const result = await run("npm", ["run", "up", "--", "--stack", STACK, "--yes", "--skip-preview"], { cwd: stack.projectDir, env: stack.env, timeoutMs: 10 * 60_000 });
        assert.equal(result.status, 0, result.all);
        timings["npm run up"] = result.ms;
        // `stack select --create` keeps the stack's encryption salt in its stack file; the later runs use it from their own config file.
        stack.adoptSalt(fs.readFileSync(labFile(), "utf8"));
        fs.writeFileSync(labFile(), committedLabFile);

        for (const [ns, name] of [
            [GATEWAY_NS, "fraud-scorer-stable"],
            [GATEWAY_NS, "fraud-scorer-candidate"],
            [NGINX_NS, "churn-predictor-stable"],
            [NGINX_NS, "churn-predictor-candidate"],
            [NGINX_NS, "modelship-router"],
        ]) {
            const deployment = await cluster.get("deployment", name, ns);
            assert.ok(deployment, `Deployment ${ns}/${name}`);
            assert.equal(deployment.status?.availableReplicas, (deployment.spec as { replicas: number }).replicas, `${name} is available`);
        }
        assert.deepEqual(routeWeights(await route()), plannedWeights(base));
        assert.deepEqual(routeWeights(await route()), { stable: 90, candidate: 10 });
        const jobs = await cluster.list("jobs", "app.kubernetes.io/component=smoke-gate");
        assert.deepEqual(
            jobs.map((j) => (j.status as { succeeded?: number }).succeeded),
            [1, 1],
            "both tracks' smoke Jobs passed before the route",
        );
        const resources = await stack.resources();
        assert.ok(resources.some((r) => r.type === TYPES.httpRoute));
    });

    it("the preview of the next canary step lists only the route, the candidate's replicas and its smoke gate", async () => {
        const next = withModels({ fraud: canaryStep(1) });
        stack.writeConfig(next);
        const preview = await stack.preview();
        const changed = preview.changes.map((s) => `${s.type} ${s.name}`);
        const allowed = new Set([`${TYPES.httpRoute} fraud-scorer-route`, `${TYPES.deployment} fraud-scorer-candidate`, `${TYPES.job} fraud-scorer-gates-candidate-smoke`]);
        assert.deepEqual(
            changed.filter((c) => !allowed.has(c)),
            [],
            `only router, replicas and the candidate's gate change:\n${changed.join("\n")}`,
        );
        assert.ok(changed.includes(`${TYPES.httpRoute} fraud-scorer-route`), changed.join("\n"));
        assert.ok(changed.includes(`${TYPES.job} fraud-scorer-gates-candidate-smoke`), changed.join("\n"));
        assert.ok(!changed.some((c) => c.includes("churn-predictor") || c.includes("router")), "nothing of the nginx target changes");

        const summary = await stack.node("dist/cli/preview-summary.js", ["--stack", STACK, "--config-file", stack.configFile]);
        assert.equal(summary.status, 0, summary.all);
        timings["preview:summary"] = summary.ms;
        assert.match(summary.stdout, /^\| \*\*fraud-scorer\*\* \| canary 1\/5 → \*\*canary 2\/5\*\* \|/m, summary.all);
        assert.match(summary.stdout, /^\| \| candidate \| 1\.5\.0 \| 10% → \*\*25%\*\* \|/m, summary.all);
        assert.match(summary.stdout, /^\| \| stable \| 2\.0\.1 \| 100% \| 0% \| 1 \|$/m, "churn-predictor unchanged");
        assert.match(summary.stdout, /^\*\*Resources\*\*: .*update/m, summary.all);
        assert.match(summary.stdout, /^\*\*Policies\*\*: no violations$/m, summary.all);
    });

    it("`pulumi up` applies the step: the HTTPRoute's weights read back from the API server match the plan", async () => {
        const before = await route();
        const next = withModels({ fraud: canaryStep(1) });
        await upOk("promote 10 -> 25", next);
        const after = await route();
        assert.deepEqual(routeWeights(after), plannedWeights(next));
        assert.deepEqual(routeWeights(after), { stable: 75, candidate: 25 });
        assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
        const plans = readPlansAnnotation(after.metadata.annotations?.[PLANS_ANNOTATION]);
        assert.equal(plans?.[0].step, 1, "the route carries the plan it was made from");
    });

    it("a blue-green switch on the nginx router changes only the router and flips its plan", async () => {
        const next = withModels({ fraud: canaryStep(1), churn: { strategy: { type: "blueGreen", active: "candidate" } } });
        stack.writeConfig(next);
        const preview = await stack.preview();
        const changed = preview.changes.map((s) => `${s.type} ${s.name}`);
        assert.deepEqual(
            changed.filter((c) => !/(ConfigMap|Deployment) nginx-modelship-router/.test(c)),
            [],
            changed.join("\n"),
        );
        await upOk("blue-green switch", next);
        const router = await cluster.get("configmap", "modelship-router", NGINX_NS);
        const plans = readPlansAnnotation(router?.metadata.annotations?.[PLANS_ANNOTATION]);
        assert.deepEqual(plans?.find((p) => p.model === "churn-predictor")?.weights, { stable: 0, candidate: 100 });
    });

    it("a candidate that never becomes ready fails the update, and the route stays as it was", async () => {
        const before = await route();
        const broken = withModels({ fraud: { ...canaryStep(2), ...withCandidate(NEVER_READY), readyTimeoutSeconds: 20 }, churn: { strategy: { type: "blueGreen", active: "candidate" } } });
        stack.writeConfig(broken);
        const result = await stack.up("candidate that never becomes ready");
        assert.notEqual(result.status, 0, result.all);
        assert.match(result.stdout + result.stderr, /fraud-scorer-candidate/, result.all);
        const after = await route();
        assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "the route object was not touched");
        assert.deepEqual(routeWeights(after), { stable: 75, candidate: 25 });
    });

    it("a candidate whose smoke gate fails stops the update before the route", async () => {
        const before = await route();
        const failing = withModels({ fraud: { ...canaryStep(2), ...withCandidate(SMOKE_FAILS) }, churn: { strategy: { type: "blueGreen", active: "candidate" } } });
        stack.writeConfig(failing);
        const result = await stack.up("candidate whose smoke gate fails");
        assert.notEqual(result.status, 0, result.all);
        assert.match(result.stdout + result.stderr, /fraud-scorer-gates-candidate-smoke/, result.all);
        const after = await route();
        assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "the route object was not touched");
        assert.deepEqual(routeWeights(after), { stable: 75, candidate: 25 });
    });

    it("`abort` sends all traffic back to stable in one update", async () => {
        const updatesBefore = await stack.updates();
        const aborted = withModels({ fraud: canaryStep(1, { abort: true }), churn: { strategy: { type: "blueGreen", active: "candidate" } } });
        await upOk("abort", aborted);
        assert.equal(await stack.updates(), updatesBefore + 1);
        assert.deepEqual(routeWeights(await route()), { stable: 100, candidate: 0 });
        const candidateDeployment = await cluster.get("deployment", "fraud-scorer-candidate", GATEWAY_NS);
        assert.ok(candidateDeployment, "the candidate stays deployed, for inspection");
    });

    it("the policy pack given to `pulumi preview --policy-pack` with the lab's policy config blocks a canary that jumps too far, by name", async () => {
        const pack = ["--policy-pack", path.join(stack.projectDir, "policies"), "--policy-pack-config", path.join(stack.projectDir, "policies", "config", "lab.json")];
        stack.writeConfig(withModels({ fraud: canaryStep(1, { abort: true }), churn: { strategy: { type: "blueGreen", active: "candidate" } } }));
        const good = await stack.previewText(pack);
        assert.equal(good.status, 0, `the stack as it is passes the pack (every policy mandatory)\n${good.all}`);
        stack.writeConfig(withModels({ fraud: { strategy: { type: "canary", steps: [10, 100], step: 0 } }, churn: { strategy: { type: "blueGreen", active: "candidate" } } }));
        const bad = await stack.previewText(pack);
        assert.notEqual(bad.status, 0, bad.all);
        assert.match(bad.stdout + bad.stderr, /canary-step-cap/, bad.all);
        assert.match(bad.stdout + bad.stderr, /fraud-scorer: canary steps 10 -> 100 add more than 25 points; add intermediate steps/, bad.all);
    });

    it("`modelship promote` and `modelship rollback` edit the stack file once the update succeeded and are one update each; `status` shows where it stands", async () => {
        // The committed lab file (canary at step 0) with this stack's salt, as a user's clone has it after `npm run up`.
        fs.writeFileSync(labFile(), `encryptionsalt: ${stack.salt()}\n${committedLabFile}`);
        try {
            const updatesBefore = await stack.updates();
            const preview = await stack.modelship("promote", "--stack", STACK, "--model", "fraud-scorer");
            assert.equal(preview.status, 0, preview.all);
            assert.match(preview.stdout, /previewed only; the stack file is unchanged/, preview.all);
            assert.equal(fs.readFileSync(labFile(), "utf8"), `encryptionsalt: ${stack.salt()}\n${committedLabFile}`, "a preview leaves the file as it was");
            assert.equal(await stack.updates(), updatesBefore, "a preview is no update");

            // A backend without the stack: the real engine fails, and the file stays as it was, run after run.
            const emptyState = fs.mkdtempSync(path.join(stack.dir, "empty-state-"));
            for (const args of [["promote"], ["promote"], ["promote", "--yes"]]) {
                const missing = await stack.node("dist/cli/main.js", [...args, "--stack", STACK, "--model", "fraud-scorer"], 120_000, { [PULUMI_ENV.backendUrl]: `file://${emptyState}` });
                assert.equal(missing.status, 1, missing.all);
                assert.match(missing.stderr, /no stack named '[^']*lab' found/, missing.all);
                assert.equal(fs.readFileSync(labFile(), "utf8"), `encryptionsalt: ${stack.salt()}\n${committedLabFile}`, `${args.join(" ")} on a missing stack leaves the file as it was`);
            }

            const promoted = await stack.modelship("promote", "--stack", STACK, "--model", "fraud-scorer", "--yes");
            assert.equal(promoted.status, 0, promoted.all);
            timings["modelship promote"] = promoted.ms;
            assert.match(fs.readFileSync(labFile(), "utf8"), /strategy: \{type: canary, steps: \[10, 25, 50, 75, 100\], step: 1\}/);
            assert.deepEqual(routeWeights(await route()), { stable: 75, candidate: 25 });

            const rolledBack = await stack.modelship("rollback", "--stack", STACK, "--model", "fraud-scorer", "--yes");
            assert.equal(rolledBack.status, 0, rolledBack.all);
            timings["modelship rollback"] = rolledBack.ms;
            assert.deepEqual(routeWeights(await route()), { stable: 100, candidate: 0 });
            assert.equal(await stack.updates(), updatesBefore + 2);

            const status = await stack.modelship("status", "--stack", STACK, "--model", "fraud-scorer");
            assert.equal(status.status, 0, status.all);
            assert.match(status.stdout, /last update update succeeded at .* \(fraud-scorer: abort: all live traffic back to stable 1\.4\.0; candidate 1\.5\.0 kept warm for inspection\)/, status.all);
            assert.match(status.stdout, /^fraud-scorer: canary, step 2\/5, ABORTED/m, status.all);
            assert.match(status.stdout, /^ {2}candidate 1\.5\.0 +weight +0%, replicas 1$/m, status.all);

            const again = await stack.modelship("promote", "--stack", STACK, "--model", "fraud-scorer", "--yes");
            assert.equal(again.status, 1, again.all);
            assert.match(again.stderr, /rollout of 1\.5\.0 is aborted: set strategy\.abort to false to resume it/, again.all);
        } finally {
            fs.writeFileSync(labFile(), committedLabFile);
        }
    });

    it("`modelship auto` takes a healthy candidate to the end step by step, and rolls a failing one back", async function () {
        // kwok runs no containers: the tracks' metrics come from model servers on loopback, as the pods would report them.
        const prometheusBin = prometheusOrSkip(this);
        const servers = {
            stable: await startModelServer({ track: "stable", version: "1.4.0" }),
            healthy: await startModelServer({ track: "candidate", version: "1.5.0" }),
            failing: await startModelServer({ track: "candidate", version: "1.5.0", faults: { errorRate: 1 } }),
        };
        const prometheus = new PrometheusProcess();
        const salted = `encryptionsalt: ${stack.salt()}\n${committedLabFile}`;
        try {
            await prometheus.start(prometheusBin, { stable: servers.stable.address, healthy: servers.healthy.address, failing: servers.failing.address });
            const auto = () => stack.modelship("auto", "--stack", STACK, "--model", "fraud-scorer", "--prometheus", `http://127.0.0.1:${prometheus.port}`, "--bake", "5");

            // A healthy candidate: every step promoted after its analysis, then concluded.
            await upOk("back to the first step", withModels({}));
            fs.writeFileSync(labFile(), salted);
            let load = pacedLoad([servers.stable, servers.healthy]);
            const healthy = await auto();
            await load.stop();
            assert.equal(healthy.status, 0, healthy.all);
            timings["auto, healthy candidate to stable"] = healthy.ms;
            assert.equal((healthy.stdout.match(/^fraud-scorer: PROMOTE/gm) ?? []).length, 5, healthy.all);
            assert.match(healthy.stdout, /the rollout is complete \(stable 1\.5\.0\)/, healthy.all);
            assert.deepEqual(routeWeights(await route()), { stable: 100 });

            // A failing candidate: the first analysis rolls it back, in one update.
            fs.writeFileSync(labFile(), salted);
            await upOk("a new rollout", withModels({}));
            assert.deepEqual(routeWeights(await route()), { stable: 90, candidate: 10 });
            const firstErrors = performance.now();
            load = pacedLoad([servers.stable, servers.failing]);
            const failing = await auto();
            const rolledBackAfter = performance.now() - firstErrors;
            await load.stop();
            assert.equal(failing.status, 1, failing.all);
            timings["auto, failing candidate: first errors to rolled back"] = rolledBackAfter;
            assert.match(failing.stdout, /^fraud-scorer: ROLLBACK/m, failing.all);
            assert.match(failing.stdout, /error rate: candidate \d+(\.\d+)?% over 1% \(stable 0%\)/, failing.all);
            assert.deepEqual(routeWeights(await route()), { stable: 100, candidate: 0 }, failing.all);
            assert.match(fs.readFileSync(labFile(), "utf8"), /abort: true/);
            const history = await stack.pulumi(["stack", "history", "--json", "--page-size", "7", "--stack", STACK], 60_000);
            const messages = (JSON.parse(history.stdout) as Array<{ message: string }>).map((u) => u.message);
            assert.match(messages[0], /^fraud-scorer: abort: .*\(auto: infrastructure: error rate: candidate \d+(\.\d+)?% over 1% \(stable 0%\)/, "the rollback's message gives its reason");
            assert.ok(
                messages.some((m) => /^fraud-scorer: canary step 2\/5: .*\(auto: error rate [\d.]+% within 1%; p95 latency/.test(m)),
                `each promotion's message gives its analysis:\n${messages.join("\n")}`,
            );
        } finally {
            fs.writeFileSync(labFile(), committedLabFile);
            await prometheus.stop();
            await Promise.all(Object.values(servers).map((s) => s.stop()));
        }
    });

    it("`modelship rollback --to` makes a version from the stack's history stable again, in one update", async () => {
        // After the auto test: stable 1.4.0 with the candidate aborted; 1.5.0 ran as stable when auto concluded it.
        const aborted = withModels({ fraud: canaryStep(0, { abort: true }) });
        fs.writeFileSync(labFile(), `encryptionsalt: ${stack.salt()}\n${stringify({ config: aborted })}`);
        try {
            const missing = await stack.modelship("rollback", "--stack", STACK, "--model", "fraud-scorer", "--to", "0.1.0", "--yes");
            assert.equal(missing.status, 1, missing.all);
            assert.match(missing.stderr, /version 0\.1\.0 of model fraud-scorer is in none of the stack's \d+ recorded updates; it has run .*1\.4\.0.*1\.5\.0/, missing.all);
            const updatesBefore = await stack.updates();
            const result = await stack.modelship("rollback", "--stack", STACK, "--model", "fraud-scorer", "--to", "1.5.0", "--yes");
            assert.equal(result.status, 0, result.all);
            timings["modelship rollback --to"] = result.ms;
            assert.match(result.stdout, /roll back to 1\.5\.0 as stable \(was 1\.4\.0, candidate 1\.5\.0 dropped\)/, result.all);
            assert.equal(await stack.updates(), updatesBefore + 1);
            assert.deepEqual(routeWeights(await route()), { stable: 100 });
            const deployment = await cluster.get("deployment", "fraud-scorer-stable", GATEWAY_NS);
            const image = (deployment?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0].image;
            assert.equal(image, "127.0.0.1:5000/modelship/fraud-scorer:1.5.0");
            assert.equal(await cluster.get("deployment", "fraud-scorer-candidate", GATEWAY_NS), undefined, "the candidate is gone");
        } finally {
            fs.writeFileSync(labFile(), committedLabFile);
        }
    });

    it("a sticky canary with routes, promoted step by step: each HTTPRoute read back keeps the session key, the routes and the plan's weights", async () => {
        const routes = [
            { match: { header: "x-tenant", value: "internal" }, track: "candidate" },
            { match: { cookie: "beta", regex: "yes|1" }, track: "candidate" },
        ];
        for (const step of [0, 1, 2, 3]) {
            const next = withModels({ fraud: { ...canaryStep(step, { stickyBy: { header: "x-user-id" } }), routes } });
            await upOk(`sticky canary step ${step + 1}`, next);
            const found = await route();
            const rules = (found.spec?.rules ?? []) as Array<{
                matches: Array<{ headers?: Array<{ type: string; name: string; value: string }> }>;
                backendRefs: Array<{ name: string }>;
                sessionPersistence?: unknown;
            }>;
            const split = rules[rules.length - 1];
            assert.deepEqual(split.sessionPersistence, { type: "Header", sessionName: "x-user-id" }, `step ${step + 1}: the API server kept the split rule's sessionPersistence`);
            assert.deepEqual(routeWeights(found), plannedWeights(next));
            assert.deepEqual(routeWeights(found), { stable: 100 - [10, 25, 50, 75][step], candidate: [10, 25, 50, 75][step] });
            const routed = rules.filter((r) => r.matches[0].headers?.some((h) => h.name !== "x-modelship-track"));
            assert.deepEqual(
                routed.map((r) => [r.matches[0].headers?.[0].name, r.matches[0].headers?.[0].type, r.backendRefs[0].name]),
                [
                    ["x-tenant", "Exact", "fraud-scorer-candidate"],
                    ["Cookie", "RegularExpression", "fraud-scorer-candidate"],
                ],
            );
            assert.equal(rules.indexOf(routed[0]), 2, "the routes come after the two pin rules");
        }
    });

    it("`pulumi destroy` leaves nothing behind, in the state or the API server", async () => {
        stack.writeConfig(withModels({ fraud: canaryStep(1, { abort: true }) }));
        const result = await stack.destroy();
        assert.equal(result.status, 0, result.all);
        timings.destroy = result.ms;
        assert.deepEqual(
            (await stack.resources()).map((r) => r.type),
            [],
        );
        const deadline = Date.now() + 60_000;
        let left: KubeObject[];
        do {
            left = await cluster.list("all,configmaps,httproutes,poddisruptionbudgets,serviceaccounts,jobs", ENVIRONMENT_LABEL);
            if (left.length === 0) break;
            await new Promise((r) => setTimeout(r, 1000));
        } while (Date.now() < deadline);
        assert.deepEqual(
            left.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
            [],
        );
        for (const ns of [GATEWAY_NS, NGINX_NS]) {
            const namespace = await cluster.get("namespace", ns);
            assert.ok(namespace === undefined || (namespace.status as { phase?: string }).phase === "Terminating", `namespace ${ns} is gone or going`);
        }
    });
});
