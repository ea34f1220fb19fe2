/**
 * A candidate judged by metric templates, each value next to stable's over the same window.
 * Pure: the Prometheus client evaluates the templates, this decides.
 *
 *   rollback - enough samples, and the candidate over (or under) a threshold that stable passes,
 *              or above its allowed ratio to stable. `failedKind` is infrastructure when any
 *              infrastructure metric failed, else quality;
 *   hold     - no data, too few samples, or stable failing the same threshold (a shared cause);
 *   promote  - enough samples, and every metric within its thresholds.
 */
import type { MetricTemplate } from "../config/analysis";
import type { Finding, Judgement } from "./types";

/** One template's value for each track over the window; undefined where Prometheus had no data. */
export interface TemplateReading {
    template: MetricTemplate;
    candidate?: number;
    stable?: number;
}

const known = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

/** A value as its unit reads: shares as percentages, seconds as milliseconds. */
export function showValue(template: Pick<MetricTemplate, "unit">, x: number): string {
    switch (template.unit) {
        case "ratio":
            return `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
        case "seconds":
            return `${(x * 1000).toFixed(1)} ms`;
        case "bytes":
            return `${(x / 2 ** 20).toFixed(1)} MiB`;
        case "count":
            return String(Math.round(x * 100) / 100);
        case "number":
            return String(Number(x.toPrecision(4)));
    }
}

/** "error-rate" reads "error rate" in a sentence. */
const spoken = (template: MetricTemplate) => template.name.replace(/-/g, " ");

interface Breach {
    /** The threshold crossed, as a phrase: "over 1%". */
    limit: string;
    /** Whether stable crosses the same absolute threshold (a shared cause). */
    stableToo: boolean;
}

function breach(t: MetricTemplate, value: number, stable: number | undefined): Breach | undefined {
    const stableFails = (check: (x: number) => boolean) => known(stable) && check(stable);
    if (t.max !== undefined && value > t.max) return { limit: `over ${showValue(t, t.max)}`, stableToo: stableFails((x) => x > t.max!) };
    if (t.min !== undefined && value < t.min) return { limit: `under ${showValue(t, t.min)}`, stableToo: stableFails((x) => x < t.min!) };
    // A ratio to a stable of 0 is not a number: the absolute thresholds judge that case.
    if (t.maxRatioToStable !== undefined && known(stable) && stable > 0 && value > t.maxRatioToStable * stable) {
        return { limit: `over ${t.maxRatioToStable}x stable`, stableToo: false };
    }
    return undefined;
}

function withinLine(t: MetricTemplate, value: number, stable: number | undefined): string {
    const limits = [
        ...(t.max !== undefined ? [`within ${showValue(t, t.max)}`] : []),
        ...(t.min !== undefined ? [`at least ${showValue(t, t.min)}`] : []),
        ...(t.maxRatioToStable !== undefined ? [known(stable) && stable > 0 ? `within ${t.maxRatioToStable}x stable ${showValue(t, stable)}` : "stable 0: ratio not judged"] : []),
    ];
    return `${spoken(t)} ${showValue(t, value)} ${limits.join(", ")}`;
}

/**
 * @param candidateRequests inference requests the candidate served in the window: the sample
 *   size each template's `minSamples` is held against.
 */
export function judgeMetrics(readings: readonly TemplateReading[], candidateRequests: number | undefined): Judgement {
    if (!known(candidateRequests) || candidateRequests === 0) {
        return { decision: "hold", reasons: ["no data: the candidate served no requests in the window (no data is never taken as healthy)"] };
    }
    const findings: Finding[] = [];
    const failed: { finding: Finding; enough: boolean }[] = [];
    const shared: string[] = [];
    const missing: string[] = [];
    const tooFew: MetricTemplate[] = [];
    for (const { template: t, candidate, stable } of readings) {
        const values = { ...(known(candidate) ? { candidate } : {}), ...(known(stable) ? { stable } : {}) };
        if (!known(candidate)) {
            missing.push(`no data for the candidate's ${spoken(t)}`);
            findings.push({ name: t.name, kind: t.kind, outcome: "inconclusive", reason: missing[missing.length - 1], values });
            continue;
        }
        const enough = candidateRequests >= t.minSamples;
        const crossed = breach(t, candidate, stable);
        if (!crossed) {
            if (!enough) tooFew.push(t);
            findings.push({ name: t.name, kind: t.kind, outcome: enough ? "pass" : "inconclusive", reason: withinLine(t, candidate, stable), values });
            continue;
        }
        if (crossed.stableToo) {
            const line = `${spoken(t)}: candidate ${showValue(t, candidate)} and stable ${showValue(t, stable!)} both ${crossed.limit}: a shared cause, not the candidate`;
            shared.push(line);
            findings.push({ name: t.name, kind: t.kind, outcome: "inconclusive", reason: line, values });
            continue;
        }
        const line = `${spoken(t)}: candidate ${showValue(t, candidate)} ${crossed.limit} (stable ${known(stable) ? showValue(t, stable) : "no data"})`;
        const finding: Finding = { name: t.name, kind: t.kind, outcome: enough ? "fail" : "inconclusive", reason: line, values };
        findings.push(finding);
        failed.push({ finding, enough });
    }
    const counted = failed.filter((f) => f.enough).map((f) => f.finding);
    // A breach on few requests could be noise; on enough it is the candidate's.
    if (counted.length > 0) {
        const failedKind = counted.some((f) => f.kind === "infrastructure") ? "infrastructure" : "quality";
        return { decision: "rollback", reasons: [...counted.map((f) => f.reason), `over ${candidateRequests} requests`], findings, failedKind };
    }
    if (failed.length > 0) {
        const fewest = Math.max(...failed.map((f) => readings.find((r) => r.template.name === f.finding.name)?.template.minSamples ?? 0));
        return { decision: "hold", reasons: [...failed.map((f) => f.finding.reason), `but only ${candidateRequests} requests (fewer than ${fewest}): too few to judge`], findings };
    }
    if (shared.length > 0 || missing.length > 0) return { decision: "hold", reasons: [...shared, ...missing], findings };
    if (tooFew.length > 0) {
        const needed = Math.max(...tooFew.map((t) => t.minSamples));
        return { decision: "hold", reasons: [`only ${candidateRequests} requests in the window (fewer than ${needed}): too few to call the candidate healthy`], findings };
    }
    return { decision: "promote", reasons: [...findings.map((f) => f.reason), `over ${candidateRequests} requests`], findings };
}

/**
 * Several judgements of one candidate (its metrics, an A/B test or shadow comparison, webhooks)
 * as one: any rollback rolls back (infrastructure first), else any hold holds, else promote.
 */
export function combineJudgements(parts: readonly Judgement[]): Judgement {
    const findings = parts.flatMap((p) => p.findings ?? []);
    const reasonsOf = (decision: Judgement["decision"]) => parts.filter((p) => p.decision === decision).flatMap((p) => p.reasons);
    const rollbacks = parts.filter((p) => p.decision === "rollback");
    if (rollbacks.length > 0) {
        const failedKind = rollbacks.some((p) => (p.failedKind ?? "infrastructure") === "infrastructure") ? "infrastructure" : "quality";
        return { decision: "rollback", reasons: reasonsOf("rollback"), findings, failedKind };
    }
    if (parts.some((p) => p.decision === "hold")) return { decision: "hold", reasons: reasonsOf("hold"), findings };
    return { decision: "promote", reasons: parts.flatMap((p) => p.reasons), findings };
}
