/**
 * The shadow judgement on recorded comparisons: an identical candidate, one whose weights are
 * corrupted (answers near chance, scores spread out), one whose scores drifted while its classes
 * agree, and the inconclusive and no-data cases.
 */
import { strict as assert } from "assert";
import { judgeShadow, type ShadowSample } from "../../../components/analysis/shadow";
import type { Histogram } from "../../../components/analysis/statistics";
import { shadowAnalysisSchema } from "../../../components/config/analysis";

const config = (raw: Record<string, unknown> = {}) => shadowAnalysisSchema.parse(raw);

/** modelship_prediction_score's buckets: 0, 0.05, ..., 1, then +Inf. */
const SCORE_BOUNDS = [...Array.from({ length: 21 }, (_, i) => i / 20), Infinity];
const scores = (counts: number[]): Histogram => ({ upperBounds: SCORE_BOUNDS, counts: [...counts, ...new Array<number>(SCORE_BOUNDS.length - counts.length).fill(0)] });

// A confident binary classifier: most scores near 0 or 1 (1,000 answers).
const STABLE = [0, 140, 110, 80, 50, 30, 20, 15, 10, 8, 7, 8, 10, 15, 20, 30, 50, 80, 110, 140, 67];
// The same model, on the half of the requests that was mirrored: the same shares.
const IDENTICAL = STABLE.map((c) => c / 2);
// Corrupted weights: scores collapsed around 0.5 (logits near 0), classes agreeing about half the time.
const CORRUPTED = [0, 0, 0, 0, 0, 0, 0, 10, 30, 60, 100, 150, 150, 100, 60, 30, 10];
// Classes unchanged but every score pushed two buckets up (a calibration drift).
const DRIFTED = [0, 0, 0, 140, 110, 80, 50, 30, 20, 15, 10, 8, 7, 8, 10, 15, 20, 30, 50, 80, 327];

const sample = (overrides: Partial<ShadowSample> = {}): ShadowSample => ({
    pairs: 480,
    agreements: 480,
    unpaired: { stable: 6, candidate: 2 },
    scores: { stable: scores(STABLE), candidate: scores(IDENTICAL) },
    p95Ms: { stable: 38.2, candidate: 41 },
    ...overrides,
});

describe("shadow comparison", () => {
    it("an identical candidate is promoted: full agreement, PSI 0, KS 0, both latencies and the unpaired copies reported", () => {
        const judgement = judgeShadow(config(), sample());
        assert.equal(judgement.decision, "promote");
        assert.deepEqual(judgement.reasons, [
            "shadow: candidate agrees with stable on 100.0% of 480 paired requests (min 95.0%), PSI 0.000 (max 0.2), KS 0.000 (max 0.2): the outputs match",
            "shadow: p95 latency candidate 41 ms vs stable 38 ms; 6 of stable's reports (1.2%) and 2 of the candidate's answers (0.4%) found no partner",
        ]);
        const [finding] = judgement.findings ?? [];
        assert.deepEqual([finding.name, finding.kind, finding.outcome], ["shadow", "quality", "pass"]);
        assert.equal(finding.values?.agreementRate, 1);
        assert.equal(finding.values?.psi, 0);
        assert.equal(finding.values?.ks, 0);
        assert.equal(finding.values?.candidateP95Ms, 41);
        assert.equal(finding.values?.unpairedStableShare, 6 / 486);
        assert.equal(judgement.failedKind, undefined);
    });

    it("a candidate with corrupted weights is rolled back as a quality failure, every failed criterion named with its number", () => {
        const judgement = judgeShadow(config(), sample({ agreements: 250, scores: { stable: scores(STABLE), candidate: scores(CORRUPTED) } }));
        assert.equal(judgement.decision, "rollback");
        assert.equal(judgement.failedKind, "quality");
        assert.match(
            judgement.reasons[0],
            /^shadow: candidate agrees with stable on 52\.1% of 480 paired requests \(min 95\.0%\), PSI \d\.\d{3} \(max 0\.2\), KS 0\.\d{3} \(max 0\.2\): agreement below 95\.0%, PSI above 0\.2, KS above 0\.2$/,
        );
        const values = judgement.findings?.[0].values;
        assert.ok((values?.psi ?? 0) > 0.2 && (values?.ks ?? 0) > 0.2, `psi ${values?.psi}, ks ${values?.ks}`);
        assert.equal(judgement.findings?.[0].outcome, "fail");
    });

    it("classes that agree but scores that drifted are rolled back on the distance alone", () => {
        const judgement = judgeShadow(config(), sample({ agreements: 475, scores: { stable: scores(STABLE), candidate: scores(DRIFTED) } }));
        assert.equal(judgement.decision, "rollback");
        assert.match(judgement.reasons[0], /on 99\.0% of 480 .*: PSI above 0\.2, KS above 0\.2$/);
        const onlyKs = judgeShadow(config({ maxPsi: 100 }), sample({ agreements: 475, scores: { stable: scores(STABLE), candidate: scores(DRIFTED) } }));
        assert.match(onlyKs.reasons[0], /\(max 100\), KS 0\.\d{3} \(max 0\.2\): KS above 0\.2$/);
        assert.equal(judgeShadow(config({ maxPsi: 100, maxKs: 1 }), sample({ agreements: 475, scores: { stable: scores(STABLE), candidate: scores(DRIFTED) } })).decision, "promote");
    });

    it("agreement just below the minimum is a rollback; at the minimum it passes", () => {
        assert.equal(judgeShadow(config(), sample({ pairs: 100, agreements: 94 })).decision, "rollback");
        assert.match(judgeShadow(config(), sample({ pairs: 100, agreements: 94 })).reasons[0], /94\.0% of 100 .*: agreement below 95\.0%$/);
        assert.equal(judgeShadow(config(), sample({ pairs: 100, agreements: 95 })).decision, "promote");
    });

    it("below minPairs it holds, saying how many pairs there are and how many are needed, with the agreement so far", () => {
        const judgement = judgeShadow(config(), sample({ pairs: 40, agreements: 39 }));
        assert.equal(judgement.decision, "hold");
        assert.equal(judgement.reasons[0], "shadow: 40 paired requests, 100 needed before the comparison decides (agreement so far 97.5%)");
        assert.equal(judgement.findings?.[0].outcome, "inconclusive");
        assert.equal(judgement.findings?.[0].values?.psi, undefined, "nothing judged below minPairs");
        assert.equal(judgeShadow(config({ minPairs: 40 }), sample({ pairs: 40, agreements: 39 })).decision, "promote");
    });

    it("no copies compared at all: HOLD with nothing measured", () => {
        const empty = scores([]);
        const judgement = judgeShadow(config(), { pairs: 0, agreements: 0, unpaired: { stable: 0, candidate: 0 }, scores: { stable: empty, candidate: empty }, p95Ms: {} });
        assert.deepEqual(judgement, { decision: "hold", reasons: ["shadow: no mirrored requests compared yet (100 pairs needed)"] });
    });

    it("stable's reports arriving with no candidate answer to pair with (copies lost, or the candidate not answering) hold and say so", () => {
        const judgement = judgeShadow(config(), sample({ pairs: 0, agreements: 0, unpaired: { stable: 300, candidate: 0 }, p95Ms: { stable: 38 } }));
        assert.equal(judgement.decision, "hold");
        assert.deepEqual(judgement.reasons, [
            "shadow: 0 paired requests, 100 needed before the comparison decides",
            "shadow: p95 latency candidate n/a vs stable 38 ms; 300 of stable's reports (100.0%) and 0 of the candidate's answers found no partner",
        ]);
    });

    it("no score observations on a version: HOLD while the agreement passes, ROLLBACK when it fails anyway", () => {
        const noScores = { stable: scores(STABLE), candidate: scores([]) };
        const held = judgeShadow(config(), sample({ scores: noScores }));
        assert.equal(held.decision, "hold");
        assert.match(held.reasons[0], /no score distribution to compare \(0 candidate scores, 1000 stable scores\): the distributions cannot be compared yet$/);
        assert.equal(held.findings?.[0].outcome, "inconclusive");
        const failed = judgeShadow(config(), sample({ agreements: 200, scores: noScores }));
        assert.equal(failed.decision, "rollback");
        assert.match(failed.reasons[0], /: agreement below 95\.0%$/);
    });

    it("latencies under 10 ms keep a decimal; agreements a hair above the pairs (increase() rounding) count as 100%", () => {
        const judgement = judgeShadow(config(), sample({ agreements: 480.0000001, p95Ms: { stable: 3.4, candidate: 12.6 } }));
        assert.equal(judgement.findings?.[0].values?.agreementRate, 1);
        assert.match(judgement.reasons[1], /^shadow: p95 latency candidate 13 ms vs stable 3\.4 ms;/);
    });

    it("impossible counts and histograms of different buckets are refused", () => {
        assert.throws(() => judgeShadow(config(), sample({ pairs: -1 })), /judgeShadow: pairs must be a finite count, got -1/);
        assert.throws(() => judgeShadow(config(), sample({ unpaired: { stable: NaN, candidate: 0 } })), /unpaired stable must be a finite count, got NaN/);
        const otherBuckets: Histogram = { upperBounds: [0.5, 1, Infinity], counts: [1, 1, 0] };
        assert.throws(() => judgeShadow(config(), sample({ scores: { stable: scores(STABLE), candidate: otherBuckets } })), /psi: the histograms have different buckets/);
    });
});
