import { strict as assert } from "assert";
import { quantityBytes } from "../../components/config/schema";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../../components/config/errors";
import { namespaceValues } from "../../components/config/load";
import { parseConfig, type RawConfig } from "../../components/config/parse";
import { findProjectDir } from "../../tools/render";
import { readStackFiles } from "../../tools/project-files";
import { AWS_VM_TARGET, canaryModel, DIGEST, dockerConfig, GATEWAY_ROUTER, kubernetesConfig, modelFor, NGINX_ROUTER, prodModel, STRATEGIES } from "../fixtures";

/** Parses and returns the ConfigError, failing the test if the config was accepted. */
function configError(raw: RawConfig, stack: string): ConfigError {
    try {
        parseConfig(raw, stack);
    } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
    }
    assert.fail("the config was accepted");
}

function issuePaths(raw: RawConfig, stack: string): string[] {
    return configError(raw, stack).issues.map((i) => i.path);
}

function withModel(model: Record<string, unknown>) {
    return dockerConfig({ "fraud-scorer": model });
}

describe("config", () => {
    describe("the shipped stacks", () => {
        for (const stack of ["dev", "prod"]) {
            it(`Pulumi.${stack}.yaml parses without a problem`, () => {
                const files = readStackFiles(findProjectDir(), stack);
                const config = parseConfig(namespaceValues(files.config), stack);
                assert.equal(config.environment, stack);
                assert.ok(Object.keys(config.models).length >= 1);
            });
        }

        it("prod runs at least two models on different strategies, on kubernetes with ECR", () => {
            const config = parseConfig(namespaceValues(readStackFiles(findProjectDir(), "prod").config), "prod");
            assert.deepEqual(
                Object.values(config.targets)
                    .map((t) => t.type)
                    .sort(),
                ["aws-vm", "kubernetes"],
                "prod exercises both cloud targets",
            );
            assert.equal(config.registry.type, "ecr");
            const strategies = new Set(Object.values(config.models).map((m) => m.strategy.type));
            assert.ok(strategies.size >= 2, `strategies: ${[...strategies].join(", ")}`);
        });
    });

    describe("defaults", () => {
        it("fills replicas, port, flags, resources and the canary step", () => {
            const model = parseConfig(withModel({ ...canaryModel(), strategy: { type: "canary", steps: [50, 100] } }), "dev").models["fraud-scorer"];
            assert.equal(model.port, 8080);
            assert.equal(model.strategy.type === "canary" && model.strategy.step, 0);
            assert.deepEqual(model.tracks.candidate?.featureFlags, {});
            assert.equal(model.resources.limits.memory, "512Mi");
            assert.equal(model.readyTimeoutSeconds, 600);
        });

        it("a ready timeout between 10 s and an hour", () => {
            assert.equal(parseConfig(withModel({ ...canaryModel(), readyTimeoutSeconds: 45 }), "dev").models["fraud-scorer"].readyTimeoutSeconds, 45);
            assert.throws(() => parseConfig(withModel({ ...canaryModel(), readyTimeoutSeconds: 5 }), "dev"), /readyTimeoutSeconds: got 5; expected/);
        });

        it("turns feature flag values into strings, the form containers receive", () => {
            const model = canaryModel();
            (model.tracks as { candidate: Record<string, unknown> }).candidate.featureFlags = { boost: true, threshold: 0.7 };
            const parsed = parseConfig(withModel(model), "dev").models["fraud-scorer"];
            assert.deepEqual(parsed.tracks.candidate?.featureFlags, { boost: "true", threshold: "0.7" });
        });

        it("keeps a prebuilt image or a build as the track's source", () => {
            const parsed = parseConfig(kubernetesConfig(), "prod").models["fraud-scorer"];
            assert.deepEqual(parsed.tracks.stable.source, { image: `registry.example/fraud-scorer@${DIGEST}` });
            const dev = parseConfig(dockerConfig(), "dev").models["fraud-scorer"];
            assert.equal("build" in dev.tracks.stable.source && dev.tracks.stable.source.build.context, "model-server");
        });
    });

    describe("shape errors", () => {
        const cases: Array<[string, () => RawConfig, string, string]> = [
            ["an unknown top-level key", () => ({ ...dockerConfig(), strategy: {} }), "modelship:strategy", "no such key"],
            ["a typo in a nested key", () => withModel({ ...canaryModel(), stratgey: {} }), "modelship:models.fraud-scorer.stratgey", "no such key"],
            ["a missing key", () => ({ ...dockerConfig(), environment: undefined }), "modelship:environment", "string"],
            ["a model name that is not a DNS label", () => dockerConfig({ Fraud_Scorer: canaryModel() }), "modelship:models.Fraud_Scorer", "DNS label"],
            ["no models at all", () => dockerConfig({}), "modelship:models", "at least one model"],
            ["an unknown target type", () => ({ ...dockerConfig(), targets: { local: { type: "lambda" } } }), "modelship:targets.local.type", "docker, kubernetes or aws-vm"],
            ["an unknown strategy type", () => withModel({ ...canaryModel(), strategy: { type: "yolo" } }), "modelship:models.fraud-scorer.strategy.type", "canary"],
            ["a canary weight above 100", () => withModel({ ...canaryModel(), strategy: { type: "canary", steps: [50, 150] } }), "modelship:models.fraud-scorer.strategy.steps.1", "100"],
            ["a fractional weight", () => withModel({ ...canaryModel(), strategy: { type: "canary", steps: [12.5, 100] } }), "modelship:models.fraud-scorer.strategy.steps.0", "a whole number"],
            ["an abTest split of 0", () => withModel({ ...canaryModel(), strategy: { ...STRATEGIES.abTest, candidateWeight: 0 } }), "modelship:models.fraud-scorer.strategy.candidateWeight", "1"],
            ["an abTest without a sticky key", () => withModel({ ...canaryModel(), strategy: { type: "abTest" } }), "modelship:models.fraud-scorer.strategy.stickyBy", ""],
            [
                "a build platform BuildKit cannot target",
                () => withModel({ ...canaryModel(), tracks: { stable: { version: "1.4.0", build: { context: "model-server", platform: "linux/amd65" } } } }),
                "modelship:models.fraud-scorer.tracks.stable.build.platform",
                '"linux/amd64", "linux/arm", "linux/arm64"',
            ],
            ["a shadow mirror of 0%", () => withModel({ ...canaryModel(), strategy: { type: "shadow", mirrorPercent: 0 } }), "modelship:models.fraud-scorer.strategy.mirrorPercent", "1"],
        ];
        for (const [what, raw, path, expected] of cases) {
            it(`reports ${what} at ${path}`, () => {
                const issue = configError(raw(), "dev").issues.find((i) => i.path === path);
                assert.ok(
                    issue,
                    `no issue at ${path}; got ${configError(raw(), "dev")
                        .issues.map((i) => i.path)
                        .join(", ")}`,
                );
                assert.match(issue.expected, new RegExp(expected));
            });
        }

        it("refuses `latest` and untagged images, which change under the same name", () => {
            for (const image of ["registry.example/model:latest", "registry.example/model"]) {
                const model = canaryModel();
                (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image };
                const issue = configError(withModel(model), "dev").issues.find((i) => i.path === "modelship:models.fraud-scorer.tracks.stable.image");
                assert.ok(issue, image);
                assert.match(issue.expected, /explicit tag other than `latest`, or a digest/);
            }
        });

        it("needs exactly one of image and build", () => {
            const model = canaryModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "m:1", build: { context: "." } };
            assert.deepEqual(issuePaths(withModel(model), "dev"), ["modelship:models.fraud-scorer.tracks.stable"]);
        });
    });

    describe("cross-key rules", () => {
        it("environment must equal the stack name: a config copied from another environment", () => {
            const error = configError({ ...dockerConfig(), environment: "prod" }, "dev");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:environment"],
            );
            assert.equal(error.issues[0].value, "prod");
            assert.match(error.issues[0].expected, /"dev", the name of the stack/);
        });

        it("prod images must be pinned by digest", () => {
            const model = prodModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "registry.example/fraud-scorer:1.4.0", replicas: 2 };
            const error = configError(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": model }), "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:models.fraud-scorer.tracks.stable.image"],
            );
            assert.match(error.issues[0].expected, /pinned by digest/);
        });

        it("the same tag is fine outside prod", () => {
            const model = canaryModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "registry.example/fraud-scorer:1.4.0" };
            assert.doesNotThrow(() => parseConfig(withModel(model), "dev"));
        });

        it("the prod nginx router image must be pinned by digest too", () => {
            const error = configError(kubernetesConfig({ type: "nginx", image: "nginx:1.27" }), "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:targets.cluster.router.image"],
            );
        });

        it("a two-track strategy needs a candidate", () => {
            const model = canaryModel();
            delete (model.tracks as Record<string, unknown>).candidate;
            const error = configError(withModel(model), "dev");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:models.fraud-scorer.tracks.candidate"],
            );
            assert.match(error.issues[0].expected, /canary moves traffic from stable to a candidate/);
        });

        for (const strategy of ["recreate", "rolling"]) {
            it(`${strategy} refuses a candidate and says to change the stable version`, () => {
                const error = configError(withModel({ ...canaryModel(), strategy: STRATEGIES[strategy] }), "dev");
                assert.deepEqual(
                    error.issues.map((i) => i.path),
                    ["modelship:models.fraud-scorer.tracks.candidate"],
                );
                assert.match(error.issues[0].expected, /change tracks.stable.version/);
            });
        }

        it("canary steps must increase", () => {
            const paths = issuePaths(withModel({ ...canaryModel(), strategy: { type: "canary", steps: [10, 50, 25, 100] } }), "dev");
            assert.deepEqual(paths, ["modelship:models.fraud-scorer.strategy.steps"]);
        });

        it("the step must index into the steps", () => {
            const error = configError(withModel({ ...canaryModel(), strategy: { type: "canary", steps: [10, 100], step: 2 } }), "dev");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:models.fraud-scorer.strategy.step"],
            );
            assert.match(error.issues[0].expected, /0\.\.1/);
        });

        it("a rolling update needs room to move", () => {
            const paths = issuePaths(
                dockerConfig({ m: { ...canaryModel(), tracks: { stable: { version: "1", build: { context: "." } } }, strategy: { type: "rolling", maxSurge: 0, maxUnavailable: "0%" } } }),
                "dev",
            );
            assert.deepEqual(paths, ["modelship:models.m.strategy.maxUnavailable"]);
        });

        it("a candidate with the stable version is refused, except in an A/B test of feature flags", () => {
            const same = canaryModel();
            (same.tracks as { candidate: Record<string, unknown> }).candidate.version = "1.4.0";
            assert.deepEqual(issuePaths(withModel(same), "dev"), ["modelship:models.fraud-scorer.tracks.candidate.version"]);
            assert.doesNotThrow(() => parseConfig(withModel({ ...same, strategy: STRATEGIES.abTest }), "dev"));
        });

        it("a strategy the router cannot run is refused, naming the routers that can", () => {
            for (const strategy of ["canary", "blueGreen", "abTest", "shadow"]) {
                const error = configError(kubernetesConfig({ type: "none" }, { "fraud-scorer": prodModel({ strategy: STRATEGIES[strategy] }) }), "prod");
                assert.deepEqual(
                    error.issues.map((i) => i.path),
                    ["modelship:models.fraud-scorer.strategy.type"],
                    strategy,
                );
                assert.match(error.issues[0].expected, /set router.type to gateway-api or nginx on this target/);
            }
            const shadow = configError(kubernetesConfig({ type: "none" }, { "fraud-scorer": prodModel({ strategy: STRATEGIES.shadow }) }), "prod");
            assert.match(shadow.issues[0].expected, /mirrors requests/);
        });

        it("two kubernetes targets in one namespace are refused, naming both targets, the namespace and the fix", () => {
            const target = (namespace: string) => ({ type: "kubernetes", namespace, router: NGINX_ROUTER });
            const models = { a: prodModel({ target: "blue" }), b: prodModel({ target: "green" }), c: prodModel({ target: "canary" }) };
            const error = configError({ ...kubernetesConfig(NGINX_ROUTER, models), targets: { blue: target("models"), green: target("models"), canary: target("canary-models") } }, "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:targets.green.namespace"],
            );
            assert.equal(error.issues[0].value, "models");
            assert.match(error.issues[0].expected, /a namespace no other kubernetes target uses: blue deploys into "models" too/);
            assert.match(error.issues[0].expected, /run both targets' models on one target, or give green a namespace of its own/);
        });

        it("a cluster cannot pull from the local engine", () => {
            const error = configError({ ...kubernetesConfig(), registry: { type: "local" } }, "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:targets.cluster.type"],
            );
            assert.match(error.issues[0].expected, /a cluster cannot pull images that exist only in the local Docker engine/);
        });

        it("the docker target mounts local files; kubernetes needs a registry URI", () => {
            assert.deepEqual(issuePaths(withModel({ ...canaryModel(), artifact: "s3://bucket/m/" }), "dev"), ["modelship:models.fraud-scorer.artifact"]);
            assert.deepEqual(issuePaths(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ artifact: "./models/x" }) }), "prod"), ["modelship:models.fraud-scorer.artifact"]);
        });

        it("kubernetes-only settings are refused on the docker target", () => {
            const model = canaryModel({
                gpu: { count: 1 },
                dependsOn: [{ name: "cache", host: "cache", port: 6379 }],
                serviceAccountRoleArn: "arn:aws:iam::123456789012:role/x",
            });
            assert.deepEqual(issuePaths(withModel(model), "dev").sort(), [
                "modelship:models.fraud-scorer.dependsOn",
                "modelship:models.fraud-scorer.gpu",
                "modelship:models.fraud-scorer.serviceAccountRoleArn",
            ]);
        });

        it("every strategy is accepted on every router that supports it", () => {
            for (const name of Object.keys(STRATEGIES)) {
                for (const router of [GATEWAY_ROUTER, NGINX_ROUTER]) {
                    const model = modelFor(prodModel(), name);
                    assert.doesNotThrow(() => parseConfig(kubernetesConfig(router, { m: model }), "prod"), `${name} on ${router.type}`);
                }
            }
        });
    });

    describe("one message for every mistake", () => {
        it("names all three mistakes of a config, with the value seen and what was expected", () => {
            const raw = kubernetesConfig(GATEWAY_ROUTER, {
                "fraud-scorer": prodModel({ strategy: { type: "canary", steps: [5, 25, 50, 100], step: 7 } }),
                ranker: prodModel({ artifact: "models/ranker" }),
            });
            raw.environment = "dev";
            const error = configError(raw, "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:environment", "modelship:models.fraud-scorer.strategy.step", "modelship:models.ranker.artifact"],
            );
            const lines = error.message.split("\n");
            assert.match(lines[0], /stack "prod" has 3 problems; nothing was deployed/);
            assert.match(error.message, /modelship:environment: got "dev"; expected "prod"/);
            assert.match(error.message, /strategy\.step: got 7; expected an index into strategy\.steps, 0\.\.3/);
            assert.match(error.message, /ranker\.artifact: got "models\/ranker"; expected a model registry URI/);
        });

        it("kubernetes artifacts: s3:// and https://, what the pods' fetch-artifact init container reads; another scheme is refused at parse", () => {
            for (const artifact of ["s3://models-prod/fraud-scorer/", "https://models.example.com/fraud-scorer/"]) {
                assert.doesNotThrow(() => parseConfig(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ artifact }) }), "prod"), artifact);
            }
            const error = configError(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ artifact: "gs://models/fraud-scorer/" }) }), "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:models.fraud-scorer.artifact"],
            );
            assert.match(
                error.message,
                /got "gs:\/\/models\/fraud-scorer\/"; expected a model registry URI the pods' fetch-artifact init container reads: s3:\/\/bucket\/models\/name\/ or https:\/\//,
            );
        });

        it("a kubernetes target's artifactStore: endpoints are http(s) URLs and the region a region name, each error naming the key, the value and the fix", () => {
            const withStore = (artifactStore: unknown) => {
                const raw = kubernetesConfig();
                (raw.targets as Record<string, Record<string, unknown>>).cluster.artifactStore = artifactStore;
                return raw;
            };
            const store = { endpoint: "http://10.0.0.5:9000", stsEndpoint: "https://sts.eu-west-1.amazonaws.com", region: "eu-west-1" };
            const target = parseConfig(withStore(store), "prod").targets.cluster;
            assert.deepEqual(target.type === "kubernetes" ? target.artifactStore : undefined, store);
            const unset = parseConfig(kubernetesConfig(), "prod").targets.cluster;
            assert.deepEqual(unset.type === "kubernetes" ? unset.artifactStore : undefined, {}, "unset: the SDK's defaults");
            const error = configError(withStore({ endpoint: "s3.example.com", stsEndpoint: "http://user:pw@10.0.0.5:9000", region: "Europe" }), "prod");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:targets.cluster.artifactStore.endpoint", "modelship:targets.cluster.artifactStore.stsEndpoint", "modelship:targets.cluster.artifactStore.region"],
            );
            assert.match(
                error.message,
                /artifactStore\.endpoint: got "s3\.example\.com"; expected an http:\/\/ or https:\/\/ URL of the S3 API the pods read artifacts from, such as https:\/\/s3\.eu-west-1\.amazonaws\.com/,
            );
            assert.match(error.message, /artifactStore\.stsEndpoint: got "http:\/\/user:pw@10\.0\.0\.5:9000"; expected .*without credentials/);
            assert.match(error.message, /artifactStore\.region: got "Europe"; expected an AWS region name such as eu-west-1/);
            const unknown = configError(withStore({ endpoint: "http://10.0.0.5:9000", bucket: "x" }), "prod");
            assert.deepEqual(
                unknown.issues.map((i) => i.path),
                ["modelship:targets.cluster.artifactStore.bucket"],
                "an unknown key is refused",
            );
            assert.match(unknown.message, /endpoint, stsEndpoint, region/, "naming the keys there are");
        });

        it("a schema error in a model does not hide that model's cross-key errors", () => {
            const model = canaryModel({ strategy: { type: "canary", steps: [50, 10, 100], step: 7 } });
            (model.tracks as { candidate: Record<string, unknown> }).candidate.replicas = 0;
            const error = configError(withModel(model), "dev");
            assert.deepEqual(
                error.issues.map((i) => i.path),
                ["modelship:models.fraud-scorer.tracks.candidate.replicas", "modelship:models.fraud-scorer.strategy.steps", "modelship:models.fraud-scorer.strategy.step"],
            );
            assert.match(error.message, /has 3 problems/);
        });

        it("the rules check every track that parsed: a broken stable does not hide an unpinned candidate in prod", () => {
            const raw = kubernetesConfig(GATEWAY_ROUTER, {
                "fraud-scorer": prodModel({
                    tracks: {
                        stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, replicas: -1 },
                        candidate: { version: "1.5.0", image: "registry.example/fraud-scorer:1.5.0" },
                    },
                }),
            });
            assert.deepEqual(issuePaths(raw, "prod"), ["modelship:models.fraud-scorer.tracks.stable.replicas", "modelship:models.fraud-scorer.tracks.candidate.image"]);
        });

        it("reports a type error in one model and a rule broken in another together", () => {
            const raw = dockerConfig({
                a: canaryModel({ strategy: { type: "canary", steps: "10,100" } }),
                b: canaryModel({ strategy: { type: "canary", steps: [10, 100], step: 5 } }),
            });
            assert.deepEqual(issuePaths(raw, "dev"), ["modelship:models.a.strategy.steps", "modelship:models.b.strategy.step"]);
        });
    });

    describe("messages in the project's words", () => {
        /** What zod says in its own English; none of it may reach a user. */
        const ZOD_PHRASES = [
            /Too big/i,
            /Too small/i,
            /expected record/,
            /Invalid input/,
            /expected number to be/,
            /Invalid option/,
            /Invalid string/,
            /Unrecognized key/,
            /expected (string|number|array|object|boolean|int)\b/,
            /received \w+/,
            /must match pattern/,
        ];

        function assertOwnWording(message: string): void {
            for (const phrase of ZOD_PHRASES) assert.doesNotMatch(message, phrase, message);
        }

        it("names the limit and the kind of value expected, never zod's wording", () => {
            const cases: Array<[RawConfig, string, RegExp]> = [
                [{ ...dockerConfig(), targets: { local: { type: "docker", port: 70000, routerImage: "nginx:1.27" } } }, "modelship:targets.local.port", /^at most 65535$/],
                [{ ...dockerConfig(), targets: "local" }, "modelship:targets", /map from names to settings/],
                [{ ...dockerConfig(), models: ["a"] }, "modelship:models", /map from names to settings/],
                [withModel({ ...canaryModel(), readyTimeoutSeconds: 5 }), "modelship:models.fraud-scorer.readyTimeoutSeconds", /^at least 10$/],
                [withModel({ ...canaryModel(), artifact: "" }), "modelship:models.fraud-scorer.artifact", /non-empty string/],
                [withModel({ ...canaryModel(), strategy: { type: "blueGreen", active: "both" } }), "modelship:models.fraud-scorer.strategy.active", /^one of "stable", "candidate"$/],
                [withModel({ ...canaryModel(), strategy: { type: "abTest", stickyBy: { ip: "x" } } }), "modelship:models.fraud-scorer.strategy.stickyBy", /\{header\} or \{cookie\}/],
                [withModel({ ...canaryModel(), resources: { requests: { cpu: "lots" } } }), "modelship:models.fraud-scorer.resources.requests.cpu", /Kubernetes quantity such as 250m/],
                [withModel({ ...canaryModel(), dependsOn: {} }), "modelship:models.fraud-scorer.dependsOn", /^a list/],
                [withModel({ ...canaryModel(), stratgey: {} }), "modelship:models.fraud-scorer.stratgey", /no such key; the keys here are target, artifact, port, tracks, strategy,/],
                [{ ...kubernetesConfig(), targets: { vms: { ...AWS_VM_TARGET, subnetIds: ["subnet-0a1b2c3d4e5f60719"] } } }, "modelship:targets.vms.subnetIds", /^at least 2 items$/],
            ];
            for (const [raw, at, expected] of cases) {
                const error = configError(raw, "dev");
                const issue = error.issues.find((i) => i.path === at);
                assert.ok(issue, `no issue at ${at}: ${error.message}`);
                assert.match(issue.expected, expected);
                assertOwnWording(error.message);
            }
        });

        it("any value in any place of a valid config gets a message in the project's words (fast-check)", () => {
            /** Every path of a valid config (kubernetes, so most keys exist), and a random value for one of them. */
            const base = kubernetesConfig(NGINX_ROUTER, {
                "fraud-scorer": prodModel({ gates: { smoke: { request: "r.json" } }, resources: {}, gpu: { count: 1 }, dependsOn: [{ name: "db", host: "db", port: 5432 }] }),
            });
            const paths: string[][] = [];
            const walk = (value: unknown, at: string[]) => {
                paths.push(at);
                if (value !== null && typeof value === "object") for (const [key, child] of Object.entries(value)) walk(child, [...at, key]);
            };
            walk(base, []);
            const setAt = (root: unknown, at: readonly string[], value: unknown): unknown => {
                if (at.length === 0) return value;
                const copy: Record<string, unknown> = Array.isArray(root) ? ([...root] as unknown as Record<string, unknown>) : { ...(root as Record<string, unknown>) };
                copy[at[0]] = setAt(copy[at[0]], at.slice(1), value);
                return copy;
            };
            fc.assert(
                fc.property(
                    fc.constantFrom(...paths.filter((p) => p.length > 0)),
                    fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.integer(), fc.constantFrom(-1, 0, 70000, "", "x", [], {}, null, true)),
                    (at, value) => {
                        try {
                            parseConfig(setAt(base, at, value) as RawConfig, "prod");
                        } catch (error) {
                            if (!(error instanceof ConfigError)) throw error;
                            assertOwnWording(error.message);
                        }
                    },
                ),
                { numRuns: 400 },
            );
        });

        it("names the keys there are for an unknown key of the namespace", () => {
            const issue = configError({ ...dockerConfig(), modles: {} }, "dev").issues.find((i) => i.path === "modelship:modles");
            assert.ok(issue);
            assert.match(issue.expected, /no such key; the keys are environment, targets, registry, models/);
        });

        it("`latest` in prod is one message that asks for a tag and a digest at once, and its example passes", () => {
            for (const image of ["registry.example/fraud-scorer:latest", "registry.example/fraud-scorer"]) {
                const raw = kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ tracks: { stable: { version: "1.4.0", image } }, strategy: { type: "rolling" } }) });
                const error = configError(raw, "prod");
                assert.equal(error.issues.length, 1, error.message);
                assert.equal(error.issues[0].path, "modelship:models.fraud-scorer.tracks.stable.image");
                assert.match(error.issues[0].expected, /an explicit tag other than `latest`/);
                assert.match(error.issues[0].expected, /prod needs the digest too, e\.g\. repo\/name:1\.2\.3@sha256:/);
                const fixed = kubernetesConfig(GATEWAY_ROUTER, {
                    "fraud-scorer": prodModel({ tracks: { stable: { version: "1.4.0", image: `registry.example/fraud-scorer:1.4.0@${DIGEST}` } }, strategy: { type: "rolling" } }),
                });
                assert.doesNotThrow(() => parseConfig(fixed, "prod"));
            }
        });

        it("a canary that ends below 100 is refused, saying what the last promote does; allowFinalStepBelow100 accepts it", () => {
            const steps = (list: number[], extra: Record<string, unknown> = {}) => withModel(canaryModel({ strategy: { type: "canary", steps: list, ...extra } }));
            const issue = configError(steps([0, 5]), "dev").issues.find((i) => i.path === "modelship:models.fraud-scorer.strategy.steps");
            assert.ok(issue);
            assert.match(issue.expected, /a last step of 100, e\.g\. \[5, 100\]/);
            assert.match(issue.expected, /jumps from 5% to 100% of the traffic at once/);
            assert.match(issue.expected, /a step of 0 sends the candidate no traffic at all/);
            assert.match(issue.expected, /strategy\.allowFinalStepBelow100: true/);
            assert.doesNotMatch(configError(steps([10, 50]), "dev").message, /step of 0/);
            assert.equal(parseConfig(steps([0, 5], { allowFinalStepBelow100: true }), "dev").models["fraud-scorer"].strategy.type, "canary");
            assert.doesNotThrow(() => parseConfig(steps([0, 10, 100]), "dev"), "a first step of 0 (deployed, no traffic) before a canary that ends at 100 is fine");
        });
    });

    describe("reading stack files", () => {
        const dirs: string[] = [];
        after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
        function projectWith(stackFile: string): string {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-stack-files-"));
            dirs.push(dir);
            fs.copyFileSync(path.join(findProjectDir(), "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackFile);
            return dir;
        }

        it("a YAML syntax error names the file, line and column", () => {
            const dir = projectWith("config:\n  modelship:environment: dev\n  modelship:models:\n    a:\n      b: 1\n     c: 2\n");
            assert.throws(
                () => readStackFiles(dir, "dev"),
                (error: Error) => {
                    assert.match(error.message, new RegExp(`^${path.join(dir, "Pulumi.dev.yaml").replace(/[.\\/]/g, "\\$&")}:6:\\d+: invalid YAML: `));
                    return true;
                },
            );
        });

        it("a misspelled `config:` or another unknown top-level key is named, with the keys a stack file has", () => {
            for (const key of ["confg", "modelship:models"]) {
                const dir = projectWith(`${key}:\n  modelship:environment: dev\n`);
                assert.throws(
                    () => readStackFiles(dir, "dev"),
                    new RegExp(`unknown top-level key "${key}"; a stack file's keys are config, secretsprovider, encryptedkey, encryptionsalt, environment`),
                );
            }
            const dir = projectWith("secretsprovider: passphrase\nencryptionsalt: v1:abc\nconfig:\n  modelship:environment: dev\n");
            assert.equal(readStackFiles(dir, "dev").config["modelship:environment"], "dev");
        });
    });

    describe("reading Pulumi's config map", () => {
        it("takes the modelship: keys only and decodes JSON values", () => {
            const raw = namespaceValues({ "modelship:environment": "dev", "modelship:targets": '{"local":{"type":"docker"}}', "aws:region": "us-east-1" });
            assert.deepEqual(raw, { environment: "dev", targets: { local: { type: "docker" } } });
        });
    });
});

describe("memory quantities in bytes", () => {
    it("reads binary and decimal suffixes as Kubernetes does", () => {
        assert.equal(quantityBytes("512Mi"), 536_870_912);
        assert.equal(quantityBytes("1.5Gi"), 1_610_612_736);
        assert.equal(quantityBytes("500M"), 500_000_000);
        assert.equal(quantityBytes("64"), 64);
    });
});
