/**
 * The smoke program's command line: its flags, and the settings they make once checked. The
 * project's gate command (`node dist/tools/gate.js smoke`) and this image's entry point (main.ts,
 * run by the Kubernetes smoke Job) both pass their flag values through `smokeSettings`.
 */
import * as fs from "fs";
import { requestRows } from "./checks";

/** Each flag and the setting it gives. */
export const SMOKE_FLAGS = {
    "--url": "url",
    "--model": "model",
    "--version": "version",
    "--input": "input",
    "--expect-min": "min",
    "--expect-max": "max",
    "--timeout-ms": "timeout",
    "--retries": "retries",
    "--pin": "pin",
    "--server": "server",
} as const;

export type SmokeFlag = keyof typeof SMOKE_FLAGS;
export type SmokeFlagValues = Partial<Record<(typeof SMOKE_FLAGS)[SmokeFlag], string>>;

export const SMOKE_USAGE = [
    "smoke --url <base url of one model server> --model <name> --version <v> --input <json file | inline JSON>",
    "      --expect-min <n> --expect-max <n> [--timeout-ms 60000] [--retries 3] [--pin <header>=<track>] [--server modelship|oip]",
    "      --server oip: another Open Inference Protocol server (the model's readiness and the inference, whose model_version is checked); modelship (default) adds its legacy v1 route and X-Model-Version",
].join("\n");

/** The command line is wrong: the caller prints the message with the usage and exits 2. */
export class SmokeUsageError extends Error {}

export interface SmokeSettings {
    /** Base URL of one model server, or of a router when `pin` is set. */
    url: URL;
    model: string;
    version: string;
    /** The recorded KServe v2 request, and its rows for the v1 route. */
    request: unknown;
    rows: number[][];
    min: number;
    max: number;
    timeoutMs: number;
    /** How often a 5xx answer or a failed connection is retried. */
    retries: number;
    /** The header a router pins a request to one track by, and the track. */
    pin?: { header: string; value: string };
    /** modelship's own server, or any other Open Inference Protocol server (the protocol's checks only). */
    server: SmokeServer;
}

export const SMOKE_SERVERS = ["modelship", "oip"] as const;
export type SmokeServer = (typeof SMOKE_SERVERS)[number];

function need(value: string | undefined, flag: SmokeFlag): string {
    if (value === undefined || value.trim() === "") throw new SmokeUsageError(`${flag} is required`);
    return value;
}

function numberFlag(value: string | undefined, flag: SmokeFlag, options: { fallback?: number; integer?: boolean; min?: number } = {}): number {
    if (value === undefined) {
        if (options.fallback === undefined) throw new SmokeUsageError(`${flag} is required`);
        return options.fallback;
    }
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (options.integer && !Number.isInteger(n)) || (options.min !== undefined && n < options.min)) {
        throw new SmokeUsageError(`${flag} is ${JSON.stringify(value)}: expected ${options.integer ? "an integer" : "a number"}${options.min !== undefined ? ` >= ${options.min}` : ""}`);
    }
    return n;
}

/** `--pin x-modelship-track=candidate`: the header a router pins a request to one track by. */
export function parsePin(value: string): { header: string; value: string } {
    const match = /^(?<header>[A-Za-z0-9-]+)=(?<track>\S+)$/.exec(value);
    if (!match?.groups?.header || !match.groups.track) throw new SmokeUsageError(`--pin ${value}: expected <header>=<track>, e.g. x-modelship-track=candidate`);
    return { header: match.groups.header.toLowerCase(), value: match.groups.track };
}

/** Inline JSON (the Job's way: the request travels in its command), or a file (the local way). */
function readRequest(input: string): { text: string; source: string } {
    const trimmed = input.trim();
    if (trimmed.startsWith("{")) return { text: trimmed, source: "inline JSON" };
    try {
        return { text: fs.readFileSync(input, "utf8"), source: input };
    } catch (error) {
        throw new SmokeUsageError(`--input ${input}: cannot read the recorded request (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a JSON file or inline JSON`);
    }
}

export function smokeSettings(args: SmokeFlagValues): SmokeSettings {
    const base = need(args.url, "--url");
    let url: URL;
    try {
        url = new URL(base);
    } catch {
        throw new SmokeUsageError(`--url ${base} is not a URL: expected e.g. http://127.0.0.1:38123`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new SmokeUsageError(`--url ${base}: expected an http:// or https:// URL`);
    const model = need(args.model, "--model");
    const version = need(args.version, "--version");
    const { text, source } = readRequest(need(args.input, "--input"));
    const min = numberFlag(args.min, "--expect-min");
    const max = numberFlag(args.max, "--expect-max");
    if (min > max) throw new SmokeUsageError(`--expect-min ${min} is greater than --expect-max ${max}`);
    const timeoutMs = numberFlag(args.timeout, "--timeout-ms", { fallback: 60_000, integer: true, min: 1 });
    const retries = numberFlag(args.retries, "--retries", { fallback: 3, integer: true, min: 0 });
    const pin = args.pin === undefined ? undefined : parsePin(args.pin);
    const server = args.server ?? "modelship";
    if (!(SMOKE_SERVERS as readonly string[]).includes(server)) throw new SmokeUsageError(`--server ${JSON.stringify(server)}: expected ${SMOKE_SERVERS.join(" or ")}`);
    let request: unknown;
    let rows: number[][];
    try {
        request = JSON.parse(text);
        rows = requestRows(request);
    } catch (error) {
        throw new SmokeUsageError(`--input ${source}: not a usable KServe v2 inference request: ${(error as Error).message}`);
    }
    return { url, model, version, request, rows, min, max, timeoutMs, retries, ...(pin ? { pin } : {}), server: server as SmokeServer };
}

/** Flag values as `--flag=value` arguments, each value whole (a negative number or JSON included), in SMOKE_FLAGS order. */
export function smokeArgv(values: SmokeFlagValues): string[] {
    return (Object.entries(SMOKE_FLAGS) as [SmokeFlag, (typeof SMOKE_FLAGS)[SmokeFlag]][]).flatMap(([flag, key]) => (values[key] === undefined ? [] : [`${flag}=${values[key]}`]));
}
