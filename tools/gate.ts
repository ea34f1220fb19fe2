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
 * Every run ends with `<gate>: <verdict>[ (<detail>)] in <s> s` (components/gates/reports.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
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
    isFailing,
    notScanned,
    TRIVY_DB_FAILURE,
    parseBoolean,
    parseHadolintJson,
    parseLintLevel,
    parseTrivyReport,
    resultLine,
    sortFindings,
    sortScanFindings,
    trivyFailureReason,
    type LintLevel,
    type ScanFinding,
    type ScanOutcome,
} from "../components/gates/reports";
import type { GateKind } from "../components/gates/kinds";
import { runSmoke } from "../model-server/src/smoke/run";
import { SMOKE_FLAGS, SMOKE_USAGE, smokeSettings, SmokeUsageError } from "../model-server/src/smoke/settings";
import { parseFlags, runCommand, UsageError } from "./command-line";
// A gate that passes ends as any command that succeeded.
import { EXIT_FAILED, EXIT_OK as EXIT_PASS } from "./exit-codes";

export const USAGE = [
    "usage: node dist/tools/gate.js <lint|scan|smoke> [flags]",
    "  lint  --dockerfile <path> [--required true|false] [--failure-threshold error|warning|info|style]",
    "  scan  --image <ref> [--scanner trivy|none] [--required true|false]",
    ...SMOKE_USAGE.split("\n").map((line) => `  ${line}`),
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
    if (!scanner || !Object.prototype.hasOwnProperty.call(SCANNERS, scannerName))
        throw new UsageError(`--scanner is ${JSON.stringify(scannerName)}: expected one of ${Object.keys(SCANNERS).join(", ")}`);
    const required = booleanFlag(args.required, "--required", true);
    const started = performance.now();
    const outcome = scanner(image);
    if (outcome.scanned === false) {
        out(`scan: NOT SCANNED: ${outcome.reason}`);
        out(
            required
                ? `scan: image ${image} was not scanned and the scan gate is required (--required true): failing`
                : `scan: warning: image ${image} was not scanned; --required false, so this does not block`,
        );
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
        out(
            required
                ? `scan: image ${image} was only partly scanned and the scan gate is required (--required true): failing`
                : `scan: warning: image ${image} was only partly scanned; --required false, so this does not block`,
        );
        out(resultLine("scan", "NOT SCANNED", since(started), required ? "required" : "advisory"));
        return required ? EXIT_FAILED : EXIT_PASS;
    }
    out(resultLine("scan", "passed", since(started)));
    return EXIT_PASS;
}

// ---------------------------------------------------------------------------------------------
// smoke: the program the Kubernetes smoke Job runs from the model-server image, run here

export async function smokeGate(argv: readonly string[]): Promise<number> {
    let settings;
    try {
        settings = smokeSettings(flags(argv, SMOKE_FLAGS));
    } catch (error) {
        throw error instanceof SmokeUsageError ? new UsageError(error.message) : error;
    }
    return (await runSmoke(settings, out)) ? EXIT_PASS : EXIT_FAILED;
}

// ---------------------------------------------------------------------------------------------

const GATES: Readonly<Record<GateKind, (argv: readonly string[]) => number | Promise<number>>> = { lint: lintGate, scan: scanGate, smoke: smokeGate };

export async function main(argv: readonly string[]): Promise<number> {
    const [gate, ...rest] = argv;
    if (gate === "help") {
        out(USAGE);
        return EXIT_PASS;
    }
    if (gate === undefined) throw new UsageError("no gate given");
    if (!Object.prototype.hasOwnProperty.call(GATES, gate)) throw new UsageError(`unknown gate ${JSON.stringify(gate)}: expected lint, scan or smoke`);
    return GATES[gate as GateKind](rest);
}

if (require.main === module) runCommand(USAGE, main);
