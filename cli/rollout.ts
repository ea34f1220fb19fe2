/**
 * What `promote`, `abort` and `retire` change in a model's stack config, as edits to the stack
 * file. Pure: it reads the parsed model config (for the rules) and returns the edits and a
 * one-line description of the step, which becomes the update's message.
 *
 *   promote - the strategy's next step (components/strategies: a canary's next weight, a
 *             blue-green switch) or, at its end, conclude. Concluding makes the candidate's
 *             version the stable track's, drops the candidate and leaves a rolling single pool.
 *   abort   - all live traffic back to stable (`abort: true`); the candidate stays warm.
 *   retire  - drop the candidate track: stable alone, as a rolling single pool.
 */
import { isRegistryReference, parseRegistryReference } from "../components/config/model-registry";
import type { ModelConfig } from "../components/config/schema";
import { isAborted, isTwoTrack, resolveStrategy } from "../components/strategies";
import type { PreviewCheckConfig } from "../components/strategies/fields";
import type { Edit } from "../components/strategies/strategy";
import type { RolloutEventName } from "./notify";

export interface RolloutStep {
    description: string;
    edits: Edit[];
    /** What the step is, for the notification sent once it is applied. */
    event: RolloutEventName;
    /** The candidate's pool must pass this check before the step is applied (its first live traffic). */
    previewCheck?: PreviewCheckConfig;
    /** A registry alias to move once the update succeeded: a concluded promote of a models:/ model moves champion to the promoted version. */
    moveAlias?: AliasMove;
}

export interface AliasMove {
    trackingUri: string;
    /** The registered model's name. */
    name: string;
    alias: string;
    /** The registry version the alias points at afterwards. */
    version: string;
}

/** The alias a concluding promote moves, where the model's versions come from a registry and the candidate is pinned. */
function promotedAlias(model: ModelConfig): AliasMove | undefined {
    const pin = model.tracks.candidate?.artifact;
    if (!model.modelRegistry || !pin || !isRegistryReference(model.artifact)) return undefined;
    const reference = parseRegistryReference(model.artifact);
    if ("problem" in reference) return undefined;
    return { trackingUri: model.modelRegistry.trackingUri, name: reference.name, alias: model.modelRegistry.promoteAlias, version: pin.registryVersion };
}

export class RolloutError extends Error {}

/** What a model runs once its rollout concludes or its candidate is dropped: stable alone, replaced a few replicas at a time. */
const AFTER_ROLLOUT = { type: "rolling" } as const;

/** The candidate track as it is written in the stack file: its source, version and flags, at the stable track's size. */
function concludeEdits(raw: Record<string, unknown>): Edit[] {
    const tracks = raw.tracks as { stable: Record<string, unknown>; candidate?: Record<string, unknown> };
    const candidate = tracks.candidate ?? {};
    const stable = Object.fromEntries(Object.entries(candidate).filter(([key]) => key !== "replicas"));
    if (tracks.stable.replicas !== undefined) stable.replicas = tracks.stable.replicas;
    return [
        { path: ["tracks", "stable"], value: stable },
        { path: ["tracks", "candidate"], remove: true },
        { path: ["strategy"], value: { ...AFTER_ROLLOUT } },
    ];
}

function needsCandidate(name: string, model: ModelConfig, verb: string): NonNullable<ModelConfig["tracks"]["candidate"]> {
    const candidate = model.tracks.candidate;
    if (!candidate)
        throw new RolloutError(`model ${name} has no candidate track (strategy ${model.strategy.type}): nothing to ${verb}; to roll out a version, add tracks.candidate and a two-track strategy`);
    return candidate;
}

export function promote(name: string, model: ModelConfig, raw: Record<string, unknown>): RolloutStep {
    const candidate = needsCandidate(name, model, "promote");
    if (isAborted(model.strategy)) {
        throw new RolloutError(`model ${name}'s rollout of ${candidate.version} is aborted: set strategy.abort to false to resume it, or retire the candidate`);
    }
    const resolved = resolveStrategy(model.strategy);
    if (resolved.tracks === "one") throw new RolloutError(`model ${name} runs one pool (${resolved.config.type}): there is no step to promote; change tracks.stable.version instead`);
    const next = resolved.strategy.promote(resolved.config, { model: name, stable: model.tracks.stable.version, candidate: candidate.version });
    if ("refused" in next) throw new RolloutError(next.refused);
    if ("conclude" in next) {
        const moveAlias = promotedAlias(model);
        return {
            description: `${name}: ${next.conclude}: ${candidate.version} becomes stable (was ${model.tracks.stable.version}); the candidate track is dropped${moveAlias ? `; registry alias ${moveAlias.alias} -> version ${moveAlias.version} once applied` : ""}`,
            edits: concludeEdits(raw),
            event: "promoted",
            ...(moveAlias ? { moveAlias } : {}),
        };
    }
    return { ...next, event: "step-applied" };
}

/** How long after an update the next `promote` waits, so the pool that lost traffic stays warm (the strategy's scaleDownDelaySeconds). */
export function scaleDownDelaySeconds(model: ModelConfig): number {
    if (!model.tracks.candidate || isAborted(model.strategy)) return 0;
    const resolved = resolveStrategy(model.strategy);
    return resolved.tracks === "two" ? (resolved.strategy.shape(resolved.config).scaleDown?.delaySeconds ?? 0) : 0;
}

/** A promote that comes before the pool losing traffic has been kept warm long enough; undefined when it may go ahead. */
export function tooSoonToPromote(name: string, model: ModelConfig, lastUpdateEnded: Date | undefined, now: Date): string | undefined {
    const delay = scaleDownDelaySeconds(model);
    if (delay === 0 || lastUpdateEnded === undefined) return undefined;
    const remaining = Math.ceil(delay - (now.getTime() - lastUpdateEnded.getTime()) / 1000);
    if (remaining <= 0) return undefined;
    return `model ${name}: the pool that lost traffic is kept warm for strategy.scaleDownDelaySeconds (${delay} s) after the last update, which ended at ${lastUpdateEnded.toISOString()}: promote again in ${remaining} s (abort flips back to it at once)`;
}

export function abort(name: string, model: ModelConfig): RolloutStep {
    const candidate = needsCandidate(name, model, "abort");
    const strategy = model.strategy;
    if (!isTwoTrack(strategy)) throw new RolloutError(`model ${name} runs one pool (${strategy.type}): nothing to abort`);
    if (strategy.abort) throw new RolloutError(`model ${name}'s rollout of ${candidate.version} is already aborted`);
    return {
        description: `${name}: abort: all live traffic back to stable ${model.tracks.stable.version}; candidate ${candidate.version} kept warm for inspection`,
        edits: [{ path: ["strategy", "abort"], value: true }],
        event: "aborted",
    };
}

export function retire(name: string, model: ModelConfig): RolloutStep {
    const candidate = needsCandidate(name, model, "retire");
    return {
        description: `${name}: retire candidate ${candidate.version}: stable ${model.tracks.stable.version} alone`,
        edits: [
            { path: ["tracks", "candidate"], remove: true },
            { path: ["strategy"], value: { ...AFTER_ROLLOUT } },
        ],
        event: "rolled-back",
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
            { path: ["strategy"], value: { ...AFTER_ROLLOUT } },
        ],
        event: "rolled-back",
    };
}
