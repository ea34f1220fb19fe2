/**
 * Rollout events sent to people: to an Alertmanager through its v2 alerts API (so that a team's
 * existing routes take them to PagerDuty, Slack or mail) and/or to any URL that takes the event as
 * JSON. A notification that fails is reported to the caller, never thrown: it must not stop a
 * rollback or a pause from being applied.
 */
import type { NotificationsConfig } from "../components/config/analysis";
import type { Judgement } from "../components/analysis/types";
import { httpRequest } from "../model-server/src/http-client";

export const ROLLOUT_EVENTS = ["step-applied", "promoted", "held", "paused", "aborted", "rolled-back"] as const;
export type RolloutEventName = (typeof ROLLOUT_EVENTS)[number];

export interface RolloutEvent {
    event: RolloutEventName;
    stack: string;
    environment: string;
    model: string;
    track: "candidate";
    /** The candidate's version. */
    version: string;
    severity: "info" | "warning" | "critical";
    /** One line: what happened, e.g. "rolled back fraud-detector 1.4.0: error rate 7.2% > 1%". */
    summary: string;
    /** The judgement behind the event, whose reasons and numbers go into the notification. */
    judgement?: Judgement;
    at: Date;
}

export interface NotifyResult {
    destination: "alertmanager" | "webhook";
    /** Where it was sent (the alerts endpoint for Alertmanager). */
    url: string;
    /** Answered 2xx. */
    ok: boolean;
    /** The HTTP status, when there was an answer. */
    status?: number;
    /** From sending to the end of the answer (or the failure). */
    ms: number;
    /** Why it failed: unreachable, timed out, or the status with the start of the answer. */
    error?: string;
}

export interface NotifyOptions {
    /** Per destination, for the whole exchange. */
    timeoutMs?: number;
}

/** Long enough for a slow Alertmanager, short enough that a rollback is not kept waiting long. */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** The alertname every rollout event carries, for routes and silences to match on. */
export const ALERT_NAME = "ModelshipRollout";

/**
 * How long an event's alert stays firing. Set explicitly so that the alert resolves by itself:
 * an event is a moment, not a condition that a later message would clear.
 */
export const ALERT_DURATION_MS = 5 * 60 * 1000;

/** An Alertmanager v2 postable alert. */
export interface PostableAlert {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
}

function formatValue(value: number): string {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** The judgement as text: its decision, each reason, and each finding's figures. */
export function describeJudgement(judgement: Judgement): string[] {
    const lines = [`decision: ${judgement.decision}${judgement.failedKind ? ` (${judgement.failedKind})` : ""}`, ...judgement.reasons.map((r) => `- ${r}`)];
    for (const finding of judgement.findings ?? []) {
        const values = Object.entries(finding.values ?? {}).map(([k, v]) => `${k}=${formatValue(v)}`);
        lines.push(`${finding.name} [${finding.kind}] ${finding.outcome}${values.length > 0 ? `: ${values.join(", ")}` : ""}`);
    }
    return lines;
}

/** The event as the one alert posted to Alertmanager. */
export function toAlert(event: RolloutEvent): PostableAlert {
    const description = [event.summary, ...(event.judgement ? describeJudgement(event.judgement) : [])].join("\n");
    const annotations: Record<string, string> = { summary: event.summary, description };
    if (event.judgement) annotations.decision = event.judgement.decision;
    return {
        labels: {
            alertname: ALERT_NAME,
            event: event.event,
            model: event.model,
            track: event.track,
            environment: event.environment,
            severity: event.severity,
            stack: event.stack,
            // A label, not an annotation: Alertmanager takes alerts with the same labels for one, so
            // a second version's pause within the first one's five minutes would never be sent.
            version: event.version,
        },
        annotations,
        startsAt: event.at.toISOString(),
        endsAt: new Date(event.at.getTime() + ALERT_DURATION_MS).toISOString(),
    };
}

/** `base` with `suffix` appended to its path, keeping a path prefix such as /alertmanager. */
function endpoint(base: string, suffix: string): URL {
    const url = new URL(base);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${suffix}`;
    return url;
}

async function post(destination: NotifyResult["destination"], url: () => URL, body: () => string, timeoutMs: number): Promise<NotifyResult> {
    const started = performance.now();
    let target = "";
    try {
        const resolved = url();
        target = resolved.toString();
        const answer = await httpRequest(resolved, { method: "POST", body: body(), timeoutMs, maxBytes: 64 * 1024 });
        const ms = Math.round(performance.now() - started);
        const ok = answer.status >= 200 && answer.status < 300;
        return ok
            ? { destination, url: target, ok, status: answer.status, ms }
            : { destination, url: target, ok, status: answer.status, ms, error: `answered ${answer.status}: ${answer.body.slice(0, 200)}` };
    } catch (error) {
        return { destination, url: target, ok: false, ms: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) };
    }
}

/**
 * Sends the event to every destination configured, at the same time; resolves with one result per
 * destination (none when nothing is configured) and never rejects.
 */
export async function notify(config: NotificationsConfig, event: RolloutEvent, options: NotifyOptions = {}): Promise<NotifyResult[]> {
    const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
    const sends: Promise<NotifyResult>[] = [];
    const { alertmanager, webhook } = config;
    if (alertmanager) {
        sends.push(
            post(
                "alertmanager",
                () => endpoint(alertmanager, "/api/v2/alerts"),
                () => JSON.stringify([toAlert(event)]),
                timeoutMs,
            ),
        );
    }
    if (webhook) {
        sends.push(
            post(
                "webhook",
                () => new URL(webhook),
                () => JSON.stringify(event),
                timeoutMs,
            ),
        );
    }
    return Promise.all(sends);
}

/** One line per result, for the command's output. */
export function formatNotifyResult(result: NotifyResult): string {
    return result.ok
        ? `notified ${result.destination} (${result.url}): ${result.status} in ${result.ms} ms`
        : `notifying ${result.destination} (${result.url || "no URL"}) failed after ${result.ms} ms: ${result.error ?? "unknown error"}`;
}
