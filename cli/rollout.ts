/**
 * What `promote`, `abort` and `retire` change in a model's stack config, as edits to the stack
 * file. Pure: it reads the parsed model config (for the rules) and returns the edits and a
 * one-line description of the step, which becomes the update's message.
 *
 *   promote - canary: the next weight, and at the last step conclude; blueGreen: switch, then
 *             conclude; abTest and shadow: conclude. Concluding makes the candidate's version
 *             the stable track's, drops the candidate and leaves a rolling single pool.
 *   abort   - all live traffic back to stable (`abort: true`); the candidate stays warm.
 *   retire  - drop the candidate track: stable alone, as a rolling single pool.
 */
import type { ModelConfig } from "../components/config/schema";

/** One change to the model's node in the stack file: a path below `models.<name>` and its new value, or removal. */
export type Edit = { path: readonly (string | number)[]; value: unknown } | { path: readonly (string | number)[]; remove: true };

export interface RolloutStep {
    description: string;
    edits: Edit[];
}

export class RolloutError extends Error {}

const SINGLE_POOL = { type: "rolling" } as const;

/** The candidate track as it is written in the stack file: its source, version and flags, at the stable track's size. */
function concludeEdits(raw: Record<string, unknown>): Edit[] {
    const tracks = raw.tracks as { stable: Record<string, unknown>; candidate?: Record<string, unknown> };
    const candidate = tracks.candidate ?? {};
    const stable = Object.fromEntries(Object.entries(candidate).filter(([key]) => key !== "replicas"));
    if (tracks.stable.replicas !== undefined) stable.replicas = tracks.stable.replicas;
    return [
        { path: ["tracks", "stable"], value: stable },
        { path: ["tracks", "candidate"], remove: true },
        { path: ["strategy"], value: { ...SINGLE_POOL } },
    ];
}

function needsCandidate(name: string, model: ModelConfig, verb: string): NonNullable<ModelConfig["tracks"]["candidate"]> {
    const candidate = model.tracks.candidate;
    if (!candidate) throw new RolloutError(`model ${name} has no candidate track (strategy ${model.strategy.type}): nothing to ${verb}; to roll out a version, add tracks.candidate and a two-track strategy`);
    return candidate;
}

export function promote(name: string, model: ModelConfig, raw: Record<string, unknown>): RolloutStep {
    const candidate = needsCandidate(name, model, "promote");
    const strategy = model.strategy;
    if ("abort" in strategy && strategy.abort) {
        throw new RolloutError(`model ${name}'s rollout of ${candidate.version} is aborted: set strategy.abort to false to resume it, or retire the candidate`);
    }
    const conclude = (how: string): RolloutStep => ({
        description: `${name}: ${how}: ${candidate.version} becomes stable (was ${model.tracks.stable.version}); the candidate track is dropped`,
        edits: concludeEdits(raw),
    });
    switch (strategy.type) {
        case "canary": {
            const last = strategy.steps.length - 1;
            if (strategy.step > last) throw new RolloutError(`model ${name}: strategy.step ${strategy.step} is past the last step (${last}) of ${JSON.stringify(strategy.steps)}`);
            if (strategy.step === last) {
                const final = strategy.steps[last];
                // Only a config with strategy.allowFinalStepBelow100 ends below 100: say the jump in the update's message.
                return conclude(final < 100 ? `canary done at ${final}%, and from ${final}% to 100% at once (strategy.allowFinalStepBelow100)` : `canary done at ${final}%`);
            }
            const next = strategy.step + 1;
            return {
                description: `${name}: canary step ${next + 1}/${strategy.steps.length}: ${candidate.version} from ${strategy.steps[strategy.step]}% to ${strategy.steps[next]}%`,
                edits: [{ path: ["strategy", "step"], value: next }],
            };
        }
        case "blueGreen":
            if (strategy.active === "stable") {
                return { description: `${name}: blue-green switch: all traffic to ${candidate.version} (stable ${model.tracks.stable.version} kept warm)`, edits: [{ path: ["strategy", "active"], value: "candidate" }] };
            }
            return conclude("blue-green done");
        case "abTest":
            return conclude(`A/B test concluded for the candidate`);
        case "shadow":
            return conclude(`shadow concluded`);
        case "recreate":
        case "rolling":
            throw new RolloutError(`model ${name} runs one pool (${strategy.type}): there is no step to promote; change tracks.stable.version instead`);
    }
}

export function abort(name: string, model: ModelConfig): RolloutStep {
    const candidate = needsCandidate(name, model, "abort");
    const strategy = model.strategy;
    if (!("abort" in strategy)) throw new RolloutError(`model ${name} runs one pool (${strategy.type}): nothing to abort`);
    if (strategy.abort) throw new RolloutError(`model ${name}'s rollout of ${candidate.version} is already aborted`);
    return {
        description: `${name}: abort: all live traffic back to stable ${model.tracks.stable.version}; candidate ${candidate.version} kept warm for inspection`,
        edits: [{ path: ["strategy", "abort"], value: true }],
    };
}

export function retire(name: string, model: ModelConfig): RolloutStep {
    const candidate = needsCandidate(name, model, "retire");
    return {
        description: `${name}: retire candidate ${candidate.version}: stable ${model.tracks.stable.version} alone`,
        edits: [
            { path: ["tracks", "candidate"], remove: true },
            { path: ["strategy"], value: { ...SINGLE_POOL } },
        ],
    };
}

/** One earlier update's config, as the stack's history keeps it: `modelship:models` among the keys. */
export type HistoricConfig = Readonly<Record<string, { value: string } | undefined>>;

/**
 * The track entry (version, image or build, flags) an earlier update ran `version` of `model`
 * with, from the newest update that had it. The history is newest first, as the engine lists it.
 */
export function trackFromHistory(history: readonly HistoricConfig[], model: string, version: string): Record<string, unknown> {
    const seen = new Set<string>();
    for (const config of history) {
        const raw = config["modelship:models"]?.value;
        if (raw === undefined) continue;
        let models: Record<string, { tracks?: Record<string, Record<string, unknown>> }>;
        try {
            models = JSON.parse(raw) as typeof models;
        } catch {
            continue;
        }
        for (const track of Object.values(models[model]?.tracks ?? {})) {
            seen.add(String(track.version));
            if (String(track.version) === version) return track;
        }
    }
    const known = [...seen].sort();
    throw new RolloutError(`version ${version} of model ${model} is in none of the stack's ${history.length} recorded updates${known.length > 0 ? `; it has run ${known.join(", ")}` : ""}`);
}

/** `rollback --to <version>`: the earlier version becomes the stable track again; the candidate is dropped. */
export function rollbackTo(name: string, model: ModelConfig, raw: Record<string, unknown>, earlier: Record<string, unknown>): RolloutStep {
    const version = String(earlier.version);
    if (version === model.tracks.stable.version && !model.tracks.candidate) throw new RolloutError(`model ${name} already runs ${version} as stable, alone`);
    const tracks = raw.tracks as { stable: Record<string, unknown> };
    const stable = Object.fromEntries(Object.entries(earlier).filter(([key]) => key !== "replicas"));
    if (tracks.stable.replicas !== undefined) stable.replicas = tracks.stable.replicas;
    return {
        description: `${name}: roll back to ${version} as stable (was ${model.tracks.stable.version}${model.tracks.candidate ? `, candidate ${model.tracks.candidate.version} dropped` : ""})`,
        edits: [
            { path: ["tracks", "stable"], value: stable },
            { path: ["tracks", "candidate"], remove: true },
            { path: ["strategy"], value: { ...SINGLE_POOL } },
        ],
    };
}
