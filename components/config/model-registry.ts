/**
 * A model whose versions live in a model registry (MLflow's): the stack names it with
 * `artifact: models:/<name>/<version>` or `models:/<name>@<alias>`, and each track carries the
 * version `modelship pin` resolved, with the URI its files are fetched from and model.json's
 * checksum. The program deploys those pins only: it never asks the registry what an alias means,
 * so a deploy is the reviewed stack file and nothing else.
 */
import { z } from "zod";
import type { ModelConfig } from "./schema";
import type { TrackName } from "./tracks";

export const REGISTRY_SCHEME = "models:/";

/** The alias a concluded `promote` moves to the promoted version, unless the model names another. */
export const DEFAULT_PROMOTE_ALIAS = "champion";

/** MLflow's rules: a registered model name, an alias (letters, digits, _ and -, not "latest" nor v<digits>). */
const REGISTERED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;
const ALIAS = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;
const REGISTRY_VERSION = /^[1-9][0-9]{0,9}$/;

export type RegistryReference = { name: string; version: string } | { name: string; alias: string };

export function isRegistryReference(artifact: string): boolean {
    return artifact.startsWith(REGISTRY_SCHEME);
}

/** The reference `models:/...` names, or a sentence saying what is wrong with it. */
export function parseRegistryReference(artifact: string): RegistryReference | { problem: string } {
    const rest = artifact.slice(REGISTRY_SCHEME.length);
    const shape = "models:/<name>/<version> (a registry version such as 3) or models:/<name>@<alias> (such as champion)";
    const at = rest.indexOf("@");
    if (at >= 0) {
        const [name, alias] = [rest.slice(0, at), rest.slice(at + 1)];
        if (!REGISTERED_NAME.test(name)) return { problem: `"${name}" is not a registered model name; expected ${shape}` };
        if (!ALIAS.test(alias) || alias === "latest" || /^v[0-9]+$/.test(alias))
            return { problem: `"${alias}" is not an alias (letters, digits, _ and -; not "latest" nor v<digits>); expected ${shape}` };
        return { name, alias };
    }
    const parts = rest.split("/");
    if (parts.length !== 2 || !REGISTERED_NAME.test(parts[0]) || !REGISTRY_VERSION.test(parts[1])) return { problem: `expected ${shape}` };
    return { name: parts[0], version: parts[1] };
}

export function describeReference(reference: RegistryReference): string {
    return "alias" in reference ? `${REGISTRY_SCHEME}${reference.name}@${reference.alias}` : `${REGISTRY_SCHEME}${reference.name}/${reference.version}`;
}

/** What `pin` writes into a track: the exact registry version, where its files are and model.json's SHA-256. */
export const pinnedArtifactSchema = z.strictObject({
    registryVersion: z
        .union([z.string(), z.number()])
        .transform((v) => String(v))
        .pipe(z.string().regex(REGISTRY_VERSION, { error: "a registry version number such as 3" })),
    /** The directory holding the version's model.json: a local path, https:// (or http:// on loopback) or s3://. */
    uri: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "the SHA-256 of the version's model.json: 64 lowercase hex digits" }),
});

export type PinnedArtifact = z.infer<typeof pinnedArtifactSchema>;

export const modelRegistrySchema = z.strictObject({
    /** The MLflow tracking server `modelship pin` and `promote` ask (the program itself never does). */
    trackingUri: z.url({ protocol: /^https?$/, error: "the MLflow tracking server's http(s) URL, such as https://mlflow.example.com" }),
    /** The alias a concluded promote moves to the version it made stable. */
    promoteAlias: z.string().regex(ALIAS, { error: "an alias: letters, digits, _ and -" }).default(DEFAULT_PROMOTE_ALIAS),
});

export type ModelRegistryConfig = z.infer<typeof modelRegistrySchema>;

/**
 * Where a track's model files are fetched from: the version's own directory and model.json's
 * checksum for a pinned registry version; otherwise the model's location, under which
 * `<version>/model.json` and its `model.json.sha256` live.
 */
export type ArtifactLocation = { kind: "versions"; root: string } | { kind: "pinned"; directory: string; sha256: string; registryVersion: string };

export function artifactLocation(modelArtifact: string, pin: PinnedArtifact | undefined): ArtifactLocation {
    if (pin) return { kind: "pinned", directory: pin.uri, sha256: pin.sha256, registryVersion: pin.registryVersion };
    return { kind: "versions", root: modelArtifact };
}

/** Where one track of a model fetches its files from. */
export function trackArtifact(model: Pick<ModelConfig, "artifact" | "tracks">, track: TrackName): ArtifactLocation {
    return artifactLocation(model.artifact, model.tracks[track]?.artifact);
}
