/**
 * Outcome feedback, an OIP extension: POST /v2/models/{name}/feedback tells the server what
 * actually happened to a request it answered, by the answer's request id. Labels are compared with
 * the classes the server predicted (modelship_feedback_total{outcome}); rewards go into a
 * histogram (modelship_feedback_reward). An A/B test compares these between the two tracks.
 *
 * The server remembers each answer's classes for an hour, at most 100,000 answers (the oldest go
 * first); feedback for anything else is a 404, counted in modelship_feedback_unmatched_total.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { ExpiringMap } from "./expiring-map";
import { describe } from "./model";
import { ProtocolError } from "./protocol";

export const MAX_REMEMBERED_ANSWERS = 100_000;
/** Rows over all remembered answers (a byte each): one request may carry many thousands of rows. */
export const MAX_REMEMBERED_ROWS = 10_000_000;
export const ANSWER_TTL_MS = 60 * 60 * 1000;

export type Feedback = { readonly id: string } & ({ readonly labels: readonly number[]; readonly single: boolean } | { readonly reward: number });

export type Outcome = "correct" | "incorrect";

export interface FeedbackAnswer {
    readonly id: string;
    /** "correct" when every row's class matches its label, else "incorrect"; "reward" for a reward. */
    readonly outcome: Outcome | "reward";
    /** For labels: how many rows were predicted correctly and incorrectly. */
    readonly rows?: { readonly correct: number; readonly incorrect: number };
}

const FIELDS = ["id", "label", "labels", "reward"];

/** A feedback body to a Feedback, or a 400 naming the field and what is expected. */
export function parseFeedback(body: unknown): Feedback {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new ProtocolError(400, `the feedback must be a JSON object {"id", and one of "label", "labels" or "reward"}, got ${describe(body)}`);
    }
    const fields = body as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !FIELDS.includes(key));
    if (unknown !== undefined) throw new ProtocolError(400, `unknown field ${JSON.stringify(unknown.slice(0, 60))}: expected "id" and one of "label", "labels" or "reward"`);
    const { id } = fields;
    if (typeof id !== "string" || id === "") throw new ProtocolError(400, `id is ${describe(id)}: expected the request id of an answered inference (its answer's "id" or X-Request-Id)`);
    const given = ["label", "labels", "reward"].filter((key) => fields[key] !== undefined);
    if (given.length !== 1) {
        throw new ProtocolError(
            400,
            `${given.length === 0 ? "no outcome" : `${given.join(" and ")} together`}: expected exactly one of "label" (0 or 1), "labels" (one 0 or 1 per row) or "reward" (a number)`,
        );
    }
    if (fields.label !== undefined) return { id, labels: [label(fields.label, "label")], single: true };
    if (fields.labels !== undefined) {
        const labels = fields.labels;
        if (!Array.isArray(labels) || labels.length === 0) throw new ProtocolError(400, `labels is ${describe(labels)}: expected an array with one 0 or 1 per row of the answer`);
        return { id, labels: labels.map((value: unknown, i: number) => label(value, `labels[${i}]`)), single: false };
    }
    const reward = fields.reward;
    if (typeof reward !== "number" || !Number.isFinite(reward)) throw new ProtocolError(400, `reward is ${describe(reward)}: expected a finite number`);
    return { id, reward };
}

function label(value: unknown, field: string): number {
    if (value !== 0 && value !== 1) throw new ProtocolError(400, `${field} is ${describe(value)}: expected 0 or 1`);
    return value;
}

interface Remembered {
    /** 0 or 1 per row. */
    readonly classes: Uint8Array;
    answered: boolean;
}

export class FeedbackStore {
    private readonly answers: ExpiringMap<Remembered>;
    private readonly outcomes: Counter<"outcome">;
    private readonly rewards: Histogram;
    private readonly unmatched: Counter;

    constructor(registry: Registry, rewardBuckets: readonly number[], options: { maxEntries?: number; maxRows?: number; ttlMs?: number; now?: () => number } = {}) {
        this.answers = new ExpiringMap<Remembered>({
            maxEntries: options.maxEntries ?? MAX_REMEMBERED_ANSWERS,
            maxWeight: options.maxRows ?? MAX_REMEMBERED_ROWS,
            weigh: (answer) => answer.classes.length,
            ttlMs: options.ttlMs ?? ANSWER_TTL_MS,
            ...(options.now ? { now: options.now } : {}),
        });
        this.outcomes = new Counter({
            name: "modelship_feedback_total",
            help: "Rows of answered inferences whose observed label was fed back, by whether the predicted class was right.",
            labelNames: ["outcome"],
            registers: [registry],
        });
        this.rewards = new Histogram({
            name: "modelship_feedback_reward",
            help: "Rewards fed back for answered inferences.",
            buckets: [...rewardBuckets],
            registers: [registry],
        });
        this.unmatched = new Counter({
            name: "modelship_feedback_unmatched_total",
            help: "Feedback for a request id the server does not remember (never answered here, or answered more than an hour ago).",
            registers: [registry],
        });
        // Both outcomes exist from the start, so a rate of correct answers is 0/n rather than no series.
        for (const outcome of ["correct", "incorrect"] as const) this.outcomes.inc({ outcome }, 0);
    }

    /** Remembers an answer's classes under its request id, for feedback to come. */
    remember(id: string, classes: readonly number[]): void {
        this.answers.set(id, { classes: Uint8Array.from(classes), answered: false });
    }

    /** Records feedback: 404 for an unknown id, 409 when this id already had feedback, 400 when the labels do not fit the answer. */
    record(feedback: Feedback): FeedbackAnswer {
        const answer = this.answers.get(feedback.id);
        if (answer === undefined) {
            this.unmatched.inc();
            throw new ProtocolError(404, `no answer with id ${JSON.stringify(feedback.id.slice(0, 256))}: it was never answered by this server, or more than an hour (or 100000 answers) ago`);
        }
        if (answer.answered) throw new ProtocolError(409, `the answer with id ${JSON.stringify(feedback.id.slice(0, 256))} already has feedback: each answer takes one`);
        if ("reward" in feedback) {
            answer.answered = true;
            this.rewards.observe(feedback.reward);
            return { id: feedback.id, outcome: "reward" };
        }
        const rows = answer.classes.length;
        if (feedback.single && rows !== 1) throw new ProtocolError(400, `label is for a one-row answer, and this answer has ${rows} rows: send "labels", one 0 or 1 per row`);
        if (feedback.labels.length !== rows) throw new ProtocolError(400, `labels has ${feedback.labels.length} values, and the answer has ${rows} rows: expected one 0 or 1 per row`);
        answer.answered = true;
        const correct = feedback.labels.filter((label, i) => label === answer.classes[i]).length;
        const incorrect = rows - correct;
        if (correct > 0) this.outcomes.inc({ outcome: "correct" }, correct);
        if (incorrect > 0) this.outcomes.inc({ outcome: "incorrect" }, incorrect);
        return { id: feedback.id, outcome: incorrect === 0 ? "correct" : "incorrect", ...(feedback.single ? {} : { rows: { correct, incorrect } }) };
    }
}
