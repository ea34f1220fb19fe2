/**
 * The server's configuration, read from the environment the deployer sets
 * (see components/model-server-env.ts in the modelship repository) plus the fault knobs tests use.
 * Pure: parseConfig takes an env record and either returns a config or throws a ConfigError
 * that lists every invalid variable at once.
 */

export type Track = "stable" | "candidate";
export const TRACKS: readonly Track[] = ["stable", "candidate"];

export interface Faults {
    /** Share (0..1) of inference requests answered with 500. */
    readonly errorRate: number;
    /** Milliseconds added to every inference request. */
    readonly latencyMs: number;
    /** Milliseconds to wait before loading the model, so readiness comes late. */
    readonly slowStartMs: number;
    /** The ordinal (1-based) of the one inference request answered 503, a single blip; 0 for none. */
    readonly failOnceAt: number;
}

export interface ServerConfig {
    readonly modelName: string;
    readonly modelVersion: string;
    readonly track: Track;
    /** MODEL_ARTIFACT as given: a file, a directory, or a file:// URL. */
    readonly artifact: string;
    readonly port: number;
    readonly host: string;
    readonly featureFlags: Readonly<Record<string, string>>;
    readonly environment: string;
    readonly faults: Faults;
    /** How long a SIGTERM/SIGINT waits for in-flight requests before closing what is left. */
    readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid environment: ${problems.join("; ")}`);
        this.name = "ConfigError";
    }
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Upper bound for every millisecond knob: ten minutes. */
const MAX_MS = 600_000;

/** Model names and versions appear in URLs, labels and log lines: keep them to a safe alphabet. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Env = Readonly<Record<string, string | undefined>>;

export function parseConfig(env: Env): ServerConfig {
    const problems: string[] = [];
    const get = (name: string): string | undefined => {
        const value = env[name];
        return value === undefined || value.trim() === "" ? undefined : value.trim();
    };
    const required = (name: string, pattern?: RegExp, expected?: string): string => {
        const value = get(name);
        if (value === undefined) {
            problems.push(`${name} is required`);
            return "";
        }
        if (pattern && !pattern.test(value)) problems.push(`${name}=${JSON.stringify(value)}: expected ${expected}`);
        return value;
    };

    const modelName = required("MODEL_NAME", NAME_PATTERN, "letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)");
    const modelVersion = required("MODEL_VERSION", NAME_PATTERN, "letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)");
    const trackValue = required("MODEL_TRACK");
    if (trackValue !== "" && !TRACKS.includes(trackValue as Track)) problems.push(`MODEL_TRACK=${JSON.stringify(trackValue)}: expected one of ${TRACKS.join(", ")}`);
    const artifact = required("MODEL_ARTIFACT");

    const port = integer(get("PORT"), "PORT", DEFAULT_PORT, 0, 65_535, problems);
    const host = get("HOST") ?? DEFAULT_HOST;
    const featureFlags = parseFeatureFlags(get("FEATURE_FLAGS"), problems);
    const environment = get("MODELSHIP_ENVIRONMENT") ?? "local";

    const errorRate = fraction(get("FAULT_ERROR_RATE"), "FAULT_ERROR_RATE", problems);
    const latencyMs = integer(get("FAULT_LATENCY_MS"), "FAULT_LATENCY_MS", 0, 0, MAX_MS, problems);
    const slowStartMs = integer(get("FAULT_SLOW_START_MS"), "FAULT_SLOW_START_MS", 0, 0, MAX_MS, problems);
    const failOnceAt = integer(get("FAULT_FAIL_ONCE_AT"), "FAULT_FAIL_ONCE_AT", 0, 0, Number.MAX_SAFE_INTEGER, problems);
    const shutdownTimeoutMs = integer(get("SHUTDOWN_TIMEOUT_MS"), "SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS, 1, MAX_MS, problems);

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        modelName,
        modelVersion,
        track: trackValue as Track,
        artifact,
        port,
        host,
        featureFlags,
        environment,
        faults: { errorRate, latencyMs, slowStartMs, failOnceAt },
        shutdownTimeoutMs,
    };
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number, problems: string[]): number {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
        problems.push(`${name}=${JSON.stringify(value)}: expected an integer from ${min} to ${max}`);
        return fallback;
    }
    return Number(value);
}

function fraction(value: string | undefined, name: string, problems: string[]): number {
    if (value === undefined) return 0;
    const number = Number(value);
    if (!/^[0-9.eE+-]+$/.test(value) || !Number.isFinite(number) || number < 0 || number > 1) {
        problems.push(`${name}=${JSON.stringify(value)}: expected a number from 0 to 1`);
        return 0;
    }
    return number;
}

function parseFeatureFlags(value: string | undefined, problems: string[]): Record<string, string> {
    if (value === undefined) return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch (error) {
        problems.push(`FEATURE_FLAGS is not valid JSON (${(error as Error).message}): expected a JSON object of string values`);
        return {};
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`FEATURE_FLAGS=${JSON.stringify(value)}: expected a JSON object of string values`);
        return {};
    }
    const flags: Record<string, string> = {};
    for (const [key, flag] of Object.entries(parsed)) {
        if (typeof flag !== "string") problems.push(`FEATURE_FLAGS.${key} is ${JSON.stringify(flag)}: expected a string`);
        else flags[key] = flag;
    }
    return flags;
}
