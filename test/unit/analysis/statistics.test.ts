/**
 * The statistics against an independent implementation: every expected number below was computed
 * with scipy 1.17.1 / statsmodels 0.15.0 (the call is named beside each table), not by the code
 * under test. Histograms are expanded to one observation per count at its bucket's bound, with
 * 1e9 standing for +Inf.
 */
import { strict as assert } from "assert";
import { histogramFromCumulative, ks, mannWhitney, normalCdf, normalQuantile, psi, PSI_EPSILON, twoProportionTest, twoSidedCritical, type Histogram } from "../../../components/analysis/statistics";

function close(actual: number, expected: number, tolerance: number, what: string): void {
    assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} differs from ${expected} by more than ${tolerance}`);
}

/** Relative closeness, for values spanning many orders of magnitude (tail probabilities). */
function relativelyClose(actual: number, expected: number, tolerance: number, what: string): void {
    if (expected === 0) return assert.equal(actual, 0, what);
    assert.ok(Math.abs(actual / expected - 1) <= tolerance, `${what}: ${actual} differs from ${expected} by more than ${tolerance} relative`);
}

const REWARD_BOUNDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, Infinity];
const rewards = (counts: number[]): Histogram => ({ upperBounds: REWARD_BOUNDS, counts });

describe("statistics: the normal distribution", () => {
    // scipy.stats.norm.cdf(x)
    const CDF: [number, number][] = [
        [-40, 0],
        [-20, 2.7536241186061556e-89],
        [-10, 7.61985302416047e-24],
        [-8.5, 9.47953482220325e-18],
        [-5.7, 5.99037140106353e-9],
        [-5.6, 1.0717590258310887e-8],
        [-3, 0.0013498980316300933],
        [-1.96, 0.024997895148220435],
        [-0.6745, 0.24999674286369916],
        [-0.5, 0.3085375387259869],
        [-1e-20, 0.5],
        [0, 0.5],
        [0.3, 0.6179114221889526],
        [0.6744, 0.7499714786270594],
        [0.7, 0.758036347776927],
        [1, 0.8413447460685429],
        [2.5, 0.9937903346742238],
        [5.7, 0.9999999940096286],
        [8, 0.9999999999999993],
        [8.3, 1],
        [10, 1],
    ];

    it("normalCdf matches scipy's norm.cdf to 1e-15 absolute and 1e-12 relative, in each of Cody's three ranges and the tails", () => {
        for (const [x, expected] of CDF) {
            close(normalCdf(x), expected, 1e-15, `normalCdf(${x})`);
            relativelyClose(normalCdf(x), expected, 1e-12, `normalCdf(${x})`);
        }
    });

    it("normalCdf is symmetric and monotone, and NaN stays NaN", () => {
        for (let x = -9; x <= 9; x += 0.37) close(normalCdf(x) + normalCdf(-x), 1, 1e-15, `symmetry at ${x}`);
        let previous = 0;
        for (let x = -12; x <= 12; x += 0.01) {
            const value = normalCdf(x);
            assert.ok(value >= previous, `normalCdf decreases at ${x}`);
            previous = value;
        }
        assert.ok(Number.isNaN(normalCdf(NaN)));
    });

    // scipy.stats.norm.ppf(p)
    const PPF: [number, number][] = [
        [1e-300, -37.0470962993612],
        [1e-20, -9.262340089798409],
        [1e-10, -6.361340902404056],
        [1e-5, -4.264890793922825],
        [0.001, -3.090232306167813],
        [0.02, -2.053748910631823],
        [0.02425, -1.972961051311885],
        [0.025, -1.9599639845400545],
        [0.1, -1.2815515655446004],
        [0.3, -0.5244005127080409],
        [0.5, 0],
        [0.7, 0.5244005127080407],
        [0.9, 1.2815515655446004],
        [0.975, 1.959963984540054],
        [0.97575, 1.972961051311885],
        [0.98, 2.0537489106318225],
        [0.999, 3.090232306167813],
        [0.9999999999, 6.361340889697422],
    ];

    it("normalQuantile matches scipy's norm.ppf to 1e-9 (in fact to 1e-12) in the central region, both tails and at their borders", () => {
        for (const [p, expected] of PPF) close(normalQuantile(p), expected, 1e-12 * Math.max(1, Math.abs(expected)), `normalQuantile(${p})`);
    });

    it("normalQuantile inverts normalCdf, and is infinite at 0 and 1 and NaN outside", () => {
        for (let p = 0.0005; p < 1; p += 0.0123) close(normalCdf(normalQuantile(p)), p, 1e-15, `round trip at ${p}`);
        assert.equal(normalQuantile(0), -Infinity);
        assert.equal(normalQuantile(1), Infinity);
        for (const p of [-0.1, 1.1, NaN]) assert.ok(Number.isNaN(normalQuantile(p)), `normalQuantile(${p})`);
    });

    it("twoSidedCritical is the two-sided z of a confidence: 1.96 at 95%, 2.576 at 99%; a confidence outside (0, 1) is refused", () => {
        close(twoSidedCritical(0.95), 1.959963984540054, 1e-12, "95%");
        close(twoSidedCritical(0.99), 2.5758293035489004, 1e-12, "99%"); // scipy.stats.norm.ppf(0.995)
        assert.throws(() => twoSidedCritical(1), /confidence must be between 0 and 1, got 1/);
        assert.throws(() => twoSidedCritical(0), /confidence must be between 0 and 1/);
    });
});

describe("statistics: two proportions", () => {
    // z, pValue: statsmodels.stats.proportion.proportions_ztest([sB, sA], [nB, nA]) (pooled);
    // low, high: statsmodels.stats.proportion.confint_proportions_2indep(sB, nB, sA, nA, method="newcomb", compare="diff", alpha=1 - confidence)
    const CASES = [
        { a: [435, 790], b: [497, 812], confidence: 0.95, z: 2.4923026137867774, pValue: 0.012691785248802762, low: 0.013120586003745785, high: 0.10937052455073598 },
        { a: [100, 200], b: [90, 200], confidence: 0.99, z: -1.0012523486435176, pValue: 0.3167048239469191, low: -0.17527262530602572, high: 0.07753747472091993 },
        { a: [0, 10], b: [3, 10], confidence: 0.95, z: 1.8786728732554483, pValue: 0.060289173990602164, low: -0.03759243457905065, high: 0.6032218525388546 },
        { a: [50, 50], b: [45, 50], confidence: 0.95, z: -2.2941573387056162, pValue: 0.021781462791119557, low: -0.2136023143747965, high: -0.008975448080590101 },
        { a: [5500, 10000], b: [5600, 10000], confidence: 0.9, z: 1.4228479913605958, pValue: 0.1547802257068867, low: -0.0015600696723974735, high: 0.021556291343241718 },
        { a: [30, 60], b: [30, 60], confidence: 0.95, z: 0, pValue: 1, low: -0.17345295059769067, high: 0.17345295059769067 },
    ];

    it("z, p-value and Newcombe interval match statsmodels, including a side with no successes and a side with all", () => {
        for (const c of CASES) {
            const what = `${c.b[0]}/${c.b[1]} vs ${c.a[0]}/${c.a[1]} at ${c.confidence}`;
            const result = twoProportionTest(c.a[0], c.a[1], c.b[0], c.b[1], c.confidence);
            close(result.pA, c.a[0] / c.a[1], 1e-15, `${what} pA`);
            close(result.pB, c.b[0] / c.b[1], 1e-15, `${what} pB`);
            close(result.diff, c.b[0] / c.b[1] - c.a[0] / c.a[1], 1e-15, `${what} diff`);
            close(result.z, c.z, 1e-9, `${what} z`);
            close(result.pValue, c.pValue, 1e-9, `${what} p`);
            close(result.low, c.low, 1e-9, `${what} low`);
            close(result.high, c.high, 1e-9, `${what} high`);
        }
    });

    it("the interval keeps a width where the Wald interval would collapse: 0/20 vs 0/20 is not [0, 0]", () => {
        const result = twoProportionTest(0, 20, 0, 20, 0.95);
        assert.equal(result.diff, 0);
        assert.equal(result.z, 0, "no variance: equal rates");
        assert.equal(result.pValue, 1);
        assert.ok(result.low < -0.1 && result.high > 0.1, `[${result.low}, ${result.high}]`);
        close(result.low, -result.high, 1e-15, "symmetric");
    });

    it("no trials on a side: the rate is NaN, nothing is significant, the interval is all of [-1, 1]", () => {
        const result = twoProportionTest(0, 0, 7, 10, 0.95);
        assert.ok(Number.isNaN(result.pA) && Number.isNaN(result.diff));
        assert.equal(result.pB, 0.7);
        assert.deepEqual([result.z, result.pValue, result.low, result.high], [0, 1, -1, 1]);
    });

    it("complete separation (all successes vs none) is significant with an interval excluding 0", () => {
        const result = twoProportionTest(0, 40, 40, 40, 0.95);
        assert.equal(result.diff, 1);
        assert.ok(result.pValue < 1e-15, `p=${result.pValue}`);
        assert.ok(result.low > 0.8 && result.high === 1, `[${result.low}, ${result.high}]`);
    });

    it("impossible counts are refused with the counts named", () => {
        assert.throws(() => twoProportionTest(11, 10, 1, 10, 0.95), /A: 11 successes out of 10 trials/);
        assert.throws(() => twoProportionTest(1, 10, -1, 10, 0.95), /B: counts must be finite and not negative, got -1 of 10/);
    });

    it("fractional counts, as increase() gives them, are accepted and land between their integer neighbours", () => {
        const low = twoProportionTest(435, 790, 497, 812, 0.95).pValue;
        const high = twoProportionTest(435, 790, 498, 812, 0.95).pValue;
        const between = twoProportionTest(435, 790, 497.5, 812, 0.95).pValue;
        assert.ok(between < low && between > high, `${high} < ${between} < ${low}`);
    });
});

describe("statistics: Mann-Whitney on bucketed observations", () => {
    // u, pValue: scipy.stats.mannwhitneyu(B, A, method="asymptotic", use_continuity=False) on the expanded observations;
    // z: its sign from u - nA nB / 2 and its size from scipy.stats.norm.isf(pValue / 2);
    // meanRankA/B: scipy.stats.rankdata on A then B concatenated, averaged per sample;
    // low, high: the Hanley-McNeil formula evaluated in numpy on scipy's u (scipy has no such interval), z from norm.ppf(0.975).
    // ks: scipy.stats.ks_2samp(A, B).statistic; psi: numpy.sum(scipy.special.rel_entr(pB, pA) + rel_entr(pA, pB)) on the shares with 0 replaced by 1e-4.
    const CASES = {
        shift: {
            a: [5, 8, 12, 20, 25, 30, 28, 22, 15, 10, 5, 0],
            b: [2, 5, 9, 15, 22, 28, 32, 30, 24, 16, 9, 1],
            u: 20486.5,
            pValue: 0.0025435144893888057,
            z: 3.0181160889297733,
            meanRankA: 169.6861111111111,
            meanRankB: 203.1476683937824,
            low: 0.5322835125464862,
            high: 0.647135025162207,
            ks: 0.1358664363845711,
            psi: 0.12001803170770994,
        },
        small: {
            a: [1, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0],
            b: [0, 1, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0],
            u: 23.0,
            pValue: 0.135851702216604,
            z: 1.4914183162335244,
            meanRankA: 4.666666666666667,
            meanRankB: 7.6,
            low: 0.4667602811615303,
            high: 1,
            ks: 0.6,
            psi: 11.917174506327248,
        },
        separated: {
            a: [10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            b: [0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0],
            u: 70.0,
            pValue: 6.334248366623973e-5,
            z: 4.000000000000001,
            meanRankA: 5.5,
            meanRankB: 14.0,
            low: 1.0,
            high: 1,
            ks: 1.0,
            psi: 18.41883867587797,
        },
        identical: {
            a: [3, 5, 7, 9, 11, 9, 7, 5, 3, 1, 0, 0],
            b: [3, 5, 7, 9, 11, 9, 7, 5, 3, 1, 0, 0],
            u: 1800.0,
            pValue: 1.0,
            z: 0,
            meanRankA: 60.5,
            meanRankB: 60.5,
            low: 0.3962713077096843,
            high: 0.6037286922903157,
            ks: 0.0,
            psi: 0.0,
        },
        worse: {
            a: [0, 1, 2, 4, 8, 16, 30, 50, 60, 40, 20, 2],
            b: [4, 10, 20, 35, 45, 50, 40, 25, 12, 6, 2, 0],
            u: 9135.0,
            pValue: 2.958004491439922e-39,
            z: -13.108130462585148,
            meanRankA: 326.79399141630904,
            meanRankB: 161.6867469879518,
            low: 0.1216469798253199,
            high: 0.19326071964207758,
            ks: 0.5574745333264388,
            psi: 1.9225134454698052,
        },
    };

    for (const [name, c] of Object.entries(CASES)) {
        it(`${name}: U, tie-corrected z and p, mean ranks and the Hanley-McNeil interval match scipy`, () => {
            const result = mannWhitney(rewards(c.a), rewards(c.b), 0.95);
            const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
            assert.equal(result.nA, sum(c.a));
            assert.equal(result.nB, sum(c.b));
            close(result.u, c.u, 1e-9, "u");
            close(result.z, c.z, 1e-9, "z");
            relativelyClose(result.pValue, c.pValue, 1e-9, "p");
            close(result.probabilityOfSuperiority, c.u / (result.nA * result.nB), 1e-15, "probability of superiority");
            close(result.meanRankA, c.meanRankA, 1e-9, "mean rank A");
            close(result.meanRankB, c.meanRankB, 1e-9, "mean rank B");
            close(result.low, c.low, 1e-9, "low");
            close(result.high, c.high, 1e-9, "high");
        });

        it(`${name}: KS distance and PSI match scipy`, () => {
            close(ks(rewards(c.a), rewards(c.b)), c.ks, 1e-12, "ks");
            close(psi(rewards(c.a), rewards(c.b)), c.psi, 1e-9, "psi");
        });
    }

    it("swapping the samples mirrors the result: z changes sign, the probability of superiority becomes its complement, p stays", () => {
        const forward = mannWhitney(rewards(CASES.shift.a), rewards(CASES.shift.b), 0.95);
        const backward = mannWhitney(rewards(CASES.shift.b), rewards(CASES.shift.a), 0.95);
        close(backward.z, -forward.z, 1e-12, "z");
        close(backward.probabilityOfSuperiority, 1 - forward.probabilityOfSuperiority, 1e-15, "probability");
        close(backward.pValue, forward.pValue, 1e-15, "p");
    });

    it("all observations tied in one bucket: no variance, so z 0 and p 1 (scipy answers NaN), the probability of superiority exactly 0.5", () => {
        // scipy.stats.mannwhitneyu(30 x 0.5, 20 x 0.5, method="asymptotic", use_continuity=False) -> statistic 300.0, pvalue nan
        const a = rewards([0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0]);
        const b = rewards([0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0]);
        const result = mannWhitney(a, b, 0.95);
        assert.equal(result.u, 300);
        assert.deepEqual([result.z, result.pValue, result.probabilityOfSuperiority], [0, 1, 0.5]);
        assert.equal(ks(a, b), 0); // scipy.stats.ks_2samp -> 0.0
        assert.equal(psi(a, b), 0);
    });

    it("an empty sample: nothing is significant, the probability of superiority is NaN and its interval all of [0, 1]", () => {
        const result = mannWhitney(rewards(new Array<number>(12).fill(0)), rewards(CASES.shift.b), 0.95);
        assert.equal(result.nA, 0);
        assert.deepEqual([result.u, result.z, result.pValue, result.low, result.high], [0, 0, 1, 0, 1]);
        assert.ok(Number.isNaN(result.probabilityOfSuperiority) && Number.isNaN(result.meanRankA));
        close(result.meanRankB, (result.nB + 1) / 2, 1e-12, "B alone: the mean of 1..nB");
    });

    it("a higher confidence widens the interval around the same estimate", () => {
        const at95 = mannWhitney(rewards(CASES.shift.a), rewards(CASES.shift.b), 0.95);
        const at99 = mannWhitney(rewards(CASES.shift.a), rewards(CASES.shift.b), 0.99);
        assert.equal(at99.probabilityOfSuperiority, at95.probabilityOfSuperiority);
        assert.ok(at99.low < at95.low && at99.high > at95.high);
    });

    it("histograms of different buckets, or malformed ones, are refused with the reason", () => {
        const other: Histogram = { upperBounds: [0.5, 1, Infinity], counts: [1, 2, 3] };
        assert.throws(() => mannWhitney(rewards(CASES.shift.a), other, 0.95), /mannWhitney: the histograms have different buckets .*compare the same metric/);
        assert.throws(() => ks(other, { upperBounds: [0.5, 1, Infinity], counts: [1, 2] }), /ks: histogram B has 3 bounds but 2 counts/);
        assert.throws(() => psi({ upperBounds: [1, 0.5, Infinity], counts: [1, 2, 3] }, other), /psi: histogram A's bounds are not strictly ascending: 1, 0.5, Infinity/);
        assert.throws(() => psi(other, { upperBounds: [0.5, 1, Infinity], counts: [1, -2, 3] }), /psi: histogram B has a negative or non-finite count/);
    });
});

describe("statistics: PSI and KS", () => {
    it("identical shares give PSI 0 and KS 0 whatever the sample sizes", () => {
        const a = rewards([1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        const b = rewards([10, 20, 30, 40, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert.equal(psi(a, b), 0);
        assert.equal(ks(a, b), 0);
    });

    it("an empty bucket on one side counts as a share of PSI_EPSILON (1e-4): one observation moved into it gives the hand-computed PSI", () => {
        assert.equal(PSI_EPSILON, 1e-4);
        const a: Histogram = { upperBounds: [0.5, Infinity], counts: [10, 0] };
        const b: Histogram = { upperBounds: [0.5, Infinity], counts: [9, 1] };
        const expected = (0.9 - 1) * Math.log(0.9 / 1) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
        close(psi(a, b), expected, 1e-15, "psi");
        assert.ok(Number.isFinite(psi(a, { upperBounds: [0.5, Infinity], counts: [0, 10] })), "complete separation stays finite");
    });

    it("PSI is symmetric; KS of complete separation is 1", () => {
        const a = rewards([5, 8, 12, 20, 25, 30, 28, 22, 15, 10, 5, 0]);
        const b = rewards([2, 5, 9, 15, 22, 28, 32, 30, 24, 16, 9, 1]);
        close(psi(a, b), psi(b, a), 1e-15, "symmetry");
        assert.equal(ks({ upperBounds: [0.5, Infinity], counts: [4, 0] }, { upperBounds: [0.5, Infinity], counts: [0, 9] }), 1);
    });

    it("no observations on a side: PSI and KS are NaN, not 0 (no data is not a match)", () => {
        const empty = rewards(new Array<number>(12).fill(0));
        const some = rewards([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert.ok(Number.isNaN(psi(empty, some)) && Number.isNaN(ks(some, empty)) && Number.isNaN(ks(empty, empty)));
    });
});

describe("statistics: Prometheus cumulative buckets", () => {
    it("le -> cumulative count becomes counts per bucket, ordered by bound whatever the answer's order, +Inf last", () => {
        const histogram = histogramFromCumulative([
            { le: "+Inf", count: 12 },
            { le: "0.5", count: 7 },
            { le: "0.1", count: 2 },
            { le: "1", count: 10 },
        ]);
        assert.deepEqual(histogram, { upperBounds: [0.1, 0.5, 1, Infinity], counts: [2, 5, 3, 2] });
    });

    it("accepts numeric bounds and Prometheus' spellings of infinity, and a query with no series is an empty histogram", () => {
        assert.deepEqual(
            histogramFromCumulative([
                { le: 0, count: 1 },
                { le: "Inf", count: 1 },
            ]).counts,
            [1, 0],
        );
        assert.deepEqual(histogramFromCumulative([{ le: Infinity, count: 3 }]), { upperBounds: [Infinity], counts: [3] });
        assert.deepEqual(histogramFromCumulative([]), { upperBounds: [], counts: [] });
    });

    it("rounding noise of increase() below a billionth is counted as 0, a real decrease is refused with the bounds named", () => {
        const noisy = histogramFromCumulative([
            { le: "0.5", count: 100.00000000001 },
            { le: "+Inf", count: 100 },
        ]);
        assert.deepEqual(noisy.counts, [100.00000000001, 0]);
        assert.throws(
            () =>
                histogramFromCumulative([
                    { le: "0.1", count: 5 },
                    { le: "0.5", count: 4 },
                    { le: "+Inf", count: 9 },
                ]),
            /histogram buckets are not cumulative: le="0.5" counts 4, fewer than 5 at the bound below it/,
        );
    });

    it("a missing +Inf bucket, a bound twice, a bound or count that is not a number are refused with the bucket named", () => {
        assert.throws(() => histogramFromCumulative([{ le: "1", count: 4 }]), /no le="\+Inf" bucket, so its total is unknown \(highest bound 1\)/);
        assert.throws(
            () =>
                histogramFromCumulative([
                    { le: "1", count: 4 },
                    { le: "1.0", count: 4 },
                    { le: "+Inf", count: 4 },
                ]),
            /le="1" appears twice/,
        );
        assert.throws(() => histogramFromCumulative([{ le: "abc", count: 4 }]), /le="abc" is not a number/);
        assert.throws(() => histogramFromCumulative([{ le: "+Inf", count: NaN }]), /le="\+Inf" has count NaN/);
    });

    it("its output feeds the comparisons directly: the same cumulative series twice is KS 0, PSI 0 and p 1", () => {
        const series = [
            { le: "0.25", count: 3 },
            { le: "0.5", count: 9 },
            { le: "0.75", count: 20 },
            { le: "+Inf", count: 25 },
        ];
        const histogram = histogramFromCumulative(series);
        assert.equal(ks(histogram, histogram), 0);
        assert.equal(psi(histogram, histogram), 0);
        assert.equal(mannWhitney(histogram, histogram, 0.95).pValue, 1);
    });
});
