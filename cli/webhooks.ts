/**
 * The model's `analysis.webhooks`, called before each step (pre-step: a confirmation or a veto) and
 * during each bake (bake: e.g. a load test). Each hook is a finding of kind infrastructure: a 2xx
 * answer passes; any other answer, an unreachable hook or one that does not answer in its time
 * fails, and holds the rollout (or rolls it back where the hook says `onFailure: rollback`). A
 * hook can veto a step, never wave one through: the result's promote only means "no objection".
 */
import type { Finding, Judgement } from "../components/analysis/types";
import type { WebhookConfig } from "../components/config/analysis";
import { httpRequest } from "../model-server/src/http-client";

export type WebhookWhen = WebhookConfig["when"];

/** What the rollout tells each hook, besides the hook's own name, `when` and metadata. */
export interface WebhookPayload {
    model: string;
    stack: string;
    environment: string;
    /** The candidate's version. */
    version: string;
    /** The step about to be applied or being baked, in words, e.g. "canary 25%". */
    step: string;
}

/** The JSON body each hook receives. */
export interface WebhookRequest extends WebhookPayload {
    name: string;
    when: WebhookWhen;
    metadata: Record<string, string>;
}

/** How much of a hook's answer goes into the reason: enough for a one-line veto message. */
const ANSWER_CHARS = 200;

function answerText(body: string): string {
    const text = body.replace(/\s+/g, " ").trim().slice(0, ANSWER_CHARS);
    return text === "" ? "" : `: ${text}`;
}

async function callHook(hook: WebhookConfig, payload: WebhookPayload): Promise<Finding> {
    const request: WebhookRequest = { name: hook.name, when: hook.when, ...payload, metadata: hook.metadata };
    const started = performance.now();
    const fail = (reason: string, values: Record<string, number>): Finding => ({
        name: hook.name,
        kind: "infrastructure",
        outcome: "fail",
        reason: `webhook ${hook.name} (${hook.when}) ${reason}; onFailure ${hook.onFailure}`,
        values,
    });
    try {
        const answer = await httpRequest(new URL(hook.url), { method: "POST", body: JSON.stringify(request), timeoutMs: hook.timeoutSeconds * 1000, maxBytes: 64 * 1024 });
        const ms = Math.round(performance.now() - started);
        if (answer.status >= 200 && answer.status < 300) {
            return {
                name: hook.name,
                kind: "infrastructure",
                outcome: "pass",
                reason: `webhook ${hook.name} (${hook.when}) answered ${answer.status} in ${ms} ms${answerText(answer.body)}`,
                values: { status: answer.status, ms },
            };
        }
        return fail(`answered ${answer.status} in ${ms} ms${answerText(answer.body)}`, { status: answer.status, ms });
    } catch (error) {
        const ms = Math.round(performance.now() - started);
        return fail(`failed after ${ms} ms (${hook.url} unreachable or too slow): ${error instanceof Error ? error.message : String(error)}`, { ms });
    }
}

/**
 * Calls every hook of `when`, at the same time, and judges by their answers: all 2xx (or no hook of
 * that kind) promote, any failure holds, and a failure of a hook with `onFailure: rollback` rolls
 * back (kind infrastructure). Never rejects.
 */
export async function callWebhooks(hooks: readonly WebhookConfig[], when: WebhookWhen, payload: WebhookPayload): Promise<Judgement> {
    const selected = hooks.filter((h) => h.when === when);
    if (selected.length === 0) return { decision: "promote", reasons: ["no webhooks"], findings: [] };
    const findings = await Promise.all(selected.map((hook) => callHook(hook, payload)));
    const failed = selected.filter((_, i) => findings[i].outcome === "fail");
    const reasons = findings.map((f) => f.reason);
    if (failed.some((h) => h.onFailure === "rollback")) return { decision: "rollback", reasons, findings, failedKind: "infrastructure" };
    if (failed.length > 0) return { decision: "hold", reasons, findings };
    return { decision: "promote", reasons, findings };
}
