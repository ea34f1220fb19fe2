/**
 * The config rules a model's strategy brings: whether it has the tracks its strategy runs (one
 * pool or stable and a candidate), then the strategy's own rules. Paths are relative to the model.
 */
import type { TrackName } from "../config/tracks";
import { resolveStrategy, STRATEGIES, strategyFor } from "./index";
import type { StrategyIssue, StrategyRegistry } from "./strategy";

export interface StrategyParts {
    strategy?: { type: string };
    /** The tracks that parsed; `tracksComplete` says whether all of them did. */
    tracks: Partial<Record<TrackName, { version: string }>>;
    tracksComplete: boolean;
}

export function strategyRules(model: StrategyParts, registry: StrategyRegistry = STRATEGIES): StrategyIssue[] {
    if (!model.strategy) return [];
    return [...trackRules(model, model.strategy, registry), ...ownRules(model.strategy, registry)];
}

function ownRules(config: { type: string }, registry: StrategyRegistry): StrategyIssue[] {
    const resolved = resolveStrategy(config, registry);
    // Two branches, so that each call sees its own kind's config type.
    return (resolved.tracks === "one" ? resolved.strategy.rules?.(resolved.config) : resolved.strategy.rules?.(resolved.config)) ?? [];
}

function trackRules(model: StrategyParts, config: { type: string }, registry: StrategyRegistry): StrategyIssue[] {
    // Whether a candidate is there is known only when every track parsed.
    if (!model.tracksComplete || !model.tracks.stable) return [];
    const candidate = model.tracks.candidate;
    const strategy = strategyFor(config, registry);
    if (strategy.tracks === "one") {
        return candidate
            ? [{ path: "tracks.candidate", value: { version: candidate.version }, expected: `no candidate: ${config.type} replaces one pool in place, so change tracks.stable.version instead` }]
            : [];
    }
    if (!candidate) return [{ path: "tracks.candidate", value: undefined, expected: `a candidate track: ${config.type} moves traffic from stable to a candidate` }];
    if (!strategy.candidateMayRunStableVersion && candidate.version === model.tracks.stable.version) {
        return [{ path: "tracks.candidate.version", value: candidate.version, expected: `a version other than the stable one (${model.tracks.stable.version})` }];
    }
    return [];
}
