import { strict as assert } from "assert";
import { combineJudgements, judgeMetrics, type TemplateReading } from "../../../components/analysis/metrics-judge";
import { defaultTemplates, renderQuery, templatesFor } from "../../../components/analysis/templates";
import type { Judgement } from "../../../components/analysis/types";
import { analysisSchema, type MetricTemplate } from "../../../components/config/analysis";
import { canaryModel, configIssues, dockerConfig } from "../../fixtures";

const ANALYSIS = analysisSchema.parse({ maxErrorRate: 0.01, maxP95LatencyMs: 250 });

/** A track as an earlier analysis saw it: requests, error rate and p95 in ms. */
interface Health {
    requests?: number;
    errorRate?: number;
    p95Ms?: number;
}

/** A healthy process on both tracks: memory well under its limit, no restarts, a prompt event loop, ready. */
const PROCESS = { memory: 0.3, restarts: 0, "event-loop-lag": 0.004, available: 1 } as const;

function readings(candidate: Health, stable: Health, process: Partial<Record<keyof typeof PROCESS, number>> = {}): TemplateReading[] {
    const value = (h: Health, name: string): number | undefined => {
        if (name === "error-rate") return h.errorRate;
        if (name === "p95-latency") return h.p95Ms === undefined ? undefined : h.p95Ms / 1000;
        return name in process ? process[name as keyof typeof PROCESS] : PROCESS[name as keyof typeof PROCESS];
    };
    return defaultTemplates(ANALYSIS).map((template) => {
        const c = value(candidate, template.name);
        const s = template.name in process ? PROCESS[template.name as keyof typeof PROCESS] : value(stable, template.name);
        return { template, ...(c !== undefined ? { candidate: c } : {}), ...(s !== undefined ? { stable: s } : {}) };
    });
}

const judge = (candidate: Health, stable: Health) => judgeMetrics(readings(candidate, stable), candidate.requests);

/**
 * The judgement before metric templates existed, kept verbatim as the reference the default
 * templates must agree with: existing stacks are judged exactly as before.
 */
function earlierJudge(analysis: { maxErrorRate: number; maxP95LatencyMs: number }, candidate: Health, stable: Health, minRequests = 50): Pick<Judgement, "decision" | "reasons"> {
    const percent = (x: number) => `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const known = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
    const thresholds = [
        { name: "error rate", value: (h: Health) => h.errorRate, limit: analysis.maxErrorRate, show: percent },
        { name: "p95 latency", value: (h: Health) => h.p95Ms, limit: analysis.maxP95LatencyMs, show: ms },
    ];
    if (!known(candidate.requests) || candidate.requests === 0) {
        return { decision: "hold", reasons: ["no data: the candidate served no requests in the window (no data is never taken as healthy)"] };
    }
    const rollback: string[] = [];
    const shared: string[] = [];
    const missing: string[] = [];
    for (const t of thresholds) {
        const value = t.value(candidate);
        if (!known(value)) {
            missing.push(`no data for the candidate's ${t.name}`);
            continue;
        }
        if (value <= t.limit) continue;
        const stableValue = t.value(stable);
        if (known(stableValue) && stableValue > t.limit) {
            shared.push(`${t.name}: candidate ${t.show(value)} and stable ${t.show(stableValue)} both over ${t.show(t.limit)}: a shared cause, not the candidate`);
        } else {
            rollback.push(`${t.name}: candidate ${t.show(value)} over ${t.show(t.limit)} (stable ${known(stableValue) ? t.show(stableValue) : "no data"})`);
        }
    }
    const enough = candidate.requests >= minRequests;
    if (rollback.length > 0 && enough) return { decision: "rollback", reasons: [...rollback, `over ${candidate.requests} requests`] };
    if (rollback.length > 0) return { decision: "hold", reasons: [...rollback, `but only ${candidate.requests} requests (fewer than ${minRequests}): too few to judge`] };
    if (shared.length > 0 || missing.length > 0) return { decision: "hold", reasons: [...shared, ...missing] };
    if (!enough) return { decision: "hold", reasons: [`only ${candidate.requests} requests in the window (fewer than ${minRequests}): too few to call the candidate healthy`] };
    const within = thresholds.map((t) => `${t.name} ${t.show(t.value(candidate) as number)} within ${t.show(t.limit)}`);
    return { decision: "promote", reasons: [...within, `over ${candidate.requests} requests`] };
}

const HEALTHY: Health = { requests: 1200, errorRate: 0.002, p95Ms: 80 };

describe("metric templates: the default judgement", () => {
    it("judges every recorded pair of tracks exactly as the earlier two-threshold analysis did (decision and each of its reasons)", () => {
        const requests = [undefined, 0, 10, 49, 50, 600];
        const errorRates = [undefined, 0, 0.005, 0.01, 0.0101, 0.2];
        const latencies = [undefined, 10, 250, 250.1, 900];
        const stables: Health[] = [HEALTHY, { requests: 5000, errorRate: 0.3, p95Ms: 80 }, { requests: 5000, errorRate: 0.001, p95Ms: 900 }, {}];
        let compared = 0;
        for (const r of requests)
            for (const e of errorRates)
                for (const p of latencies)
                    for (const stable of stables) {
                        const candidate: Health = { ...(r !== undefined ? { requests: r } : {}), ...(e !== undefined ? { errorRate: e } : {}), ...(p !== undefined ? { p95Ms: p } : {}) };
                        const before = earlierJudge(ANALYSIS, candidate, stable);
                        const now = judge(candidate, stable);
                        const where = JSON.stringify({ candidate, stable });
                        assert.equal(now.decision, before.decision, where);
                        // The process templates add their own lines to a promote; the earlier lines are all there, in order.
                        assert.deepEqual(
                            now.reasons.filter((line) => before.reasons.includes(line)),
                            before.reasons,
                            `${where}: ${now.reasons.join(" | ")}`,
                        );
                        compared++;
                    }
        assert.equal(compared, 6 * 6 * 5 * 4);
    });

    it("promotes with every metric's number, and names the ones the process adds", () => {
        const verdict = judge({ requests: 600, errorRate: 0.004, p95Ms: 120.25 }, HEALTHY);
        assert.equal(verdict.decision, "promote");
        assert.deepEqual(verdict.reasons, [
            "error rate 0.4% within 1%",
            "p95 latency 120.3 ms within 250.0 ms",
            "memory 30% within 90%",
            "restarts 0 within 0",
            "event loop lag 4.0 ms within 500.0 ms",
            "available 1 at least 1",
            "over 600 requests",
        ]);
    });

    it("a candidate approaching its memory limit, restarting, or no longer scraped is an infrastructure failure, whatever its error rate", () => {
        for (const [process, line] of [
            [{ memory: 0.96 }, "memory: candidate 96% over 90% (stable 30%)"],
            [{ restarts: 2 }, "restarts: candidate 2 over 0 (stable 0)"],
            [{ available: 0 }, "available: candidate 0 under 1 (stable 1)"],
        ] as const) {
            const verdict = judgeMetrics(readings({ requests: 600, errorRate: 0, p95Ms: 20 }, HEALTHY, process), 600);
            assert.equal(verdict.decision, "rollback", line);
            assert.equal(verdict.failedKind, "infrastructure");
            assert.equal(verdict.reasons[0], line);
        }
    });

    it("process metrics need no minimum sample: a leak on 10 requests is a leak", () => {
        const verdict = judgeMetrics(readings({ requests: 10, errorRate: 0, p95Ms: 20 }, HEALTHY, { memory: 0.97 }), 10);
        assert.equal(verdict.decision, "rollback");
        assert.deepEqual(verdict.reasons, ["memory: candidate 97% over 90% (stable 30%)", "over 10 requests"]);
    });
});

describe("metric templates: custom", () => {
    const quality: MetricTemplate = { name: "positive-share", kind: "quality", query: "q", min: 0.02, maxRatioToStable: 1.5, minSamples: 100, unit: "ratio" };
    const infra = defaultTemplates(ANALYSIS)[0];

    it("a quality metric failing alone fails as quality; with an infrastructure one, as infrastructure", () => {
        const alone = judgeMetrics([{ template: quality, candidate: 0.5, stable: 0.1 }], 400);
        assert.equal(alone.decision, "rollback");
        assert.equal(alone.failedKind, "quality");
        assert.equal(alone.reasons[0], "positive share: candidate 50% over 1.5x stable (stable 10%)");
        const both = judgeMetrics(
            [
                { template: quality, candidate: 0.5, stable: 0.1 },
                { template: infra, candidate: 0.3, stable: 0 },
            ],
            400,
        );
        assert.equal(both.failedKind, "infrastructure");
        assert.deepEqual(
            both.findings?.map((f) => [f.name, f.kind, f.outcome]),
            [
                ["positive-share", "quality", "fail"],
                ["error-rate", "infrastructure", "fail"],
            ],
        );
    });

    it("min, and a ratio to a stable of 0 left to the absolute thresholds", () => {
        assert.equal(judgeMetrics([{ template: quality, candidate: 0.01, stable: 0.1 }], 400).reasons[0], "positive share: candidate 1% under 2% (stable 10%)");
        const zero = judgeMetrics([{ template: quality, candidate: 0.05, stable: 0 }], 400);
        assert.equal(zero.decision, "promote");
        assert.equal(zero.reasons[0], "positive share 5% at least 2%, stable 0: ratio not judged");
    });

    it("holds below a template's minimum sample, whichever way the value points", () => {
        assert.deepEqual(judgeMetrics([{ template: quality, candidate: 0.05, stable: 0.05 }], 99).reasons, ["only 99 requests in the window (fewer than 100): too few to call the candidate healthy"]);
        assert.equal(judgeMetrics([{ template: quality, candidate: 0.5, stable: 0.05 }], 99).decision, "hold");
    });

    it("fills the placeholders, and refuses an unknown one at parse time naming it and the ones there are", () => {
        assert.equal(
            renderQuery('sum(rate(x{model="{{model}}",track="{{ track }}",namespace="{{namespace}}"}[{{window}}]))', { model: "m", track: "candidate", namespace: "ns", window: "300s" }),
            'sum(rate(x{model="m",track="candidate",namespace="ns"}[300s]))',
        );
        const issuesOf = (analysis: Record<string, unknown>) =>
            configIssues(dockerConfig({ "fraud-scorer": canaryModel({ analysis }) }), "dev")
                .map((i) => `${i.path}: ${i.expected}`)
                .join("\n");
        assert.match(
            issuesOf({ metrics: [{ name: "drift", kind: "quality", query: 'x{pod="{{pod}}"}', max: 1 }] }),
            /analysis\.metrics\.0\.query: .*unknown placeholder \{\{pod\}\}: a query may use \{\{model\}\}, \{\{track\}\}, \{\{namespace\}\}, \{\{window\}\}/,
        );
        assert.match(issuesOf({ metrics: [{ name: "drift", kind: "quality", query: "x" }] }), /analysis\.metrics\.0: .*a metric needs a threshold: max, min or maxRatioToStable/);
        assert.match(issuesOf({ metrics: [{ name: "drift", kind: "cosmetic", query: "x", max: 1 }] }), /analysis\.metrics\.0\.kind: .*infrastructure.*quality/);
    });

    it("a model's own list replaces the defaults", () => {
        assert.deepEqual(
            templatesFor(analysisSchema.parse({ metrics: [{ name: "drift", kind: "quality", query: "x", max: 1 }] })).map((t) => t.name),
            ["drift"],
        );
        assert.deepEqual(
            templatesFor(ANALYSIS).map((t) => t.name),
            ["error-rate", "p95-latency", "memory", "restarts", "event-loop-lag", "available"],
        );
    });
});

describe("combining judgements", () => {
    const promote: Judgement = { decision: "promote", reasons: ["metrics fine"] };
    const hold: Judgement = { decision: "hold", reasons: ["A/B inconclusive"] };
    const quality: Judgement = { decision: "rollback", reasons: ["shadow agreement 60%"], failedKind: "quality" };
    const infra: Judgement = { decision: "rollback", reasons: ["memory 97%"], failedKind: "infrastructure" };

    it("any rollback rolls back (infrastructure before quality), else any hold holds, else promote", () => {
        assert.equal(combineJudgements([promote, promote]).decision, "promote");
        assert.deepEqual(combineJudgements([promote, hold]), { decision: "hold", reasons: ["A/B inconclusive"], findings: [] });
        assert.deepEqual(combineJudgements([hold, quality]).failedKind, "quality");
        assert.deepEqual(combineJudgements([quality, infra]), { decision: "rollback", reasons: ["shadow agreement 60%", "memory 97%"], findings: [], failedKind: "infrastructure" });
    });
});
