/**
 * The rollout analysis of one model's candidate, the way its strategy means: every strategy is
 * judged by the model's metric templates (components/analysis/templates.ts); an A/B test is also
 * judged by outcome feedback ("promote B only if B beats A"), a shadow by the comparison of the
 * two versions' answers to the same mirrored requests. This module asks Prometheus for the
 * figures; components/analysis/ decides.
 */
import { judgeAbTest, type FeedbackSample } from "../components/analysis/ab-test";
import { combineJudgements, judgeMetrics } from "../components/analysis/metrics-judge";
import { judgeShadow, type ShadowSample } from "../components/analysis/shadow";
import { histogramFromCumulative, type Histogram } from "../components/analysis/statistics";
import { templatesFor, requestsTemplate } from "../components/analysis/templates";
import type { Judgement } from "../components/analysis/types";
import type { AbTestAnalysis } from "../components/config/analysis";
import type { ModelConfig } from "../components/config/schema";
import { p95LatencyQuery } from "../components/monitoring";
import type { StrategyType } from "../components/strategies";
import type { TrackName } from "../components/traffic/types";
import type { PrometheusClient } from "./prometheus";

export interface AnalysisScope {
    model: string;
    /** The Kubernetes namespace of the model's workloads; empty on other targets. */
    namespace: string;
    /** The bake window, in seconds. */
    windowSeconds: number;
}

type Evidence = (client: PrometheusClient, scope: AnalysisScope, model: ModelConfig) => Promise<Judgement>;

const selector = (model: string, track: TrackName, extra = "") => `model="${model}",track="${track}"${extra}`;

async function counter(client: PrometheusClient, metric: string, labels: string, window: string): Promise<number> {
    return Math.round((await client.scalar(`sum(increase(${metric}{${labels}}[${window}]))`)) ?? 0);
}

async function histogram(client: PrometheusClient, metric: string, labels: string, window: string): Promise<Histogram> {
    return histogramFromCumulative(await client.cumulativeBuckets(metric, labels, window));
}

async function feedback(client: PrometheusClient, model: string, track: TrackName, config: AbTestAnalysis): Promise<FeedbackSample> {
    const window = `${config.windowSeconds}s`;
    if (config.outcome === "reward") return { rewards: await histogram(client, "modelship_feedback_reward", selector(model, track), window) };
    const [correct, incorrect] = await Promise.all([
        counter(client, "modelship_feedback_total", selector(model, track, ',outcome="correct"'), window),
        counter(client, "modelship_feedback_total", selector(model, track, ',outcome="incorrect"'), window),
    ]);
    return { correct, incorrect };
}

/** A/B: outcome feedback per track over the experiment's window (analysis.abTest.windowSeconds). */
const abTestEvidence: Evidence = async (client, scope, model) => {
    const config = model.analysis.abTest;
    const [stable, candidate] = await Promise.all([feedback(client, scope.model, "stable", config), feedback(client, scope.model, "candidate", config)]);
    return judgeAbTest(config, stable, candidate);
};

/** Shadow: the candidate pairs its answers with stable's by request id and counts agreement; scores and latency per track. */
const shadowEvidence: Evidence = async (client, scope, model) => {
    const window = `${scope.windowSeconds}s`;
    const candidate = selector(scope.model, "candidate");
    const p95 = (track: TrackName) => client.scalar(p95LatencyQuery(scope.model, track, window));
    const [pairs, agreements, unpairedStable, unpairedCandidate, stableScores, candidateScores, stableP95, candidateP95] = await Promise.all([
        counter(client, "modelship_shadow_pairs_total", candidate, window),
        counter(client, "modelship_shadow_agreements_total", candidate, window),
        counter(client, "modelship_shadow_unpaired_total", `${candidate},side="stable"`, window),
        counter(client, "modelship_shadow_unpaired_total", `${candidate},side="candidate"`, window),
        histogram(client, "modelship_prediction_score", selector(scope.model, "stable"), window),
        histogram(client, "modelship_prediction_score", candidate, window),
        p95("stable"),
        p95("candidate"),
    ]);
    const sample: ShadowSample = {
        pairs,
        agreements,
        unpaired: { stable: unpairedStable, candidate: unpairedCandidate },
        scores: { stable: stableScores, candidate: candidateScores },
        p95Ms: { ...(stableP95 !== undefined ? { stable: stableP95 * 1000 } : {}), ...(candidateP95 !== undefined ? { candidate: candidateP95 * 1000 } : {}) },
    };
    return judgeShadow(model.analysis.shadow, sample);
};

/** What each strategy is judged by beyond the metric templates. */
const EVIDENCE: Record<StrategyType, Evidence | undefined> = {
    recreate: undefined,
    rolling: undefined,
    blueGreen: undefined,
    canary: undefined,
    abTest: abTestEvidence,
    shadow: shadowEvidence,
};

/** The candidate's judgement: its metric templates, and its strategy's own evidence where it has one. */
export async function analyzeCandidate(client: PrometheusClient, scope: AnalysisScope, model: ModelConfig): Promise<Judgement> {
    const window = `${scope.windowSeconds}s`;
    const [readings, requests] = await Promise.all([
        client.readTemplates(templatesFor(model.analysis), { model: scope.model, namespace: scope.namespace, window }),
        client.requests(scope.model, "candidate", window, requestsTemplate(model.analysis), scope.namespace),
    ]);
    const metrics = judgeMetrics(readings, requests);
    const evidence = EVIDENCE[model.strategy.type];
    if (!evidence) return metrics;
    return combineJudgements([metrics, await evidence(client, scope, model)]);
}
