/**
 * What a router can do with a model's requests. A strategy declares the features it needs; a
 * target declares the features its router offers; strategies/router-fit.ts compares the two, so a
 * new strategy or target is refused or accepted by what it declares, never by a list of exceptions.
 */
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
