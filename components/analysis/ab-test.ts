/**
 * The A/B test's judgement: does the candidate beat stable on the outcome feedback each track
 * received? Binary outcomes (correct or not) are compared by a two-proportion test, rewards by a
 * Mann-Whitney test on the reward histograms, at the config's confidence. Pure: the caller reads
 * the feedback counters and histograms of each track over the config's window.
 *
 *   superiority      PROMOTE when the candidate is significantly better, ROLLBACK when
 *                    significantly worse, HOLD otherwise;
 *   non-inferiority  PROMOTE when the whole interval lies above "worse by the margin", ROLLBACK
 *                    when the whole interval lies below it, HOLD otherwise;
 *
 * and HOLD, whatever the mode, while either track has fewer than minSamples outcomes.
 */
import type { AbTestAnalysis } from "../config/analysis";
import { mannWhitney, twoProportionTest, type Histogram } from "./statistics";
import type { Decision, Finding, Judgement } from "./types";

/** Outcome feedback with a label: answers that were right or wrong at the decision threshold. */
export interface BinaryFeedback {
    correct: number;
    incorrect: number;
}

/** Outcome feedback with a reward: the reward histogram's buckets, and its _sum when known (only shown, as the mean reward). */
export interface RewardFeedback {
    rewards: Histogram;
    sum?: number;
}

export type FeedbackSample = BinaryFeedback | RewardFeedback;

const NAME = "ab-test";

function isBinary(sample: FeedbackSample): sample is BinaryFeedback {
    return "correct" in sample;
}

function count(sample: FeedbackSample): number {
    return isBinary(sample) ? sample.correct + sample.incorrect : sample.rewards.counts.reduce((sum, c) => sum + c, 0);
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
/** Percentage points with their sign; two significant digits where one decimal would show a bound near 0 as "-0.0". */
const points = (share: number): string => {
    const value = share * 100;
    return `${value >= 0 ? "+" : ""}${value !== 0 && Math.abs(value) < 0.05 ? value.toPrecision(2) : value.toFixed(1)}`;
};
const confidenceLabel = (confidence: number): string => `${Number((confidence * 100).toFixed(2))}%`;
/** Three significant digits, so that a p-value just under 1 - confidence does not print as equal to it (0.0498, not 0.050). */
const formatP = (p: number): string => (p >= 0.001 ? p.toPrecision(3) : p.toExponential(1));
const formatN = (n: number): string => String(Math.round(n));

interface Verdict {
    decision: Decision;
    outcome: Finding["outcome"];
    why: string;
}

/**
 * Superiority needs both the test and the interval: a p-value under 1 - confidence with the
 * interval on the same side of "no difference". They disagree only at the border (the pooled
 * z-test and Newcombe's interval, or the U test and Hanley-McNeil's interval, are not exact
 * inverses of each other), and a line reading "p=0.049, CI [-0.1, +5.0]: significantly better"
 * would contradict itself, so the border holds.
 */
function superiority(confidence: number, low: number, high: number, pValue: number, neutral: number): Verdict {
    const significant = pValue < 1 - confidence;
    const label = confidenceLabel(confidence);
    if (significant && low > neutral) return { decision: "promote", outcome: "pass", why: "significantly better" };
    if (significant && high < neutral) return { decision: "rollback", outcome: "fail", why: "significantly worse" };
    if (significant || low > neutral || high < neutral) return { decision: "hold", outcome: "inconclusive", why: `borderline at ${label}: the test and the interval disagree` };
    return { decision: "hold", outcome: "inconclusive", why: `inconclusive: no significant difference at ${label}` };
}

/**
 * Non-inferiority with the config's two-sided interval: its lower bound above "worse by the
 * margin" is a one-sided test at (1 + confidence) / 2, stricter than the one-sided test at the
 * confidence that the textbooks allow, as the config says the confidence is two-sided.
 */
function nonInferiority(low: number, high: number, threshold: number, line: string): Verdict {
    if (low > threshold) return { decision: "promote", outcome: "pass", why: `not worse by more than the margin: the interval lies above ${line}` };
    if (high < threshold) return { decision: "rollback", outcome: "fail", why: `worse by more than the margin: the interval lies below ${line}` };
    return { decision: "hold", outcome: "inconclusive", why: `inconclusive: the interval reaches below ${line}` };
}

function judgement(verdict: Verdict, reason: string, values: Record<string, number>): Judgement {
    const finding: Finding = { name: NAME, kind: "quality", outcome: verdict.outcome, reason, values };
    return { decision: verdict.decision, reasons: [reason], findings: [finding], ...(verdict.decision === "rollback" ? { failedKind: "quality" as const } : {}) };
}

const hold = (reason: string, values?: Record<string, number>): Judgement => ({
    decision: "hold",
    reasons: [reason],
    ...(values ? { findings: [{ name: NAME, kind: "quality", outcome: "inconclusive", reason, values }] } : {}),
});

function judgeBinary(config: AbTestAnalysis, stable: BinaryFeedback, candidate: BinaryFeedback): Judgement {
    const nStable = stable.correct + stable.incorrect;
    const nCandidate = candidate.correct + candidate.incorrect;
    const test = twoProportionTest(stable.correct, nStable, candidate.correct, nCandidate, config.confidence);
    const values: Record<string, number> = {
        stableCorrect: stable.correct,
        stableSamples: nStable,
        candidateCorrect: candidate.correct,
        candidateSamples: nCandidate,
        minSamples: config.minSamples,
        confidence: config.confidence,
    };
    if (nStable < config.minSamples || nCandidate < config.minSamples) {
        const soFar = nStable > 0 && nCandidate > 0 ? ` (so far candidate ${percent(test.pB)} correct, stable ${percent(test.pA)})` : "";
        return hold(`A/B: too few outcomes to decide: candidate ${formatN(nCandidate)}, stable ${formatN(nStable)}, ${config.minSamples} needed per track${soFar}`, values);
    }
    Object.assign(values, { stableRate: test.pA, candidateRate: test.pB, difference: test.diff, low: test.low, high: test.high, z: test.z, pValue: test.pValue });
    let verdict: Verdict;
    if (config.mode === "superiority") {
        verdict = superiority(config.confidence, test.low, test.high, test.pValue, 0);
    } else {
        values.margin = config.margin;
        verdict = nonInferiority(test.low, test.high, -config.margin, `${points(-config.margin)} points`);
    }
    const reason =
        `A/B: candidate ${percent(test.pB)} correct (n=${formatN(nCandidate)}) vs stable ${percent(test.pA)} (n=${formatN(nStable)}): ` +
        `${points(test.diff)} points, ${confidenceLabel(config.confidence)} CI [${points(test.low)}, ${points(test.high)}], p=${formatP(test.pValue)}: ${verdict.why}`;
    return judgement(verdict, reason, values);
}

function judgeReward(config: AbTestAnalysis, stable: RewardFeedback, candidate: RewardFeedback): Judgement {
    const nStable = count(stable);
    const nCandidate = count(candidate);
    const values: Record<string, number> = { stableSamples: nStable, candidateSamples: nCandidate, minSamples: config.minSamples, confidence: config.confidence };
    const meanStable = stable.sum !== undefined && nStable > 0 ? stable.sum / nStable : undefined;
    const meanCandidate = candidate.sum !== undefined && nCandidate > 0 ? candidate.sum / nCandidate : undefined;
    if (meanStable !== undefined) values.stableMeanReward = meanStable;
    if (meanCandidate !== undefined) values.candidateMeanReward = meanCandidate;
    if (nStable < config.minSamples || nCandidate < config.minSamples) {
        return hold(`A/B: too few rewards to decide: candidate ${formatN(nCandidate)}, stable ${formatN(nStable)}, ${config.minSamples} needed per track`, values);
    }
    const test = mannWhitney(stable.rewards, candidate.rewards, config.confidence);
    Object.assign(values, {
        stableMeanRank: test.meanRankA,
        candidateMeanRank: test.meanRankB,
        probabilityOfSuperiority: test.probabilityOfSuperiority,
        low: test.low,
        high: test.high,
        u: test.u,
        z: test.z,
        pValue: test.pValue,
    });
    let verdict: Verdict;
    if (config.mode === "superiority") {
        verdict = superiority(config.confidence, test.low, test.high, test.pValue, 0.5);
    } else {
        values.margin = config.margin;
        verdict = nonInferiority(test.low, test.high, 0.5 - config.margin, `${(0.5 - config.margin).toFixed(3)} (0.5 - ${config.margin})`);
    }
    const means = meanStable !== undefined && meanCandidate !== undefined ? `, mean reward ${meanCandidate.toFixed(3)} vs ${meanStable.toFixed(3)}` : "";
    const reason =
        `A/B: candidate rewards mean rank ${test.meanRankB.toFixed(1)} (n=${formatN(nCandidate)}) vs stable ${test.meanRankA.toFixed(1)} (n=${formatN(nStable)})${means}: ` +
        `P(candidate > stable)=${test.probabilityOfSuperiority.toFixed(3)}, ${confidenceLabel(config.confidence)} CI [${test.low.toFixed(3)}, ${test.high.toFixed(3)}], p=${formatP(test.pValue)}: ${verdict.why}`;
    return judgement(verdict, reason, values);
}

/**
 * Judges an A/B test on each track's outcome feedback (stable as the baseline, the candidate as
 * the challenger). Feedback of the other outcome type than the config's, or none on either track,
 * is a HOLD with no finding (nothing measured); too few outcomes is a HOLD with the counts.
 */
export function judgeAbTest(config: AbTestAnalysis, stable: FeedbackSample, candidate: FeedbackSample): Judgement {
    const binary = config.outcome === "binary";
    if (isBinary(stable) !== binary || isBinary(candidate) !== binary) {
        return hold(`A/B: the test compares ${config.outcome} outcomes but the feedback read holds ${binary ? "rewards" : "labels"}; nothing judged`);
    }
    if (count(stable) === 0 && count(candidate) === 0) return hold(`A/B: no outcome feedback on either track yet (${config.minSamples} needed per track)`);
    if (isBinary(stable) && isBinary(candidate)) return judgeBinary(config, stable, candidate);
    if (!isBinary(stable) && !isBinary(candidate)) return judgeReward(config, stable, candidate);
    throw new Error("unreachable: both samples were checked against the config's outcome");
}

/** One piece of recorded feedback, in the order it arrived. */
export type FeedbackEvent = { track: "stable" | "candidate"; correct: boolean } | { track: "stable" | "candidate"; reward: number };

/** The model server's default reward buckets (MODELSHIP_REWARD_BUCKETS) and Prometheus' +Inf. */
export const DEFAULT_REWARD_BOUNDS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, Infinity];

export interface ReplayResult {
    /** Whether some look reached PROMOTE or ROLLBACK. */
    decided: boolean;
    /** Feedback events consumed at that look (at the last look when undecided). */
    events: number;
    stableSamples: number;
    candidateSamples: number;
    /** How many times the test itself ran (both tracks at minSamples or more): each is a chance of a false decision. */
    looks: number;
    judgement: Judgement;
}

/**
 * Replays recorded feedback in order, applying judgeAbTest after every `every` events (and after
 * the last), and stops at the first PROMOTE or ROLLBACK: the sample size at which the test first
 * decides, as `modelship auto` looking at each bake would meet it.
 *
 * Looking repeatedly is not free. Each look is a test at 1 - confidence; under no difference, the
 * chance that some look crosses grows with the number of looks (at 95% and equally spaced looks,
 * about 14% over five and 19% over ten, Armitage, McPherson and Rowe 1969), so the sample size
 * found here is optimistic for a candidate that is truly better, and a candidate that is the same
 * can be "decided" by chance (test/unit/analysis/ab-test.test.ts measures the inflation).
 * minSamples limits it: no look happens before each track has that many outcomes, which removes
 * the early looks where a small-sample swing crosses most easily and makes the looks over a given
 * horizon fewer, and it works better the larger minSamples is against the final sample; it does not
 * bound the error rate. A sequential design would (an alpha-spending boundary such as
 * O'Brien-Fleming's, or always-valid p-values); the test here is the fixed-horizon one.
 */
export function replayUntilDecision(config: AbTestAnalysis, events: readonly FeedbackEvent[], every: number, rewardBounds: readonly number[] = DEFAULT_REWARD_BOUNDS): ReplayResult {
    if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`replayUntilDecision: every must be a positive integer, got ${every}`);
    const binary = { stable: { correct: 0, incorrect: 0 }, candidate: { correct: 0, incorrect: 0 } };
    const rewards = { stable: new Array<number>(rewardBounds.length).fill(0), candidate: new Array<number>(rewardBounds.length).fill(0) };
    const sums = { stable: 0, candidate: 0 };
    const samples = { stable: 0, candidate: 0 };
    let looks = 0;
    const look = (consumed: number): ReplayResult => {
        // Below minSamples the judgement holds without testing: not a look that can go wrong.
        if (samples.stable >= config.minSamples && samples.candidate >= config.minSamples) looks += 1;
        const sample = (track: "stable" | "candidate"): FeedbackSample =>
            config.outcome === "binary" ? { ...binary[track] } : { rewards: { upperBounds: rewardBounds, counts: [...rewards[track]] }, sum: sums[track] };
        const judgement = judgeAbTest(config, sample("stable"), sample("candidate"));
        return { decided: judgement.decision !== "hold", events: consumed, stableSamples: samples.stable, candidateSamples: samples.candidate, looks, judgement };
    };
    let last: ReplayResult | undefined;
    for (const [i, event] of events.entries()) {
        samples[event.track] += 1;
        if ("correct" in event) {
            if (config.outcome !== "binary") throw new RangeError(`replayUntilDecision: event ${i} is a label but the test compares rewards`);
            binary[event.track][event.correct ? "correct" : "incorrect"] += 1;
        } else {
            if (config.outcome !== "reward") throw new RangeError(`replayUntilDecision: event ${i} is a reward but the test compares labels`);
            // Prometheus' rule: an observation counts in the first bucket whose bound is at or above it.
            const bucket = rewardBounds.findIndex((bound) => event.reward <= bound);
            if (bucket < 0) throw new RangeError(`replayUntilDecision: reward ${event.reward} is above every bucket; the bounds need +Inf last`);
            rewards[event.track][bucket] += 1;
            sums[event.track] += event.reward;
        }
        if ((i + 1) % every === 0 || i === events.length - 1) {
            last = look(i + 1);
            if (last.decided) return last;
        }
    }
    return last ?? look(0);
}
