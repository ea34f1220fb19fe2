/**
 * The pure half of the gate programs (tools/gate.ts): report parsing, verdicts, the v2 -> v1
 * request conversion and the line formats. No process, file or network access here, so the
 * parsing and the verdict rules can be checked without hadolint, trivy or a model server.
 *
 * Output contract of `node dist/tools/gate.js <gate> ...` (stdout, one line each):
 *   - detail lines, each starting with `<gate>: `;
 *   - last line: `<gate>: <verdict>[ (<detail>)] in <seconds with one decimal> s`, matched by
 *     GATE_RESULT_PATTERN; verdict is `passed`, `FAILED`, `NOT RUN` (lint without hadolint) or
 *     `NOT SCANNED` (scan without a scanner or its database). The exit code says whether the
 *     verdict blocks: 0 pass (or an advisory NOT RUN / NOT SCANNED), 1 gate failed, 2 usage error.
 */

import { GATE_KINDS, type GateKind } from "./kinds";

export type Verdict = "passed" | "FAILED" | "NOT RUN" | "NOT SCANNED";

export const EXIT_PASS = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Matches the last line of every gate run: gate, verdict, detail (optional), seconds. */
export const GATE_RESULT_PATTERN = new RegExp(`^(${GATE_KINDS.join("|")}): (passed|FAILED|NOT RUN|NOT SCANNED)(?: \\(([^()]*)\\))? in (\\d+\\.\\d) s$`);

export interface GateResult {
    gate: GateKind;
    verdict: Verdict;
    detail?: string;
    seconds: number;
}

/** The result line of a gate's stdout (its last matching line), or undefined. For the deployer's timing report. */
export function parseGateResult(stdout: string): GateResult | undefined {
    const lines = stdout.split(/\r?\n/).reverse();
    for (const line of lines) {
        const match = GATE_RESULT_PATTERN.exec(line.trim());
        if (!match) continue;
        return { gate: match[1] as GateKind, verdict: match[2] as Verdict, ...(match[3] ? { detail: match[3] } : {}), seconds: Number(match[4]) };
    }
    return undefined;
}

/** Seconds with one decimal: 1234 ms -> "1.2". */
export function formatSeconds(ms: number): string {
    return (Math.max(0, ms) / 1000).toFixed(1);
}

export function resultLine(gate: GateKind, verdict: Verdict, ms: number, detail?: string): string {
    const clean = detail?.replace(/[()]/g, "").replace(/\s+/g, " ").trim();
    return `${gate}: ${verdict}${clean ? ` (${clean})` : ""} in ${formatSeconds(ms)} s`;
}

/** `true` / `false` flag values; anything else is undefined (a usage error for the caller). */
export function parseBoolean(value: string): boolean | undefined {
    const v = value.trim().toLowerCase();
    return v === "true" ? true : v === "false" ? false : undefined;
}

/** A short single-line rendering of a text for messages. */
export function clip(text: string, max = 300): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** Up to 4 significant digits: 0.28495789 -> "0.285". */
export function formatValue(value: number): string {
    return String(Number(value.toPrecision(4)));
}

// ---------------------------------------------------------------------------------------------
// lint: hadolint --format json

export type LintLevel = "error" | "warning" | "info" | "style";
/** Most severe first. */
export const LINT_LEVELS: readonly LintLevel[] = ["error", "warning", "info", "style"];
/** The gate fails on findings at or above this level unless --failure-threshold says otherwise. */
export const DEFAULT_LINT_THRESHOLD: LintLevel = "error";

export interface LintFinding {
    code: string;
    level: LintLevel;
    line: number;
    column?: number;
    message: string;
}

/** A tool's JSON output, or an error quoting what it printed instead. */
function parseToolJson(tool: string, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new Error(`${tool}'s output is not JSON (${(error as Error).message}): ${clip(text, 200)}`);
    }
}

/** hadolint's JSON report (a list of findings); throws when the text is not one. */
export function parseHadolintJson(text: string): LintFinding[] {
    const parsed = parseToolJson("hadolint", text);
    if (!Array.isArray(parsed)) throw new Error(`hadolint's JSON output is not a list of findings: ${clip(text, 200)}`);
    return parsed.map((item: unknown, i: number) => {
        if (typeof item !== "object" || item === null) throw new Error(`hadolint finding ${i} is not an object`);
        const f = item as Record<string, unknown>;
        const level = String(f.level ?? "").toLowerCase();
        if (!(LINT_LEVELS as readonly string[]).includes(level)) throw new Error(`hadolint finding ${i} has an unknown level ${JSON.stringify(f.level)}`);
        return {
            code: String(f.code ?? "?"),
            level: level as LintLevel,
            line: typeof f.line === "number" ? f.line : 0,
            ...(typeof f.column === "number" ? { column: f.column } : {}),
            message: String(f.message ?? ""),
        };
    });
}

export function parseLintLevel(value: string): LintLevel | undefined {
    const v = value.trim().toLowerCase();
    return (LINT_LEVELS as readonly string[]).includes(v) ? (v as LintLevel) : undefined;
}

/** The findings that fail the gate: at or above the threshold (error only, by default). */
export function blockingFindings(findings: readonly LintFinding[], threshold: LintLevel = DEFAULT_LINT_THRESHOLD): LintFinding[] {
    const limit = LINT_LEVELS.indexOf(threshold);
    return findings.filter((f) => LINT_LEVELS.indexOf(f.level) <= limit);
}

/** Most severe first, then by line. */
export function sortFindings(findings: readonly LintFinding[]): LintFinding[] {
    return [...findings].sort((a, b) => LINT_LEVELS.indexOf(a.level) - LINT_LEVELS.indexOf(b.level) || a.line - b.line);
}

export function formatLintFinding(f: LintFinding): string {
    return `lint: ${f.level} ${f.code} line ${f.line}: ${f.message}`;
}

export function countByLevel(findings: readonly LintFinding[]): string {
    return LINT_LEVELS.map((level) => `${findings.filter((f) => f.level === level).length} ${level}`).join(", ");
}

// ---------------------------------------------------------------------------------------------
// scan: scanners and their reports

export type Severity = "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "UNKNOWN";
/** Most severe first. */
export const SEVERITIES: readonly Severity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
/** A finding of one of these fails the scan gate. */
export const FAILING_SEVERITIES: readonly Severity[] = ["CRITICAL", "HIGH"];

export interface ScanFinding {
    kind: "vulnerability" | "secret" | "misconfiguration";
    id: string;
    severity: Severity;
    /** The scanned part: an OS package set, a lock file, a file in a layer. */
    target: string;
    title: string;
    pkg?: string;
    installed?: string;
    fixed?: string;
}

/** What a scanner returns: findings, or why it could not scan (which is never "clean"). */
/**
 * What a scanner found. `partly`: some scanners ran (their findings count: a leaked secret fails
 * the gate), others could not (`missing` says which and why), so the image is not called clean.
 */
export type ScanOutcome =
    | { scanned: true; scanner: string; findings: ScanFinding[] }
    | { scanned: "partly"; scanner: string; findings: ScanFinding[]; checked: string; missing: string }
    | { scanned: false; reason: string };

export function notScanned(reason: string): ScanOutcome {
    return { scanned: false, reason };
}

export function severityOf(value: unknown): Severity {
    const s = String(value ?? "").toUpperCase();
    return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : "UNKNOWN";
}

export function isFailing(finding: ScanFinding): boolean {
    return FAILING_SEVERITIES.includes(finding.severity);
}

export function sortScanFindings(findings: readonly ScanFinding[]): ScanFinding[] {
    return [...findings].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id.localeCompare(b.id));
}

export function countBySeverity(findings: readonly ScanFinding[]): string {
    return SEVERITIES.map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`).join(", ");
}

export function formatScanFinding(f: ScanFinding): string {
    const pkg = f.pkg ? ` ${f.pkg}${f.installed ? ` ${f.installed}` : ""}${f.fixed ? ` (fixed in ${f.fixed})` : ""}` : "";
    return `scan: ${f.severity} ${f.kind} ${f.id}${pkg} in ${f.target}${f.title ? `: ${clip(f.title, 160)}` : ""}`;
}

/**
 * A trivy JSON report (`--format json`, schema version 2) to findings: vulnerabilities, secrets and
 * failed misconfigurations. Throws when the text is not a trivy report, so that an unreadable
 * answer can never count as a clean scan.
 */
export function parseTrivyReport(text: string): ScanFinding[] {
    const parsed = parseToolJson("trivy", text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`trivy's output is not a report object: ${clip(text, 200)}`);
    const report = parsed as Record<string, unknown>;
    // Results is left out of a report with nothing to say; the header fields are always there.
    if (report.SchemaVersion === undefined && report.ArtifactName === undefined) throw new Error(`trivy's output has neither SchemaVersion nor ArtifactName: not a trivy report: ${clip(text, 200)}`);
    if (report.Results !== undefined && report.Results !== null && !Array.isArray(report.Results)) throw new Error("trivy's report has a Results field that is not a list");
    const findings: ScanFinding[] = [];
    for (const raw of (report.Results as unknown[] | null | undefined) ?? []) {
        if (typeof raw !== "object" || raw === null) continue;
        const result = raw as Record<string, unknown>;
        const target = String(result.Target ?? "?");
        for (const v of list(result.Vulnerabilities)) {
            findings.push({
                kind: "vulnerability",
                id: String(v.VulnerabilityID ?? "?"),
                severity: severityOf(v.Severity),
                target,
                title: String(v.Title ?? ""),
                ...(v.PkgName !== undefined ? { pkg: String(v.PkgName) } : {}),
                ...(v.InstalledVersion !== undefined ? { installed: String(v.InstalledVersion) } : {}),
                ...(v.FixedVersion ? { fixed: String(v.FixedVersion) } : {}),
            });
        }
        for (const s of list(result.Secrets)) {
            findings.push({ kind: "secret", id: String(s.RuleID ?? "?"), severity: severityOf(s.Severity), target: s.StartLine !== undefined ? `${target}:${String(s.StartLine)}` : target, title: String(s.Title ?? s.Category ?? "") });
        }
        for (const m of list(result.Misconfigurations)) {
            if (m.Status !== undefined && String(m.Status).toUpperCase() !== "FAIL") continue;
            findings.push({ kind: "misconfiguration", id: String(m.AVDID ?? m.ID ?? "?"), severity: severityOf(m.Severity), target, title: String(m.Title ?? m.Message ?? "") });
        }
    }
    return findings;
}

function list(value: unknown): Record<string, unknown>[] {
    return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null) : [];
}

/** stderr lines that say trivy could not download or open its vulnerability (or Java) database. */
const TRIVY_DB_PROBLEM = /DB error|failed to download (?:vulnerability|java) DB|vulnerability DB|trivy-db|trivy-java-db|first run cannot skip|--skip-db-update cannot be specified|db\/metadata\.json|OCI artifact error/i;

/** How trivyFailureReason's message starts when the database was the problem. */
export const TRIVY_DB_FAILURE = "trivy could not download or open its vulnerability DB";

/** Why a trivy run that produced no report did not scan: its database, or something else. */
export function trivyFailureReason(status: number | null, signal: string | null, stderr: string): string {
    const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
    const fatal = lines.find((l) => /\bFATAL\b/.test(l)) ?? lines[lines.length - 1] ?? "";
    const how = signal ? `killed by ${signal}` : `exit code ${status}`;
    if (TRIVY_DB_PROBLEM.test(stderr)) {
        const line = lines.find((l) => TRIVY_DB_PROBLEM.test(l)) ?? fatal;
        return `${TRIVY_DB_FAILURE} (${how}): ${clip(line, 300)}`;
    }
    return `trivy failed (${how})${fatal ? `: ${clip(fatal, 300)}` : " without a message"}`;
}

// ---------------------------------------------------------------------------------------------
// smoke: the recorded request and the answers

/** The rows of a KServe v2 inference request's one input tensor (data flat row-major, or nested), for v1's `instances`. */
export function requestRows(request: unknown): number[][] {
    if (typeof request !== "object" || request === null || Array.isArray(request)) throw new Error("the recorded request is not a JSON object with \"inputs\"");
    const inputs = (request as Record<string, unknown>).inputs;
    if (!Array.isArray(inputs) || inputs.length !== 1) throw new Error(`the recorded request must have exactly one input tensor in "inputs", got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
    const tensor = inputs[0] as Record<string, unknown>;
    const shape = tensor?.shape;
    if (!Array.isArray(shape) || shape.length < 1 || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`inputs[0].shape is ${JSON.stringify(shape)}: expected [rows, features]`);
    const rows = shape[0] as number;
    const columns = shape.length >= 2 ? (shape.slice(1) as number[]).reduce((a, b) => a * b, 1) : 1;
    if (rows < 1) throw new Error("inputs[0].shape has no rows");
    const data = tensor.data;
    if (!Array.isArray(data)) throw new Error("inputs[0].data is not an array");
    const flat = data.flat(Infinity) as unknown[];
    if (flat.length !== rows * columns) throw new Error(`inputs[0].data has ${flat.length} values but the shape ${JSON.stringify(shape)} needs ${rows * columns}`);
    if (!flat.every((v) => typeof v === "number" && Number.isFinite(v))) throw new Error("inputs[0].data has a value that is not a finite number");
    const values = flat as number[];
    return Array.from({ length: rows }, (_, r) => values.slice(r * columns, (r + 1) * columns));
}

/** Every value outside [min, max], as `where = value`. */
export function outOfRange(values: readonly { where: string; value: unknown }[], min: number, max: number): string[] {
    return values.filter(({ value }) => typeof value !== "number" || !Number.isFinite(value) || value < min || value > max).map(({ where, value }) => `${where} = ${JSON.stringify(value)}`);
}

/** The output values of a v2 inference answer, named `<output>[i]`; throws when the answer has none. */
export function inferOutputs(body: unknown): { where: string; value: unknown }[] {
    if (typeof body !== "object" || body === null) throw new Error("the answer is not a JSON object");
    const outputs = (body as Record<string, unknown>).outputs;
    if (!Array.isArray(outputs) || outputs.length === 0) throw new Error("the answer has no outputs");
    const values: { where: string; value: unknown }[] = [];
    outputs.forEach((output: unknown, o: number) => {
        const out = (output ?? {}) as Record<string, unknown>;
        const name = typeof out.name === "string" ? out.name : `outputs[${o}]`;
        const data = Array.isArray(out.data) ? (out.data.flat(Infinity) as unknown[]) : [];
        if (data.length === 0) throw new Error(`output ${name} has no data`);
        data.forEach((value, i) => values.push({ where: `${name}[${i}]`, value }));
    });
    return values;
}

export function valueRange(values: readonly number[]): string {
    return `${formatValue(Math.min(...values))}..${formatValue(Math.max(...values))}`;
}
