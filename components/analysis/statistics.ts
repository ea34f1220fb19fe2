/**
 * The statistics the A/B test and the shadow comparison decide by, on what Prometheus keeps:
 * counters (successes out of trials) and histograms (observations per bucket, the values inside a
 * bucket unknown). Pure, no dependencies; each function is checked against scipy/statsmodels in
 * test/unit/analysis/statistics.test.ts.
 *
 * Direction: every two-sample function compares B with A ("does B beat A"); a positive
 * difference, a z above 0 or a probability of superiority above 0.5 favour B. The A/B judgement
 * passes stable as A and the candidate as B.
 */

/** Observations per bucket (not cumulative): counts[i] fell in (upperBounds[i-1], upperBounds[i]]. The last bound may be Infinity. */
export interface Histogram {
    readonly upperBounds: readonly number[];
    readonly counts: readonly number[];
}

// W. J. Cody's rational Chebyshev approximations (ACM TOMS algorithm 715), the ones R's pnorm
// uses: relative accuracy near double precision over the whole range, tails included, which the
// quantile's refinement step and tiny p-values rely on (an erf-series form loses the tail).
// The published coefficients are written as the doubles they round to.
const CODY_A = [2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745];
const CODY_B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const CODY_C = [0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726, 6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8];
const CODY_D = [22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097, 34900.95272114598, 38912.00328609327, 19685.429676859992];
const CODY_P = [0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 0.000029112874951168793, 0.023073441764940174];
const CODY_Q = [1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 0.00007297515550839662];
const ONE_OVER_SQRT_2PI = 0.3989422804014327;
const SQRT_32 = 5.656854249492381;

/** exp(-y²/2) * factor, with y² split so the exponent is exact for large y (Cody's "del"). */
function gaussianTail(y: number, factor: number): number {
    const ySquaredPart = Math.trunc(y * 16) / 16;
    const del = (y - ySquaredPart) * (y + ySquaredPart);
    return Math.exp(-ySquaredPart * ySquaredPart * 0.5) * Math.exp(-del * 0.5) * factor;
}

/** P(Z <= x) for a standard normal Z. */
export function normalCdf(x: number): number {
    if (Number.isNaN(x)) return NaN;
    const y = Math.abs(x);
    if (y <= 0.67448975) {
        let numerator = 0;
        let denominator = 0;
        if (y > 1.11e-16) {
            const xsq = x * x;
            numerator = CODY_A[4] * xsq;
            denominator = xsq;
            for (let i = 0; i < 3; i++) {
                numerator = (numerator + CODY_A[i]) * xsq;
                denominator = (denominator + CODY_B[i]) * xsq;
            }
        }
        return 0.5 + (x * (numerator + CODY_A[3])) / (denominator + CODY_B[3]);
    }
    // Below, `lower` is P(Z <= -y); the upper half follows by symmetry.
    let lower: number;
    if (y <= SQRT_32) {
        let numerator = CODY_C[8] * y;
        let denominator = y;
        for (let i = 0; i < 7; i++) {
            numerator = (numerator + CODY_C[i]) * y;
            denominator = (denominator + CODY_D[i]) * y;
        }
        lower = gaussianTail(y, (numerator + CODY_C[7]) / (denominator + CODY_D[7]));
    } else if (y < 37.5193) {
        const xsq = 1 / (y * y);
        let numerator = CODY_P[5] * xsq;
        let denominator = xsq;
        for (let i = 0; i < 4; i++) {
            numerator = (numerator + CODY_P[i]) * xsq;
            denominator = (denominator + CODY_Q[i]) * xsq;
        }
        const ratio = (xsq * (numerator + CODY_P[4])) / (denominator + CODY_Q[4]);
        lower = gaussianTail(y, (ONE_OVER_SQRT_2PI - ratio) / y);
    } else {
        lower = 0;
    }
    return x > 0 ? 1 - lower : lower;
}

// Peter Acklam's rational approximation of the normal quantile (relative error below 1.15e-9),
// then one Halley step against normalCdf, which brings it to about double precision.
const ACKLAM_A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const ACKLAM_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const ACKLAM_C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW = 0.02425;

/** The x with normalCdf(x) = p: -Infinity at 0, Infinity at 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
    if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    // Only the lower half is computed: for p >= 0.5, 1 - p is exact, so symmetry loses nothing.
    if (p > 0.5) return -normalQuantile(1 - p);
    let x: number;
    if (p < ACKLAM_LOW) {
        const q = Math.sqrt(-2 * Math.log(p));
        const [c0, c1, c2, c3, c4, c5] = ACKLAM_C;
        const [d0, d1, d2, d3] = ACKLAM_D;
        x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
    } else {
        const q = p - 0.5;
        const r = q * q;
        const [a0, a1, a2, a3, a4, a5] = ACKLAM_A;
        const [b0, b1, b2, b3, b4] = ACKLAM_B;
        x = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
    }
    const e = normalCdf(x) - p;
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    return x - u / (1 + (x * u) / 2);
}

/** The z with P(|Z| <= z) = confidence, e.g. 1.96 for 0.95. */
export function twoSidedCritical(confidence: number): number {
    if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1, got ${confidence}`);
    return normalQuantile(0.5 + confidence / 2);
}

/** Two-sided p-value of a standard normal statistic, from the lower tail so that tiny values keep their precision. */
function twoSidedP(z: number): number {
    return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

export interface ProportionTest {
    /** successA / totalA; NaN when totalA is 0. */
    pA: number;
    pB: number;
    /** pB - pA. */
    diff: number;
    /** Newcombe's hybrid score interval for pB - pA at the confidence (within [-1, 1]). */
    low: number;
    high: number;
    /** Pooled two-proportion z statistic; positive when B's rate is higher. */
    z: number;
    /** Two-sided p-value of z. */
    pValue: number;
}

function checkCount(what: string, successes: number, total: number): void {
    if (!(Number.isFinite(successes) && Number.isFinite(total) && successes >= 0 && total >= 0)) throw new RangeError(`${what}: counts must be finite and not negative, got ${successes} of ${total}`);
    if (successes > total) throw new RangeError(`${what}: ${successes} successes out of ${total} trials`);
}

/** Wilson's score interval for a proportion; [0, 1] when there are no trials. */
function wilson(successes: number, total: number, z: number): [number, number] {
    if (total === 0) return [0, 1];
    const p = successes / total;
    const z2 = z * z;
    const denominator = 1 + z2 / total;
    const centre = (p + z2 / (2 * total)) / denominator;
    const half = (z / denominator) * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total));
    return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Compares B's success rate with A's. The p-value is the pooled z-test's (the textbook test, and
 * what statsmodels' proportions_ztest computes); the interval is Newcombe's hybrid score interval
 * (his method 10), chosen over the Wald interval because it keeps a sensible width near 0% and
 * 100% and at small n, where the Wald interval collapses to a point. Counts may be fractional
 * (Prometheus' increase() extrapolates). With no trials on a side the rate is NaN, z 0, p 1 and the
 * interval [-1, 1]: nothing was learned. When both sides are all successes or all failures the
 * pooled variance is 0: z is 0 and p is 1, since the rates are equal.
 */
export function twoProportionTest(successA: number, totalA: number, successB: number, totalB: number, confidence: number): ProportionTest {
    checkCount("A", successA, totalA);
    checkCount("B", successB, totalB);
    const critical = twoSidedCritical(confidence);
    const pA = totalA === 0 ? NaN : successA / totalA;
    const pB = totalB === 0 ? NaN : successB / totalB;
    if (totalA === 0 || totalB === 0) return { pA, pB, diff: NaN, low: -1, high: 1, z: 0, pValue: 1 };
    const diff = pB - pA;
    const [lowA, highA] = wilson(successA, totalA, critical);
    const [lowB, highB] = wilson(successB, totalB, critical);
    const low = Math.max(-1, diff - Math.sqrt((pB - lowB) ** 2 + (highA - pA) ** 2));
    const high = Math.min(1, diff + Math.sqrt((highB - pB) ** 2 + (pA - lowA) ** 2));
    const pooled = (successA + successB) / (totalA + totalB);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / totalA + 1 / totalB));
    const z = se > 0 ? diff / se : 0;
    return { pA, pB, diff, low, high, z, pValue: se > 0 ? twoSidedP(z) : 1 };
}

function total(h: Histogram): number {
    return h.counts.reduce((sum, c) => sum + c, 0);
}

/** Two histograms are comparable bucket by bucket only when they share their bounds. */
function checkPair(what: string, a: Histogram, b: Histogram): void {
    for (const [name, h] of [
        ["A", a],
        ["B", b],
    ] as const) {
        if (h.upperBounds.length !== h.counts.length) throw new RangeError(`${what}: histogram ${name} has ${h.upperBounds.length} bounds but ${h.counts.length} counts`);
        if (h.counts.some((c) => !(Number.isFinite(c) && c >= 0))) throw new RangeError(`${what}: histogram ${name} has a negative or non-finite count`);
        if (h.upperBounds.some((bound, i) => Number.isNaN(bound) || (i > 0 && bound <= h.upperBounds[i - 1])))
            throw new RangeError(`${what}: histogram ${name}'s bounds are not strictly ascending: ${h.upperBounds.join(", ")}`);
    }
    if (a.upperBounds.length !== b.upperBounds.length || a.upperBounds.some((bound, i) => bound !== b.upperBounds[i])) {
        throw new RangeError(`${what}: the histograms have different buckets (${a.upperBounds.join(", ")} vs ${b.upperBounds.join(", ")}); compare the same metric`);
    }
}

export interface MannWhitneyResult {
    /** B's U: pairs (a, b) with b > a, plus half the ties. */
    u: number;
    /** Tie-corrected z of u, without continuity correction; positive when B tends higher. */
    z: number;
    /** Two-sided p-value of z. */
    pValue: number;
    /** u / (nA nB): P(b > a) + P(b = a) / 2 for a random pair, the common-language effect size (the AUC); NaN with no observations on a side. */
    probabilityOfSuperiority: number;
    /** Hanley and McNeil's interval for probabilityOfSuperiority at the confidence, within [0, 1]. */
    low: number;
    high: number;
    /** The mean rank of each sample in the pooled ranking (ties get their mid-rank); NaN when empty. */
    meanRankA: number;
    meanRankB: number;
    nA: number;
    nB: number;
}

/**
 * The Mann-Whitney U test of B against A on two histograms of the same buckets. The value of an
 * observation is only known to its bucket, so observations in the same bucket are ties: they share
 * a mid-rank and the variance carries the tie correction, which is what scipy's mannwhitneyu
 * (method="asymptotic", use_continuity=False) gives on the observations expanded to their buckets'
 * bounds. The interval for the probability of superiority is Hanley and McNeil's (1982); it
 * collapses to a point at 0 or 1 (complete separation), where the test's p-value carries the
 * uncertainty. With an empty side, or every observation in one bucket (no variance), z is 0 and p 1.
 */
export function mannWhitney(a: Histogram, b: Histogram, confidence: number): MannWhitneyResult {
    checkPair("mannWhitney", a, b);
    const critical = twoSidedCritical(confidence);
    const nA = total(a);
    const nB = total(b);
    const n = nA + nB;
    let u = 0;
    let rankSumA = 0;
    let rankSumB = 0;
    let ties = 0;
    let below = 0;
    let belowA = 0;
    for (let i = 0; i < a.counts.length; i++) {
        const inA = a.counts[i];
        const inB = b.counts[i];
        const t = inA + inB;
        const midRank = below + (t + 1) / 2;
        rankSumA += inA * midRank;
        rankSumB += inB * midRank;
        u += inB * (belowA + inA / 2);
        ties += t * t * t - t;
        below += t;
        belowA += inA;
    }
    const meanRankA = nA > 0 ? rankSumA / nA : NaN;
    const meanRankB = nB > 0 ? rankSumB / nB : NaN;
    if (nA === 0 || nB === 0) return { u: 0, z: 0, pValue: 1, probabilityOfSuperiority: NaN, low: 0, high: 1, meanRankA, meanRankB, nA, nB };
    const variance = ((nA * nB) / 12) * (n + 1 - ties / (n * (n - 1)));
    const z = variance > 0 ? (u - (nA * nB) / 2) / Math.sqrt(variance) : 0;
    const theta = u / (nA * nB);
    // Hanley-McNeil with B as the group whose superiority is measured: q1 is the chance that two
    // B observations both beat one A, q2 that one B beats two As, under their exponential model.
    const q1 = theta / (2 - theta);
    const q2 = (2 * theta * theta) / (1 + theta);
    const se = Math.sqrt(Math.max(0, (theta * (1 - theta) + (nB - 1) * (q1 - theta * theta) + (nA - 1) * (q2 - theta * theta)) / (nA * nB)));
    return {
        u,
        z,
        pValue: variance > 0 ? twoSidedP(z) : 1,
        probabilityOfSuperiority: theta,
        low: Math.max(0, theta - critical * se),
        high: Math.min(1, theta + critical * se),
        meanRankA,
        meanRankB,
        nA,
        nB,
    };
}

/** The share standing in for an empty bucket's share in psi, where a 0 would make the logarithm infinite. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index of B against A: the sum over buckets of (b - a) ln(b / a) on the
 * buckets' shares, a share of 0 replaced by PSI_EPSILON (0.0001); a bucket empty on both sides adds
 * nothing. 0 for identical distributions; by the usual reading, below 0.1 is stable and above 0.25
 * a shift. NaN when either histogram has no observations.
 */
export function psi(a: Histogram, b: Histogram): number {
    checkPair("psi", a, b);
    const nA = total(a);
    const nB = total(b);
    if (nA === 0 || nB === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < a.counts.length; i++) {
        const shareA = a.counts[i] / nA || PSI_EPSILON;
        const shareB = b.counts[i] / nB || PSI_EPSILON;
        sum += (shareB - shareA) * Math.log(shareB / shareA);
    }
    return sum;
}

/**
 * Kolmogorov-Smirnov distance: the largest gap between the two empirical CDFs, taken at the
 * bucket bounds (the only points where both are known), so it equals scipy's ks_2samp statistic on
 * the observations expanded to their bounds. NaN when either histogram has no observations.
 */
export function ks(a: Histogram, b: Histogram): number {
    checkPair("ks", a, b);
    const nA = total(a);
    const nB = total(b);
    if (nA === 0 || nB === 0) return NaN;
    let cumulativeA = 0;
    let cumulativeB = 0;
    let distance = 0;
    for (let i = 0; i < a.counts.length; i++) {
        cumulativeA += a.counts[i];
        cumulativeB += b.counts[i];
        distance = Math.max(distance, Math.abs(cumulativeA / nA - cumulativeB / nB));
    }
    return distance;
}

/** One Prometheus histogram bucket: `le` as Prometheus writes it ("0.05", "+Inf") or as a number, and the cumulative count. */
export interface CumulativeBucket {
    le: string | number;
    count: number;
}

function parseLe(le: string | number): number {
    if (typeof le === "number") return le;
    const trimmed = le.trim();
    if (/^\+?inf(inity)?$/i.test(trimmed)) return Infinity;
    return trimmed === "" ? NaN : Number(trimmed);
}

/**
 * Turns Prometheus' cumulative buckets (`le` -> observations at or below it, "+Inf" holding the
 * total) into a Histogram of counts per bucket, ordered by bound whatever order the query answered
 * in. No buckets at all (a query with no series) is an empty histogram. Errors name the fault: a
 * bound that is not a number, a bound twice, no "+Inf" bucket (the total would be unknown), or a
 * count below the one before it; a decrease of less than a billionth is taken as the rounding of
 * increase()'s extrapolation and counted as 0.
 */
export function histogramFromCumulative(buckets: readonly CumulativeBucket[]): Histogram {
    if (buckets.length === 0) return { upperBounds: [], counts: [] };
    const parsed = buckets.map(({ le, count }) => {
        const bound = parseLe(le);
        if (Number.isNaN(bound)) throw new RangeError(`histogram bucket le="${le}" is not a number`);
        if (!(Number.isFinite(count) && count >= 0)) throw new RangeError(`histogram bucket le="${le}" has count ${count}: counts must be finite and not negative`);
        return { bound, count };
    });
    parsed.sort((x, y) => x.bound - y.bound);
    const upperBounds: number[] = [];
    const counts: number[] = [];
    let previous = 0;
    for (const [i, { bound, count }] of parsed.entries()) {
        if (i > 0 && bound === parsed[i - 1].bound) throw new RangeError(`histogram bucket le="${bound}" appears twice`);
        if (count < previous - 1e-9 * Math.max(1, previous)) {
            throw new RangeError(`histogram buckets are not cumulative: le="${bound}" counts ${count}, fewer than ${previous} at the bound below it`);
        }
        upperBounds.push(bound);
        counts.push(Math.max(0, count - previous));
        previous = Math.max(previous, count);
    }
    if (upperBounds[upperBounds.length - 1] !== Infinity) throw new RangeError(`histogram has no le="+Inf" bucket, so its total is unknown (highest bound ${upperBounds[upperBounds.length - 1]})`);
    return { upperBounds, counts };
}
