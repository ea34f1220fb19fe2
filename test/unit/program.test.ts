import { strict as assert } from "assert";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../../components/config/errors";
import { parseConfig, type RawConfig } from "../../components/config/parse";
import { ModelImage } from "../../components/image";
import { isTwoTrack } from "../../components/strategies";
import { planTraffic } from "../../components/traffic/plan";
import { trackPlan, type TrafficPlan } from "../../components/traffic/types";
import * as pulumi from "@pulumi/pulumi";
import { runUnderMocks, type RecordedResource } from "../../tools/mock-runtime";
import { AWS_VM_TARGET, awsVmConfig, canaryModel, DIGEST, dockerConfig, GATEWAY_ROUTER, kubernetesConfig, modelFor, NGINX_ROUTER, prodModel, STRATEGIES, type KubernetesRouter } from "../fixtures";
import { at, named, ofType, runStack, T } from "../mock-stack";
import { COMPONENT_TYPES, IAM_TYPES, STACK_TYPE } from "../../components/type-tokens";

const COMMAND = T.command;

interface TargetCase {
    name: string;
    stack: string;
    raw(strategy: string): RawConfig;
    supports(strategy: string): boolean;
    check(resources: RecordedResource[], plan: TrafficPlan): void;
}

/** ConfigMaps carrying an nginx.conf (the alert-rules ConfigMaps are not router objects). */
function routerConfigMaps(resources: RecordedResource[]): RecordedResource[] {
    return ofType(resources, T.configMap).filter((c) => at<Record<string, string> | undefined>(c, "data")?.["nginx.conf"] !== undefined);
}

/** The split an nginx.conf gives each track, read back from its split_clients block. */
function nginxSplit(conf: string, model: string): Record<string, number> {
    const block = new RegExp(`split_clients "[^"]+" \\$ms_${model.replace(/-/g, "_")}_split \\{([^}]*)\\}`).exec(conf);
    if (!block) return {};
    const split: Record<string, number> = {};
    for (const [, share, track] of block[1].matchAll(/(\d+%|\*) (\w+);/g)) split[track] = share === "*" ? 100 : Number(share.slice(0, -1));
    return split;
}

/** Tracks without live weight have no share in the split. */
function expectedSplit(plan: TrafficPlan): Record<string, number> {
    return Object.fromEntries(plan.tracks.filter((t) => t.weight > 0).map((t) => [t.track, t.weight]));
}

function checkNginxConf(conf: string, plan: TrafficPlan): void {
    assert.deepEqual(nginxSplit(conf, plan.model), expectedSplit(plan));
    const mirrored = plan.tracks.find((t) => t.mirrorPercent > 0);
    assert.equal(/\n\s*mirror \//.test(conf), mirrored !== undefined, "a mirror directive exactly when the plan mirrors");
    for (const track of plan.tracks) assert.match(conf, new RegExp(`upstream ${plan.model.replace(/-/g, "_")}_${track.track} \\{`));
}

/** Stable sends its answers to the candidate exactly while the plan mirrors to the candidate. */
function shadowCompares(plan: TrafficPlan, track: string): boolean {
    return track === "stable" && (trackPlan(plan, "candidate")?.mirrorPercent ?? 0) > 0;
}

function checkKubernetesTracks(resources: RecordedResource[], plan: TrafficPlan): void {
    for (const track of plan.tracks) {
        const name = `${plan.model}-${track.track}`;
        const deployment = named(resources, T.deployment, name);
        assert.equal(at(deployment, "spec.replicas"), track.replicas, `${name} replicas`);
        const strategy = at<{ type: string }>(deployment, "spec.strategy");
        assert.equal(strategy.type, plan.poolUpdate.kind === "recreate" ? "Recreate" : "RollingUpdate");
        assert.equal(at<Record<string, string>>(deployment, "spec.template.metadata.labels")["modelship.dev/track"], track.track);
        named(resources, T.service, name);
        named(resources, T.pdb, name);
        const env = at<Array<{ name: string; value?: string }>>(deployment, "spec.template.spec.containers")
            .flatMap((c) => (c as { env?: Array<{ name: string; value?: string }> }).env ?? [])
            .find((e) => e.name === "MODELSHIP_SHADOW_COMPARE_URL");
        assert.deepEqual(env?.value, shadowCompares(plan, track.track) ? `http://${plan.model}-candidate.models.svc.cluster.local:80` : undefined, `${name}: the shadow compare URL`);
    }
    assert.equal(ofType(resources, T.deployment).filter((d) => d.name.startsWith(`${plan.model}-`)).length, plan.tracks.length);
}

const docker: TargetCase = {
    name: "docker",
    stack: "dev",
    raw: (strategy) => dockerConfig({ "fraud-scorer": modelFor(canaryModel(), strategy) }),
    supports: () => true,
    check(resources, plan) {
        for (const track of plan.tracks) {
            const containers = ofType(resources, T.container).filter((c) => c.name.startsWith(`${plan.model}-${track.track}-`));
            assert.equal(containers.length, track.replicas, `${track.track} containers`);
            for (const c of containers) {
                assert.ok(at<string[]>(c, "envs").includes(`MODEL_TRACK=${track.track}`));
                assert.ok(at<string[]>(c, "envs").includes(`MODEL_VERSION=${track.version}`));
                // The model's default memory limit, 512Mi, is what the analysis judges resident memory against.
                assert.ok(at<string[]>(c, "envs").includes("MODELSHIP_MEMORY_LIMIT_BYTES=536870912"));
                const compare = at<string[]>(c, "envs").find((e) => e.startsWith("MODELSHIP_SHADOW_COMPARE_URL="));
                assert.equal(compare !== undefined, shadowCompares(plan, track.track), `${c.name}: ${compare}`);
                if (compare) assert.match(compare, /^MODELSHIP_SHADOW_COMPARE_URL=http:\/\/dev-fraud-scorer-candidate-1\.5\.0-0:8080$/);
            }
        }
        const router = named(resources, T.container, "router");
        checkNginxConf(at<string>(named(resources, T.command, "router-reload"), "stdin"), plan);
        assert.deepEqual(at(router, "ports"), [{ internal: 8080, external: 8080, ip: "127.0.0.1" }], "published on loopback only");
    },
};

function kubernetes(router: KubernetesRouter, check: (resources: RecordedResource[], plan: TrafficPlan) => void): TargetCase {
    return {
        name: `kubernetes with router ${router.type}`,
        stack: "prod",
        raw: (strategy) => kubernetesConfig(router, { "fraud-scorer": modelFor(prodModel(), strategy) }),
        supports: (strategy) => router.type !== "none" || !isTwoTrack(strategy),
        check(resources, plan) {
            checkKubernetesTracks(resources, plan);
            check(resources, plan);
        },
    };
}

const gatewayApi = kubernetes(GATEWAY_ROUTER, (resources, plan) => {
    const route = named(resources, T.httpRoute, "fraud-scorer-route");
    const rules = at<Array<Record<string, unknown>>>(route, "spec.rules");
    const split = rules[rules.length - 1] as {
        backendRefs: Array<{ name: string; weight: number }>;
        filters?: Array<{ type: string; requestMirror: { percent?: number } }>;
        sessionPersistence?: unknown;
    };
    assert.deepEqual(
        split.backendRefs.map((b) => [b.name, b.weight]),
        plan.tracks.map((t) => [`fraud-scorer-${t.track}`, t.weight]),
    );
    const mirrored = plan.tracks.find((t) => t.mirrorPercent > 0);
    assert.deepEqual(
        split.filters?.map((f) => f.requestMirror.percent),
        mirrored ? [mirrored.mirrorPercent] : undefined,
    );
    assert.equal(split.sessionPersistence !== undefined, plan.sticky !== undefined);
    assert.equal(routerConfigMaps(resources).length, 0);
});

const nginxRouter = kubernetes(NGINX_ROUTER, (resources, plan) => {
    const config = named(resources, T.configMap, "cluster-modelship-router-config");
    checkNginxConf(at<Record<string, string>>(config, "data")["nginx.conf"], plan);
    named(resources, T.deployment, "cluster-modelship-router");
    named(resources, T.service, "cluster-modelship-router");
    assert.equal(ofType(resources, T.httpRoute).length, 0);
});

const noRouter = kubernetes({ type: "none" }, (resources) => {
    assert.equal(ofType(resources, T.httpRoute).length + routerConfigMaps(resources).length, 0, "no router objects");
});

describe("the stack program under mocks", () => {
    describe("every strategy on every target that supports it", () => {
        for (const target of [docker, gatewayApi, nginxRouter, noRouter]) {
            for (const strategy of Object.keys(STRATEGIES).filter((s) => target.supports(s))) {
                it(`${strategy} on ${target.name}`, async () => {
                    const raw = target.raw(strategy);
                    const plan = planTraffic("fraud-scorer", parseConfig(raw, target.stack).models["fraud-scorer"]);
                    const { resources, outputs } = await runStack(raw, target.stack);
                    target.check(resources, plan);
                    const model = outputs.models["fraud-scorer"];
                    assert.deepEqual(model.weights, Object.fromEntries(plan.tracks.map((t) => [t.track, t.weight])));
                    assert.equal(model.strategy, strategy);
                    assert.match(model.endpoint, /\/v2\/models\/fraud-scorer$/);
                });
            }
        }
    });

    describe("structure", () => {
        for (const [name, raw, stack] of [
            ["dev", dockerConfig(), "dev"],
            ["prod", kubernetesConfig(NGINX_ROUTER), "prod"],
        ] as const) {
            it(`${name}: components use modelship:<module>:<Type> tokens and own every resource`, async () => {
                const { resources } = await runStack(raw, stack);
                const components = resources.filter((r) => !r.custom && r.type !== STACK_TYPE);
                assert.ok(components.length > 0);
                for (const c of components) assert.match(c.type, /^modelship:[a-z-]+:[A-Z][A-Za-z]+$/);
                for (const r of resources.filter((x) => x.custom)) {
                    assert.match(r.parent ?? "(none)", /^modelship:/, `${r.type} ${r.name} is not inside a modelship component`);
                }
            });
        }

        it("the docker target's track containers belong to their ModelService", async () => {
            const { resources } = await runStack(dockerConfig(), "dev");
            assert.equal(named(resources, T.container, "fraud-scorer-stable-0").parent, `${COMPONENT_TYPES.modelService}::fraud-scorer`);
            assert.equal(named(resources, T.container, "router").parent, `${COMPONENT_TYPES.dockerTarget}::local`);
        });
    });

    describe("bad config", () => {
        it("fails before any resource is registered, with the config message", async () => {
            const raw = dockerConfig({ "fraud-scorer": canaryModel({ strategy: { type: "canary", steps: [10, 100], step: 4 } }) });
            raw.environment = "staging";
            const recorded: RecordedResource[] = [];
            await assert.rejects(runStack(raw, "dev", recorded), (error: unknown) => {
                assert.ok(error instanceof ConfigError);
                assert.equal(error.issues.length, 2);
                return true;
            });
            assert.deepEqual(
                recorded.filter((r) => r.type !== STACK_TYPE),
                [],
            );
        });

        it("two kubernetes targets in one namespace are refused before anything is registered, naming both", async () => {
            const target = { type: "kubernetes", namespace: "models", router: NGINX_ROUTER };
            const raw = { ...kubernetesConfig(NGINX_ROUTER, { a: prodModel({ target: "blue" }), b: prodModel({ target: "green" }) }), targets: { blue: target, green: target } };
            const recorded: RecordedResource[] = [];
            const outcome = await runStack(raw, "prod", recorded).then(
                () => undefined,
                (error: unknown) => error,
            );
            // The same object twice in the cluster: the second target would overwrite (or fail on) the first's.
            const objects = recorded
                .filter((r) => r.type.startsWith("kubernetes:") && r.custom)
                .map((r) => `${String(r.inputs.kind)} ${at<string | undefined>(r, "metadata.namespace") ?? ""}/${at<string>(r, "metadata.name")}`);
            const twice = [...new Set(objects.filter((o, i) => objects.indexOf(o) !== i))];
            assert.ok(outcome instanceof ConfigError, `accepted; the render holds these objects twice: ${twice.join(", ")}`);
            assert.match(outcome.message, /modelship:targets\.green\.namespace: got "models"; expected .*blue/);
            assert.deepEqual(
                recorded.filter((r) => r.type !== STACK_TYPE),
                [],
            );
        });
    });

    describe("registry and images", () => {
        it("ECR: one repository per model, scanned on push, immutable tags, KMS-encrypted, with a lifecycle policy", async () => {
            const { resources } = await runStack(kubernetesConfig(GATEWAY_ROUTER, { a: prodModel(), b: prodModel() }), "prod");
            const repositories = ofType(resources, T.ecrRepository);
            assert.deepEqual(repositories.map((r) => r.name).sort(), ["a", "b"]);
            for (const repository of repositories) {
                assert.equal(at(repository, "imageTagMutability"), "IMMUTABLE");
                assert.equal(at(repository, "imageScanningConfiguration.scanOnPush"), true);
                assert.deepEqual(at(repository, "encryptionConfigurations"), [{ encryptionType: "KMS" }]);
                assert.equal(at<Record<string, string>>(repository, "tags")["modelship:environment"], "prod");
            }
            const policy = JSON.parse(at<string>(named(resources, T.ecrLifecycle, "a"), "policy")) as { rules: Array<{ selection: { tagStatus: string } }> };
            assert.deepEqual(
                policy.rules.map((r) => r.selection.tagStatus),
                ["untagged", "any"],
            );
        });

        it("ECR: a built candidate is pushed with the registry token (kept secret) and deployed by tag@digest", async () => {
            const model = prodModel();
            (model.tracks as { candidate: Record<string, unknown> }).candidate = { version: "1.5.0", build: { context: "model-server", baseImage: `node@${DIGEST}` }, replicas: 2 };
            const { resources, outputs } = await runStack(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": model }), "prod");
            const image = named(resources, T.image, "fraud-scorer-candidate");
            const tag = "123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/fraud-scorer:1.5.0";
            assert.deepEqual(at(image, "tags"), [tag]);
            assert.equal(at(image, "push"), true);
            assert.equal(at(image, "load"), undefined, "pushed, not loaded into the deployer's engine");
            assert.equal(at(image, "registries"), "[secret]", "the login comes from the ECR token, which stays secret");
            assert.deepEqual(at(image, "buildArgs"), { MODEL_NAME: "fraud-scorer", MODEL_VERSION: "1.5.0", BASE_IMAGE: `node@${DIGEST}` });
            assert.deepEqual(at(image, "context"), { location: "model-server" });
            assert.deepEqual(at(image, "dockerfile"), { location: "model-server/Dockerfile" });
            // The layers travel with the pushed image (inline cache); a rebuild elsewhere (CI) reads them back.
            assert.deepEqual(at(image, "cacheTo"), [{ inline: {} }]);
            assert.deepEqual(at(image, "cacheFrom"), [{ registry: { ref: tag } }], "the stable is prebuilt: no image of it here to read");
            const deployed = at<Array<{ image: string }>>(named(resources, T.deployment, "fraud-scorer-candidate"), "spec.template.spec.containers")[0].image;
            assert.equal(deployed.split("@")[0], tag);
            assert.match(deployed, /@sha256:[a-f0-9]{64}$/);
            assert.equal(outputs.models["fraud-scorer"].images.candidate, deployed, "the stack exports what runs");
        });

        it("local: built by BuildKit and loaded into the engine under the version's tag, not pushed; the containers run that tag, labelled with the build's digest; the stack removes the image with its containers", async () => {
            const { resources } = await runStack(dockerConfig(), "dev");
            const image = named(resources, T.image, "fraud-scorer-stable");
            assert.deepEqual(at(image, "tags"), ["modelship/fraud-scorer:1.4.0"]);
            assert.equal(at(image, "push"), false);
            assert.equal(at(image, "load"), true);
            for (const absent of ["registries", "cacheTo", "cacheFrom", "platforms", "exports"])
                assert.equal(at(image, absent), undefined, `${absent}: the engine's own build cache serves local rebuilds`);
            assert.deepEqual(at(image, "buildArgs"), { MODEL_NAME: "fraud-scorer", MODEL_VERSION: "1.4.0" });
            assert.deepEqual(at(image, "context"), { location: "model-server" });
            assert.deepEqual(at(image, "dockerfile"), { location: "model-server/Dockerfile" });
            assert.equal(ofType(resources, T.ecrRepository).length, 0);
            const contents = ["fraud-scorer-stable-0", "fraud-scorer-stable-1", "fraud-scorer-candidate-0"].map((replica) => {
                const container = named(resources, T.container, replica);
                assert.equal(at<string>(container, "image"), `modelship/fraud-scorer:${replica.includes("stable") ? "1.4.0" : "1.5.0"}`);
                // The router's host name for the replica; the container's own name is the provider's, new with every container.
                assert.equal(at(container, "name"), undefined);
                assert.match(at<Array<{ aliases: string[] }>>(container, "networksAdvanced")[0].aliases[0], /^dev-fraud-scorer-(stable-1\.4\.0|candidate-1\.5\.0)-\d$/);
                return at<Array<{ label: string; value: string }>>(container, "labels").find((l) => l.label === "modelship.dev/image-content")?.value;
            });
            for (const content of contents) assert.match(String(content), /^sha256:[a-f0-9]{64}$/, "the build's digest");
            assert.equal(contents[0], contents[1], "the replicas of a track run one build");
            assert.notEqual(contents[0], contents[2], "each track its own");
            assert.equal(ofType(resources, T.remoteImage).length, 0, "a built image is not pulled");
            // Held for the stack: named by its ID while it runs, its tag removed (never forced) once its containers are gone.
            const held = named(resources, T.command, "fraud-scorer-stable-local-image");
            assert.equal(at(held, "create"), "docker image inspect --format '{{.Id}}' 'modelship/fraud-scorer:1.4.0'");
            assert.match(at<string>(held, "delete"), /^docker image rm 'modelship\/fraud-scorer:1\.4\.0' >\/dev\/null 2>&1 \|\| echo /);
            assert.doesNotMatch(at<string>(held, "delete"), /--force|-f /);
            for (const replica of ["fraud-scorer-stable-0", "fraud-scorer-stable-1"])
                assert.ok(named(resources, T.container, replica).dependsOn?.includes(`${T.command}::fraud-scorer-stable-local-image`), "deleted before the image's tag is removed");
        });

        it("local: a rebuild under the same version (new base image) replaces the track's containers and re-runs its lint and scan gates", async () => {
            const render = async (baseImage?: string) => {
                const model = canaryModel();
                const stable = (model.tracks as { stable: { build: Record<string, unknown> } }).stable;
                if (baseImage) stable.build.baseImage = baseImage;
                return (await runStack(dockerConfig({ "fraud-scorer": model }), "dev")).resources;
            };
            const [before, after] = [await render(), await render(`node@${DIGEST}`)];
            assert.deepEqual(at(named(after, T.image, "fraud-scorer-stable"), "tags"), at(named(before, T.image, "fraud-scorer-stable"), "tags"), "the same version, the same tag");
            // Labels of a docker container force its replacement when they change.
            const content = (resources: RecordedResource[], replica: string) => JSON.stringify(at(named(resources, T.container, replica), "labels"));
            assert.notEqual(content(after, "fraud-scorer-stable-0"), content(before, "fraud-scorer-stable-0"), "the container's image content label changes, so the engine replaces it");
            assert.equal(content(after, "fraud-scorer-candidate-0"), content(before, "fraud-scorer-candidate-0"), "the candidate's image is not rebuilt");
            const triggers = (resources: RecordedResource[], gate: string) => JSON.stringify(at(named(resources, COMMAND, `fraud-scorer-gates-stable-${gate}`), "triggers"));
            for (const gate of ["lint", "scan"]) assert.notEqual(triggers(after, gate), triggers(before, gate), `the stable's ${gate} gate runs again`);
        });

        it("external: pushed under the registry URL with an inline cache, no login of its own; the containers run it by tag@digest", async () => {
            const { resources } = await runStack({ ...dockerConfig(), registry: { type: "external", url: "localhost:5000" } }, "dev");
            const [stable, candidate] = ["1.4.0", "1.5.0"].map((version) => `localhost:5000/modelship/fraud-scorer:${version}`);
            const image = named(resources, T.image, "fraud-scorer-candidate");
            assert.deepEqual(at(image, "tags"), [candidate]);
            assert.equal(at(image, "push"), true);
            assert.equal(at(image, "load"), undefined);
            assert.equal(at(image, "registries"), undefined, "an external registry is reached with the engine's own login");
            assert.deepEqual(at(image, "cacheTo"), [{ inline: {} }]);
            // A new candidate reuses the unchanged layers of the stable's pushed image.
            assert.deepEqual(at(image, "cacheFrom"), [{ registry: { ref: candidate } }, { registry: { ref: stable } }]);
            assert.deepEqual(at(named(resources, T.image, "fraud-scorer-stable"), "cacheFrom"), [{ registry: { ref: stable } }, { registry: { ref: candidate } }]);
            const running = at<string>(named(resources, T.container, "fraud-scorer-candidate-0"), "image");
            assert.equal(running.split("@")[0], candidate);
            assert.match(running, /@sha256:[a-f0-9]{64}$/);
        });

        it("a repository's credentials are the build's one registry login", async () => {
            const credentials = { address: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", username: "AWS", password: "token" };
            const { resources } = await runUnderMocks({ project: "modelship", stack: "prod", config: {} }, () => {
                const repository = { url: pulumi.output("123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/fraud-scorer"), push: true, credentials: pulumi.output(credentials) };
                new ModelImage("fraud-scorer-candidate", {
                    model: "fraud-scorer",
                    track: "candidate",
                    version: "1.5.0",
                    source: { build: { context: "model-server", args: {} } },
                    repository,
                    builtVersions: ["1.5.0"],
                });
            });
            assert.deepEqual(at(named(resources, T.image, "fraud-scorer-candidate"), "registries"), [credentials]);
        });

        it("build.platform is the image's one target platform", async () => {
            const model = canaryModel();
            (model.tracks as { candidate: { build: Record<string, unknown> } }).candidate.build.platform = "linux/arm64";
            const { resources } = await runStack(dockerConfig({ "fraud-scorer": model }), "dev");
            assert.deepEqual(at(named(resources, T.image, "fraud-scorer-candidate"), "platforms"), ["linux/arm64"]);
            assert.equal(at(named(resources, T.image, "fraud-scorer-stable"), "platforms"), undefined, "the engine's own platform");
        });

        it("docker: a prebuilt image is pulled before its containers run", async () => {
            const model = canaryModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "localhost:5000/fraud-scorer:1.4.0" };
            const { resources } = await runStack(dockerConfig({ "fraud-scorer": model }), "dev");
            const pulled = named(resources, T.remoteImage, "fraud-scorer-stable-image");
            assert.equal(at(pulled, "name"), "localhost:5000/fraud-scorer:1.4.0");
            assert.match(at<string>(named(resources, T.container, "fraud-scorer-stable-0"), "image"), /^sha256:/);
            assert.equal(at(pulled, "keepLocally"), true, "a pulled image is left in the engine");
            assert.equal(ofType(resources, T.remoteImage).length, 1, "the built candidate is not pulled");
        });
    });

    describe("kubernetes workloads", () => {
        it("GPU requests, node selector and tolerations; an init container for dependencies; the IRSA role", async () => {
            const model = prodModel({
                gpu: { count: 2, nodeSelector: { "node.kubernetes.io/instance-type": "g5.xlarge" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] },
                dependsOn: [{ name: "feature-store", host: "feature-store.data", port: 6379 }],
                serviceAccountRoleArn: "arn:aws:iam::123456789012:role/fraud",
            });
            const { resources } = await runStack(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": model }), "prod");
            const pod = at<Record<string, unknown>>(named(resources, T.deployment, "fraud-scorer-stable"), "spec.template.spec") as {
                containers: Array<{ resources: { limits: Record<string, string> } }>;
                initContainers: Array<{ name: string; command: string[] }>;
                nodeSelector: Record<string, string>;
                tolerations: unknown[];
                serviceAccountName: string;
            };
            assert.equal(pod.containers[0].resources.limits["nvidia.com/gpu"], "2");
            assert.deepEqual(pod.nodeSelector, { "node.kubernetes.io/instance-type": "g5.xlarge" });
            assert.equal(pod.tolerations.length, 1);
            assert.deepEqual(
                pod.initContainers.map((c) => c.name),
                ["fetch-artifact", "wait-for-dependencies"],
                "the artifact is fetched first, then dependencies are waited for",
            );
            assert.match(pod.initContainers[1].command.join(" "), /feature-store\.data.*6379/);
            assert.equal(pod.serviceAccountName, "fraud-scorer");
            const account = named(resources, T.serviceAccount, "fraud-scorer");
            assert.equal(at<Record<string, string>>(account, "metadata.annotations")["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/fraud");
        });

        it("creates the namespace, labelled with its environment, unless told it exists", async () => {
            const created = await runStack(kubernetesConfig(), "prod");
            assert.equal(at<Record<string, string>>(named(created.resources, T.namespace, "cluster-namespace"), "metadata.labels")["modelship.dev/environment"], "prod");
            const raw = kubernetesConfig();
            raw.targets = { cluster: { type: "kubernetes", namespace: "models", createNamespace: false, router: GATEWAY_ROUTER } };
            const existing = await runStack(raw, "prod");
            assert.equal(ofType(existing.resources, T.namespace).length, 0);
        });

        it("the candidate of a canary scales with its step: 5% of 4 replicas is 1, 50% is 2", async () => {
            const replicasAt = async (step: number) => {
                const raw = kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ strategy: { type: "canary", steps: [5, 50, 100], step } }) });
                const { resources } = await runStack(raw, "prod");
                return at(named(resources, T.deployment, "fraud-scorer-candidate"), "spec.replicas");
            };
            assert.deepEqual([await replicasAt(0), await replicasAt(1), await replicasAt(2)], [1, 2, 4]);
        });
    });

    describe("several models behind one router", () => {
        it("docker: one router routes each model by its own path", async () => {
            const { resources, outputs } = await runStack(dockerConfig({ a: canaryModel(), b: modelFor(canaryModel(), "abTest") }), "dev");
            assert.equal(ofType(resources, T.container).filter((c) => c.name === "router").length, 1);
            const conf = at<string>(named(resources, T.command, "router-reload"), "stdin");
            assert.match(conf, /v2\/models\/a\(/);
            assert.match(conf, /v2\/models\/b\(/);
            assert.deepEqual(Object.keys(outputs.models).sort(), ["a", "b"]);
            const plan = planTraffic("a", parseConfig(dockerConfig({ a: canaryModel() }), "dev").models.a);
            assert.equal(trackPlan(plan, "candidate")?.weight, 10);
            assert.deepEqual(nginxSplit(conf, "a"), { stable: 90, candidate: 10 });
        });
    });

    describe("several targets of one type", () => {
        it("two kubernetes targets (one per router) and two aws-vm targets: every resource has a URN of its own", async () => {
            const raw = kubernetesConfig(GATEWAY_ROUTER, { a: { ...prodModel(), target: "gateway" }, b: { ...prodModel(), target: "nginx" } });
            raw.targets = { gateway: { type: "kubernetes", namespace: "a", router: GATEWAY_ROUTER }, nginx: { type: "kubernetes", namespace: "b", router: NGINX_ROUTER } };
            const { resources } = await runStack(raw, "prod");
            assert.deepEqual(
                ofType(resources, T.namespace)
                    .map((n) => n.name)
                    .sort(),
                ["gateway-namespace", "nginx-namespace"],
            );
            named(resources, T.deployment, "nginx-modelship-router");
            const vms = awsVmConfig({ a: { ...prodModel(), target: "east" }, b: { ...prodModel(), target: "west" } });
            vms.targets = { east: AWS_VM_TARGET, west: AWS_VM_TARGET };
            const both = await runStack(vms, "prod");
            assert.equal(ofType(both.resources, T.securityGroupIngressRule).length, 2);
        });

        it("the mock runtime refuses two resources with one URN, as the engine does", async () => {
            await assert.rejects(
                runUnderMocks({ project: "modelship", stack: "dev", config: {} }, () => {
                    const parentA = new pulumi.ComponentResource("modelship:test:Parent", "a");
                    const parentB = new pulumi.ComponentResource("modelship:test:Parent", "b");
                    new pulumi.ComponentResource("modelship:test:Child", "same", {}, { parent: parentA });
                    new pulumi.ComponentResource("modelship:test:Child", "same", {}, { parent: parentB });
                }),
                /duplicate resource URNs .*urn:pulumi:dev::modelship::modelship:test:Parent\$modelship:test:Child::same/,
            );
        });
    });
});

describe("monitoring under mocks", () => {
    it("without the Prometheus Operator: one rules ConfigMap per model with both tracks' alerts at the model's thresholds", async () => {
        const model = prodModel({ analysis: { maxErrorRate: 0.02, maxP95LatencyMs: 300 } });
        const { resources } = await runStack(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": model }), "prod");
        const rules = named(resources, T.configMap, "fraud-scorer-alert-rules");
        const file = at<Record<string, string>>(rules, "data")["fraud-scorer.rules.yaml"];
        const parsed = parseYaml(file) as { groups: Array<{ rules: Array<{ alert: string; labels: { track: string } }> }> };
        const alerts = parsed.groups[0].rules.map((r) => `${r.alert}/${r.labels.track}`);
        assert.deepEqual(alerts.sort(), ["ModelshipHighErrorRate/candidate", "ModelshipHighErrorRate/stable", "ModelshipHighLatencyP95/candidate", "ModelshipHighLatencyP95/stable"]);
        assert.match(file, /> 0\.02\n/);
        assert.match(file, /> 0\.3\n/);
        assert.equal(ofType(resources, T.prometheusRule).length, 0);
    });

    it("with the Prometheus Operator: a ServiceMonitor and a PrometheusRule per model instead", async () => {
        const raw = kubernetesConfig(GATEWAY_ROUTER, { a: prodModel(), b: modelFor(prodModel(), "rolling") });
        raw.targets = { cluster: { type: "kubernetes", namespace: "models", router: GATEWAY_ROUTER, monitoring: { prometheusOperator: true } } };
        const { resources } = await runStack(raw, "prod");
        assert.deepEqual(
            ofType(resources, T.prometheusRule)
                .map((r) => r.name)
                .sort(),
            ["a-alerts", "b-alerts"],
        );
        assert.deepEqual(
            ofType(resources, T.serviceMonitor)
                .map((r) => r.name)
                .sort(),
            ["a-scrape", "b-scrape"],
        );
        const rolling = named(resources, T.prometheusRule, "b-alerts");
        const tracks = at<Array<{ rules: Array<{ labels: { track: string } }> }>>(rolling, "spec.groups")[0].rules.map((r) => r.labels.track);
        assert.deepEqual([...new Set(tracks)], ["stable"], "a single-pool model has alerts for its one track");
        assert.equal(ofType(resources, T.configMap).filter((c) => c.name.endsWith("-alert-rules")).length, 0);
    });
});

describe("IRSA roles under mocks", () => {
    const OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123";
    const withIrsa = (models: Record<string, Record<string, unknown>>) => {
        const raw = kubernetesConfig(GATEWAY_ROUTER, models);
        raw.targets = { cluster: { type: "kubernetes", namespace: "models", router: GATEWAY_ROUTER, irsa: { oidcProviderArn: OIDC } } };
        return raw;
    };

    it("gives each model a role trusted by its own service account only, allowed its own prefix and repository, and annotates the account with it", async () => {
        const { resources } = await runStack(withIrsa({ "fraud-scorer": prodModel() }), "prod");
        const role = named(resources, IAM_TYPES.role, "fraud-scorer-pods");
        const trust = JSON.parse(at<string>(role, "assumeRolePolicy")) as { Statement: Array<{ Condition: { StringEquals: Record<string, string> } }> };
        assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
            "oidc.eks.us-east-1.amazonaws.com/id/ABC123:aud": "sts.amazonaws.com",
            "oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub": "system:serviceaccount:models:fraud-scorer",
        });
        const policy = JSON.parse(at<string>(named(resources, IAM_TYPES.rolePolicy, "fraud-scorer-runtime"), "policy")) as { Statement: Array<{ Sid: string; Resource: string }> };
        assert.equal(policy.Statement.find((s) => s.Sid === "ReadModelArtifact")?.Resource, "arn:aws:s3:::models-prod/fraud-scorer/*");
        assert.equal(policy.Statement.find((s) => s.Sid === "PullImage")?.Resource, "arn:aws:ecr:us-east-1:123456789012:repository/modelship/fraud-scorer");
        const account = named(resources, T.serviceAccount, "fraud-scorer");
        assert.equal(at(role, "name"), "modelship-prod-fraud-scorer-pods", "roles are account-wide: the name says product and environment");
        assert.equal(at<Record<string, string>>(account, "metadata.annotations")["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/modelship-prod-fraud-scorer-pods");
    });

    it("the pods of every track carry the made role's web identity in their fetch-artifact container alone, with the target's artifact store", async () => {
        const raw = withIrsa({ "fraud-scorer": prodModel() });
        (raw.targets as Record<string, Record<string, unknown>>).cluster.artifactStore = { endpoint: "http://10.0.0.5:9000", stsEndpoint: "http://10.0.0.5:9000", region: "eu-west-1" };
        const { resources } = await runStack(raw, "prod");
        for (const track of ["stable", "candidate"]) {
            const pod = at<{
                initContainers: Array<{ name: string; env?: Array<{ name: string; value: string }> }>;
                containers: Array<{ env: Array<{ name: string }> }>;
                volumes: Array<{ name: string; projected?: unknown }>;
            }>(named(resources, T.deployment, `fraud-scorer-${track}`), "spec.template.spec");
            const env = Object.fromEntries((pod.initContainers.find((c) => c.name === "fetch-artifact")!.env ?? []).map((e) => [e.name, e.value]));
            assert.equal(env.AWS_ROLE_ARN, "arn:aws:iam::123456789012:role/modelship-prod-fraud-scorer-pods", `${track}: the role this stack made`);
            assert.equal(env.AWS_ENDPOINT_URL_S3, "http://10.0.0.5:9000");
            assert.equal(env.AWS_REGION, "eu-west-1");
            assert.ok(
                pod.volumes.some((v) => v.name === "aws-iam-token" && v.projected),
                `${track}: the token volume`,
            );
            assert.deepEqual(
                pod.containers[0].env.filter((e) => e.name.startsWith("AWS_")),
                [],
                `${track}: the model server gets none of it`,
            );
        }
    });

    it("keeps a role the model names instead of making one", async () => {
        const { resources } = await runStack(withIrsa({ m: prodModel({ serviceAccountRoleArn: "arn:aws:iam::123456789012:role/existing" }) }), "prod");
        assert.equal(ofType(resources, IAM_TYPES.role).length, 0);
        assert.equal(at<Record<string, string>>(named(resources, T.serviceAccount, "m"), "metadata.annotations")["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/existing");
        const init = at<Array<{ name: string; env?: Array<{ name: string; value: string }> }>>(named(resources, T.deployment, "m-stable"), "spec.template.spec.initContainers")[0];
        assert.equal(init.env?.find((e) => e.name === "AWS_ROLE_ARN")?.value, "arn:aws:iam::123456789012:role/existing", "the named role is the one the pods assume");
    });
});
