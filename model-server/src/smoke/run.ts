/**
 * The smoke gate against one track: readiness, the recorded inference, the legacy route and the
 * version, in that order, each judged by its check (checks.ts). This file does the requests: the
 * readiness poll until the deadline, and retries of 5xx answers and failed connections.
 */
import { performance } from "perf_hooks";
import { httpRequest as request } from "../http-client";
import { checkInfer, checkReady, checkV1Deprecation, checkVersion, describeAnswer, smokePaths, type Answer, type CheckName, type Expected } from "./checks";
import { formatSeconds, resultLine } from "./output";
import type { SmokeSettings } from "./settings";

/** Answers larger than this are cut (a model server's answer to a recorded request is small). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** One request may take at most this long (less when the gate's deadline is nearer). */
const REQUEST_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 100;
const BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2_000;

/** Headers sent with every request of one smoke run (the router's pin header, when going through one). */
type ExtraHeaders = Readonly<Record<string, string>>;

function httpRequest(url: URL, method: "GET" | "POST", timeoutMs: number, body?: string, extra: ExtraHeaders = {}): Promise<Answer> {
    return request(url, { method, timeoutMs, ...(body === undefined ? {} : { body }), headers: extra, maxBytes: MAX_ANSWER_BYTES });
}

function describeError(error: unknown): string {
    const e = error as NodeJS.ErrnoException & { errors?: unknown[] };
    if (e?.message) return e.message;
    if (Array.isArray(e?.errors) && e.errors.length > 0) return describeError(e.errors[0]);
    return e?.code ?? String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface Attempted {
    answer?: Answer;
    error?: string;
    attempts: number;
    /** Set when the answer is final (not 5xx): the check judges it. */
    done: boolean;
}

/** POSTs until a non-5xx answer, at most 1 + retries times, with a short doubling backoff, within the deadline. */
async function postWithRetries(url: URL, body: string, retries: number, deadline: number, extra: ExtraHeaders): Promise<Attempted> {
    let last: Attempted = { attempts: 0, done: false };
    for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) {
            const wait = Math.min(BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS, deadline - performance.now());
            if (wait > 0) await sleep(wait);
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) return { ...last, error: `${last.error ?? (last.answer ? `last answer ${describeAnswer(last.answer)}` : "")}; --timeout-ms reached`.replace(/^; /, "") };
        try {
            const answer = await httpRequest(url, "POST", Math.min(REQUEST_TIMEOUT_MS, remaining), body, extra);
            last = { answer, attempts: attempt + 1, done: answer.status < 500 };
            if (last.done) return last;
        } catch (error) {
            last = { error: describeError(error), attempts: attempt + 1, done: false };
        }
    }
    return last;
}

function retryFailure(url: URL, result: Attempted): string {
    const last = result.answer && !result.error ? `last answer ${describeAnswer(result.answer)}` : `last error: ${result.error ?? "none"}`;
    return `POST ${url.href} failed after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}: ${last}`;
}

/** Runs every check, printing one line each and the result line last; true when all passed. */
export async function runSmoke(settings: SmokeSettings, out: (line: string) => void): Promise<boolean> {
    const { url: baseUrl, version, retries, timeoutMs, pin } = settings;
    const expected: Expected = { model: settings.model, version, rows: settings.rows, min: settings.min, max: settings.max };
    const extra: ExtraHeaders = pin ? { [pin.header]: pin.value } : {};
    // Another server may call itself ready before any model is loaded (MLServer does): its model's readiness is asked instead.
    const paths = smokePaths(settings.model, pin !== undefined || settings.server === "oip");
    const started = performance.now();
    const since = () => performance.now() - started;
    const deadline = started + timeoutMs;
    const at = (p: string) => new URL(`${baseUrl.pathname.replace(/\/+$/, "")}${p}`, baseUrl);
    const failed: CheckName[] = [];
    const fail = (check: CheckName, message: string) => {
        failed.push(check);
        out(`smoke: FAILED ${check}: ${message}`);
    };
    const finish = () => {
        out(resultLine("smoke", failed.length > 0 ? "FAILED" : "passed", since(), failed.join(", ")));
        return failed.length === 0;
    };

    // (1) ready: polled until the deadline
    const readyUrl = at(paths.ready);
    let last = "no answer";
    let ready = false;
    for (;;) {
        const remaining = deadline - performance.now();
        try {
            const outcome = checkReady(await httpRequest(readyUrl, "GET", Math.min(2_000, Math.max(1, remaining)), undefined, extra));
            if (outcome.passed) {
                ready = true;
                break;
            }
            last = outcome.problem;
        } catch (error) {
            last = describeError(error);
        }
        if (deadline - performance.now() <= 0) break;
        await sleep(Math.min(READY_POLL_MS, deadline - performance.now()));
    }
    if (!ready) {
        fail("ready", `GET ${readyUrl.href} did not answer 200 within ${formatSeconds(timeoutMs)} s (last: ${last})`);
        return finish();
    }
    out(`smoke: ready after ${formatSeconds(since())} s`);

    const answers: { check: CheckName; answer: Answer }[] = [];

    // (2) infer: the recorded request on the v2 route
    const inferUrl = at(paths.infer);
    const infer = await postWithRetries(inferUrl, JSON.stringify(settings.request), retries, deadline, extra);
    if (infer.answer) answers.push({ check: "infer", answer: infer.answer });
    if (!infer.done || !infer.answer) fail("infer", retryFailure(inferUrl, infer));
    else {
        const outcome = checkInfer(infer.answer, expected, inferUrl.href);
        if (!outcome.passed) fail("infer", outcome.problem);
        else out(`smoke: infer ok (${outcome.detail}${infer.attempts > 1 ? `, after ${infer.attempts} attempts` : ""})`);
    }

    if (settings.server === "oip") {
        out("smoke: v1 and X-Model-Version not checked (--server oip: another server's answers are checked by the protocol alone)");
        return finish();
    }

    // (3) v1: the legacy route with the same rows
    const v1Url = at(paths.v1);
    const v1 = await postWithRetries(v1Url, JSON.stringify({ instances: settings.rows }), retries, deadline, extra);
    if (v1.answer) answers.push({ check: "v1", answer: v1.answer });
    if (!v1.done || !v1.answer) fail("v1", retryFailure(v1Url, v1));
    else {
        const outcome = checkV1Deprecation(v1.answer, expected, v1Url.href);
        if (!outcome.passed) fail("v1", outcome.problem);
        else out(`smoke: v1 ok (${outcome.detail})`);
    }

    // (4) version: what the server says it serves, on every answer
    const outcome = checkVersion(answers, version);
    if (!outcome.passed) fail("version", outcome.problem);
    else out(`smoke: version ok (${outcome.detail})`);
    return finish();
}
