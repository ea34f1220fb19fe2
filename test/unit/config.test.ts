import { strict as assert } from "assert";
import { ConfigError } from "../../components/config/errors";
import { namespaceValues } from "../../components/config/load";
import { parseConfig, type RawConfig } from "../../components/config/parse";
import { findProjectDir } from "../../tools/render";
import { readStackFiles } from "../../tools/stack-files";
import { canaryModel, DIGEST, dockerConfig, GATEWAY_ROUTER, kubernetesConfig, NGINX_ROUTER, prodModel, STRATEGIES } from "../fixtures";

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
            assert.deepEqual(Object.values(config.targets).map((t) => t.type).sort(), ["aws-vm", "kubernetes"], "prod exercises both cloud targets");
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
            ["a fractional weight", () => withModel({ ...canaryModel(), strategy: { type: "canary", steps: [12.5, 100] } }), "modelship:models.fraud-scorer.strategy.steps.0", "int"],
            ["an abTest split of 0", () => withModel({ ...canaryModel(), strategy: { ...STRATEGIES.abTest, candidateWeight: 0 } }), "modelship:models.fraud-scorer.strategy.candidateWeight", "1"],
            ["an abTest without a sticky key", () => withModel({ ...canaryModel(), strategy: { type: "abTest" } }), "modelship:models.fraud-scorer.strategy.stickyBy", ""],
            ["a shadow mirror of 0%", () => withModel({ ...canaryModel(), strategy: { type: "shadow", mirrorPercent: 0 } }), "modelship:models.fraud-scorer.strategy.mirrorPercent", "1"],
        ];
        for (const [what, raw, path, expected] of cases) {
            it(`reports ${what} at ${path}`, () => {
                const issue = configError(raw(), "dev").issues.find((i) => i.path === path);
                assert.ok(issue, `no issue at ${path}; got ${configError(raw(), "dev").issues.map((i) => i.path).join(", ")}`);
                assert.match(issue.expected, new RegExp(expected));
            });
        }

        it("refuses `latest` and untagged images, which change under the same name", () => {
            for (const image of ["registry.example/model:latest", "registry.example/model"]) {
                const model = canaryModel();
                (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image };
                const issue = configError(withModel(model), "dev").issues.find((i) => i.path === "modelship:models.fraud-scorer.tracks.stable.image");
                assert.ok(issue, image);
                assert.match(issue.expected, /explicit tag or digest/);
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
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:environment"]);
            assert.equal(error.issues[0].value, "prod");
            assert.match(error.issues[0].expected, /"dev", the name of the stack/);
        });

        it("prod images must be pinned by digest", () => {
            const model = prodModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "registry.example/fraud-scorer:1.4.0", replicas: 2 };
            const error = configError(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": model }), "prod");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:models.fraud-scorer.tracks.stable.image"]);
            assert.match(error.issues[0].expected, /pinned by digest/);
        });

        it("the same tag is fine outside prod", () => {
            const model = canaryModel();
            (model.tracks as { stable: Record<string, unknown> }).stable = { version: "1.4.0", image: "registry.example/fraud-scorer:1.4.0" };
            assert.doesNotThrow(() => parseConfig(withModel(model), "dev"));
        });

        it("the prod nginx router image must be pinned by digest too", () => {
            const error = configError(kubernetesConfig({ type: "nginx", image: "nginx:1.27" }), "prod");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:targets.cluster.router.image"]);
        });

        it("a two-track strategy needs a candidate", () => {
            const model = canaryModel();
            delete (model.tracks as Record<string, unknown>).candidate;
            const error = configError(withModel(model), "dev");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:models.fraud-scorer.tracks.candidate"]);
            assert.match(error.issues[0].expected, /canary moves traffic from stable to a candidate/);
        });

        for (const strategy of ["recreate", "rolling"]) {
            it(`${strategy} refuses a candidate and says to change the stable version`, () => {
                const error = configError(withModel({ ...canaryModel(), strategy: STRATEGIES[strategy] }), "dev");
                assert.deepEqual(error.issues.map((i) => i.path), ["modelship:models.fraud-scorer.tracks.candidate"]);
                assert.match(error.issues[0].expected, /change tracks.stable.version/);
            });
        }

        it("canary steps must increase", () => {
            const paths = issuePaths(withModel({ ...canaryModel(), strategy: { type: "canary", steps: [10, 50, 25, 100] } }), "dev");
            assert.deepEqual(paths, ["modelship:models.fraud-scorer.strategy.steps"]);
        });

        it("the step must index into the steps", () => {
            const error = configError(withModel({ ...canaryModel(), strategy: { type: "canary", steps: [10, 100], step: 2 } }), "dev");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:models.fraud-scorer.strategy.step"]);
            assert.match(error.issues[0].expected, /0\.\.1/);
        });

        it("a rolling update needs room to move", () => {
            const paths = issuePaths(dockerConfig({ m: { ...canaryModel(), tracks: { stable: { version: "1", build: { context: "." } } }, strategy: { type: "rolling", maxSurge: 0, maxUnavailable: "0%" } } }), "dev");
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
                assert.deepEqual(error.issues.map((i) => i.path), ["modelship:models.fraud-scorer.strategy.type"], strategy);
                assert.match(error.issues[0].expected, /set router.type to gateway-api or nginx on this target/);
            }
            const shadow = configError(kubernetesConfig({ type: "none" }, { "fraud-scorer": prodModel({ strategy: STRATEGIES.shadow }) }), "prod");
            assert.match(shadow.issues[0].expected, /mirrors requests/);
        });

        it("two kubernetes targets in one namespace are refused, naming both targets, the namespace and the fix", () => {
            const target = (namespace: string) => ({ type: "kubernetes", namespace, router: NGINX_ROUTER });
            const models = { a: prodModel({ target: "blue" }), b: prodModel({ target: "green" }), c: prodModel({ target: "canary" }) };
            const error = configError({ ...kubernetesConfig(NGINX_ROUTER, models), targets: { blue: target("models"), green: target("models"), canary: target("canary-models") } }, "prod");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:targets.green.namespace"]);
            assert.equal(error.issues[0].value, "models");
            assert.match(error.issues[0].expected, /a namespace no other kubernetes target uses: blue deploys into "models" too/);
            assert.match(error.issues[0].expected, /run both targets' models on one target, or give green a namespace of its own/);
        });

        it("a cluster cannot pull from the local engine", () => {
            const error = configError({ ...kubernetesConfig(), registry: { type: "local" } }, "prod");
            assert.deepEqual(error.issues.map((i) => i.path), ["modelship:targets.cluster.type"]);
            assert.match(error.issues[0].expected, /a cluster cannot pull images that exist only in the local Docker engine/);
        });

        it("the docker target mounts local files; kubernetes needs a registry URI", () => {
            assert.deepEqual(issuePaths(withModel({ ...canaryModel(), artifact: "s3://bucket/m/" }), "dev"), ["modelship:models.fraud-scorer.artifact"]);
            assert.deepEqual(issuePaths(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ artifact: "./models/x" }) }), "prod"), [
                "modelship:models.fraud-scorer.artifact",
            ]);
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
            for (const [name, strategy] of Object.entries(STRATEGIES)) {
                for (const router of [GATEWAY_ROUTER, NGINX_ROUTER]) {
                    const model = prodModel({ strategy });
                    if (name === "recreate" || name === "rolling") delete (model.tracks as Record<string, unknown>).candidate;
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

        it("reports a type error in one model and a rule broken in another together", () => {
            const raw = dockerConfig({
                a: canaryModel({ strategy: { type: "canary", steps: "10,100" } }),
                b: canaryModel({ strategy: { type: "canary", steps: [10, 100], step: 5 } }),
            });
            assert.deepEqual(issuePaths(raw, "dev"), ["modelship:models.a.strategy.steps", "modelship:models.b.strategy.step"]);
        });
    });

    describe("reading Pulumi's config map", () => {
        it("takes the modelship: keys only and decodes JSON values", () => {
            const raw = namespaceValues({ "modelship:environment": "dev", "modelship:targets": '{"local":{"type":"docker"}}', "aws:region": "us-east-1" });
            assert.deepEqual(raw, { environment: "dev", targets: { local: { type: "docker" } } });
        });
    });
});
