/**
 * `modelship pin`: a registry alias or version resolved into what a track deploys, written into
 * the stack file for review. The version's model.json is read from the registry's store and its
 * SHA-256 recorded, so the deploy fetches exactly the files that were pinned, or fails.
 */
import { createHash } from "crypto";
import { describeReference, parseRegistryReference, type PinnedArtifact, type RegistryReference } from "../components/config/model-registry";
import { modelRegistrySchema, type ModelRegistryConfig } from "../components/config/model-registry";
import type { TrackName } from "../components/config/tracks";
import type { Edit } from "../components/strategies/strategy";
import * as fs from "fs";
import * as path from "path";
import { httpRequest } from "../model-server/src/http-client";
import { ARTIFACT_FILE, isObject, locateArtifact } from "../model-server/src/model";
import { MAX_ARTIFACT_BYTES } from "../model-server/src/limits";
import { RegistryError, type MlflowRegistry, type RegistryVersion } from "./mlflow";

/** The aliases whose usual track is known: what production runs, and what is rolled out next. */
export const TRACK_OF_ALIAS: Readonly<Record<string, TrackName>> = { champion: "stable", challenger: "candidate" };

export interface RegistryModel {
    reference: RegistryReference;
    registry: ModelRegistryConfig;
}

/** The registry a model's stack entry names, read from the raw entry: pin runs on a stack whose tracks are not pinned yet, which the full config refuses. */
export function registryModel(name: string, raw: Record<string, unknown>): RegistryModel {
    const artifact = raw.artifact;
    if (typeof artifact !== "string" || !artifact.startsWith("models:/"))
        throw new RegistryError(
            `model ${name}'s artifact is ${JSON.stringify(artifact)}, not a registry reference: set artifact to models:/<name>@<alias> (or models:/<name>/<version>) and modelRegistry.trackingUri`,
        );
    const reference = parseRegistryReference(artifact);
    if ("problem" in reference) throw new RegistryError(`model ${name}'s artifact ${artifact}: ${reference.problem}`);
    const registry = modelRegistrySchema.safeParse(raw.modelRegistry);
    if (!registry.success)
        throw new RegistryError(
            `model ${name}: modelRegistry ${JSON.stringify(raw.modelRegistry)} is not { trackingUri: <the MLflow server's URL> }; ${describeReference(reference)} is registered there`,
        );
    return { reference, registry: registry.data };
}

/** A version pinned: what its model.json says it is, and what the track records. */
export interface Pinned {
    /** The model version model.json declares: the track's `version`. */
    version: string;
    artifact: PinnedArtifact;
    from: RegistryVersion;
}

/** `--from`: an alias, or a registry version number. */
export async function resolveVersion(registry: MlflowRegistry, name: string, from: string): Promise<RegistryVersion> {
    return /^[1-9][0-9]*$/.test(from) ? registry.version(name, from) : registry.aliased(name, from);
}

/** Reads the registry version's model.json, checks it is the model's, and pins it. */
export async function pinVersion(registry: MlflowRegistry, model: string, found: RegistryVersion): Promise<Pinned> {
    if (found.status !== "READY") throw new RegistryError(`${found.name} version ${found.version} is ${found.status} in the registry, not READY: pin it once its files are registered`);
    const uri = await registry.filesOf(found.name, found.version);
    let bytes: Buffer;
    try {
        bytes = await readModelJson(uri);
    } catch (error) {
        throw new RegistryError(
            `cannot read ${found.name} version ${found.version}'s ${ARTIFACT_FILE} at ${uri} (${(error as Error).message}): a version modelship deploys holds the model server's model.json beside its files`,
        );
    }
    let manifest: unknown;
    try {
        manifest = JSON.parse(bytes.toString("utf8"));
    } catch {
        throw new RegistryError(`${found.name} version ${found.version}'s ${ARTIFACT_FILE} at ${uri} is not JSON`);
    }
    if (!isObject(manifest) || typeof manifest.version !== "string" || typeof manifest.name !== "string")
        throw new RegistryError(`${found.name} version ${found.version}'s ${ARTIFACT_FILE} at ${uri} names no model name and version`);
    if (manifest.name !== model)
        throw new RegistryError(
            `${found.name} version ${found.version}'s ${ARTIFACT_FILE} is model ${manifest.name}, not ${model}: the server would refuse it; register ${model}'s files, or pin into the model they belong to`,
        );
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(manifest.version))
        throw new RegistryError(`${found.name} version ${found.version}'s ${ARTIFACT_FILE} declares version ${JSON.stringify(manifest.version)}, which is not a version`);
    return { version: manifest.version, artifact: { registryVersion: found.version, uri, sha256: createHash("sha256").update(bytes).digest("hex") }, from: found };
}

/** model.json under a version's directory, as the deploy's fetch reads it: from this machine's files, or over http(s). */
async function readModelJson(directory: string): Promise<Buffer> {
    if (/^https?:\/\//.test(directory)) {
        const answer = await httpRequest(new URL(`${directory.replace(/\/+$/, "")}/${ARTIFACT_FILE}`), { timeoutMs: 30_000, maxBytes: MAX_ARTIFACT_BYTES + 1 });
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
        // The client hands text back; model.json is UTF-8 JSON, so its bytes are the text's.
        return Buffer.from(answer.body, "utf8");
    }
    // Read where the model server would read it: a path, or a file:// URL.
    const located = locateArtifact(directory);
    if (located.kind !== "path") throw new Error("pin reads versions kept in a local directory or served over http(s) (mlflow server --serve-artifacts)");
    return fs.promises.readFile(path.join(located.path, ARTIFACT_FILE));
}

/** The stack-file edits that make the track run the pinned version. */
export function pinEdits(track: TrackName, pinned: Pinned): Edit[] {
    return [
        { path: ["tracks", track, "version"], value: pinned.version },
        { path: ["tracks", track, "artifact"], value: { ...pinned.artifact } },
    ];
}

/** The track `pin` writes by default: the one the alias usually feeds, else stable. */
export function defaultTrack(from: string): TrackName {
    return TRACK_OF_ALIAS[from] ?? "stable";
}

/** What `--from` defaults to: the alias or version the model's artifact names, for stable; challenger for the candidate. */
export function defaultFrom(reference: RegistryReference, track: TrackName): string {
    if (track === "candidate") return "challenger";
    return "alias" in reference ? reference.alias : reference.version;
}
