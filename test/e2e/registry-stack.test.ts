/**
 * A model whose versions come from a real MLflow registry (scripts/mlflow-registry.sh: SQLite, its
 * artifacts served through the tracking server), deployed by the real engine on the local Docker
 * engine: two versions of the ONNX fraud-scorer registered with aliases, `modelship pin` writing
 * the exact versions into the stack file, the model servers fetching the files from the registry's
 * store and answering the Open Inference Protocol through the router, a concluding `promote` that
 * moves `champion` only once its update succeeded (not after one that failed), and `rollback --to`
 * a registry version the stack never ran under that number.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PIN_HEADER } from "../../components/traffic/types";
import { run as runSync } from "../support/docker";
import { freePort } from "../support/http";
import { MlflowServer, versionCopy } from "../support/mlflow";
import { prepareDockerMachine, releaseDockerMachine, trackContainers, type DockerMachine } from "./support/docker-machine";
import { EngineStack, engineOrSkip, run } from "./support/engine";

const STACK = "dev";
const MODEL = "fraud-scorer";
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-docker", "pulumi-resource-docker-build", "pulumi-resource-command"];
/** The registry's second version: the ONNX model's files, declaring this version. */
const NEXT = "2.1.0";

type Config = Record<string, unknown>;
type Model = Record<string, unknown> & { tracks: Record<string, Record<string, unknown>>; strategy: Record<string, unknown> };
interface Answer {
    status: number;
    headers: Headers;
    body: Record<string, unknown>;
}

describe("a model from an MLflow registry, under the real engine on the local Docker engine", function () {
    this.timeout(40 * 60_000);
    let machine: DockerMachine | undefined;
    let stack: EngineStack;
    let registry: MlflowServer | undefined;
    let config: Config;
    let routerPort = 0;
    const figures: string[] = [];

    const model = (c: Config = config) => (c["modelship:models"] as Record<string, Model>)[MODEL];
    const readConfig = (): Config => (parse(fs.readFileSync(stack.configFile, "utf8")) as { config: Config }).config;
    const npm = (script: string, ...args: string[]) => run("npm", ["run", script, "--", "--config-file", stack.configFile, ...args], { cwd: stack.projectDir, env: stack.env, timeoutMs: 20 * 60_000 });
    const modelship = (...args: string[]) => stack.modelship(...args, "--stack", STACK, "--config-file", stack.configFile);
    const call = async (method: "GET" | "POST", route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
        const response = await fetch(`http://127.0.0.1:${routerPort}${route}`, {
            method,
            headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            signal: AbortSignal.timeout(10_000),
        });
        return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
    };
    const smokeRequest = () => JSON.parse(fs.readFileSync(path.join(stack.projectDir, "model-server", "models", MODEL, "smoke-request.json"), "utf8")) as Record<string, unknown>;
    /** `<track> <version>` of each running model-server container. */
    const running = () => trackContainers(STACK).map((line) => line.split(" ").slice(0, 2).join(" "));

    before(async function () {
        const bin = engineOrSkip(this, ENGINE_BINARIES);
        stack = new EngineStack(STACK, bin);
        committedDevFile = fs.readFileSync(path.join(stack.projectDir, "Pulumi.dev.yaml"), "utf8");
        machine = prepareDockerMachine();
        const { docker, routerImage } = machine;
        registry = MlflowServer.up(path.join(stack.dir, "mlflow"), await freePort());
        // The data scientist's side: two registered versions of the ONNX model, champion and challenger.
        const shipped = path.join(stack.projectDir, "model-server", "models", MODEL, "2.0.0");
        assert.equal(await registry.register(MODEL, shipped), "1");
        assert.equal(await registry.register(MODEL, versionCopy(shipped, path.join(stack.dir, "next"), NEXT)), "2");
        await registry.setAlias(MODEL, "champion", "1");
        await registry.setAlias(MODEL, "challenger", "2");

        routerPort = await freePort();
        const build = { context: "model-server", baseImage: docker.baseImage };
        config = {
            "modelship:environment": STACK,
            "modelship:targets": { local: { type: "docker", port: routerPort, routerImage } },
            "modelship:registry": { type: "local" },
            "modelship:models": {
                [MODEL]: {
                    artifact: `models:/${MODEL}@champion`,
                    modelRegistry: { trackingUri: registry.url },
                    // Versions are what `pin` writes; until then the stack does not deploy. One build object for both tracks: YAML writes it once, with an alias.
                    tracks: { stable: { version: "0.0.0", build }, candidate: { version: "0.0.0", build } },
                    strategy: { type: "canary", steps: [50, 100], step: 0 },
                    gates: { scan: { enabled: false }, smoke: { request: "model-server/models/fraud-scorer/smoke-request.json" } },
                },
            },
        };
        stack.writeConfig(config);
    });

    // The project's stack file stays as committed whatever the commands do (they edit the --config-file).
    let committedDevFile = "";
    const changedDevFile: string[] = [];
    afterEach(function () {
        const devFile = path.join(stack.projectDir, "Pulumi.dev.yaml");
        if (fs.readFileSync(devFile, "utf8") === committedDevFile) return;
        changedDevFile.push(this.currentTest?.title ?? "?");
        fs.writeFileSync(devFile, committedDevFile);
    });

    after(async function () {
        for (const line of figures) console.log(`      ${line}`);
        if (stack && running().length > 0) await stack.destroy();
        if (machine) runSync("bash", ["-c", `docker image ls -q 'modelship/${MODEL}' | xargs -r docker rmi -f`]);
        registry?.down();
        stack?.cleanup();
        releaseDockerMachine(machine);
        assert.deepEqual(changedDevFile, [], "Pulumi.dev.yaml is left as committed");
    });

    it("an unpinned models:/ artifact is refused before anything is registered, naming the pin command", async () => {
        const up = await npm("up", "--yes", "--skip-preview");
        assert.notEqual(up.status, 0, up.all);
        assert.match(up.all, /tracks\.stable\.artifact.*modelship pin --stack dev --model fraud-scorer`/);
        assert.match(up.all, /tracks\.candidate\.artifact.*--track candidate/);
        assert.deepEqual(running(), []);
    });

    it("`modelship pin` writes the exact registry version, its files' URI and model.json's SHA-256 into each track; unknown aliases and versions are named errors", async () => {
        const started = performance.now();
        const stable = await modelship("pin");
        figures.push(`pin stable (champion): ${((performance.now() - started) / 1000).toFixed(2)} s as a command; ${/in ([0-9.]+ s)/.exec(stable.stdout)?.[1]} resolving`);
        assert.equal(stable.status, 0, stable.all);
        const candidate = await modelship("pin", "--from", "challenger");
        assert.equal(candidate.status, 0, candidate.all);
        config = readConfig();
        const tracks = model().tracks;
        assert.equal(tracks.stable.version, "2.0.0");
        assert.equal(tracks.candidate.version, NEXT);
        const pins = { stable: tracks.stable.artifact as Record<string, string>, candidate: tracks.candidate.artifact as Record<string, string> };
        assert.equal(pins.stable.registryVersion, "1");
        assert.equal(pins.candidate.registryVersion, "2");
        for (const [track, version] of [
            ["stable", "1"],
            ["candidate", "2"],
        ] as const) {
            assert.match(pins[track].uri, new RegExp(`^${registry!.url}/api/2\\.0/mlflow-artifacts/artifacts/0/[0-9a-f]+/artifacts/model$`));
            const onDisk = fs.readFileSync(path.join(await registry!.filesOnDisk(MODEL, version), "model.json"));
            assert.equal(pins[track].sha256, createHash("sha256").update(onDisk).digest("hex"), `${track}'s pin is the checksum of the registry's model.json`);
        }
        const missingAlias = await modelship("pin", "--from", "staging", "--track", "candidate");
        assert.equal(missingAlias.status, 1);
        assert.match(missingAlias.stderr, /fraud-scorer has no alias staging in .*; its versions: 2, 1; its aliases: (champion -> 1, challenger -> 2|challenger -> 2, champion -> 1)/);
        const missingVersion = await modelship("pin", "--from", "9");
        assert.equal(missingVersion.status, 1);
        assert.match(missingVersion.stderr, /fraud-scorer has no version 9 in /);
        assert.deepEqual(readConfig(), config, "a failed pin writes nothing");
    });

    it("`up`: each track's server fetches its version from the registry's store, passes its smoke gate, and answers the Open Inference Protocol through the router", async () => {
        const up = await npm("up", "--yes", "--skip-preview");
        assert.equal(up.status, 0, up.all);
        figures.push(`up with two registry versions: ${(up.ms / 1000).toFixed(1)} s`);
        for (const track of ["stable", "candidate"]) assert.match(up.stdout, new RegExp(`${MODEL}-gates-${track}-smoke .*smoke: passed`), up.stdout);
        assert.deepEqual(running(), ["candidate 2.1.0", "stable 2.0.0"]);
        // The OIP check: health, metadata from the ONNX file, an inference, errors.
        assert.equal((await call("GET", `/v2/models/${MODEL}/ready`)).status, 200);
        const metadata = await call("GET", `/v2/models/${MODEL}`, undefined, { [PIN_HEADER]: "stable" });
        assert.equal(metadata.status, 200, JSON.stringify(metadata.body));
        assert.equal(metadata.body.platform, "onnxruntime");
        assert.deepEqual(metadata.body.inputs, [{ name: "features", datatype: "FP32", shape: [-1, 4] }]);
        assert.deepEqual((metadata.body.outputs as { name: string }[]).map((o) => o.name).sort(), ["label", "probabilities"]);
        const infer = await call("POST", `/v2/models/${MODEL}/infer`, smokeRequest());
        assert.equal(infer.status, 200, JSON.stringify(infer.body));
        const outputs = infer.body.outputs as { name: string; shape: number[]; data: number[] }[];
        assert.deepEqual(outputs.find((o) => o.name === "probabilities")?.shape, [2, 2]);
        assert.ok(["2.0.0", NEXT].includes(String(infer.body.model_version)), JSON.stringify(infer.body));
        const wrong = await call("POST", `/v2/models/${MODEL}/infer`, { inputs: [{ name: "features", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] });
        assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
        assert.ok(String(wrong.body.error).length > 0, JSON.stringify(wrong.body));
        figures.push(`OIP through the router: ready 200, metadata 200 (platform onnxruntime, input features FP32 [-1,4]), infer 200 (probabilities [2,2]), a [1,3] input 400`);
    });

    it("a concluding promote whose update fails leaves champion where it was; once it succeeds, champion names the promoted version", async () => {
        // A step that does not conclude moves no alias.
        const stepped = await modelship("promote", "--yes");
        assert.equal(stepped.status, 0, stepped.all);
        assert.doesNotMatch(stepped.stdout, /registry:/);
        assert.equal(await registry!.alias(MODEL, "champion"), "1");
        config = readConfig();
        // The challenger's files change in the registry's store after they were pinned: the fetch of the new stable refuses them.
        const files = await registry!.filesOnDisk(MODEL, "2");
        const manifest = path.join(files, "model.json");
        const original = fs.readFileSync(manifest);
        // The running candidate's copy was fetched before; stable's new copy is fetched in the conclude's update.
        fs.writeFileSync(manifest, Buffer.concat([original, Buffer.from("\n")]));
        const failed = await modelship("promote", "--yes");
        fs.writeFileSync(manifest, original);
        assert.notEqual(failed.status, 0, failed.all);
        assert.match(failed.all, /does not match its checksum .*the pin \(--sha256\)/);
        assert.equal(await registry!.alias(MODEL, "champion"), "1", "champion does not move after a failed update");
        assert.deepEqual(readConfig(), config, "the stack file is unchanged");

        const started = performance.now();
        const promoted = await modelship("promote", "--yes");
        assert.equal(promoted.status, 0, promoted.all);
        const moved = /registry: fraud-scorer@champion -> version 2 \((\d+) ms\)/.exec(promoted.stdout);
        assert.ok(moved, promoted.stdout);
        figures.push(`promote (conclude) with its update: ${((performance.now() - started) / 1000).toFixed(1)} s; the alias move alone ${moved[1]} ms`);
        assert.equal(await registry!.alias(MODEL, "champion"), "2");
        config = readConfig();
        assert.equal(model().tracks.stable.version, NEXT);
        assert.equal((model().tracks.stable.artifact as Record<string, string>).registryVersion, "2");
        assert.equal(model().tracks.candidate, undefined);
    });

    it("`rollback --to 1`: a registry version, pinned from the registry onto stable's image; an unknown one names both lists", async () => {
        const unknown = await modelship("rollback", "--to", "7", "--yes");
        assert.equal(unknown.status, 1);
        assert.match(
            unknown.stderr,
            /version 7 of model fraud-scorer is in none of the stack's \d+ recorded updates; it has run .*; nor in the registry: fraud-scorer has no version 7 .*its versions: 2, 1/,
        );
        const back = await modelship("rollback", "--to", "1", "--yes");
        assert.equal(back.status, 0, back.all);
        config = readConfig();
        assert.equal(model().tracks.stable.version, "2.0.0");
        assert.equal((model().tracks.stable.artifact as Record<string, string>).registryVersion, "1");
        const infer = await call("POST", `/v2/models/${MODEL}/infer`, smokeRequest());
        assert.equal(infer.status, 200);
        assert.equal(infer.body.model_version, "2.0.0");
    });
});
