/**
 * The gate programs the stack runs (@pulumi/command) before any traffic moves to a version:
 *
 *   node dist/tools/gate.js lint  --dockerfile <path> [--required true|false] [--failure-threshold error|warning|info|style]
 *   node dist/tools/gate.js scan  --image <ref> [--scanner trivy|none] [--required true|false]
 *   node dist/tools/gate.js smoke --url <base url of one model server> --model <name> --version <v>
 *                                 --input <json file | inline JSON> --expect-min <n> --expect-max <n>
 *                                 [--timeout-ms 60000] [--retries 3] [--pin <header>=<track>]
 *
 * Exit codes: 0 pass (an advisory NOT RUN / NOT SCANNED included), 1 gate failed, 2 usage error.
 * Every run ends with `<gate>: <verdict>[ (<detail>)] in <s> s` (components/gates/programs.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { performance } from "perf_hooks";
import {
    blockingFindings,
    clip,
    countByLevel,
    countBySeverity,
    DEFAULT_LINT_THRESHOLD,
    FAILING_SEVERITIES,
    formatLintFinding,
    formatScanFinding,
    formatSeconds,
    inferOutputs,
    isFailing,
    notScanned,
    TRIVY_DB_FAILURE,
    outOfRange,
    parseBoolean,
    parseHadolintJson,
    parseLintLevel,
    parseTrivyReport,
    requestRows,
    resultLine,
    sortFindings,
    sortScanFindings,
    trivyFailureReason,
    valueRange,
    type GateName,
    type LintLevel,
    type ScanFinding,
    type ScanOutcome,
} from "../components/gates/programs";
import { parseFlags, runCommand, UsageError } from "./command-line";
// A gate that passes ends as any command that succeeded.
import { EXIT_FAILED, EXIT_OK as EXIT_PASS } from "./exit-codes";

export const USAGE = [
    "usage: node dist/tools/gate.js <lint|scan|smoke> [flags]",
    "  lint  --dockerfile <path> [--required true|false] [--failure-threshold error|warning|info|style]",
    "  scan  --image <ref> [--scanner trivy|none] [--required true|false]",
    "  smoke --url <base url of one model server> --model <name> --version <v> --input <json file | inline JSON>",
    "        --expect-min <n> --expect-max <n> [--timeout-ms 60000] [--retries 3] [--pin <header>=<track>]",
].join("\n");

type Out = (line: string) => void;
const out: Out = (line) => process.stdout.write(`${line}\n`);

function flags<K extends string>(argv: readonly string[], spec: Readonly<Record<string, K>>): Partial<Record<K, string>> {
    return parseFlags(argv, spec).values;
}

function need(value: string | undefined, flag: string): string {
    if (value === undefined || value.trim() === "") throw new UsageError(`${flag} is required`);
    return value;
}

function booleanFlag(value: string | undefined, flag: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    const parsed = parseBoolean(value);
    if (parsed === undefined) throw new UsageError(`${flag} is ${JSON.stringify(value)}: expected true or false`);
    return parsed;
}

function numberFlag(value: string | undefined, flag: string, options: { fallback?: number; integer?: boolean; min?: number } = {}): number {
    if (value === undefined) {
        if (options.fallback === undefined) throw new UsageError(`${flag} is required`);
        return options.fallback;
    }
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (options.integer && !Number.isInteger(n)) || (options.min !== undefined && n < options.min)) {
        throw new UsageError(`${flag} is ${JSON.stringify(value)}: expected ${options.integer ? "an integer" : "a number"}${options.min !== undefined ? ` >= ${options.min}` : ""}`);
    }
    return n;
}

const since = (started: number) => performance.now() - started;

// ---------------------------------------------------------------------------------------------
// lint

export function lintGate(argv: readonly string[]): number {
    const args = flags(argv, { "--dockerfile": "dockerfile", "--required": "required", "--failure-threshold": "threshold" });
    const dockerfile = need(args.dockerfile, "--dockerfile");
    const required = booleanFlag(args.required, "--required", true);
    let threshold: LintLevel = DEFAULT_LINT_THRESHOLD;
    if (args.threshold !== undefined) {
        const level = parseLintLevel(args.threshold);
        if (!level) throw new UsageError(`--failure-threshold is ${JSON.stringify(args.threshold)}: expected error, warning, info or style`);
        threshold = level;
    }
    const started = performance.now();
    const finish = (verdict: "passed" | "FAILED" | "NOT RUN", detail?: string) => {
        out(resultLine("lint", verdict, since(started), detail));
        return verdict === "FAILED" || (verdict === "NOT RUN" && required) ? EXIT_FAILED : EXIT_PASS;
    };
    if (!fs.existsSync(dockerfile) || !fs.statSync(dockerfile).isFile()) {
        out(`lint: FAILED: no Dockerfile at ${dockerfile} (${path.resolve(dockerfile)})`);
        return finish("FAILED", "no Dockerfile");
    }
    const result = spawnSync("hadolint", ["--format", "json", dockerfile], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
        out("lint not run: hadolint not found on PATH");
        out(required ? "lint: the lint gate is required (--required true): failing" : "lint: warning: the Dockerfile was not linted; --required false, so this does not block");
        return finish("NOT RUN", required ? "required" : "advisory");
    }
    if (result.error) {
        out(`lint: FAILED: hadolint could not run: ${result.error.message}`);
        return finish("FAILED", "hadolint error");
    }
    let findings;
    try {
        findings = sortFindings(parseHadolintJson(result.stdout));
    } catch (error) {
        out(`lint: FAILED: hadolint exited ${result.status ?? result.signal}: ${(error as Error).message}${result.stderr.trim() ? `; stderr: ${clip(result.stderr)}` : ""}`);
        return finish("FAILED", "hadolint error");
    }
    const blocking = blockingFindings(findings, threshold);
    out(`lint: hadolint ${dockerfile}: ${findings.length} finding${findings.length === 1 ? "" : "s"} (${countByLevel(findings)}); failing on ${threshold}${threshold === "error" ? "" : " and above"}`);
    for (const finding of findings) out(formatLintFinding(finding));
    if (blocking.length > 0) {
        const codes = [...new Set(blocking.map((f) => f.code))];
        out(`lint: FAILED: ${blocking.length} finding${blocking.length === 1 ? "" : "s"} at or above ${threshold}: ${codes.join(", ")}`);
        return finish("FAILED", codes.join(", "));
    }
    return finish("passed");
}

// ---------------------------------------------------------------------------------------------
// scan: one small function per scanner

type Scanner = (image: string) => ScanOutcome;

/**
 * The layer cache in memory: trivy's on-disk one takes an exclusive lock, so the gates of one
 * update (stable's and candidate's, run at once) would wait on each other and time out. The
 * vulnerability DB stays in trivy's cache folder, opened read-only.
 */
const TRIVY_COMMON = ["image", "--quiet", "--format", "json", "--cache-backend", "memory"];
export const TRIVY_ARGS = (image: string): string[] => [...TRIVY_COMMON, "--scanners", "vuln,secret,misconfig", image];
/** Without a vulnerability DB: secrets and misconfigurations need none, and the checks built into trivy serve. */
export const TRIVY_OFFLINE_ARGS = (image: string): string[] => [...TRIVY_COMMON, "--scanners", "secret,misconfig", "--skip-check-update", image];

type TrivyRun = { report: ScanFinding[] } | { failure: string; dbProblem: boolean };

function runTrivy(args: readonly string[]): TrivyRun {
    const result = spawnSync("trivy", args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return { failure: "trivy not found on PATH", dbProblem: false };
    if (result.error) return { failure: `trivy could not run: ${result.error.message}`, dbProblem: false };
    const failed = result.status !== 0 || result.signal !== null;
    if (!failed || result.stdout.trim() !== "") {
        try {
            // A report is trusted even with a non-zero exit (a trivy.yaml may set exit-code on findings).
            return { report: parseTrivyReport(result.stdout) };
        } catch (error) {
            if (!failed) return { failure: `trivy gave no readable report: ${(error as Error).message}`, dbProblem: false };
        }
    }
    const failure = trivyFailureReason(result.status, result.signal, result.stderr);
    return { failure, dbProblem: failure.startsWith(TRIVY_DB_FAILURE) };
}

function trivy(image: string): ScanOutcome {
    const full = runTrivy(TRIVY_ARGS(image));
    if ("report" in full) return { scanned: true, scanner: "trivy", findings: full.report };
    if (!full.dbProblem) return notScanned(full.failure);
    // No vulnerability DB (no network, no mirror): still look for secrets and misconfigurations.
    const offline = runTrivy(TRIVY_OFFLINE_ARGS(image));
    if ("failure" in offline) return notScanned(`${full.failure}; without it, secrets and misconfigurations: ${offline.failure}`);
    return { scanned: "partly", scanner: "trivy", findings: offline.report, checked: "secrets and misconfigurations", missing: `vulnerabilities: ${full.failure}` };
}

export const SCANNERS: Readonly<Record<string, Scanner>> = {
    trivy,
    none: () => notScanned("no scanner configured"),
};

/** Lower-severity findings printed at most; the counts cover all of them. */
const MAX_MINOR_LINES = 50;

export function scanGate(argv: readonly string[]): number {
    const args = flags(argv, { "--image": "image", "--scanner": "scanner", "--required": "required" });
    const image = need(args.image, "--image");
    const scannerName = args.scanner ?? "trivy";
    const scanner = SCANNERS[scannerName];
    if (!scanner || !Object.prototype.hasOwnProperty.call(SCANNERS, scannerName)) throw new UsageError(`--scanner is ${JSON.stringify(scannerName)}: expected one of ${Object.keys(SCANNERS).join(", ")}`);
    const required = booleanFlag(args.required, "--required", true);
    const started = performance.now();
    const outcome = scanner(image);
    if (outcome.scanned === false) {
        out(`scan: NOT SCANNED: ${outcome.reason}`);
        out(required ? `scan: image ${image} was not scanned and the scan gate is required (--required true): failing` : `scan: warning: image ${image} was not scanned; --required false, so this does not block`);
        out(resultLine("scan", "NOT SCANNED", since(started), required ? "required" : "advisory"));
        return required ? EXIT_FAILED : EXIT_PASS;
    }
    const findings = sortScanFindings(outcome.findings);
    const failing = findings.filter(isFailing);
    const minor = findings.filter((f) => !isFailing(f));
    for (const f of failing) out(formatScanFinding(f));
    for (const f of minor.slice(0, MAX_MINOR_LINES)) out(formatScanFinding(f));
    if (minor.length > MAX_MINOR_LINES) out(`scan: ... and ${minor.length - MAX_MINOR_LINES} more below ${FAILING_SEVERITIES[FAILING_SEVERITIES.length - 1]}`);
    const counted = `${findings.length} finding${findings.length === 1 ? "" : "s"}${findings.length === 0 ? "" : ` (${countBySeverity(findings)})`}`;
    // A partial scan never says "no findings": the image is not known to be clean.
    if (outcome.scanned === "partly") out(`scan: ${outcome.scanner} ${image}, ${outcome.checked} only: ${counted}`);
    else out(`scan: ${outcome.scanner} ${image}: ${findings.length === 0 ? "no findings" : counted}`);
    if (failing.length > 0) {
        const ids = [...new Set(failing.map((f) => f.id))];
        const shown = ids.slice(0, 5).join(", ") + (ids.length > 5 ? `, ${ids.length - 5} more` : "");
        out(`scan: FAILED: ${failing.length} ${FAILING_SEVERITIES.join("/")} finding${failing.length === 1 ? "" : "s"}: ${shown}`);
        out(resultLine("scan", "FAILED", since(started), `${failing.length} ${FAILING_SEVERITIES.join("/")}: ${shown}`));
        return EXIT_FAILED;
    }
    if (outcome.scanned === "partly") {
        out(`scan: NOT SCANNED: ${outcome.missing}`);
        out(required ? `scan: image ${image} was only partly scanned and the scan gate is required (--required true): failing` : `scan: warning: image ${image} was only partly scanned; --required false, so this does not block`);
        out(resultLine("scan", "NOT SCANNED", since(started), required ? "required" : "advisory"));
        return required ? EXIT_FAILED : EXIT_PASS;
    }
    out(resultLine("scan", "passed", since(started)));
    return EXIT_PASS;
}

// ---------------------------------------------------------------------------------------------
// smoke

interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** Answers larger than this are cut (a model server's answer to a recorded request is small). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** One request may take at most this long (less when the gate's deadline is nearer). */
const REQUEST_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 100;
const BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2_000;

/** Headers sent with every request of one smoke run (the router's pin header, when going through one). */
type ExtraHeaders = Readonly<Record<string, string>>;

function httpRequest(url: URL, method: "GET" | "POST", timeoutMs: number, body?: string, extra: ExtraHeaders = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const client = url.protocol === "https:" ? https : http;
        const payload = body === undefined ? undefined : Buffer.from(body, "utf8");
        const req = client.request(
            url,
            {
                method,
                agent: false,
                headers: { ...extra, accept: "application/json", connection: "close", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                let size = 0;
                res.on("data", (chunk: Buffer) => {
                    size += chunk.length;
                    if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
                });
                res.on("end", () => {
                    clearTimeout(timer);
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
                });
                res.on("error", (error) => {
                    clearTimeout(timer);
                    reject(error);
                });
            },
        );
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${formatSeconds(timeoutMs)} s`)), Math.max(1, timeoutMs));
        req.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        req.end(payload);
    });
}

function describeError(error: unknown): string {
    const e = error as NodeJS.ErrnoException & { errors?: unknown[] };
    if (e?.message) return e.message;
    if (Array.isArray(e?.errors) && e.errors.length > 0) return describeError(e.errors[0]);
    return e?.code ?? String(error);
}

function describeAnswer(answer: Answer): string {
    return `${answer.status}${answer.body.trim() ? ` ${clip(answer.body, 300)}` : ""}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function header(answer: Answer, name: string): string | undefined {
    const value = answer.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
}

interface Attempted {
    answer?: Answer;
    error?: string;
    attempts: number;
    /** Set when the answer is final (not 5xx): the check judges it. */
    done: boolean;
}

/** POSTs until a non-5xx answer, at most 1 + retries times, with a short doubling backoff, within the deadline. */
async function postWithRetries(url: URL, body: string, retries: number, deadline: number, extra: ExtraHeaders): Promise<Attempted> {
    let last: Attempted = { attempts: 0, done: false };
    for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) {
            const wait = Math.min(BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS, deadline - performance.now());
            if (wait > 0) await sleep(wait);
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) return { ...last, error: `${last.error ?? (last.answer ? `last answer ${describeAnswer(last.answer)}` : "")}; --timeout-ms reached`.replace(/^; /, "") };
        try {
            const answer = await httpRequest(url, "POST", Math.min(REQUEST_TIMEOUT_MS, remaining), body, extra);
            last = { answer, attempts: attempt + 1, done: answer.status < 500 };
            if (last.done) return last;
        } catch (error) {
            last = { error: describeError(error), attempts: attempt + 1, done: false };
        }
    }
    return last;
}

function retryFailure(url: URL, result: Attempted): string {
    const last = result.answer && !result.error ? `last answer ${describeAnswer(result.answer)}` : `last error: ${result.error ?? "none"}`;
    return `POST ${url.href} failed after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}: ${last}`;
}

function parseBody(answer: Answer): unknown {
    try {
        return JSON.parse(answer.body);
    } catch {
        throw new Error(`the answer is not JSON: ${clip(answer.body, 200)}`);
    }
}

/** `--pin x-modelship-track=candidate`: the header a router pins a request to one track by. */
export function parsePin(value: string): { header: string; value: string } {
    const match = /^([A-Za-z0-9-]+)=(\S+)$/.exec(value);
    if (!match) throw new UsageError(`--pin ${value}: expected <header>=<track>, e.g. x-modelship-track=candidate`);
    return { header: match[1].toLowerCase(), value: match[2] };
}

function readRequest(input: string): { text: string; source: string } {
    const trimmed = input.trim();
    if (trimmed.startsWith("{")) return { text: trimmed, source: "inline JSON" };
    try {
        return { text: fs.readFileSync(input, "utf8"), source: input };
    } catch (error) {
        throw new UsageError(`--input ${input}: cannot read the recorded request (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a JSON file or inline JSON`);
    }
}

export async function smokeGate(argv: readonly string[]): Promise<number> {
    const args = flags(argv, {
        "--url": "url",
        "--model": "model",
        "--version": "version",
        "--input": "input",
        "--expect-min": "min",
        "--expect-max": "max",
        "--timeout-ms": "timeout",
        "--retries": "retries",
        "--pin": "pin",
    });
    const base = need(args.url, "--url");
    let baseUrl: URL;
    try {
        baseUrl = new URL(base);
    } catch {
        throw new UsageError(`--url ${base} is not a URL: expected e.g. http://127.0.0.1:38123`);
    }
    if (baseUrl.protocol !== "http:" && baseUrl.protocol !== "https:") throw new UsageError(`--url ${base}: expected an http:// or https:// URL`);
    const model = need(args.model, "--model");
    const version = need(args.version, "--version");
    const { text, source } = readRequest(need(args.input, "--input"));
    const min = numberFlag(args.min, "--expect-min");
    const max = numberFlag(args.max, "--expect-max");
    if (min > max) throw new UsageError(`--expect-min ${min} is greater than --expect-max ${max}`);
    const timeoutMs = numberFlag(args.timeout, "--timeout-ms", { fallback: 60_000, integer: true, min: 1 });
    const retries = numberFlag(args.retries, "--retries", { fallback: 3, integer: true, min: 0 });
    const pin = args.pin === undefined ? undefined : parsePin(args.pin);
    const extra: ExtraHeaders = pin ? { [pin.header]: pin.value } : {};
    let request: unknown;
    let rows: number[][];
    try {
        request = JSON.parse(text);
        rows = requestRows(request);
    } catch (error) {
        throw new UsageError(`--input ${source}: not a usable KServe v2 inference request: ${(error as Error).message}`);
    }

    const started = performance.now();
    const deadline = started + timeoutMs;
    const at = (p: string) => new URL(`${baseUrl.pathname.replace(/\/+$/, "")}${p}`, baseUrl);
    const failed: string[] = [];
    const fail = (check: string, message: string) => {
        failed.push(check);
        out(`smoke: FAILED ${check}: ${message}`);
    };
    const finish = () => {
        out(resultLine("smoke", failed.length > 0 ? "FAILED" : "passed", since(started), failed.join(", ")));
        return failed.length > 0 ? EXIT_FAILED : EXIT_PASS;
    };
    const encoded = encodeURIComponent(model);

    // (1) readiness: the server's own, or through a router (pinned) the model's, which the router's per-model rules reach
    const readyUrl = at(pin ? `/v2/models/${encoded}/ready` : "/v2/health/ready");
    let last = "no answer";
    let ready = false;
    for (;;) {
        const remaining = deadline - performance.now();
        try {
            const answer = await httpRequest(readyUrl, "GET", Math.min(2_000, Math.max(1, remaining)), undefined, extra);
            if (answer.status === 200) {
                ready = true;
                break;
            }
            last = describeAnswer(answer);
        } catch (error) {
            last = describeError(error);
        }
        if (deadline - performance.now() <= 0) break;
        await sleep(Math.min(READY_POLL_MS, deadline - performance.now()));
    }
    if (!ready) {
        fail("ready", `GET ${readyUrl.href} did not answer 200 within ${formatSeconds(timeoutMs)} s (last: ${last})`);
        return finish();
    }
    out(`smoke: ready after ${formatSeconds(since(started))} s`);

    const answers: { check: string; answer: Answer }[] = [];

    // (2) the recorded inference on the v2 route
    const inferUrl = at(`/v2/models/${encoded}/infer`);
    const infer = await postWithRetries(inferUrl, JSON.stringify(request), retries, deadline, extra);
    if (infer.answer) answers.push({ check: "infer", answer: infer.answer });
    if (!infer.done || !infer.answer) fail("infer", retryFailure(inferUrl, infer));
    else if (infer.answer.status !== 200) fail("infer", `POST ${inferUrl.href} answered ${describeAnswer(infer.answer)}`);
    else {
        try {
            const body = parseBody(infer.answer) as Record<string, unknown>;
            const problems: string[] = [];
            if (body.model_version !== version) problems.push(`model_version is ${JSON.stringify(body.model_version)}, expected --version ${JSON.stringify(version)}`);
            const values = inferOutputs(body);
            const outside = outOfRange(values, min, max);
            if (outside.length > 0) problems.push(`output values outside [${min}, ${max}]: ${outside.join(", ")}`);
            const outputs = body.outputs as { shape?: unknown }[];
            const shape = outputs[0]?.shape;
            if (Array.isArray(shape) && shape[0] !== rows.length) problems.push(`outputs[0].shape is ${JSON.stringify(shape)} for ${rows.length} rows`);
            if (problems.length > 0) fail("infer", problems.join("; "));
            else out(`smoke: infer ok (${rows.length} row${rows.length === 1 ? "" : "s"}, ${valueRange(values.map((v) => v.value as number))}${infer.attempts > 1 ? `, after ${infer.attempts} attempts` : ""})`);
        } catch (error) {
            fail("infer", `POST ${inferUrl.href}: ${(error as Error).message}`);
        }
    }

    // (3) the legacy v1 route with the same rows
    const v1Url = at(`/v1/models/${encoded}:predict`);
    const v1 = await postWithRetries(v1Url, JSON.stringify({ instances: rows }), retries, deadline, extra);
    if (v1.answer) answers.push({ check: "v1", answer: v1.answer });
    if (!v1.done || !v1.answer) fail("v1", retryFailure(v1Url, v1));
    else if (v1.answer.status !== 200) fail("v1", `POST ${v1Url.href} answered ${describeAnswer(v1.answer)}`);
    else {
        const problems: string[] = [];
        const deprecation = header(v1.answer, "Deprecation");
        const sunset = header(v1.answer, "Sunset");
        const link = header(v1.answer, "Link");
        const successor = `/v2/models/${encoded}/infer`;
        if (!deprecation) problems.push("no Deprecation header");
        if (!sunset) problems.push("no Sunset header");
        if (!link || !link.includes(successor)) problems.push(`Link is ${link === undefined ? "missing" : JSON.stringify(link)}, expected one to ${successor}`);
        let predictions: number[] = [];
        try {
            const body = parseBody(v1.answer) as Record<string, unknown>;
            if (body.model_version !== undefined && body.model_version !== version) problems.push(`model_version is ${JSON.stringify(body.model_version)}, expected --version ${JSON.stringify(version)}`);
            if (!Array.isArray(body.predictions)) problems.push("the answer has no predictions list");
            else {
                predictions = body.predictions as number[];
                if (predictions.length !== rows.length) problems.push(`${predictions.length} predictions for ${rows.length} instances`);
                const outside = outOfRange(predictions.map((value, i) => ({ where: `predictions[${i}]`, value })), min, max);
                if (outside.length > 0) problems.push(`predictions outside [${min}, ${max}]: ${outside.join(", ")}`);
            }
        } catch (error) {
            problems.push((error as Error).message);
        }
        if (problems.length > 0) fail("v1", `POST ${v1Url.href}: ${problems.join("; ")}`);
        else out(`smoke: v1 ok (${rows.length} instance${rows.length === 1 ? "" : "s"}, ${valueRange(predictions)}; Deprecation: ${deprecation}, Sunset: ${sunset}, Link: ${link})`);
    }

    // (4) the version the server says it serves
    if (answers.length === 0) fail("version", "no answer carried an X-Model-Version header to check");
    else {
        const wrong = answers.filter(({ answer }) => header(answer, "X-Model-Version") !== version);
        if (wrong.length > 0) fail("version", `X-Model-Version is ${wrong.map(({ check, answer }) => `${JSON.stringify(header(answer, "X-Model-Version") ?? null)} on the ${check} answer`).join(", ")}, expected --version ${JSON.stringify(version)}`);
        else out(`smoke: version ok (X-Model-Version ${version} on ${answers.map((a) => a.check).join(" and ")})`);
    }
    return finish();
}

// ---------------------------------------------------------------------------------------------

const GATES: Readonly<Record<GateName, (argv: readonly string[]) => number | Promise<number>>> = { lint: lintGate, scan: scanGate, smoke: smokeGate };

export async function main(argv: readonly string[]): Promise<number> {
    const [gate, ...rest] = argv;
    if (gate === "help") {
        out(USAGE);
        return EXIT_PASS;
    }
    if (gate === undefined) throw new UsageError("no gate given");
    if (!Object.prototype.hasOwnProperty.call(GATES, gate)) throw new UsageError(`unknown gate ${JSON.stringify(gate)}: expected lint, scan or smoke`);
    return GATES[gate as GateName](rest);
}

if (require.main === module) runCommand(USAGE, main);
