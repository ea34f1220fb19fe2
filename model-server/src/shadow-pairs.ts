/**
 * The candidate side of a shadow comparison. The candidate keeps its own answers to requests that
 * carried X-Request-Id (the router's id, the same on the mirrored copy as on the original), and
 * stable pushes its answers to POST /v2/models/{name}/shadow/answers. Whichever of the two answers
 * to one request id arrives first waits for the other, up to MODELSHIP_SHADOW_PAIR_TTL_MS: a pair
 * counts in modelship_shadow_pairs_total, and in modelship_shadow_agreements_total when every row
 * falls in the same class at the decision threshold. An answer that waits in vain (its mirrored
 * copy was lost, or stable's report was) counts in modelship_shadow_unpaired_total{side}.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { ExpiringMap } from "./expiring-map";
import { DURATION_BUCKETS } from "./metrics";
import { describe } from "./model";
import { ProtocolError } from "./protocol";
import { classesOf, MAX_REQUEST_ID_LENGTH } from "./request-ids";
import type { ShadowAnswer } from "./shadow-reports";

/** Per side: answers waiting for their other half. Past this the oldest counts as unpaired. */
export const MAX_WAITING = 100_000;
/** Per side: rows over all waiting answers, since one answer may have many thousands. */
export const MAX_WAITING_ROWS = 1_000_000;
/** Per push: twice the batch stable sends. */
export const MAX_ANSWERS_PER_PUSH = 1000;

export type Side = "stable" | "candidate";

/** A push body {"answers": [{"id", "outputs": [numbers], "ms"}]} to answers, or a 400 naming the field. */
export function parseShadowAnswers(body: unknown): ShadowAnswer[] {
    const answers = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).answers : undefined;
    if (!Array.isArray(answers)) throw new ProtocolError(400, `the body must be {"answers": [{"id", "outputs", "ms"}, ...]}, got ${describe(body)}`);
    if (answers.length > MAX_ANSWERS_PER_PUSH) throw new ProtocolError(400, `answers has ${answers.length} entries: expected at most ${MAX_ANSWERS_PER_PUSH} per push`);
    return answers.map((answer: unknown, i: number) => {
        if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw new ProtocolError(400, `answers[${i}] is ${describe(answer)}: expected {"id", "outputs", "ms"}`);
        const { id, outputs, ms } = answer as Record<string, unknown>;
        if (typeof id !== "string" || id === "" || id.length > MAX_REQUEST_ID_LENGTH)
            throw new ProtocolError(400, `answers[${i}].id is ${describe(id)}: expected a request id of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
        if (!Array.isArray(outputs) || outputs.length === 0 || !outputs.every((p) => typeof p === "number" && Number.isFinite(p))) {
            throw new ProtocolError(400, `answers[${i}].outputs is ${describe(outputs)}: expected the probabilities answered, one number per row`);
        }
        if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
            throw new ProtocolError(400, `answers[${i}].ms is ${describe(ms)}: expected the answer's duration in milliseconds, a number >= 0`);
        return { id, outputs: outputs as number[], ms };
    });
}

export interface ShadowPairsOptions {
    readonly registry: Registry;
    readonly threshold: number;
    readonly ttlMs: number;
    readonly maxWaiting?: number;
    readonly now?: () => number;
}

export class ShadowPairs {
    private readonly waiting: Record<Side, ExpiringMap<ShadowAnswer>>;
    private readonly pairs: Counter;
    private readonly agreements: Counter;
    private readonly unpaired: Counter<"side">;
    private readonly duration: Histogram<"side">;
    private readonly timer: NodeJS.Timeout;

    constructor(private readonly options: ShadowPairsOptions) {
        const registers = [options.registry];
        this.pairs = new Counter({ name: "modelship_shadow_pairs_total", help: "Requests answered by both stable and this shadow candidate, compared.", registers });
        this.agreements = new Counter({
            name: "modelship_shadow_agreements_total",
            help: "Compared requests where every row's class at the decision threshold is the same on both tracks.",
            registers,
        });
        this.unpaired = new Counter({
            name: "modelship_shadow_unpaired_total",
            help: "Answers that found no answer from the other track within MODELSHIP_SHADOW_PAIR_TTL_MS (a lost or late mirrored copy or report), by the side that waited.",
            labelNames: ["side"],
            registers,
        });
        this.duration = new Histogram({
            name: "modelship_shadow_answer_duration_seconds",
            help: "How long each track took to answer the compared requests, by side.",
            labelNames: ["side"],
            buckets: DURATION_BUCKETS,
            registers,
        });
        const waiting = (side: Side) =>
            new ExpiringMap<ShadowAnswer>({
                maxEntries: options.maxWaiting ?? MAX_WAITING,
                maxWeight: MAX_WAITING_ROWS,
                weigh: (answer) => answer.outputs.length,
                ttlMs: options.ttlMs,
                ...(options.now ? { now: options.now } : {}),
                onEvict: () => this.unpaired.inc({ side }),
            });
        this.waiting = { stable: waiting("stable"), candidate: waiting("candidate") };
        for (const side of ["stable", "candidate"] as const) this.unpaired.inc({ side }, 0);
        // Expired answers are counted even when no traffic comes to sweep them.
        this.timer = setInterval(() => this.sweep(), Math.min(1000, options.ttlMs));
        this.timer.unref();
    }

    /** One answer from `side`: paired with the other side's answer to the same id if it is waiting, else waits for it. */
    add(side: Side, answer: ShadowAnswer): void {
        const other = this.waiting[side === "stable" ? "candidate" : "stable"].take(answer.id);
        if (other === undefined) return void this.waiting[side].set(answer.id, answer);
        const [stable, candidate] = side === "stable" ? [answer, other] : [other, answer];
        this.pairs.inc();
        if (this.agree(stable.outputs, candidate.outputs)) this.agreements.inc();
        this.duration.observe({ side: "stable" }, stable.ms / 1000);
        this.duration.observe({ side: "candidate" }, candidate.ms / 1000);
    }

    /** Counts what has waited too long; the metrics route calls it too, so a scrape sees them at once. */
    sweep(): void {
        this.waiting.stable.sweep();
        this.waiting.candidate.sweep();
    }

    close(): void {
        clearInterval(this.timer);
    }

    private agree(stable: readonly number[], candidate: readonly number[]): boolean {
        if (stable.length !== candidate.length) return false;
        const a = classesOf(stable, this.options.threshold);
        const b = classesOf(candidate, this.options.threshold);
        return a.every((c, i) => c === b[i]);
    }
}
