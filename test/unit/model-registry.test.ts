/**
 * A models:/ artifact: the references the config accepts, the rules that make every track carry
 * its pin (and nothing else pin), what the targets fetch from a pin, and the alias a concluding
 * promote moves. The registry itself is test/e2e/registry-stack.test.ts's.
 */
import { strict as assert } from "assert";
import { parseRegistryReference, trackArtifact } from "../../components/config/model-registry";
import { parseConfig } from "../../components/config/parse";
import { fetchArtifactCommand } from "../../components/model-server-env";
import { MlflowRegistry, RegistryError } from "../../cli/mlflow";
import { defaultFrom, defaultTrack, pinEdits } from "../../cli/pin";
import { promote } from "../../cli/rollout";
import { parseCliArgs } from "../../cli/args";
import { UsageError } from "../../tools/command-line";
import { canaryModel, dockerConfig, kubernetesConfig, prodModel, configIssues } from "../fixtures";

const SHA = "c".repeat(64);
const pin = (registryVersion: string) => ({ registryVersion, uri: `http://127.0.0.1:5055/api/2.0/mlflow-artifacts/artifacts/0/r${registryVersion}/artifacts/model`, sha256: SHA });

function registryModel(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const base = canaryModel();
    const tracks = base.tracks as Record<string, Record<string, unknown>>;
    return {
        ...base,
        artifact: "models:/fraud-scorer@champion",
        modelRegistry: { trackingUri: "http://127.0.0.1:5055" },
        tracks: { stable: { ...tracks.stable, version: "2.0.0", artifact: pin("1") }, candidate: { ...tracks.candidate, version: "2.1.0", artifact: pin("2") } },
        strategy: { type: "canary", steps: [50, 100], step: 1 },
        gates: { smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } },
        ...overrides,
    };
}

describe("a model from a model registry (models:/)", () => {
    describe("references", () => {
        it("a version or an alias; anything else says the two shapes", () => {
            assert.deepEqual(parseRegistryReference("models:/fraud-scorer/3"), { name: "fraud-scorer", version: "3" });
            assert.deepEqual(parseRegistryReference("models:/fraud-scorer@champion"), { name: "fraud-scorer", alias: "champion" });
            for (const bad of [
                "models:/fraud-scorer",
                "models:/fraud-scorer/0",
                "models:/fraud-scorer/v3",
                "models:/a/b/3",
                "models:/fraud-scorer@latest",
                "models:/fraud-scorer@v2",
                "models:/@champion",
            ]) {
                const parsed = parseRegistryReference(bad);
                assert.ok("problem" in parsed, `${bad} is refused`);
                assert.match(parsed.problem, /models:\/<name>\/<version>|alias|registered model name/, bad);
            }
        });
    });

    describe("config rules", () => {
        it("a pinned model on the docker target parses, each track with its pin", () => {
            const config = parseConfig(dockerConfig({ "fraud-scorer": registryModel() }), "dev");
            const model = config.models["fraud-scorer"];
            assert.equal(model.tracks.stable.artifact?.registryVersion, "1");
            assert.equal(model.modelRegistry?.promoteAlias, "champion");
        });

        it("a track without its pin is refused with the command that writes it; the program never resolves the alias", () => {
            const raw = registryModel();
            delete (raw.tracks as Record<string, Record<string, unknown>>).candidate.artifact;
            const found = configIssues(dockerConfig({ "fraud-scorer": raw }), "dev");
            assert.deepEqual(
                found.map((i) => i.path),
                ["modelship:models.fraud-scorer.tracks.candidate.artifact"],
            );
            assert.match(found[0].expected, /`modelship pin --stack dev --model fraud-scorer --track candidate`: the program never resolves models:\/fraud-scorer@champion by itself/);
        });

        it("no trackingUri, a malformed reference, a stable pin that is not the version the artifact names, no smoke request: each named", () => {
            const noRegistry = registryModel({ modelRegistry: undefined });
            delete noRegistry.modelRegistry;
            assert.deepEqual(
                configIssues(dockerConfig({ "fraud-scorer": noRegistry }), "dev").map((i) => i.path),
                ["modelship:models.fraud-scorer.modelRegistry"],
            );
            assert.deepEqual(
                configIssues(dockerConfig({ "fraud-scorer": registryModel({ artifact: "models:/fraud-scorer" }) }), "dev").map((i) => i.path),
                ["modelship:models.fraud-scorer.artifact"],
            );
            const fixed = configIssues(dockerConfig({ "fraud-scorer": registryModel({ artifact: "models:/fraud-scorer/3" }) }), "dev");
            assert.deepEqual(
                fixed.map((i) => i.path),
                ["modelship:models.fraud-scorer.tracks.stable.artifact.registryVersion"],
            );
            assert.match(fixed[0].expected, /^3, the version models:\/fraud-scorer\/3 names/);
            const noSmoke = configIssues(dockerConfig({ "fraud-scorer": registryModel({ gates: {} }) }), "dev");
            assert.deepEqual(
                noSmoke.map((i) => i.path),
                ["modelship:models.fraud-scorer.gates.smoke.request"],
            );
        });

        it("pins and a modelRegistry on a model whose artifact is a directory of versions are refused", () => {
            const raw = registryModel({ artifact: "model-server/models/fraud-scorer" });
            assert.deepEqual(
                configIssues(dockerConfig({ "fraud-scorer": raw }), "dev")
                    .map((i) => i.path)
                    .sort(),
                ["modelship:models.fraud-scorer.modelRegistry", "modelship:models.fraud-scorer.tracks.candidate.artifact", "modelship:models.fraud-scorer.tracks.stable.artifact"],
            );
        });

        it("a pin that is not a checksum or a version number is refused by the schema", () => {
            const raw = registryModel();
            (raw.tracks as Record<string, Record<string, unknown>>).stable.artifact = { registryVersion: "one", uri: "x", sha256: "ABC" };
            const paths = configIssues(dockerConfig({ "fraud-scorer": raw }), "dev").map((i) => i.path);
            assert.ok(paths.includes("modelship:models.fraud-scorer.tracks.stable.artifact.registryVersion"), paths.join(", "));
            assert.ok(paths.includes("modelship:models.fraud-scorer.tracks.stable.artifact.sha256"), paths.join(", "));
        });

        it("the kubernetes target refuses a models:/ artifact for now, naming the store it reads instead", () => {
            const found = configIssues(
                kubernetesConfig(undefined, { "fraud-scorer": { ...prodModel(), artifact: "models:/fraud-scorer@champion", modelRegistry: { trackingUri: "https://mlflow.example.com" } } }),
                "prod",
            );
            const artifact = found.find((i) => i.path === "modelship:models.fraud-scorer.artifact");
            assert.ok(artifact, JSON.stringify(found));
            assert.match(artifact.expected, /deploys on the docker target only/);
        });
    });

    describe("what the targets fetch", () => {
        it("a pinned track fetches its own directory, checked against the pin; an unpinned one <artifact>/<version> with its checksum file", () => {
            const config = parseConfig(dockerConfig({ "fraud-scorer": registryModel() }), "dev").models["fraud-scorer"];
            const pinned = fetchArtifactCommand({ location: trackArtifact(config, "candidate"), version: "2.1.0", dest: "/models/fraud-scorer" });
            assert.deepEqual(pinned, ["node", "dist/src/fetch-artifact.js", "--source", pin("2").uri, "--sha256", SHA, "--version", "2.1.0", "--dest", "/models/fraud-scorer"]);
            const plain = parseConfig(dockerConfig(), "dev").models["fraud-scorer"];
            assert.deepEqual(fetchArtifactCommand({ location: trackArtifact(plain, "stable"), version: "1.4.0", dest: "/m" }), [
                "node",
                "dist/src/fetch-artifact.js",
                "--source",
                "model-server/models/fraud-scorer",
                "--version",
                "1.4.0",
                "--dest",
                "/m",
            ]);
        });
    });

    describe("promote", () => {
        it("a concluding promote moves the promote alias to the candidate's registry version, once applied; a step before it moves nothing", () => {
            const raw = registryModel();
            const model = parseConfig(dockerConfig({ "fraud-scorer": raw }), "dev").models["fraud-scorer"];
            const concluded = promote("fraud-scorer", model, raw);
            assert.deepEqual(concluded.moveAlias, { trackingUri: "http://127.0.0.1:5055", name: "fraud-scorer", alias: "champion", version: "2" });
            assert.match(concluded.description, /registry alias champion -> version 2 once applied/);
            const early = registryModel({ strategy: { type: "canary", steps: [50, 100], step: 0 } });
            assert.equal(promote("fraud-scorer", parseConfig(dockerConfig({ "fraud-scorer": early }), "dev").models["fraud-scorer"], early).moveAlias, undefined);
            const plain = canaryModel({ strategy: { type: "canary", steps: [100], step: 0 } });
            assert.equal(promote("fraud-scorer", parseConfig(dockerConfig({ "fraud-scorer": plain }), "dev").models["fraud-scorer"], plain).moveAlias, undefined);
        });
    });

    describe("pin", () => {
        it("champion feeds stable and challenger the candidate; --from defaults to the artifact's own alias or version", () => {
            assert.equal(defaultTrack("champion"), "stable");
            assert.equal(defaultTrack("challenger"), "candidate");
            assert.equal(defaultTrack("3"), "stable");
            assert.equal(defaultFrom({ name: "m", alias: "champion" }, "stable"), "champion");
            assert.equal(defaultFrom({ name: "m", version: "3" }, "stable"), "3");
            assert.equal(defaultFrom({ name: "m", alias: "champion" }, "candidate"), "challenger");
        });

        it("writes the model version and the pin into the track", () => {
            const edits = pinEdits("candidate", { version: "2.1.0", artifact: pin("2"), from: { name: "m", version: "2", source: "", aliases: [], status: "READY" } });
            assert.deepEqual(edits, [
                { path: ["tracks", "candidate", "version"], value: "2.1.0" },
                { path: ["tracks", "candidate", "artifact"], value: pin("2") },
            ]);
        });

        it("--from and --track go with pin only; pin takes no --yes", () => {
            assert.deepEqual(parseCliArgs(["pin", "--stack", "dev", "--from", "challenger"]).from, "challenger");
            assert.throws(() => parseCliArgs(["promote", "--stack", "dev", "--from", "x"]), UsageError);
            assert.throws(() => parseCliArgs(["pin", "--stack", "dev", "--track", "blue"]), /--track "blue": stable or candidate/);
            assert.throws(() => parseCliArgs(["pin", "--stack", "dev", "--yes"]), /pin writes the stack file and applies nothing/);
        });

        it("a registry's download URI becomes a location the fetch reads: the tracking server's artifact proxy, a store, or a named error", () => {
            const registry = new MlflowRegistry("https://mlflow.example.com/");
            assert.equal(registry.fetchable("mlflow-artifacts:/1/abc/artifacts/model"), "https://mlflow.example.com/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model");
            assert.equal(registry.fetchable("mlflow-artifacts://host:5000/1/abc/artifacts/model"), "https://mlflow.example.com/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model");
            assert.equal(registry.fetchable("s3://bucket/mlflow/1/abc/artifacts/model"), "s3://bucket/mlflow/1/abc/artifacts/model");
            assert.equal(registry.fetchable("/srv/mlflow/1/abc/artifacts/model"), "/srv/mlflow/1/abc/artifacts/model");
            assert.throws(
                () => registry.fetchable("gs://bucket/1/abc"),
                (error: unknown) => error instanceof RegistryError && /--serve-artifacts/.test(error.message),
            );
        });
    });
});
