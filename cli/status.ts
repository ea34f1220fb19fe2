/** `modelship status`: the stack's outputs and its last update, as a few lines per model. Pure. */
import type { ModelOutputs } from "../components/stack";

/** The stack outputs as the engine returns them (plain values). */
export type ModelStatus = Omit<ModelOutputs, "endpoint" | "images" | "metrics"> & { endpoint?: string; images?: Record<string, string>; metrics?: Record<string, string> };

export interface LastUpdate {
    kind: string;
    result: string;
    message?: string;
    endTime?: string;
}

export function formatStatus(stack: string, models: Record<string, ModelStatus>, last: LastUpdate | undefined, only?: string): string {
    const names = Object.keys(models).sort();
    if (only !== undefined && !names.includes(only)) throw new Error(`no model ${only} in stack ${stack}'s outputs; its models are: ${names.join(", ") || "(none: has the stack been deployed?)"}`);
    const lines = [`stack ${stack}${last ? `: last update ${last.kind} ${last.result}${last.endTime ? ` at ${last.endTime}` : ""}${last.message ? ` (${last.message})` : ""}` : ": no updates yet"}`];
    for (const name of only ? [only] : names) {
        const m = models[name];
        const step = m.step ? `, step ${m.step.index + 1}/${m.step.count}` : "";
        lines.push(`${name}: ${m.strategy}${step}${m.aborted ? ", ABORTED" : ""}${m.endpoint ? ` at ${m.endpoint}` : ""}`);
        for (const track of ["stable", "candidate"].filter((t) => t in m.versions)) {
            const mirror = m.mirrorPercent[track as keyof typeof m.mirrorPercent] ?? 0;
            const t = track as keyof typeof m.versions;
            lines.push(
                `  ${track.padEnd(9)} ${String(m.versions[t]).padEnd(10)} weight ${String(m.weights[t] ?? 0).padStart(3)}%${mirror > 0 ? `, mirror ${mirror}%` : ""}, replicas ${m.replicas[t] ?? 0}`,
            );
        }
    }
    return lines.join("\n");
}
