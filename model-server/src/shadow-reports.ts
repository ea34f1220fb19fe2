/**
 * The stable side of a shadow comparison: with MODELSHIP_SHADOW_COMPARE_URL set, every answer to a
 * request that carried the router's X-Request-Id is queued once its response has finished, and
 * pushed in batches to the candidate's POST {url}/v2/models/{name}/shadow/answers, which pairs
 * it with the candidate's own answer to the mirrored copy.
 *
 * Nothing here may delay or change a client's answer: the queue is filled after the response is
 * out, it is bounded (past MAX_QUEUE an answer is dropped), one push is in flight at a time, and a
 * push that fails or takes longer than PUSH_TIMEOUT_MS loses its batch. Every answer lost so is
 * counted in modelship_shadow_reports_dropped_total; the candidate then counts it unpaired.
 */
import { Counter, type Registry } from "prom-client";
import { httpRequest } from "./http-client";
import type { Logger } from "./log";

export interface ShadowAnswer {
    readonly id: string;
    /** The probabilities answered, one per row. */
    readonly outputs: readonly number[];
    /** How long the answer took, from the request's arrival to the response's end. */
    readonly ms: number;
}

export const FLUSH_INTERVAL_MS = 250;
export const MAX_BATCH_ANSWERS = 500;
export const MAX_QUEUE = 10_000;
/** The queue's bytes, whatever the answers' rows: 32 batches of the largest size. */
export const MAX_QUEUE_BYTES = 16 * 1024 * 1024;
export const PUSH_TIMEOUT_MS = 1000;
/** Half the model server's body limit: a batch stays well inside what the candidate accepts. */
export const MAX_BATCH_BYTES = 512 * 1024;

export interface ShadowReporterOptions {
    /** The candidate's base URL, without a trailing slash. */
    readonly compareUrl: string;
    readonly modelName: string;
    readonly registry: Registry;
    readonly logger: Logger;
    readonly flushIntervalMs?: number;
    readonly pushTimeoutMs?: number;
}

export class ShadowReporter {
    private readonly url: URL;
    private readonly queue: string[] = [];
    private queueBytes = 0;
    private readonly dropped: Counter;
    private readonly timer: NodeJS.Timeout;
    private readonly pushTimeoutMs: number;
    private pushing = false;
    private closed = false;
    /** Whether the last push failed: failures are logged when they start and when they end, not per batch. */
    private failing = false;

    constructor(private readonly options: ShadowReporterOptions) {
        this.url = new URL(`${options.compareUrl}/v2/models/${encodeURIComponent(options.modelName)}/shadow/answers`);
        this.pushTimeoutMs = options.pushTimeoutMs ?? PUSH_TIMEOUT_MS;
        this.dropped = new Counter({
            name: "modelship_shadow_reports_dropped_total",
            help: "Answers this stable server could not report to the shadow candidate: queue full, too large, or the push failed.",
            registers: [options.registry],
        });
        this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
        this.timer.unref();
    }

    /** Queues one answer; serialised here so that a batch's size is known before it is sent. */
    report(answer: ShadowAnswer): void {
        if (this.closed) return;
        const json = JSON.stringify(answer);
        const bytes = Buffer.byteLength(json);
        if (this.queue.length >= MAX_QUEUE || bytes > MAX_BATCH_BYTES || this.queueBytes + bytes > MAX_QUEUE_BYTES) return void this.dropped.inc();
        this.queue.push(json);
        this.queueBytes += bytes;
        // Once, as the queue reaches a batch; while a push is in flight, its end looks again.
        if (this.queue.length === MAX_BATCH_ANSWERS) setImmediate(() => this.flush());
    }

    get queued(): number {
        return this.queue.length;
    }

    /** Stops the timer; what is still queued is pushed once more, without waiting for it. */
    close(): void {
        if (this.closed) return;
        clearInterval(this.timer);
        this.flush();
        this.closed = true;
    }

    private flush(): void {
        if (this.pushing || this.queue.length === 0) return;
        let count = 0;
        let bytes = 0;
        for (; count < MAX_BATCH_ANSWERS && count < this.queue.length; count++) {
            const size = Buffer.byteLength(this.queue[count]!);
            if (bytes + size + 1 > MAX_BATCH_BYTES) break;
            bytes += size + 1;
        }
        const batch = this.queue.splice(0, count);
        this.queueBytes -= bytes - count;
        this.pushing = true;
        void this.push(batch).finally(() => {
            this.pushing = false;
            // A full queue does not wait for the next tick.
            if (!this.closed && this.queue.length >= MAX_BATCH_ANSWERS) setImmediate(() => this.flush());
        });
    }

    private async push(batch: readonly string[]): Promise<void> {
        let problem: string | undefined;
        try {
            const answer = await httpRequest(this.url, { method: "POST", timeoutMs: this.pushTimeoutMs, body: `{"answers":[${batch.join(",")}]}`, maxBytes: 4096 });
            if (answer.status !== 202) problem = `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
        } catch (error) {
            problem = (error as Error).message;
        }
        if (problem === undefined) {
            if (this.failing) this.options.logger.log("info", "shadow_reports_resumed", `shadow answers reach ${this.url.href} again`, { url: this.url.href });
            this.failing = false;
            return;
        }
        this.dropped.inc(batch.length);
        if (!this.failing) {
            this.options.logger.log(
                "warn",
                "shadow_reports_failed",
                `cannot push shadow answers to ${this.url.href}: ${problem}; dropped answers are counted in modelship_shadow_reports_dropped_total`,
                {
                    url: this.url.href,
                    problem,
                    dropped: batch.length,
                },
            );
        }
        this.failing = true;
    }
}
