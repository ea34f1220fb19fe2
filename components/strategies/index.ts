/**
 * The strategies, one line each. Adding a strategy is its file and its line here: the config's
 * `strategy` key, the rules, the traffic plan, the capability check, `promote` and the policy
 * pack all read this registry.
 */
import { z } from "zod";
import { abTest } from "./abTest";
import { blueGreen } from "./blueGreen";
import { canary } from "./canary";
import { recreate } from "./recreate";
import { rolling } from "./rolling";
import { shadow } from "./shadow";
import type { StickyKey } from "../traffic/types";
import type { OnePoolStrategy, Strategy, StrategyRegistry, TwoTrackSchema, TwoTrackStrategy } from "./strategy";

export const STRATEGIES = {
    recreate,
    rolling,
    blueGreen,
    canary,
    abTest,
    shadow,
} as const satisfies StrategyRegistry;

export type StrategyType = keyof typeof STRATEGIES;

/** "a, b or c" */
function wordList(words: readonly string[]): string {
    return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}` : words.join("");
}

/** The `strategy` config key: one variant per strategy of the registry, told apart by `type`. */
export function strategyUnion<R extends StrategyRegistry>(registry: R) {
    const schemas = Object.values(registry).map((strategy) => strategy.schema) as [R[keyof R]["schema"], ...R[keyof R]["schema"][]];
    return z.discriminatedUnion("type", schemas, { error: `a strategy type: ${wordList(Object.keys(registry))}` });
}

export const strategySchema = strategyUnion(STRATEGIES);
export type StrategyConfig = z.infer<typeof strategySchema>;

type TwoTrackType = { [K in StrategyType]: (typeof STRATEGIES)[K] extends { tracks: "two" } ? K : never }[StrategyType];
/** The config of a strategy that runs stable and a candidate. */
export type TwoTrackConfig = Extract<StrategyConfig, { type: TwoTrackType }>;

/** The strategy of that type, or undefined when there is none (a name read from a resource, say). */
export function findStrategy(type: unknown, registry: StrategyRegistry = STRATEGIES): Strategy | undefined {
    return typeof type === "string" && Object.hasOwn(registry, type) ? registry[type] : undefined;
}

/** The strategy a config names; the config was parsed with the same registry, so it is there. */
export function strategyFor(config: { type: string }, registry: StrategyRegistry = STRATEGIES): Strategy {
    const strategy = findStrategy(config.type, registry);
    if (strategy === undefined) throw new Error(`no strategy ${JSON.stringify(config.type)}; the strategies are ${Object.keys(registry).join(", ")}`);
    return strategy;
}

/** A strategy with its config, typed as the strategy reads it. */
export type ResolvedStrategy = { tracks: "one"; strategy: OnePoolStrategy; config: { type: string } } | { tracks: "two"; strategy: TwoTrackStrategy; config: z.output<TwoTrackSchema> };

/** The strategy a config names, and the config typed for it. */
export function resolveStrategy(config: { type: string }, registry: StrategyRegistry = STRATEGIES): ResolvedStrategy {
    const strategy = strategyFor(config, registry);
    // The registry's schema for this type produced the config, so it has every key the strategy reads.
    return strategy.tracks === "two" ? { tracks: "two", strategy, config: config as z.output<TwoTrackSchema> } : { tracks: "one", strategy, config };
}

/** Whether the strategy (a config, or a strategy's type) runs stable and a candidate; otherwise it runs one pool, replaced in place. */
export function isTwoTrack(config: StrategyConfig): config is TwoTrackConfig;
export function isTwoTrack(type: string): boolean;
export function isTwoTrack(strategy: StrategyConfig | string): boolean {
    return strategyFor(typeof strategy === "string" ? { type: strategy } : strategy).tracks === "two";
}

/** The key that keeps each user on one track, where the strategy's config has one (an A/B test, a sticky canary). */
export function stickyKeyOf(config: { type: string }, registry: StrategyRegistry = STRATEGIES): StickyKey | undefined {
    const resolved = resolveStrategy(config, registry);
    return resolved.tracks === "two" ? resolved.strategy.stickyBy?.(resolved.config) : undefined;
}

/** True when a two-track rollout was aborted: all live traffic on stable. */
export function isAborted(config: StrategyConfig): boolean {
    return isTwoTrack(config) && config.abort;
}
