/**
 * The A/B judgement on recorded feedback: fixed counts and histograms for each decision, and
 * seeded feedback streams replayed in order for the sample size at which the test decides. The
 * statistics under it are checked against scipy in statistics.test.ts; the numbers asserted here
 * come from those reference values or from the recorded counts.
 */
import { strict as assert } from "assert";
import { DEFAULT_REWARD_BOUNDS, judgeAbTest, replayUntilDecision, type FeedbackEvent, type FeedbackSample } from "../../../components/analysis/ab-test";
import { abTestAnalysisSchema } from "../../../components/config/analysis";

const config = (raw: Record<string, unknown> = {}) => abTestAnalysisSchema.parse(raw);
const binary = (correct: number, total: number): FeedbackSample => ({ correct, incorrect: total - correct });
const rewards = (counts: number[], sum?: number): FeedbackSample => ({ rewards: { upperBounds: DEFAULT_REWARD_BOUNDS, counts }, ...(sum === undefined ? {} : { sum }) });
const times = (counts: number[], factor: number) => counts.map((c) => c * factor);

// Reward histograms whose Mann-Whitney results scipy gave in statistics.test.ts ("shift": p=0.0025 for B higher; "worse": p=3e-39 for B lower).
const SHIFT_STABLE = [5, 8, 12, 20, 25, 30, 28, 22, 15, 10, 5, 0];
const SHIFT_CANDIDATE = [2, 5, 9, 15, 22, 28, 32, 30, 24, 16, 9, 1];
const WORSE_STABLE = [0, 1, 2, 4, 8, 16, 30, 50, 60, 40, 20, 2];
const WORSE_CANDIDATE = [4, 10, 20, 35, 45, 50, 40, 25, 12, 6, 2, 0];
const SAME = [3, 5, 7, 9, 11, 9, 7, 5, 3, 1, 0, 0];

describe("A/B test: binary outcomes", () => {
    it("a better candidate is promoted, with both rates, the effect, the interval and the p-value in the reason", () => {
        // 497/812 vs 435/790: statsmodels gives z=2.4923, p=0.012692, Newcombe 95% CI [0.01312, 0.10937].
        const judgement = judgeAbTest(config(), binary(435, 790), binary(497, 812));
        assert.equal(judgement.decision, "promote");
        assert.deepEqual(judgement.reasons, ["A/B: candidate 61.2% correct (n=812) vs stable 55.1% (n=790): +6.1 points, 95% CI [+1.3, +10.9], p=0.0127: significantly better"]);
        assert.equal(judgement.failedKind, undefined);
        const [finding] = judgement.findings ?? [];
        assert.equal(finding.name, "ab-test");
        assert.equal(finding.kind, "quality");
        assert.equal(finding.outcome, "pass");
        assert.equal(finding.values?.candidateSamples, 812);
        assert.equal(finding.values?.stableCorrect, 435);
        assert.ok(Math.abs((finding.values?.pValue ?? NaN) - 0.012691785248802762) < 1e-9);
        assert.ok(Math.abs((finding.values?.low ?? NaN) - 0.013120586003745785) < 1e-9);
    });

    it("a worse candidate is rolled back as a quality failure", () => {
        const judgement = judgeAbTest(config(), binary(497, 812), binary(435, 790));
        assert.equal(judgement.decision, "rollback");
        assert.equal(judgement.failedKind, "quality");
        assert.equal(judgement.findings?.[0].outcome, "fail");
        assert.match(judgement.reasons[0], /^A\/B: candidate 55\.1% correct \(n=790\) vs stable 61\.2% \(n=812\): -6\.1 points, 95% CI \[-10\.9, -1\.3\], p=0\.0127: significantly worse$/);
    });

    it("the same candidate holds as inconclusive, the interval spanning 0", () => {
        const judgement = judgeAbTest(config(), binary(440, 800), binary(441, 800));
        assert.equal(judgement.decision, "hold");
        assert.equal(judgement.failedKind, undefined);
        assert.equal(judgement.findings?.[0].outcome, "inconclusive");
        assert.match(judgement.reasons[0], /\+0\.1 points, 95% CI \[-4\.\d, \+5\.\d\], p=0\.9\d\d: inconclusive: no significant difference at 95%$/);
    });

    it("an interval bound near 0 keeps two significant digits rather than showing -0.0, and p just under 0.05 shows as such", () => {
        const judgement = judgeAbTest(config(), binary(264, 496), binary(237, 504));
        assert.equal(judgement.decision, "rollback");
        assert.match(judgement.reasons[0], /: -6\.2 points, 95% CI \[-12\.3, -0\.0059\], p=0\.049\d: significantly worse$/);
    });

    it("where the test and the interval disagree it holds rather than print a contradiction: 4/20 vs 0/20 has p=0.035 but a Newcombe interval from -0.05 points", () => {
        // statsmodels: proportions_ztest([4, 0], [20, 20]) -> p=0.035015; confint_proportions_2indep(4, 20, 0, 20, method="newcomb") -> [-0.000509, 0.41602]
        const judgement = judgeAbTest(config({ minSamples: 20 }), binary(0, 20), binary(4, 20));
        assert.equal(judgement.decision, "hold");
        assert.equal(
            judgement.reasons[0],
            "A/B: candidate 20.0% correct (n=20) vs stable 0.0% (n=20): +20.0 points, 95% CI [-0.1, +41.6], p=0.0350: borderline at 95%: the test and the interval disagree",
        );
        assert.equal(judgeAbTest(config({ minSamples: 20 }), binary(4, 20), binary(0, 20)).decision, "hold", "nor a rollback the other way");
    });

    it("the confidence is the config's: a difference significant at 95% is inconclusive at 99% (p=0.013)", () => {
        const judgement = judgeAbTest(config({ confidence: 0.99 }), binary(435, 790), binary(497, 812));
        assert.equal(judgement.decision, "hold");
        assert.match(judgement.reasons[0], /99% CI \[-?\+?\d+\.\d, \+\d+\.\d\], p=0\.0127: inconclusive: no significant difference at 99%$/);
    });

    it("below minSamples on either track it holds, saying how many each track has and how many are needed", () => {
        const judgement = judgeAbTest(config({ minSamples: 200 }), binary(250, 400), binary(120, 150));
        assert.equal(judgement.decision, "hold");
        assert.deepEqual(judgement.reasons, ["A/B: too few outcomes to decide: candidate 150, stable 400, 200 needed per track (so far candidate 80.0% correct, stable 62.5%)"]);
        assert.equal(judgement.findings?.[0].outcome, "inconclusive");
        assert.equal(judgement.findings?.[0].values?.candidateSamples, 150);
        assert.equal(judgement.findings?.[0].values?.pValue, undefined, "no test below minSamples");
    });

    it("no feedback at all: HOLD with nothing measured (no findings), never a promote", () => {
        const judgement = judgeAbTest(config(), binary(0, 0), binary(0, 0));
        assert.deepEqual(judgement, { decision: "hold", reasons: ["A/B: no outcome feedback on either track yet (200 needed per track)"] });
        const oneSided = judgeAbTest(config(), binary(0, 0), binary(300, 300));
        assert.equal(oneSided.decision, "hold");
        assert.match(oneSided.reasons[0], /candidate 300, stable 0, 200 needed per track$/);
    });

    it("feedback of the other outcome type is a HOLD naming the mismatch", () => {
        const judgement = judgeAbTest(config(), rewards(SAME), rewards(SAME));
        assert.deepEqual(judgement, { decision: "hold", reasons: ["A/B: the test compares binary outcomes but the feedback read holds rewards; nothing judged"] });
    });

    describe("non-inferiority", () => {
        const nonInferiority = config({ mode: "non-inferiority", margin: 0.01 });

        it("slightly worse but with the whole interval above -margin is promoted, where superiority would hold", () => {
            // 54.8% vs 55.0% on 50,000 each: the 95% interval is about -0.2 +- 0.6 points.
            const judgement = judgeAbTest(nonInferiority, binary(27500, 50000), binary(27400, 50000));
            assert.equal(judgement.decision, "promote");
            assert.match(judgement.reasons[0], /: -0\.2 points, 95% CI \[-0\.8, \+0\.4\], p=0\.5\d\d: not worse by more than the margin: the interval lies above -1\.0 points$/);
            assert.equal(judgement.findings?.[0].values?.margin, 0.01);
            assert.equal(judgeAbTest(config(), binary(27500, 50000), binary(27400, 50000)).decision, "hold");
        });

        it("worse by more than the margin with the whole interval below -margin is rolled back", () => {
            const judgement = judgeAbTest(nonInferiority, binary(2750, 5000), binary(2500, 5000));
            assert.equal(judgement.decision, "rollback");
            assert.equal(judgement.failedKind, "quality");
            assert.match(judgement.reasons[0], /-5\.0 points, 95% CI \[-7\.0, -3\.0\], p=.*: worse by more than the margin: the interval lies below -1\.0 points$/);
        });

        it("an interval straddling -margin holds", () => {
            const judgement = judgeAbTest(nonInferiority, binary(550, 1000), binary(545, 1000));
            assert.equal(judgement.decision, "hold");
            assert.match(judgement.reasons[0], /inconclusive: the interval reaches below -1\.0 points$/);
        });

        it("a clearly better candidate is also promoted", () => {
            assert.equal(judgeAbTest(nonInferiority, binary(435, 790), binary(497, 812)).decision, "promote");
        });
    });
});

describe("A/B test: rewards", () => {
    it("higher rewards are promoted, with mean ranks, the probability of superiority, its interval and p in the reason", () => {
        // scipy: U=20486.5, p=0.0025435, mean ranks 169.69 / 203.15; Hanley-McNeil [0.5323, 0.6471].
        const judgement = judgeAbTest(config({ outcome: "reward", minSamples: 150 }), rewards(SHIFT_STABLE), rewards(SHIFT_CANDIDATE));
        assert.equal(judgement.decision, "promote");
        assert.deepEqual(judgement.reasons, [
            "A/B: candidate rewards mean rank 203.1 (n=193) vs stable 169.7 (n=180): P(candidate > stable)=0.590, 95% CI [0.532, 0.647], p=0.00254: significantly better",
        ]);
        const values = judgement.findings?.[0].values;
        assert.equal(values?.u, 20486.5);
        assert.ok(Math.abs((values?.pValue ?? NaN) - 0.0025435144893888057) < 1e-9);
    });

    it("lower rewards are rolled back as a quality failure", () => {
        const judgement = judgeAbTest(config({ outcome: "reward" }), rewards(WORSE_STABLE), rewards(WORSE_CANDIDATE));
        assert.equal(judgement.decision, "rollback");
        assert.equal(judgement.failedKind, "quality");
        assert.match(judgement.reasons[0], /P\(candidate > stable\)=0\.157, 95% CI \[0\.122, 0\.193\], p=3\.0e-39: significantly worse$/);
    });

    it("the same rewards hold; the histograms' sums, when given, show the mean reward", () => {
        const same = times(SAME, 4);
        const judgement = judgeAbTest(config({ outcome: "reward" }), rewards(same, 100), rewards(same, 110));
        assert.equal(judgement.decision, "hold");
        assert.match(
            judgement.reasons[0],
            /mean rank 240\.5 \(n=240\) vs stable 240\.5 \(n=240\), mean reward 0\.458 vs 0\.417: P\(candidate > stable\)=0\.500, .* p=1\.00: inconclusive: no significant difference at 95%$/,
        );
        assert.equal(judgement.findings?.[0].values?.candidateMeanReward, 110 / 240);
    });

    it("non-inferiority: the same rewards on enough samples are promoted with margin 0.05, held with margin 0.01", () => {
        const same = times(SAME, 10);
        const wide = judgeAbTest(config({ outcome: "reward", mode: "non-inferiority", margin: 0.05 }), rewards(same), rewards(same));
        assert.equal(wide.decision, "promote");
        assert.match(wide.reasons[0], /not worse by more than the margin: the interval lies above 0\.450 \(0\.5 - 0\.05\)$/);
        assert.equal(judgeAbTest(config({ outcome: "reward", mode: "non-inferiority", margin: 0.01 }), rewards(same), rewards(same)).decision, "hold");
        assert.equal(judgeAbTest(config({ outcome: "reward", mode: "non-inferiority", margin: 0.05 }), rewards(WORSE_STABLE), rewards(WORSE_CANDIDATE)).decision, "rollback");
    });

    it("too few rewards, or none, hold; labels where rewards are expected hold naming the mismatch", () => {
        const few = judgeAbTest(config({ outcome: "reward" }), rewards(SHIFT_STABLE), rewards(SAME));
        assert.equal(few.decision, "hold");
        assert.equal(few.reasons[0], "A/B: too few rewards to decide: candidate 60, stable 180, 200 needed per track");
        const none = new Array<number>(12).fill(0);
        assert.deepEqual(judgeAbTest(config({ outcome: "reward" }), rewards(none), rewards(none)).findings, undefined);
        assert.match(judgeAbTest(config({ outcome: "reward" }), binary(1, 2), binary(1, 2)).reasons[0], /compares reward outcomes but the feedback read holds labels/);
    });
});

/** A small seeded generator (mulberry32), so a "recorded" stream is the same on every run. */
function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Feedback for requests split 50/50, each answer right with its track's rate. */
function labelStream(seed: number, n: number, stableRate: number, candidateRate: number): FeedbackEvent[] {
    const next = random(seed);
    return Array.from({ length: n }, () => {
        const track = next() < 0.5 ? ("stable" as const) : ("candidate" as const);
        return { track, correct: next() < (track === "stable" ? stableRate : candidateRate) };
    });
}

/** Rewards around a track's mean (normal, sd 0.25, clipped to [0, 1]), split 50/50. */
function rewardStream(seed: number, n: number, stableMean: number, candidateMean: number): FeedbackEvent[] {
    const next = random(seed);
    return Array.from({ length: n }, () => {
        const track = next() < 0.5 ? ("stable" as const) : ("candidate" as const);
        const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
        const reward = Math.min(1, Math.max(0, (track === "stable" ? stableMean : candidateMean) + 0.25 * normal));
        return { track, reward: Math.round(reward * 1000) / 1000 };
    });
}

describe("A/B test: recorded feedback replayed in order", () => {
    const EVERY = 50;

    it("a better candidate (62% vs 55% correct) is promoted once both tracks pass minSamples, long before the stream ends", () => {
        const result = replayUntilDecision(config(), labelStream(1, 6000, 0.55, 0.62), EVERY);
        assert.ok(result.decided);
        assert.equal(result.judgement.decision, "promote");
        assert.ok(result.stableSamples >= 200 && result.candidateSamples >= 200);
        assert.ok(result.events < 6000 && result.events % EVERY === 0, `decided at ${result.events}`);
        assert.equal(result.stableSamples + result.candidateSamples, result.events);
        assert.match(result.judgement.reasons[0], /significantly better$/);
    });

    it("a worse candidate (48% vs 55%) is rolled back", () => {
        const result = replayUntilDecision(config(), labelStream(2, 6000, 0.55, 0.48), EVERY);
        assert.equal(result.judgement.decision, "rollback");
        assert.equal(result.judgement.failedKind, "quality");
        assert.ok(result.events < 6000);
    });

    it("the same candidate, judged once on the whole stream (a fixed horizon, no peeking), holds", () => {
        const stream = labelStream(3, 4000, 0.55, 0.55);
        const result = replayUntilDecision(config(), stream, stream.length);
        assert.equal(result.decided, false);
        assert.equal(result.judgement.decision, "hold");
        assert.equal(result.events, 4000);
        assert.equal(result.looks, 1);
    });

    it("rewards: a better candidate (mean 0.60 vs 0.55) is promoted, a worse one (0.50) rolled back, by Mann-Whitney on the bucketed rewards", () => {
        const better = replayUntilDecision(config({ outcome: "reward" }), rewardStream(4, 8000, 0.55, 0.6), EVERY);
        assert.equal(better.judgement.decision, "promote");
        assert.match(better.judgement.reasons[0], /mean reward 0\.\d{3} vs 0\.\d{3}: P\(candidate > stable\)=0\.5\d\d/);
        const worse = replayUntilDecision(config({ outcome: "reward" }), rewardStream(5, 8000, 0.55, 0.5), EVERY);
        assert.equal(worse.judgement.decision, "rollback");
    });

    it("rewards fall in Prometheus' buckets (le: the first bound at or above the value): 0.1 counts in the 0.1 bucket", () => {
        const events: FeedbackEvent[] = [
            { track: "stable", reward: 0.1 },
            { track: "candidate", reward: 0.10001 },
        ];
        const result = replayUntilDecision(config({ outcome: "reward", minSamples: 1 }), events, 2);
        const values = result.judgement.findings?.[0].values;
        assert.equal(values?.probabilityOfSuperiority, 1, "0.1 in (0, 0.1], 0.10001 in (0.1, 0.2]");
    });

    it("an empty stream holds, mixed-up events and a bad step are refused", () => {
        const empty = replayUntilDecision(config(), [], EVERY);
        assert.deepEqual([empty.decided, empty.events, empty.looks, empty.judgement.decision], [false, 0, 0, "hold"]);
        assert.throws(() => replayUntilDecision(config(), [{ track: "stable", reward: 1 }], EVERY), /event 0 is a reward but the test compares labels/);
        assert.throws(() => replayUntilDecision(config({ outcome: "reward" }), [{ track: "stable", correct: true }], EVERY), /event 0 is a label but the test compares rewards/);
        assert.throws(() => replayUntilDecision(config({ outcome: "reward" }), [{ track: "stable", reward: 2 }], EVERY, [0, 1]), /reward 2 is above every bucket/);
        assert.throws(() => replayUntilDecision(config(), [], 0), /every must be a positive integer, got 0/);
    });
});

describe("A/B test: looking repeatedly inflates false decisions (peeking)", () => {
    // 400 experiments in which both tracks answer right 55% of the time: any decision is false.
    const EXPERIMENTS = 400;
    const falseRate = (minSamples: number, every: number): number => {
        let decided = 0;
        for (let seed = 1000; seed < 1000 + EXPERIMENTS; seed++) {
            if (replayUntilDecision(config({ minSamples }), labelStream(seed, 2000, 0.55, 0.55), every).decided) decided += 1;
        }
        return decided / EXPERIMENTS;
    };

    it("one look at the end decides falsely about 5% of the time, as a 95% test should; a look every 50 events several times as often; a larger minSamples fewer", () => {
        const fixedHorizon = falseRate(200, 2000);
        const peekingFrom200 = falseRate(200, 50);
        const peekingFrom20 = falseRate(20, 50);
        assert.ok(fixedHorizon > 0.02 && fixedHorizon < 0.09, `one look: ${fixedHorizon}`);
        assert.ok(peekingFrom200 > 2 * fixedHorizon, `every 50 from 200 per track: ${peekingFrom200} vs ${fixedHorizon}`);
        assert.ok(peekingFrom20 > peekingFrom200, `every 50 from 20 per track: ${peekingFrom20} vs ${peekingFrom200}`);
    });
});

describe("A/B test: the reward buckets", () => {
    it("the default bounds are the model server's MODELSHIP_REWARD_BUCKETS default (0, 0.1, ..., 1) and +Inf", () => {
        assert.deepEqual(DEFAULT_REWARD_BOUNDS, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, Infinity]);
    });
});
