/**
 * Rollout events, sent where the model's `analysis.notifications` says, with the judgement's
 * numbers: one place builds them from a step or an `auto` decision, so the Alertmanager alert,
 * the webhook and the printed line carry the same words.
 */
import type { Judgement } from "../components/analysis/types";
import type { ModelConfig } from "../components/config/schema";
import { notify, type RolloutEvent, type RolloutEventName } from "./notify";

const SEVERITY: Record<RolloutEventName, RolloutEvent["severity"]> = {
    "step-applied": "info",
    promoted: "info",
    held: "info",
    paused: "warning",
    aborted: "critical",
    "rolled-back": "critical",
};

export interface EventContext {
    stack: string;
    environment: string;
    model: string;
    config: ModelConfig;
}

/** Sends the event and prints where it went; a failed delivery is printed, never thrown (it must not stop a rollback). */
export async function sendEvent(context: EventContext, event: RolloutEventName, summary: string, judgement?: Judgement): Promise<void> {
    const destinations = context.config.analysis.notifications;
    if (!destinations.alertmanager && !destinations.webhook) return;
    const version = context.config.tracks.candidate?.version ?? context.config.tracks.stable.version;
    const results = await notify(destinations, {
        event,
        stack: context.stack,
        environment: context.environment,
        model: context.model,
        track: "candidate",
        version,
        severity: SEVERITY[event],
        summary,
        ...(judgement ? { judgement } : {}),
        at: new Date(),
    });
    for (const result of results) {
        console.log(result.ok ? `notified ${result.destination} (${event}, ${result.ms} ms)` : `notification to ${result.destination} failed (${event}): ${result.error ?? `status ${result.status}`}`);
    }
}
