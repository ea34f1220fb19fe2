/**
 * What a router can do with a model's requests. A strategy declares the features it needs; a
 * target declares the features its router offers; the config check compares the two, so a new
 * strategy or target is refused or accepted by what it declares, never by a list of exceptions.
 */
import { strategyFor } from "../strategies";

export const ROUTER_FEATURES = ["split", "sticky", "mirror", "pin", "fallback"] as const;
/**
 * - split: live requests divided between two tracks by weight
 * - sticky: requests with the same key (header or cookie) always reach the same track
 * - mirror: a copy of live requests sent to a track whose answers are dropped
 * - pin: a request header that sends a request to one named track, whatever the weights (QA, smoke)
 * - fallback: a request its track fails is sent once more to the other live track
 */
export type RouterFeature = (typeof ROUTER_FEATURES)[number];

/** What one target's router offers, as the target declares it for its own config. */
export interface RouterOffer {
    /** Human name used in messages, e.g. "the docker target's nginx router". */
    label: string;
    features: ReadonlySet<RouterFeature>;
    /** What to do instead when a strategy needs a feature this router lacks. */
    instead: string;
}

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
