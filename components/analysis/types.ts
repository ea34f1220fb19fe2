/**
 * What every analysis returns, whatever it judged (metric templates, an A/B test, a shadow
 * comparison, a webhook): a decision, the findings behind it with their numbers, and the kind of
 * cause where it failed. Pure.
 *
 *   promote  - enough evidence, and the candidate passes everything;
 *   hold     - not enough to decide: no data, too few samples, inconclusive, or a shared cause.
 *              No data is never taken as healthy;
 *   rollback - the candidate fails: `kind` says whether the deployment is broken
 *              (infrastructure: `auto` rolls back by itself) or the model is in doubt
 *              (quality: `auto` pauses for a person by default).
 */
import type { MetricKind } from "../config/analysis";

export type Decision = "promote" | "hold" | "rollback";

export interface Finding {
    /** What was measured: a template's name, "ab-test", "shadow", a webhook's name. */
    name: string;
    kind: MetricKind;
    /** How this one finding came out on its own. */
    outcome: "pass" | "fail" | "inconclusive";
    /** One line, with the numbers. */
    reason: string;
    /** The figures behind the line, for notifications and update messages. */
    values?: Readonly<Record<string, number>>;
}

export interface Judgement {
    decision: Decision;
    /** Why, with the numbers: one line each. */
    reasons: string[];
    /** Each thing judged; absent on judgements with nothing measured (no data at all). */
    findings?: Finding[];
    /** On rollback: infrastructure when any infrastructure finding failed, else quality. */
    failedKind?: MetricKind;
}
