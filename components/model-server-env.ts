/**
 * The environment every model-server container receives, whatever runs it: the server names
 * its model, version and track in answers and metrics from these.
 */
import type { ArtifactLocation } from "./config/model-registry";
import { shellQuote } from "./shell";
import { trackPlan, type TrackPlan, type TrafficPlan } from "./traffic/types";

export const MODEL_MOUNT_DIR = "/models";
export const READY_PATH = "/v2/health/ready";
export const LIVE_PATH = "/v2/health/live";

/** The memory limit the server compares its resident memory with (the analysis' memory template); Kubernetes sets it from the pod's own limit. */
export const MEMORY_LIMIT_ENV = "MODELSHIP_MEMORY_LIMIT_BYTES";

/** Where a stable server sends its answers during a shadow rollout, for the candidate to pair with its own (analysis' shadow comparison). */
export const SHADOW_COMPARE_ENV = "MODELSHIP_SHADOW_COMPARE_URL";

/**
 * Whether this track's server sends its answers to the candidate: stable, while the plan mirrors
 * requests to the candidate. Its environment changes then, so starting and ending a shadow rolls
 * stable's servers once each.
 */
export function comparesWithCandidate(plan: TrafficPlan, track: TrackPlan): boolean {
    return track.track === "stable" && (trackPlan(plan, "candidate")?.mirrorPercent ?? 0) > 0;
}

export function modelServerEnv(args: {
    model: string;
    environment: string;
    artifact: string;
    port: number;
    track: TrackPlan;
    memoryLimitBytes?: number;
    /** The candidate's base URL, where comparesWithCandidate holds. */
    shadowCompareUrl?: string;
}): Record<string, string> {
    return {
        ...(args.shadowCompareUrl !== undefined ? { [SHADOW_COMPARE_ENV]: args.shadowCompareUrl } : {}),
        ...(args.memoryLimitBytes !== undefined ? { [MEMORY_LIMIT_ENV]: String(args.memoryLimitBytes) } : {}),
        MODEL_NAME: args.model,
        MODEL_VERSION: args.track.version,
        MODEL_TRACK: args.track.track,
        MODEL_ARTIFACT: args.artifact,
        MODELSHIP_ENVIRONMENT: args.environment,
        PORT: String(args.port),
        FEATURE_FLAGS: JSON.stringify(sortedRecord(args.track.featureFlags)),
    };
}

/** Sorted keys: the same flags must give the same string, or every preview shows a diff. */
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The artifact initializer in the model-server image (model-server/src/fetch-artifact.ts): copies
 * `<source>/<version>/model.json` into `<dest>/<version>/`, verified against its checksum (a
 * pinned registry version: `<directory>/model.json`, verified against the pin), and exits 1 with
 * one line naming the source, the version and the fix when it cannot.
 */
export function fetchArtifactCommand(args: { location: ArtifactLocation; version: string; dest: string }): string[] {
    const source = args.location.kind === "pinned" ? ["--source", args.location.directory, "--sha256", args.location.sha256] : ["--source", args.location.root];
    return ["node", "dist/src/fetch-artifact.js", ...source, "--version", args.version, "--dest", args.dest];
}

/** The location's directory or root: what a message names, and what a local fetch mounts. */
export function artifactSource(location: ArtifactLocation): string {
    return location.kind === "pinned" ? location.directory : location.root;
}

/** Where a one-shot fetch container writes: a host directory or a named volume, later mounted read-only by the server. */
export interface FetchDestination {
    /** A host directory mounted in (`bind`), or a Docker volume (`volume`). */
    type: "bind" | "volume";
    /** The host directory's absolute path, or the volume's name. */
    source: string;
}

/**
 * `docker run` of the image's own fetch-artifact, for the targets that run containers without
 * Kubernetes: the options before the image and the command after it. The destination is mounted
 * where the server reads it (MODEL_ARTIFACT), so the same `<dest>/<version>/model.json` layout and
 * checksum rule hold on every target. Hardened like the server: read-only root, no capabilities.
 */
export function fetchArtifactContainer(args: {
    /** The model whose artifact is fetched: the directory under the destination it lands in. */
    model: string;
    /** Where the track's files are: under an s3:// URI or a local directory, or a pinned registry version's own directory. */
    location: ArtifactLocation;
    /** The model version to fetch and verify. */
    version: string;
    /** Where it is written, for the server to mount read-only. */
    into: FetchDestination;
    /** Who writes: the owner of the destination (a volume's root is root's; a host directory can be chowned). */
    user: string;
    /** `none` for a mounted path; `host` where credentials come from the instance metadata service (one hop). */
    network: "none" | "host";
    /** A local source directory, mounted read-only at the same path so messages name the real path. */
    sourceMount?: string;
    /** Environment of the fetch (the store's endpoint and region, where credentials come from). */
    env?: Readonly<Record<string, string>>;
    /** Extra `docker run` options (a log driver). */
    extra?: readonly string[];
}): { options: string[]; command: string[] } {
    const dest = `${MODEL_MOUNT_DIR}/${args.model}`;
    const [entrypoint, ...command] = fetchArtifactCommand({ location: args.location, version: args.version, dest });
    return {
        // Each option beside its value, as `docker run --help` lists them.
        // prettier-ignore
        options: [
            "--rm",
            "--network", args.network,
            "--user", args.user,
            "--read-only", "--tmpfs", "/tmp:rw,size=64m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
            ...(args.sourceMount ? ["--mount", `type=bind,source=${args.sourceMount},target=${args.sourceMount},readonly`] : []),
            "--mount", `type=${args.into.type},source=${args.into.source},target=${dest}`,
            ...Object.entries(args.env ?? {}).flatMap(([key, value]) => ["-e", `${key}=${value}`]),
            ...(args.extra ?? []),
            "--entrypoint", entrypoint,
        ],
        command,
    };
}

/**
 * The fetch as a shell step: `docker run` of `image` (a shell word: quoted, or a quoted variable),
 * and on failure, after fetch-artifact's own line, one line saying what did not happen; exit 1.
 */
export function fetchArtifactStep(run: { options: readonly string[]; command: readonly string[] }, image: string, consequence: string): string {
    // One line of the script per line.
    // prettier-ignore
    return [
        `if ! docker run ${run.options.map(shellQuote).join(" ")} ${image} ${run.command.map(shellQuote).join(" ")}; then`,
        `    echo ${shellQuote(consequence)} >&2`,
        "    exit 1",
        "fi",
    ].join("\n");
}

/** A probe the image can run without curl or wget: the model server's own Node.js. */
export function nodeHttpProbe(port: number, path: string): string[] {
    return ["node", "-e", `fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
}
