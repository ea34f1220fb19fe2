/**
 * Contract: every Kubernetes object the stack program emits validates against schemas nobody in
 * this project wrote: the Kubernetes OpenAPI (via kubernetes-models) for built-in kinds, and the
 * upstream CRDs (Gateway API, prometheus-operator, fetched as Go modules) for custom resources.
 * Renders: both shipped stacks, every strategy on every Kubernetes router, and a model with every
 * optional field set. A kind without a schema fails, naming the kind.
 *
 * The Gateway API and prometheus-operator parts need `go` (for `go mod download`); without it they
 * are skipped, unless MODELSHIP_REQUIRE_GO=1.
 */
import { strict as assert } from "assert";
import { kubernetesTargetSchema } from "../../components/targets/kubernetes/config";
import { isTwoTrack } from "../../components/strategies";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir, isKubernetesObject, renderStack } from "../../tools/render";
import {
    DIGEST,
    GATEWAY_ROUTER,
    OTHER_DIGEST,
    kubernetesConfig,
    LONGEST,
    longestKubernetesStack,
    modelFor,
    NGINX_ROUTER,
    prodModel,
    STRATEGIES,
    type KubernetesRouter,
    type RawModel,
} from "../fixtures";
import { runStack } from "../mock-stack";
import {
    apimachineryIssues,
    celStats,
    CRD_KINDS,
    crdCatalog,
    crdValidator,
    formatIssues,
    GATEWAY_API,
    GATEWAY_HTTPROUTE,
    goAvailable,
    kubernetesModelsVersion,
    validateCore,
    type CrdValidator,
    type Issue,
    type KubernetesObject,
} from "./support/schemas";
import { isOn, TEST_ENV } from "../../tools/env-vars";

const projectDir = findProjectDir();
const REQUIRE_GO = isOn(TEST_ENV.requireGo);

// ------------------------------------------------------------------------------------------------
// What the program emits

interface Emitted {
    /** type::name of the Pulumi resource. */
    resource: string;
    object: KubernetesObject;
}

interface RenderCase {
    label: string;
    /** Renders of the shipped stacks go through tools/render.ts, whose kubernetes.yaml must hold every object. */
    viaRender: boolean;
    run(): Promise<RecordedResource[]>;
}

/** `kubernetes:apps/v1:Deployment` -> apps/v1, Deployment; `kubernetes:core/v1:Service` -> v1, Service. */
function fromTypeToken(type: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    if (!m) return undefined;
    return { apiVersion: m[1].startsWith("core/") ? m[1].slice("core/".length) : m[1], kind: m[2] };
}

/**
 * Every custom `kubernetes:` resource as a Kubernetes object. Mock inputs may lack apiVersion and
 * kind (the SDK adds them for built-in kinds); the type token says what they are. Nothing is
 * dropped: a resource that cannot be read as an object is a problem.
 */
function emittedObjects(resources: readonly RecordedResource[], viaRender: boolean): { objects: Emitted[]; problems: string[] } {
    const objects: Emitted[] = [];
    const problems: string[] = [];
    for (const r of resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
        const resource = `${r.type}::${r.name}`;
        const token = fromTypeToken(r.type);
        if (!token) {
            problems.push(`${resource}: cannot read apiVersion/kind from the type token`);
            continue;
        }
        const apiVersion = r.inputs.apiVersion ?? token.apiVersion;
        const kind = r.inputs.kind ?? token.kind;
        if (apiVersion !== token.apiVersion || kind !== token.kind)
            problems.push(`${resource}: inputs say ${JSON.stringify(apiVersion)} ${JSON.stringify(kind)}, the type token says ${token.apiVersion} ${token.kind}`);
        if (viaRender && !isKubernetesObject(r)) problems.push(`${resource}: not in the render's kubernetes.yaml (isKubernetesObject is false)`);
        objects.push({ resource, object: { ...r.inputs, apiVersion: token.apiVersion, kind: token.kind } });
    }
    return { objects, problems };
}

const ROUTERS: KubernetesRouter[] = [GATEWAY_ROUTER, NGINX_ROUTER, { type: "none" }];

/** A model with every optional workload field set, so that their objects are validated too. */
function optionsModel(): RawModel {
    return prodModel({
        gpu: { count: 2, nodeSelector: { "node.kubernetes.io/instance-type": "g5.xlarge" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] },
        dependsOn: [{ name: "feature-store", host: "feature-store.data", port: 6379 }],
        serviceAccountRoleArn: "arn:aws:iam::123456789012:role/fraud",
    });
}

/** The Prometheus Operator switch arrived with the monitoring work; use it where the config has it. */
const HAS_MONITORING_SWITCH = "monitoring" in kubernetesTargetSchema.shape;

/** Sets `monitoring` on the Kubernetes target(s), whether the config has one `target` or a `targets` map. */
function withMonitoring(raw: Record<string, unknown>, monitoring: { prometheusOperator: boolean }): void {
    const set = (target: unknown) => ((target as { type?: string }).type === "kubernetes" ? { ...(target as Record<string, unknown>), monitoring } : target);
    if (raw.targets && typeof raw.targets === "object") raw.targets = Object.fromEntries(Object.entries(raw.targets).map(([name, t]) => [name, set(t)]));
    if (raw.target && typeof raw.target === "object") raw.target = set(raw.target);
}

function mockCase(label: string, router: KubernetesRouter, model: RawModel, monitoring?: { prometheusOperator: boolean }): RenderCase {
    return {
        label,
        viaRender: false,
        run: async () => {
            const raw = kubernetesConfig(router, { "fraud-scorer": model });
            if (monitoring) withMonitoring(raw, monitoring);
            return (await runStack(raw, "prod")).resources;
        },
    };
}

const OIDC_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";
const ARTIFACT_STORE = { endpoint: "http://10.0.0.5:9000", stsEndpoint: "http://10.0.0.5:9000", region: "eu-west-1" };

/** Pods with a web identity of their own: one model's role made through IRSA, one named; the store's endpoints set. */
const WEB_IDENTITY_CASE: RenderCase = {
    label: "web identity (an IRSA-made role and a named one) and an artifactStore on router nginx",
    viaRender: false,
    run: async () => {
        const raw = kubernetesConfig(NGINX_ROUTER, { "fraud-scorer": prodModel(), ranker: optionsModel() });
        raw.targets = { cluster: { type: "kubernetes", namespace: "models", router: NGINX_ROUTER, irsa: { oidcProviderArn: OIDC_PROVIDER }, artifactStore: ARTIFACT_STORE } };
        return (await runStack(raw, "prod")).resources;
    },
};

const CASES: RenderCase[] = [
    WEB_IDENTITY_CASE,
    ...["dev", "prod"].map((stack): RenderCase => ({ label: `stack ${stack}`, viaRender: true, run: async () => (await renderStack(projectDir, stack)).resources })),
    ...ROUTERS.flatMap((router) =>
        Object.keys(STRATEGIES)
            .filter((strategy) => router.type !== "none" || !isTwoTrack(strategy))
            .map((strategy) => mockCase(`${strategy} on router ${router.type}`, router, modelFor(prodModel(), strategy))),
    ),
    ...[GATEWAY_ROUTER, NGINX_ROUTER].map((router) => mockCase(`gpu, dependsOn and serviceAccountRoleArn on router ${router.type}`, router, optionsModel())),
    mockCase("an autoscaled canary (CPU on stable, concurrency on the candidate) with dynamic stable scale", GATEWAY_ROUTER, {
        ...prodModel(),
        tracks: {
            stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, autoscaling: { min: 4, max: 20, targetCPU: 70 } },
            candidate: { version: "1.5.0", image: `registry.example/fraud-scorer@${OTHER_DIGEST}`, autoscaling: { min: 4, max: 20, targetConcurrency: 8 } },
        },
        strategy: { type: "canary", steps: [10, 25, 50, 100], step: 1, dynamicStableScale: true },
    }),
    mockCase("an aborted autoscaled canary with dynamic stable scale: stable's Deployment asks for its full floor", NGINX_ROUTER, {
        ...prodModel(),
        tracks: {
            stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, autoscaling: { min: 4, max: 20, targetCPU: 70 } },
            candidate: { version: "1.5.0", image: `registry.example/fraud-scorer@${OTHER_DIGEST}`, autoscaling: { min: 4, max: 20, targetCPU: 70 } },
        },
        strategy: { type: "canary", steps: [10, 25, 50, 100], step: 2, dynamicStableScale: true, abort: true },
    }),
    ...[GATEWAY_ROUTER, NGINX_ROUTER].map((router) =>
        mockCase(`a gradual blue-green at its first step, sticky by cookie, with a preview check, on router ${router.type}`, router, {
            ...prodModel(),
            strategy: { type: "blueGreen", steps: [25, 50, 100], step: 0, stickyBy: { cookie: "user" }, preview: { requests: 50 }, scaleDownDelaySeconds: 300 },
        }),
    ),
    ...[GATEWAY_ROUTER, NGINX_ROUTER].map((router) =>
        mockCase(`a sticky canary with header, cookie and regex routes on router ${router.type}`, router, {
            ...prodModel(),
            strategy: { type: "canary", steps: [10, 25, 50, 100], stickyBy: { cookie: "user" } },
            routes: [
                { match: { header: "x-tenant", value: "internal" }, track: "candidate" },
                { match: { header: "x-tenant", regex: "legacy-[0-9]+" }, track: "stable" },
                { match: { cookie: "beta", regex: "yes|1" }, track: "candidate" },
            ],
        }),
    ),
    ...ROUTERS.map((router): RenderCase => ({
        label: `the longest names the config accepts on router ${router.type}`,
        viaRender: false,
        run: async () => (await runStack(longestKubernetesStack(router), LONGEST.stack)).resources,
    })),
    ...(HAS_MONITORING_SWITCH
        ? [
              mockCase("Prometheus Operator monitoring, abTest with every optional field", GATEWAY_ROUTER, { ...optionsModel(), strategy: STRATEGIES.abTest }, { prometheusOperator: true }),
              mockCase("rules ConfigMap monitoring, shadow", GATEWAY_ROUTER, modelFor(prodModel(), "shadow"), { prometheusOperator: false }),
          ]
        : []),
    {
        label: "a canary to another server's track (MLServer: its own ports, probes, command and environment; modelship's image fetches and smoke-tests it), Prometheus Operator monitoring",
        viaRender: false,
        run: async () => {
            const server = {
                port: 8080,
                metricsPort: 8082,
                args: ["mlserver", "start", "/models"],
                env: { MLSERVER_PARALLEL_WORKERS: "0" },
                readinessPath: "/v2/health/ready",
                livenessPath: "/v2/health/live",
            };
            const raw = kubernetesConfig(NGINX_ROUTER, {
                "fraud-scorer": {
                    ...prodModel(),
                    tracks: { ...(prodModel().tracks as object), candidate: { version: "1.5.0", image: `registry.example/mlserver@${OTHER_DIGEST}`, replicas: 2, server } },
                    gates: { smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } },
                },
            });
            (raw.targets as Record<string, Record<string, unknown>>).cluster.modelServerImage = `registry.example/fraud-scorer@${DIGEST}`;
            withMonitoring(raw, { prometheusOperator: true });
            return (await runStack(raw, "prod")).resources;
        },
    },
];

// Renders are shared by the built-in and the CRD test of a case, and run one at a time (the mock
// runtime is process-global), which mocha's serial order guarantees.
const renders = new Map<string, Promise<{ objects: Emitted[]; problems: string[] }>>();
function rendered(c: RenderCase): Promise<{ objects: Emitted[]; problems: string[] }> {
    let found = renders.get(c.label);
    if (!found) {
        found = c.run().then((resources) => emittedObjects(resources, c.viaRender));
        renders.set(c.label, found);
    }
    return found;
}

// ------------------------------------------------------------------------------------------------
// Validation and what the run measured

const validatedByKind = new Map<string, number>();
const rendersRun = new Set<string>();
/** HTTPRoute fields the standard channel rejects, with how many objects use them. */
const experimentalOnly = new Map<string, number>();
const sources = new Set<string>();

function key(object: KubernetesObject): string {
    return `${object.apiVersion}/${object.kind}`;
}

type Outcome = { issues: Issue[] } | { noSchema: string };

/** Built-in kinds: kubernetes-models plus the hand-ported apimachinery rules. */
async function validateBuiltIn(object: KubernetesObject): Promise<Outcome> {
    const issues = await validateCore(object);
    if (!issues) {
        return { noSchema: `no schema for kind ${object.kind} (${object.apiVersion}): kubernetes-models has none and no upstream CRD is registered in test/contract/support/schemas.ts` };
    }
    return { issues: [...issues, ...apimachineryIssues(object)] };
}

function validateCustom(object: KubernetesObject, catalog: ReadonlyMap<string, CrdValidator>): Outcome {
    const validator = catalog.get(key(object));
    if (!validator) return { noSchema: `no schema for kind ${object.kind} (${object.apiVersion}): no CRD registered for it` };
    return { issues: [...validator.validate(object), ...apimachineryIssues(object)] };
}

function count(object: KubernetesObject): void {
    validatedByKind.set(object.kind, (validatedByKind.get(object.kind) ?? 0) + 1);
}

function describeOutcome(e: Emitted, outcome: Outcome): string | undefined {
    if ("noSchema" in outcome) return `${e.resource}: ${outcome.noSchema}`;
    return outcome.issues.length > 0 ? `${e.resource} (${e.object.kind} ${e.object.metadata?.name ?? "?"}): ${formatIssues(outcome.issues)}` : undefined;
}

let goChecked: boolean | undefined;
function requireGo(ctx: Mocha.Context): void {
    goChecked ??= goAvailable();
    if (goChecked) return;
    if (REQUIRE_GO) throw new Error(`${TEST_ENV.requireGo}=1, but \`go\` is not on PATH: the Gateway API and prometheus-operator CRDs cannot be fetched`);
    ctx.skip();
}

let catalog: Promise<Map<string, CrdValidator>> | undefined;
let standardHttpRoute: Promise<CrdValidator> | undefined;
function crds(): Promise<Map<string, CrdValidator>> {
    catalog ??= crdCatalog().then((c) => {
        for (const v of c.values()) sources.add(v.source);
        return c;
    });
    return catalog;
}
function standardRoute(): Promise<CrdValidator> {
    standardHttpRoute ??= crdValidator(GATEWAY_API, GATEWAY_HTTPROUTE.standard, "v1").then((v) => {
        sources.add(`${v.source} (standard channel, compared)`);
        return v;
    });
    return standardHttpRoute;
}

/** The HTTPRoute without the experimental session persistence: what a standard-channel cluster needs to accept. */
function withoutSessionPersistence(route: KubernetesObject): KubernetesObject {
    const copy = structuredClone(route) as KubernetesObject & { spec?: { rules?: Array<Record<string, unknown>> } };
    for (const rule of copy.spec?.rules ?? []) delete rule.sessionPersistence;
    return copy;
}

function usesSessionPersistence(route: KubernetesObject): boolean {
    return ((route.spec as { rules?: Array<Record<string, unknown>> } | undefined)?.rules ?? []).some((r) => r.sessionPersistence !== undefined);
}

/** /spec/rules/2/sessionPersistence + unknown field -> spec.rules[].sessionPersistence */
function fieldOf(issue: Issue): string {
    const unknown = /unknown field "([^"]+)"/.exec(issue.message);
    const at = issue.path.replace(/\/\d+/g, "[]").replace(/^\//, "").replace(/\//g, ".");
    return unknown ? `${at ? `${at}.` : ""}${unknown[1]}` : `${at} (${issue.message})`;
}

describe("kubernetes contract: emitted objects against upstream schemas", function () {
    before(function () {
        sources.add(`kubernetes-models@${kubernetesModelsVersion()} (Kubernetes OpenAPI) for built-in kinds`);
    });

    after(function () {
        const kinds = [...validatedByKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`);
        const total = [...validatedByKind.values()].reduce((a, b) => a + b, 0);
        console.log(`measured: kubernetes contract: ${total} objects validated (${kinds.join(", ")}) across ${rendersRun.size} renders`);
        console.log(`  schemas: ${[...sources].join("; ")}`);
        if (experimentalOnly.size > 0) {
            console.log(`  HTTPRoute fields only the Gateway API experimental channel accepts: ${[...experimentalOnly.entries()].map(([f, n]) => `${f} (${n} objects)`).join(", ")}`);
        }
        const evaluated = [...celStats.evaluated.values()].reduce((a, b) => a + b, 0);
        console.log(
            `  CEL (x-kubernetes-validations): ${celStats.evaluated.size} distinct rules evaluated by hand (${evaluated} evaluations); ${celStats.notEvaluated.size} distinct rules met but not evaluated`,
        );
        for (const [rule, { message, count: n }] of celStats.notEvaluated) console.log(`    not evaluated (${n}x): ${message} [${rule.length > 120 ? `${rule.slice(0, 117)}...` : rule}]`);
        if (!HAS_MONITORING_SWITCH) console.log("  note: the config has no target.monitoring switch yet; the Prometheus Operator render cases were not run");
    });

    describe("the validators reject what the API server would (negative controls)", function () {
        const deployment = (): KubernetesObject => ({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "demo", namespace: "models", labels: { app: "demo" } },
            spec: {
                replicas: 3,
                selector: { matchLabels: { app: "demo" } },
                template: {
                    metadata: { labels: { app: "demo" } },
                    spec: { containers: [{ name: "demo", image: "registry.example/demo@sha256:" + "a".repeat(64), ports: [{ containerPort: 8080, name: "http" }] }] },
                },
            },
        });
        const service = (): KubernetesObject => ({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "demo", namespace: "models" },
            spec: { selector: { app: "demo" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
        });
        const httpRoute = (): KubernetesObject => ({
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: { name: "demo", namespace: "models", labels: { app: "demo" } },
            spec: {
                parentRefs: [{ name: "inference", namespace: "gateway-system" }],
                rules: [
                    {
                        matches: [{ path: { type: "PathPrefix", value: "/v2/models/demo" } }],
                        backendRefs: [
                            { name: "demo-stable", port: 80, weight: 90, filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: { set: [{ name: "X-Track", value: "stable" }] } }] },
                            { name: "demo-candidate", port: 80, weight: 10 },
                        ],
                        filters: [{ type: "RequestMirror", requestMirror: { backendRef: { name: "demo-candidate", port: 80 }, percent: 20 } }],
                    },
                ],
            },
        });
        type Route = {
            spec: { rules: Array<Record<string, unknown> & { backendRefs: Array<Record<string, unknown>>; matches: Array<{ path: { value: string } }>; filters: Array<Record<string, unknown>> }> };
        };
        const mutate = <T>(object: KubernetesObject, change: (o: T) => void): KubernetesObject => {
            const copy = structuredClone(object);
            change(copy as unknown as T);
            return copy;
        };
        const paths = (issues: readonly Issue[]) => issues.map((i) => i.path);

        it('kubernetes-models: a valid Deployment passes; replicas "three" fails at /spec/replicas', async function () {
            assert.deepEqual(await validateCore(deployment()), []);
            assert.deepEqual(apimachineryIssues(deployment()), []);
            const issues = await validateCore(mutate<{ spec: { replicas: unknown } }>(deployment(), (d) => (d.spec.replicas = "three")));
            assert.ok(issues && paths(issues).includes("/spec/replicas"), `expected an error at /spec/replicas, got ${formatIssues(issues ?? [])}`);
        });

        it('kubernetes-models: a valid Service passes; a port given as "http" fails at /spec/ports/0/port', async function () {
            assert.deepEqual(await validateCore(service()), []);
            const issues = await validateCore(mutate<{ spec: { ports: Array<{ port: unknown }> } }>(service(), (s) => (s.spec.ports[0].port = "http")));
            assert.ok(issues && paths(issues).includes("/spec/ports/0/port"), `expected an error at /spec/ports/0/port, got ${formatIssues(issues ?? [])}`);
        });

        it("built-in kinds: unknown fields fail (a misspelt readinessProbe, replicas one level too deep); maps such as labels and limits stay open", async function () {
            type Container = Record<string, unknown> & { resources?: { limits: Record<string, string> } };
            const changed = mutate<{ metadata: { labels: Record<string, string> }; spec: { template: { spec: { containers: Container[] } & Record<string, unknown> } } }>(deployment(), (d) => {
                d.metadata.labels["example.com/anything"] = "goes";
                d.spec.template.spec.containers[0].resources = { limits: { "nvidia.com/gpu": "1" } };
                d.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: "/ready", port: "http" } };
                d.spec.template.spec.replicas = 2;
            });
            const issues = await validateCore(changed);
            assert.deepEqual(
                issues?.map((i) => `${i.path} ${/unknown field "([^"]+)"/.exec(i.message)?.[1]}`),
                ["/spec/template/spec/containers/0 readinesProbe", "/spec/template/spec replicas"],
            );
        });

        it("apimachinery rules: a selector that misses the template labels, an upper-case name and a bad label value fail", function () {
            const bad = mutate<{ metadata: { name: string; labels: Record<string, string> }; spec: { template: { metadata: { labels: Record<string, string> } } } }>(deployment(), (d) => {
                d.metadata.name = "Demo";
                d.metadata.labels.version = "1.5.0 candidate";
                d.spec.template.metadata.labels = { app: "other" };
            });
            assert.deepEqual(paths(apimachineryIssues(bad)).sort(), ["/metadata/labels/version", "/metadata/name", "/spec/template/metadata/labels"]);
            assert.deepEqual(paths(apimachineryIssues({ ...service(), metadata: { name: "1-demo" } })), ["/metadata/name"], "Service names are RFC 1035 labels");
        });

        it("a kind with no schema fails, naming the kind", async function () {
            for (const object of [
                { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
                { apiVersion: "v1", kind: "Gadget", metadata: { name: "g" } },
            ]) {
                assert.ok(!CRD_KINDS.has(key(object)));
                const outcome = await validateBuiltIn(object);
                assert.ok("noSchema" in outcome && outcome.noSchema.includes(`kind ${object.kind} (${object.apiVersion})`), JSON.stringify(outcome));
            }
            const outcome = validateCustom({ apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor" }, new Map());
            assert.ok("noSchema" in outcome && outcome.noSchema.includes("PodMonitor"));
        });

        it("Gateway API (experimental): the valid route passes; weight -1, an unknown field in rules[], broken CEL rules and duplicate map keys fail", async function () {
            requireGo(this);
            this.timeout(600_000);
            const route = (await crds()).get("gateway.networking.k8s.io/v1/HTTPRoute");
            assert.ok(route);
            assert.deepEqual(route.validate(httpRoute()), []);
            const expectIssue = (object: KubernetesObject, where: string, what: RegExp) => {
                const issues = route.validate(object);
                assert.ok(
                    issues.some((i) => i.path === where && what.test(i.message)),
                    `expected ${what} at ${where}, got ${formatIssues(issues) || "no issues"}`,
                );
            };
            expectIssue(
                mutate<Route>(httpRoute(), (r) => (r.spec.rules[0].backendRefs[0].weight = -1)),
                "/spec/rules/0/backendRefs/0/weight",
                />= 0/,
            );
            expectIssue(
                mutate<Route>(httpRoute(), (r) => (r.spec.rules[0].weights = [90, 10])),
                "/spec/rules/0",
                /unknown field "weights"/,
            );
            // CEL, by hand: a filter whose type and field disagree, a relative path, a Service ref without a port
            expectIssue(
                mutate<Route>(httpRoute(), (r) => (r.spec.rules[0].filters[0] = { type: "RequestMirror" })),
                "/spec/rules/0/filters/0",
                /requestMirror must be specified/,
            );
            expectIssue(
                mutate<Route>(httpRoute(), (r) => (r.spec.rules[0].matches[0].path.value = "v2/models/demo")),
                "/spec/rules/0/matches/0/path",
                /absolute path/,
            );
            expectIssue(
                mutate<Route>(httpRoute(), (r) => delete r.spec.rules[0].backendRefs[1].port),
                "/spec/rules/0/backendRefs/1",
                /Must have port for Service reference/,
            );
            // x-kubernetes-list-type: map keyed by header name
            expectIssue(
                mutate<Route>(
                    httpRoute(),
                    (r) =>
                        ((r.spec.rules[0].backendRefs[0].filters as Array<{ responseHeaderModifier: { set: unknown[] } }>)[0].responseHeaderModifier.set = [
                            { name: "X-Track", value: "a" },
                            { name: "X-Track", value: "b" },
                        ]),
                ),
                "/spec/rules/0/backendRefs/0/filters/0/responseHeaderModifier/set",
                /duplicate key/,
            );
        });

        it("Gateway API: sessionPersistence passes the experimental channel and fails the standard one", async function () {
            requireGo(this);
            this.timeout(600_000);
            const sticky = mutate<Route>(httpRoute(), (r) => (r.spec.rules[0].sessionPersistence = { type: "Cookie", sessionName: "uid" }));
            assert.deepEqual((await crds()).get("gateway.networking.k8s.io/v1/HTTPRoute")?.validate(sticky), []);
            const standard = await standardRoute();
            assert.deepEqual(standard.validate(httpRoute()), [], "mirror percent is standard");
            assert.deepEqual(standard.validate(sticky).map(fieldOf), ["spec.rules[].sessionPersistence"]);
        });

        it("prometheus-operator: a hand-written PrometheusRule and ServiceMonitor pass; broken ones fail", async function () {
            requireGo(this);
            this.timeout(600_000);
            const catalog = await crds();
            const rules = catalog.get("monitoring.coreos.com/v1/PrometheusRule");
            const monitors = catalog.get("monitoring.coreos.com/v1/ServiceMonitor");
            assert.ok(rules && monitors);
            const rule: KubernetesObject = {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: "demo-alerts", namespace: "models", labels: { app: "demo" } },
                spec: {
                    groups: [
                        {
                            name: "demo",
                            rules: [
                                {
                                    alert: "DemoHighErrorRate",
                                    expr: "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.01",
                                    for: "2m",
                                    labels: { severity: "page" },
                                    annotations: { summary: "errors" },
                                },
                            ],
                        },
                    ],
                },
            };
            assert.deepEqual(rules.validate(rule), []);
            const broken = mutate<{ spec: { groups: Array<{ rules: Array<Record<string, unknown>>; name?: string }> } }>(rule, (r) => {
                delete r.spec.groups[0].name; // required
                r.spec.groups[0].rules[0].for = "2 minutes"; // a Prometheus duration
                r.spec.groups[0].rules[0].severity = "page"; // belongs in labels
                delete r.spec.groups[0].rules[0].expr; // required
            });
            assert.deepEqual(paths(rules.validate(broken)).sort(), ["/spec/groups/0", "/spec/groups/0/rules/0", "/spec/groups/0/rules/0", "/spec/groups/0/rules/0/for"]);
            const monitor: KubernetesObject = {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: "demo", namespace: "models" },
                spec: { selector: { matchLabels: { app: "demo" } }, endpoints: [{ port: "http", path: "/metrics", interval: "15s" }] },
            };
            assert.deepEqual(monitors.validate(monitor), []);
            const issues = monitors.validate(mutate<{ spec: { endpoints: Array<Record<string, unknown>> } }>(monitor, (m) => (m.spec.endpoints[0] = { port: 8080, interval: "often" })));
            assert.deepEqual(paths(issues).sort(), ["/spec/endpoints/0/interval", "/spec/endpoints/0/port"]);
        });
    });

    it("the web identity case renders what it claims: every model Deployment has the projected STS token, mounted by fetch-artifact alone", async function () {
        const { objects } = await rendered(WEB_IDENTITY_CASE);
        type Pod = {
            volumes: Array<{ name: string; projected?: { sources: Array<{ serviceAccountToken?: { audience: string } }> } }>;
            initContainers: Array<{ name: string; volumeMounts?: Array<{ name: string }> }>;
            containers: Array<{ name: string; volumeMounts?: Array<{ name: string }> }>;
        };
        const pods = objects
            .filter((e) => e.object.kind === "Deployment" && e.object.metadata?.name !== "modelship-router")
            .map((e) => ({ name: String(e.object.metadata?.name), pod: (e.object.spec as { template: { spec: Pod } }).template.spec }));
        assert.deepEqual(pods.map((p) => p.name).sort(), ["fraud-scorer-candidate", "fraud-scorer-stable", "ranker-candidate", "ranker-stable"]);
        for (const { name, pod } of pods) {
            const token = pod.volumes.find((v) => v.projected?.sources.some((s) => s.serviceAccountToken?.audience === "sts.amazonaws.com"));
            assert.ok(token, `${name}: a projected STS-audience token volume`);
            const mounting = [...pod.initContainers, ...pod.containers].filter((c) => (c.volumeMounts ?? []).some((m) => m.name === token.name)).map((c) => c.name);
            assert.deepEqual(mounting, ["fetch-artifact"], name);
        }
    });

    it("negative control: a projected token with expirationSeconds as a string, or a misspelt audience key, fails the schema", async function () {
        const pod = (token: Record<string, unknown>): KubernetesObject => ({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "demo", namespace: "models", labels: { app: "demo" } },
            spec: {
                selector: { matchLabels: { app: "demo" } },
                template: {
                    metadata: { labels: { app: "demo" } },
                    spec: {
                        containers: [{ name: "demo", image: "registry.example/demo:1", volumeMounts: [{ name: "aws-iam-token", mountPath: "/t", readOnly: true }] }],
                        volumes: [{ name: "aws-iam-token", projected: { sources: [{ serviceAccountToken: token }] } }],
                    },
                },
            },
        });
        assert.deepEqual(await validateCore(pod({ audience: "sts.amazonaws.com", expirationSeconds: 3600, path: "token" })), []);
        assert.ok(((await validateCore(pod({ audience: "sts.amazonaws.com", expirationSeconds: "3600", path: "token" }))) ?? []).some((i) => i.path.endsWith("/expirationSeconds")));
        assert.ok(((await validateCore(pod({ audiences: "sts.amazonaws.com", path: "token" }))) ?? []).some((i) => /unknown field "audiences"/.test(i.message)));
    });

    describe("every render", function () {
        for (const c of CASES) {
            it(`${c.label}: built-in kinds (kubernetes-models); no kind without a schema`, async function () {
                const { objects, problems } = await rendered(c);
                rendersRun.add(c.label);
                const failures = [...problems];
                for (const e of objects.filter((x) => !CRD_KINDS.has(key(x.object)))) {
                    const outcome = await validateBuiltIn(e.object);
                    if (!("noSchema" in outcome)) count(e.object);
                    const failure = describeOutcome(e, outcome);
                    if (failure) failures.push(failure);
                }
                assert.ok(objects.length > 0 || c.label === "stack dev", `${c.label} emitted no Kubernetes objects`);
                assert.deepEqual(failures, [], `${c.label}:\n  ${failures.join("\n  ")}`);
            });

            it(`${c.label}: custom resources (upstream CRDs); HTTPRoutes also on the standard channel without sessionPersistence`, async function () {
                const { objects } = await rendered(c);
                const custom = objects.filter((x) => CRD_KINDS.has(key(x.object)));
                if (custom.length === 0) return;
                requireGo(this);
                this.timeout(600_000);
                const catalog = await crds();
                const failures: string[] = [];
                for (const e of custom) {
                    const outcome = validateCustom(e.object, catalog);
                    if (!("noSchema" in outcome)) count(e.object);
                    const failure = describeOutcome(e, outcome);
                    if (failure) failures.push(failure);
                    if (e.object.kind !== "HTTPRoute") continue;
                    const standard = await standardRoute();
                    const onStandard = standard.validate(e.object);
                    for (const field of new Set(onStandard.map(fieldOf))) experimentalOnly.set(field, (experimentalOnly.get(field) ?? 0) + 1);
                    const stripped = standard.validate(withoutSessionPersistence(e.object));
                    if (stripped.length > 0) {
                        failures.push(`${e.resource}: ${usesSessionPersistence(e.object) ? "without sessionPersistence it" : "it"} still fails the standard channel: ${formatIssues(stripped)}`);
                    }
                }
                assert.deepEqual(failures, [], `${c.label}:\n  ${failures.join("\n  ")}`);
            });
        }
    });
});
