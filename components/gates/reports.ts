/**
 * The pure half of the lint and scan gate programs (tools/gate.ts): the result line, hadolint's
 * and trivy's reports, and the verdicts. No process, file or network access here, so the parsing
 * and the verdict rules can be checked without hadolint or trivy. The smoke gate's checks ship
 * with the model server (model-server/src/smoke/), which runs them in a cluster too.
 *
 * Output contract of `node dist/tools/gate.js <gate> ...` (stdout, one line each):
 *   - detail lines, each starting with `<gate>: `;
 *   - last line: `<gate>: <verdict>[ (<detail>)] in <seconds with one decimal> s`, matched by
 *     GATE_RESULT_PATTERN; verdict is `passed`, `FAILED`, `NOT RUN` (lint without hadolint) or
 *     `NOT SCANNED` (scan without a scanner or its database). The exit code says whether the
 *     verdict blocks: 0 pass (or an advisory NOT RUN / NOT SCANNED), 1 gate failed, 2 usage error.
 */

import { clip, resultLine as anyResultLine, type Verdict } from "../../model-server/src/smoke/output";
import { GATE_KINDS, type GateKind } from "./kinds";
import { scalarText } from "../scalar-text";

// The line formats are shared with the smoke program in the model-server image.
export { clip, type Verdict } from "../../model-server/src/smoke/output";

export const resultLine: (gate: GateKind, verdict: Verdict, ms: number, detail?: string) => string = anyResultLine;

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

/** `true` / `false` flag values; anything else is undefined (a usage error for the caller). */
export function parseBoolean(value: string): boolean | undefined {
    const v = value.trim().toLowerCase();
    return v === "true" ? true : v === "false" ? false : undefined;
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
        const level = scalarText(f.level, "").toLowerCase();
        if (!(LINT_LEVELS as readonly string[]).includes(level)) throw new Error(`hadolint finding ${i} has an unknown level ${JSON.stringify(f.level)}`);
        return {
            code: scalarText(f.code, "?"),
            level: level as LintLevel,
            line: typeof f.line === "number" ? f.line : 0,
            ...(typeof f.column === "number" ? { column: f.column } : {}),
            message: scalarText(f.message, ""),
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
    const s = scalarText(value, "").toUpperCase();
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
        const target = scalarText(result.Target, "?");
        for (const v of list(result.Vulnerabilities)) {
            findings.push({
                kind: "vulnerability",
                id: scalarText(v.VulnerabilityID, "?"),
                severity: severityOf(v.Severity),
                target,
                title: scalarText(v.Title, ""),
                ...(v.PkgName !== undefined ? { pkg: scalarText(v.PkgName, "") } : {}),
                ...(v.InstalledVersion !== undefined ? { installed: scalarText(v.InstalledVersion, "") } : {}),
                ...(v.FixedVersion ? { fixed: scalarText(v.FixedVersion, "") } : {}),
            });
        }
        for (const s of list(result.Secrets)) {
            findings.push({
                kind: "secret",
                id: scalarText(s.RuleID, "?"),
                severity: severityOf(s.Severity),
                target: s.StartLine !== undefined ? `${target}:${scalarText(s.StartLine, "")}` : target,
                title: scalarText(s.Title ?? s.Category, ""),
            });
        }
        for (const m of list(result.Misconfigurations)) {
            if (m.Status !== undefined && scalarText(m.Status, "").toUpperCase() !== "FAIL") continue;
            findings.push({ kind: "misconfiguration", id: scalarText(m.AVDID ?? m.ID, "?"), severity: severityOf(m.Severity), target, title: scalarText(m.Title ?? m.Message, "") });
        }
    }
    return findings;
}

function list(value: unknown): Record<string, unknown>[] {
    return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null) : [];
}

/** stderr lines that say trivy could not download or open its vulnerability (or Java) database. */
const TRIVY_DB_PROBLEM =
    /DB error|failed to download (?:vulnerability|java) DB|vulnerability DB|trivy-db|trivy-java-db|first run cannot skip|--skip-db-update cannot be specified|db\/metadata\.json|OCI artifact error/i;

/** How trivyFailureReason's message starts when the database was the problem. */
export const TRIVY_DB_FAILURE = "trivy could not download or open its vulnerability DB";

/** Why a trivy run that produced no report did not scan: its database, or something else. */
export function trivyFailureReason(status: number | null, signal: string | null, stderr: string): string {
    const lines = stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "");
    const fatal = lines.find((l) => /\bFATAL\b/.test(l)) ?? lines[lines.length - 1] ?? "";
    const how = signal ? `killed by ${signal}` : `exit code ${status}`;
    if (TRIVY_DB_PROBLEM.test(stderr)) {
        const line = lines.find((l) => TRIVY_DB_PROBLEM.test(l)) ?? fatal;
        return `${TRIVY_DB_FAILURE} (${how}): ${clip(line, 300)}`;
    }
    return `trivy failed (${how})${fatal ? `: ${clip(fatal, 300)}` : " without a message"}`;
}
