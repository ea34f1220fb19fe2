/**
 * Whether a target's router can run a strategy: the strategy's needs against the router's offer.
 */
import type { RouterFeature, RouterOffer } from "../traffic/features";
import { describeMatch, type RouteConfig, type RouteMatch } from "../config/routes";
import { resolveStrategy, stickyKeyOf, STRATEGIES, strategyFor } from "./index";
import type { StrategyRegistry } from "./strategy";

const NEED_WORDS: Record<RouterFeature, string> = {
    split: "a router that splits traffic between tracks",
    sticky: "a router that keeps each key on one track",
    mirror: "a router that mirrors requests",
    pin: "a router that pins requests to a track by header",
    fallback: "a router that retries a failed request on the other track",
};

/** The router features a strategy's config needs: the strategy's own, and stickiness where the config asks for it (a sticky canary). */
export function strategyNeeds(config: { type: string }, registry: StrategyRegistry = STRATEGIES): { own: readonly RouterFeature[]; byConfig: readonly RouterFeature[] } {
    const own = strategyFor(config, registry).needs;
    const sticky = stickyKeyOf(config, registry) !== undefined && !own.includes("sticky");
    return { own, byConfig: sticky ? ["sticky"] : [] };
}

export interface UnsupportedStrategy {
    /** The key at fault: the strategy's type, or the option that asks for the feature. */
    path: "strategy.type" | "strategy.stickyBy";
    value: unknown;
    expected: string;
}

/**
 * Undefined when the router offers every feature the strategy's config needs; otherwise the key at
 * fault, why, and what to use instead.
 */
export function unsupportedStrategy(offer: RouterOffer, config: { type: string; stickyBy?: unknown }, registry: StrategyRegistry = STRATEGIES): UnsupportedStrategy | undefined {
    const { own, byConfig } = strategyNeeds(config, registry);
    // The first feature missing is the one named: a router without a split has no stickiness either.
    const missing = [...own, ...byConfig].find((feature) => !offer.features.has(feature));
    if (missing === undefined) return undefined;
    if (!own.includes(missing)) {
        return { path: "strategy.stickyBy", value: config.stickyBy, expected: `no stickyBy: ${config.type} with stickyBy needs ${NEED_WORDS[missing]}, which ${offer.label} is not; ${offer.instead}` };
    }
    return { path: "strategy.type", value: config.type, expected: `${config.type} needs ${NEED_WORDS[missing]}, which ${offer.label} is not; ${offer.instead}` };
}

/**
 * Each header or cookie route on a router that matches request headers, in a way it can match
 * (`routeFit`: the ALB has no regular expressions), to a track that answers live requests; paths
 * relative to the model.
 */
export function unsupportedRoutes(
    routes: readonly RouteConfig[],
    strategyConfig: { type: string } | undefined,
    offer: RouterOffer,
    routeFit?: (match: RouteMatch) => string | undefined,
): Array<{ path: string; value: unknown; expected: string }> {
    if (routes.length === 0) return [];
    if (!offer.features.has("pin")) {
        return [
            {
                path: "routes",
                value: routes.map((r) => describeMatch(r.match)),
                expected: `no routes: routing by header or cookie needs a router that matches request headers, which ${offer.label} is not; ${offer.instead}`,
            },
        ];
    }
    const strategy = strategyConfig ? resolveStrategy(strategyConfig) : undefined;
    return routes.flatMap((route, i) => {
        const found: Array<{ path: string; value: unknown; expected: string }> = [];
        if (route.track === "candidate" && strategy?.tracks === "one") {
            found.push({ path: `routes.${i}.track`, value: route.track, expected: `stable: ${strategy.config.type} runs one pool, with no candidate to route to` });
        } else if (route.track === "candidate" && strategy?.tracks === "two" && !strategy.strategy.candidateAnswers) {
            found.push({ path: `routes.${i}.track`, value: route.track, expected: `stable: under ${strategy.config.type} the candidate only gets copies, and its answers must never reach a user` });
        }
        const misfit = routeFit?.(route.match);
        if (misfit) found.push({ path: `routes.${i}.match`, value: describeMatch(route.match), expected: misfit });
        return found;
    });
}
