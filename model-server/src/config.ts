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
    /** Bytes retained (never freed) per inference request: a leaking model, for memory-limit rules. */
    readonly leakBytesPerRequest: number;
}

export interface ShadowConfig {
    /**
     * Set on the stable track of a shadow rollout: the candidate's base URL (no trailing slash),
     * where stable pushes its answers to compare. Undefined elsewhere.
     */
    readonly compareUrl?: string;
    /** How long either side's answer waits for the other's before it counts as unpaired. */
    readonly pairTtlMs: number;
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
    /** MODELSHIP_MEMORY_LIMIT_BYTES; when unset the server reads its cgroup's limit (src/memory-limit.ts). */
    readonly memoryLimitBytes?: number;
    /** A row's class is 1 when its probability is at least this, else 0: for feedback and shadow agreement. */
    readonly decisionThreshold: number;
    /** Upper bounds of the modelship_feedback_reward histogram, ascending. */
    readonly rewardBuckets: readonly number[];
    readonly shadow: ShadowConfig;
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
export const DEFAULT_DECISION_THRESHOLD = 0.5;
/** 0, 0.1, ..., 1: a reward read as a score. */
export const DEFAULT_REWARD_BUCKETS: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);
export const DEFAULT_SHADOW_PAIR_TTL_MS = 30_000;
/** Upper bound for FAULT_LEAK_BYTES_PER_REQUEST: 64 MiB, so one request cannot take the machine. */
const MAX_LEAK_BYTES = 64 * 1024 * 1024;
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
    const leakBytesPerRequest = integer(get("FAULT_LEAK_BYTES_PER_REQUEST"), "FAULT_LEAK_BYTES_PER_REQUEST", 0, 0, MAX_LEAK_BYTES, problems);
    const shutdownTimeoutMs = integer(get("SHUTDOWN_TIMEOUT_MS"), "SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS, 1, MAX_MS, problems);
    const memoryLimit = get("MODELSHIP_MEMORY_LIMIT_BYTES");
    const memoryLimitBytes = memoryLimit === undefined ? undefined : integer(memoryLimit, "MODELSHIP_MEMORY_LIMIT_BYTES", 0, 1, Number.MAX_SAFE_INTEGER, problems);
    const threshold = get("MODELSHIP_DECISION_THRESHOLD");
    const decisionThreshold = threshold === undefined ? DEFAULT_DECISION_THRESHOLD : fraction(threshold, "MODELSHIP_DECISION_THRESHOLD", problems);
    const rewardBuckets = parseBuckets(get("MODELSHIP_REWARD_BUCKETS"), "MODELSHIP_REWARD_BUCKETS", problems);
    const compareUrl = parseBaseUrl(get("MODELSHIP_SHADOW_COMPARE_URL"), "MODELSHIP_SHADOW_COMPARE_URL", problems);
    const pairTtlMs = integer(get("MODELSHIP_SHADOW_PAIR_TTL_MS"), "MODELSHIP_SHADOW_PAIR_TTL_MS", DEFAULT_SHADOW_PAIR_TTL_MS, 1, MAX_MS, problems);

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
        faults: { errorRate, latencyMs, slowStartMs, failOnceAt, leakBytesPerRequest },
        shutdownTimeoutMs,
        ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
        decisionThreshold,
        rewardBuckets,
        shadow: { ...(compareUrl !== undefined ? { compareUrl } : {}), pairTtlMs },
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

/** Comma-separated finite numbers, strictly ascending: histogram bucket bounds. */
function parseBuckets(value: string | undefined, name: string, problems: string[]): readonly number[] {
    if (value === undefined) return DEFAULT_REWARD_BUCKETS;
    const parts = value.split(",").map((part) => part.trim());
    const numbers = parts.map(Number);
    const ascending = numbers.every((n, i) => i === 0 || n > numbers[i - 1]!);
    if (parts.some((part) => part === "") || !numbers.every(Number.isFinite) || !ascending) {
        problems.push(`${name}=${JSON.stringify(value)}: expected comma-separated numbers in ascending order, e.g. 0,0.5,1`);
        return DEFAULT_REWARD_BUCKETS;
    }
    return numbers;
}

/** An http(s) URL without query or fragment, returned without its trailing slash. */
function parseBaseUrl(value: string | undefined, name: string, problems: string[]): string | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        problems.push(`${name}=${JSON.stringify(value)}: expected an http:// or https:// URL, e.g. http://candidate:8080`);
        return undefined;
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
        problems.push(`${name}=${JSON.stringify(value)}: expected an http:// or https:// URL without query or fragment, e.g. http://candidate:8080`);
        return undefined;
    }
    return url.href.replace(/\/+$/, "");
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
