/**
 * The environment every model-server container receives, whatever runs it: the server names
 * its model, version and track in answers and metrics from these.
 */
import type { TrackPlan } from "./traffic/types";

export const MODEL_MOUNT_DIR = "/models";
export const READY_PATH = "/v2/health/ready";
export const LIVE_PATH = "/v2/health/live";

export function modelServerEnv(args: { model: string; environment: string; artifact: string; port: number; track: TrackPlan }): Record<string, string> {
    return {
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
 * `<source>/<version>/model.json` into `<dest>/<version>/`, verified against its checksum, and
 * exits 1 with one line naming the source, the version and the fix when it cannot.
 */
export function fetchArtifactCommand(args: { source: string; version: string; dest: string }): string[] {
    return ["node", "dist/src/fetch-artifact.js", "--source", args.source, "--version", args.version, "--dest", args.dest];
}

/** A probe the image can run without curl or wget: the model server's own Node.js. */
export function nodeHttpProbe(port: number, path: string): string[] {
    return ["node", "-e", `fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
}
