/**
 * The docker target's artifact: each track's replicas read a volume that the image's own
 * fetch-artifact filled after checking the checksum, never the project's files directly. The
 * declared fetch step also runs for real here, with a stand-in for the docker CLI that runs the
 * model-server's fetch-artifact as a local process.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LABEL } from "../../components/naming";
import { shellQuote } from "../../components/shell";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir } from "../../tools/render";
import { canaryModel, dockerConfig } from "../fixtures";
import { at, named, ofType, runStack, T } from "../mock-stack";

const COMMAND = T.command;
const VOLUME = T.volume;
const projectDir = findProjectDir();
const shippedModels = path.join(projectDir, "model-server", "models", "fraud-scorer");

async function render(artifact: string): Promise<RecordedResource[]> {
    return (await runStack(dockerConfig({ "fraud-scorer": canaryModel({ artifact }) }), "dev")).resources;
}

describe("docker target: the artifact is fetched and verified into a volume the replicas mount read-only", () => {
    it("per track: a volume labelled with its version, and a fetch into it by the track's image, which every replica waits for and mounts read-only", async () => {
        const resources = await render("model-server/models/fraud-scorer");
        for (const [track, version, replicas] of [
            ["stable", "1.4.0", 2],
            ["candidate", "1.5.0", 1],
        ] as const) {
            const volume = named(resources, VOLUME, `fraud-scorer-${track}-artifact`);
            assert.equal(at(volume, "name"), undefined, "named by the provider: a replacement never meets its predecessor's name");
            assert.ok(
                at<Array<{ label: string; value: string }>>(volume, "labels").some((l) => l.label === LABEL.version && l.value === version),
                "a new version, a new volume",
            );
            const fetch = named(resources, COMMAND, `fraud-scorer-${track}-artifact-fetch`);
            const create = at<string>(fetch, "create");
            const source = path.join(projectDir, "model-server/models/fraud-scorer");
            // The image's own initializer, as on kubernetes and aws-vm, with the source mounted read-only at its own path.
            assert.ok(
                create.includes(`'modelship/fraud-scorer:${version}' 'dist/src/fetch-artifact.js' '--source' ${shellQuote(source)} '--version' '${version}' '--dest' '/models/fraud-scorer'`),
                create,
            );
            const volumeName = /'type=volume,source=([^,']+),target=\/models\/fraud-scorer'/.exec(create)?.[1];
            assert.match(String(volumeName), new RegExp(`^fraud-scorer-${track}-artifact-[0-9a-f]{7}$`), "into the track's volume, mounted where the server reads");
            for (const option of ["'--network' 'none'", "'--read-only'", "'--cap-drop' 'ALL'", "'no-new-privileges:true'", `'type=bind,source=${source},target=${source},readonly'`]) {
                assert.ok(create.includes(option), `${option} in ${create}`);
            }
            assert.ok(fetch.dependsOn?.includes(`${COMMAND}::fraud-scorer-${track}-local-image`), "the image is in the engine first");
            const containers = ofType(resources, T.container).filter((c) => c.name.startsWith(`fraud-scorer-${track}-`));
            assert.equal(containers.length, replicas, "a candidate of 2 at 10% runs one container");
            for (const container of containers) {
                assert.deepEqual(at(container, "mounts"), [{ type: "volume", source: volumeName, target: "/models/fraud-scorer", readOnly: true }]);
                assert.ok(container.dependsOn?.includes(`${COMMAND}::fraud-scorer-${track}-artifact-fetch`), `${container.name} starts only after the fetch`);
            }
        }
        assert.ok(!JSON.stringify(ofType(resources, T.container).map((c) => c.inputs)).includes('"type":"bind"'), "no replica reads the project's files directly");
    });

    describe("the declared fetch, run for real (the docker CLI a stand-in that runs the image's command here)", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-docker-fetch-"));
            const standIn = path.resolve(__dirname, "..", "support", "docker-stand-in.js");
            fs.mkdirSync(path.join(dir, "bin"));
            fs.mkdirSync(path.join(dir, "calls"));
            fs.writeFileSync(path.join(dir, "bin", "docker"), `#!/bin/bash\nexec ${shellQuote(process.execPath)} ${shellQuote(standIn)} "$@"\n`, { mode: 0o755 });
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        /** The candidate's fetch step as the stack declares it for `artifact`, run by bash; what it wrote into its volume. */
        async function fetchCandidate(artifact: string): Promise<{ status: number | null; stderr: string; written: Buffer | undefined }> {
            const resources = await render(artifact);
            const create = at<string>(named(resources, COMMAND, "fraud-scorer-candidate-artifact-fetch"), "create");
            const volumes = path.join(dir, "volumes");
            const result = spawnSync("bash", ["--norc", "--noprofile", "-c", create], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                env: {
                    PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`,
                    STAND_IN_LOG: path.join(dir, "calls"),
                    STAND_IN_HOST_ROOT: "/",
                    STAND_IN_VOLUMES: volumes,
                    STAND_IN_APP_DIR: path.join(projectDir, "model-server"),
                },
            });
            const volume = fs.existsSync(volumes) ? fs.readdirSync(volumes) : [];
            const file = volume.length === 1 ? path.join(volumes, volume[0], "1.5.0", "model.json") : "";
            return { status: result.status, stderr: result.stderr, written: file && fs.existsSync(file) ? fs.readFileSync(file) : undefined };
        }

        it("the shipped artifact: written into the volume byte for byte", async () => {
            const outcome = await fetchCandidate(shippedModels);
            assert.equal(outcome.status, 0, outcome.stderr);
            assert.deepEqual(outcome.written, fs.readFileSync(path.join(shippedModels, "1.5.0", "model.json")));
        });

        it("a corrupt local artifact (edited after its checksum was recorded) fails the step naming the file, the checksum and the fix; nothing written", async () => {
            const artifact = path.join(dir, "models");
            fs.cpSync(shippedModels, artifact, { recursive: true });
            const file = path.join(artifact, "1.5.0", "model.json");
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/"version"/, ' "version"'));
            const outcome = await fetchCandidate(artifact);
            assert.equal(outcome.status, 1, outcome.stderr);
            assert.match(outcome.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not match its checksum .*; upload the intended model\\.json again`));
            assert.match(outcome.stderr, /modelship: fraud-scorer 1\.5\.0 was not fetched and verified from .*; the candidate track's containers are not started/);
            assert.equal(outcome.written, undefined);
        });

        it("a version without a checksum file fails the step: an artifact that cannot be verified is not served", async () => {
            const artifact = path.join(dir, "models");
            fs.cpSync(shippedModels, artifact, { recursive: true });
            fs.rmSync(path.join(artifact, "1.5.0", "model.json.sha256"));
            const outcome = await fetchCandidate(artifact);
            assert.equal(outcome.status, 1, outcome.stderr);
            assert.match(outcome.stderr, /no checksum file: .*model\.json\.sha256 \(ENOENT\) does not exist; record one beside model\.json/);
            assert.equal(outcome.written, undefined);
        });
    });
});
