/**
 * The shadow comparison's judgement: the candidate answers mirrored copies of stable's requests,
 * and the two answers to the same request are paired on the candidate (keyed by the request id).
 * It judges the share of pairs on which both give the same class at the decision threshold, and
 * how far apart the two versions' score distributions are (PSI and KS). Latencies and the copies
 * that never found their partner are reported, not judged: latency is the infrastructure
 * templates' business, and copies are lost or late by design (the comparison never delays a
 * client), so the counts only tell how much of the traffic the numbers rest on. Pure.
 */
import type { ShadowAnalysis } from "../config/analysis";
import { ks, psi, type Histogram } from "./statistics";
import type { Finding, Judgement } from "./types";

export interface ShadowSample {
    /** Requests answered by both versions and paired (modelship_shadow_pairs_total over the window). */
    pairs: number;
    /** Pairs on which both versions gave the same class (modelship_shadow_agreements_total). */
    agreements: number;
    /** stable: stable's reports that found no candidate answer in time; candidate: candidate answers no report arrived for (modelship_shadow_unpaired_total{side}). */
    unpaired: { stable: number; candidate: number };
    /** Each version's modelship_prediction_score histogram over the window, on the same buckets. */
    scores: { stable: Histogram; candidate: Histogram };
    /** Each version's p95 latency in ms, where known. */
    p95Ms: { stable?: number; candidate?: number };
}

const NAME = "shadow";

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
const ms = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? "n/a" : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);
const count = (n: number): string => String(Math.round(n));
const total = (h: Histogram): number => h.counts.reduce((sum, c) => sum + c, 0);

function checkCounts(sample: ShadowSample): void {
    const counts = { pairs: sample.pairs, agreements: sample.agreements, "unpaired stable": sample.unpaired.stable, "unpaired candidate": sample.unpaired.candidate };
    for (const [name, value] of Object.entries(counts)) {
        if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`judgeShadow: ${name} must be a finite count, got ${value}`);
    }
}

/** The line on what the numbers rest on: both latencies, and the copies that found no partner with their share. */
function pairingLine(sample: ShadowSample): string {
    const reports = sample.pairs + sample.unpaired.stable;
    const answers = sample.pairs + sample.unpaired.candidate;
    const share = (part: number, whole: number) => (whole > 0 ? ` (${percent(part / whole)})` : "");
    return (
        `shadow: p95 latency candidate ${ms(sample.p95Ms.candidate)} vs stable ${ms(sample.p95Ms.stable)}; ` +
        `${count(sample.unpaired.stable)} of stable's reports${share(sample.unpaired.stable, reports)} and ${count(sample.unpaired.candidate)} of the candidate's answers${share(sample.unpaired.candidate, answers)} found no partner`
    );
}

/**
 * Judges a shadow rollout. HOLD while fewer than minPairs requests were paired (saying how many),
 * or while a version has no score observations (the distributions cannot be compared, unless the
 * agreement already fails); ROLLBACK, as a quality failure, when the agreement is below
 * minAgreement or the PSI above maxPsi or the KS distance above maxKs; PROMOTE otherwise. No
 * copies at all is a HOLD with nothing measured. Counters read with increase() may put the
 * agreements a hair above the pairs; the rate is capped at 100%.
 */
export function judgeShadow(config: ShadowAnalysis, sample: ShadowSample): Judgement {
    checkCounts(sample);
    const stableScores = total(sample.scores.stable);
    const candidateScores = total(sample.scores.candidate);
    if (sample.pairs === 0 && sample.unpaired.stable === 0 && sample.unpaired.candidate === 0 && stableScores === 0 && candidateScores === 0) {
        return { decision: "hold", reasons: [`shadow: no mirrored requests compared yet (${config.minPairs} pairs needed)`] };
    }
    const agreementRate = sample.pairs > 0 ? Math.min(1, sample.agreements / sample.pairs) : NaN;
    const values: Record<string, number> = {
        pairs: sample.pairs,
        agreements: sample.agreements,
        minPairs: config.minPairs,
        minAgreement: config.minAgreement,
        maxPsi: config.maxPsi,
        maxKs: config.maxKs,
        unpairedStable: sample.unpaired.stable,
        unpairedCandidate: sample.unpaired.candidate,
        stableScores,
        candidateScores,
    };
    if (sample.pairs + sample.unpaired.stable > 0) values.unpairedStableShare = sample.unpaired.stable / (sample.pairs + sample.unpaired.stable);
    if (sample.pairs + sample.unpaired.candidate > 0) values.unpairedCandidateShare = sample.unpaired.candidate / (sample.pairs + sample.unpaired.candidate);
    if (sample.p95Ms.stable !== undefined) values.stableP95Ms = sample.p95Ms.stable;
    if (sample.p95Ms.candidate !== undefined) values.candidateP95Ms = sample.p95Ms.candidate;
    const pairing = pairingLine(sample);

    if (sample.pairs < config.minPairs) {
        const soFar = sample.pairs > 0 ? ` (agreement so far ${percent(agreementRate)})` : "";
        const reason = `shadow: ${count(sample.pairs)} paired requests, ${config.minPairs} needed before the comparison decides${soFar}`;
        return { decision: "hold", reasons: [reason, pairing], findings: [{ name: NAME, kind: "quality", outcome: "inconclusive", reason, values }] };
    }

    values.agreementRate = agreementRate;
    const comparable = stableScores > 0 && candidateScores > 0;
    const distance = comparable ? { psi: psi(sample.scores.stable, sample.scores.candidate), ks: ks(sample.scores.stable, sample.scores.candidate) } : undefined;
    if (distance) Object.assign(values, distance);

    const failures: string[] = [];
    if (agreementRate < config.minAgreement) failures.push(`agreement below ${percent(config.minAgreement)}`);
    if (distance && distance.psi > config.maxPsi) failures.push(`PSI above ${config.maxPsi}`);
    if (distance && distance.ks > config.maxKs) failures.push(`KS above ${config.maxKs}`);

    const distances = distance
        ? `PSI ${distance.psi.toFixed(3)} (max ${config.maxPsi}), KS ${distance.ks.toFixed(3)} (max ${config.maxKs})`
        : `no score distribution to compare (${count(candidateScores)} candidate scores, ${count(stableScores)} stable scores)`;
    const measured = `shadow: candidate agrees with stable on ${percent(agreementRate)} of ${count(sample.pairs)} paired requests (min ${percent(config.minAgreement)}), ${distances}`;

    let outcome: Finding["outcome"];
    let reason: string;
    if (failures.length > 0) {
        outcome = "fail";
        reason = `${measured}: ${failures.join(", ")}`;
    } else if (!distance) {
        outcome = "inconclusive";
        reason = `${measured}: the distributions cannot be compared yet`;
    } else {
        outcome = "pass";
        reason = `${measured}: the outputs match`;
    }
    const decision = outcome === "fail" ? "rollback" : outcome === "pass" ? "promote" : "hold";
    return {
        decision,
        reasons: [reason, pairing],
        findings: [{ name: NAME, kind: "quality", outcome, reason, values }],
        ...(decision === "rollback" ? { failedKind: "quality" as const } : {}),
    };
}
