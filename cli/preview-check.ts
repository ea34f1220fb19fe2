/**
 * The preview check of a candidate's pool before its first live request (blue-green's `preview`):
 * the smoke gate's recorded request and `requests` more, replayed from recorded requests, each
 * pinned to the candidate through the router and checked as the smoke gate checks its answer;
 * then, once Prometheus has scraped them, the pool's metrics judged by the analysis templates.
 * The outcome is a Judgement like any analysis: PROMOTE lets the step through, anything else
 * stops it before the engine runs.
 */
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { combineJudgements } from "../components/analysis/metrics-judge";
import type { Finding, Judgement } from "../components/analysis/types";
import type { PreviewCheckConfig } from "../components/strategies/fields";
import { httpRequest } from "../model-server/src/http-client";
import { checkInfer, requestRows, type Answer } from "../model-server/src/smoke/checks";

/** Requests in flight at once: enough to finish a few hundred quickly, few enough not to load the pool. */
const CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const SCRAPE_POLL_MS = 1_000;

export class PreviewCheckError extends Error {}

export interface PreviewTarget {
    model: string;
    /** The candidate's version: every answer must carry it. */
    version: string;
    /** The model's endpoint through the router (`<base>/v2/models/<model>`). */
    endpoint: string;
    pin: { header: string; value: string };
    expect: { min: number; max: number };
}

/**
 * The bodies to send: the recorded smoke request first, then `requests` replayed in order from
 * the JSON-lines file (round again when it has fewer), or the recorded one again without one.
 */
export function previewRequests(projectDir: string, smokeRequestFile: string, check: PreviewCheckConfig): string[] {
    const read = (file: string, key: string) => {
        const full = path.resolve(projectDir, file);
        try {
            return fs.readFileSync(full, "utf8");
        } catch (error) {
            throw new PreviewCheckError(
                `${key} is ${JSON.stringify(file)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a file relative to the project`,
            );
        }
    };
    const smoke = read(smokeRequestFile, "gates.smoke.request");
    const replay =
        check.replay === undefined
            ? [smoke]
            : read(check.replay, "strategy.preview.replay")
                  .split("\n")
                  .filter((line) => line.trim() !== "");
    if (replay.length === 0) throw new PreviewCheckError(`strategy.preview.replay ${JSON.stringify(check.replay)} has no requests: one recorded Open Inference Protocol request per line`);
    replay.forEach((line, i) => {
        try {
            requestRows(JSON.parse(line));
        } catch (error) {
            const where = check.replay === undefined ? `gates.smoke.request ${JSON.stringify(smokeRequestFile)}` : `strategy.preview.replay ${JSON.stringify(check.replay)} line ${i + 1}`;
            throw new PreviewCheckError(`${where}: ${(error as Error).message}`);
        }
    });
    return [smoke, ...Array.from({ length: check.requests }, (_, i) => replay[i % replay.length])];
}

interface Outcome {
    ms: number;
    /** Why the answer failed, and whether the pool is broken (infrastructure) or its answers are wrong (quality). */
    problem?: { text: string; kind: "infrastructure" | "quality" };
}

async function sendOne(target: PreviewTarget, body: string): Promise<Outcome> {
    const url = new URL(`${target.endpoint.replace(/\/+$/, "")}/infer`);
    const started = performance.now();
    let answer: Answer;
    try {
        answer = await httpRequest(url, { method: "POST", body, timeoutMs: REQUEST_TIMEOUT_MS, headers: { [target.pin.header]: target.pin.value }, maxBytes: MAX_ANSWER_BYTES });
    } catch (error) {
        return { ms: performance.now() - started, problem: { text: `POST ${url.href}: ${(error as Error).message}`, kind: "infrastructure" } };
    }
    const ms = performance.now() - started;
    const outcome = checkInfer(answer, { model: target.model, version: target.version, rows: requestRows(JSON.parse(body)), min: target.expect.min, max: target.expect.max }, url.href);
    if (outcome.passed) return { ms };
    // A pool that does not answer, or answers with another version, is broken; one that answers out of range is in doubt.
    const broken = answer.status !== 200 || /model_version/.test(outcome.problem);
    return { ms, problem: { text: outcome.problem, kind: broken ? "infrastructure" : "quality" } };
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** Sends every body pinned to the candidate, a few at a time, and judges the answers. */
export async function checkPreviewAnswers(target: PreviewTarget, bodies: readonly string[], progress: (line: string) => void = () => undefined): Promise<Judgement> {
    const outcomes: Outcome[] = new Array<Outcome>(bodies.length);
    let next = 0;
    let done = 0;
    const report = Math.max(1, Math.floor(bodies.length / 4));
    const worker = async () => {
        for (let i = next++; i < bodies.length; i = next++) {
            outcomes[i] = await sendOne(target, bodies[i]);
            if (++done % report === 0 && done < bodies.length) progress(`preview: ${done}/${bodies.length} requests answered`);
        }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bodies.length) }, worker));
    const failed = outcomes.filter((o) => o.problem);
    const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const values = { requests: outcomes.length, failed: failed.length, p50Ms: Math.round(percentile(sorted, 50)), p95Ms: Math.round(percentile(sorted, 95)) };
    const latency = `p50 ${values.p50Ms} ms, p95 ${values.p95Ms} ms`;
    if (failed.length === 0) {
        const reason = `preview: all ${outcomes.length} requests pinned to ${target.version} answered as the smoke gate expects (${latency})`;
        return { decision: "promote", reasons: [reason], findings: [{ name: "preview", kind: "infrastructure", outcome: "pass", reason, values }] };
    }
    const kind = failed.some((o) => o.problem?.kind === "infrastructure") ? "infrastructure" : "quality";
    const first = failed.find((o) => o.problem?.kind === kind)?.problem?.text ?? "";
    const reason = `preview: ${failed.length} of ${outcomes.length} requests pinned to ${target.version} failed (${latency}); the first: ${first}`;
    const finding: Finding = { name: "preview", kind, outcome: "fail", reason, values };
    return { decision: "rollback", reasons: [reason], findings: [finding], failedKind: kind };
}

export interface PreviewMetrics {
    /** The candidate's requests at Prometheus's last scrape; undefined before it has scraped the candidate. */
    requestsServed(): Promise<number | undefined>;
    /** The candidate's metric templates over the window. */
    judge(windowSeconds: number): Promise<Judgement>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds for what `read` returns, or the deadline passes; the last reading either way. */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, deadline: number): Promise<T> {
    let value = await read();
    while (!done(value) && performance.now() < deadline) {
        await sleep(SCRAPE_POLL_MS);
        value = await read();
    }
    return value;
}

/**
 * The whole check: answers first (a pool that fails them is judged on them alone), then, with
 * metrics, the templates over the time since the check began, once Prometheus has counted every
 * preview request. The count is the candidate's request counter before the first request and
 * after the last, so a scrape that comes late is waited for rather than read as no traffic.
 */
export async function runPreviewCheck(
    target: PreviewTarget,
    bodies: readonly string[],
    check: PreviewCheckConfig,
    metrics: PreviewMetrics | undefined,
    progress: (line: string) => void = () => undefined,
): Promise<Judgement> {
    const started = performance.now();
    const judged = check.analysis ? metrics : undefined;
    const scrapeDeadline = () => performance.now() + check.scrapeTimeoutSeconds * 1000;
    const baseline = judged
        ? await pollUntil(
              () => judged.requestsServed(),
              (n) => n !== undefined,
              scrapeDeadline(),
          )
        : undefined;
    progress(`preview: ${bodies.length} requests to ${target.model} ${target.version}, pinned with ${target.pin.header}: ${target.pin.value}`);
    const answers = await checkPreviewAnswers(target, bodies, progress);
    if (answers.decision !== "promote" || !judged) return answers;
    if (baseline === undefined) {
        const reason = `preview: Prometheus has no request counter of ${target.version} after ${check.scrapeTimeoutSeconds} s (strategy.preview.scrapeTimeoutSeconds): is the candidate scraped?`;
        return combineJudgements([answers, { decision: "hold", reasons: [reason] }]);
    }
    const counted =
        ((await pollUntil(
            () => judged.requestsServed(),
            (n) => (n ?? 0) - baseline >= bodies.length,
            scrapeDeadline(),
        )) ?? 0) - baseline;
    if (counted < bodies.length) {
        const reason = `preview: Prometheus has counted ${counted} of the ${bodies.length} preview requests after ${check.scrapeTimeoutSeconds} s (strategy.preview.scrapeTimeoutSeconds): is the candidate scraped?`;
        return combineJudgements([answers, { decision: "hold", reasons: [reason] }]);
    }
    progress(`preview: Prometheus has counted the preview requests; judging ${target.version} by the analysis templates`);
    return combineJudgements([answers, await judged.judge(Math.max(60, Math.ceil((performance.now() - started) / 1000) + 30))]);
}
