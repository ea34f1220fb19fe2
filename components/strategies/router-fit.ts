/**
 * Whether a target's router can run a strategy: the strategy's needs against the router's offer.
 */
import type { RouterFeature, RouterOffer } from "../traffic/features";
import { strategyFor } from "./index";

const NEED_WORDS: Record<RouterFeature, string> = {
    split: "a router that splits traffic between tracks",
    sticky: "a router that keeps each key on one track",
    mirror: "a router that mirrors requests",
    pin: "a router that pins requests to a track by header",
    fallback: "a router that retries a failed request on the other track",
};

/**
 * Undefined when the router offers every feature the strategy needs; otherwise why not and what to
 * use instead. The needs are the strategy's own (components/strategies) unless given.
 */
export function unsupportedStrategy(offer: RouterOffer, strategy: string, needs: readonly RouterFeature[] = strategyFor({ type: strategy }).needs): string | undefined {
    // The first feature missing is the one named: a router without a split has no stickiness either.
    const missing = needs.find((feature) => !offer.features.has(feature));
    if (missing === undefined) return undefined;
    return `${strategy} needs ${NEED_WORDS[missing]}, which ${offer.label} is not; ${offer.instead}`;
}
