/**
 * What the server accepts (request bodies, artifacts) and how long it keeps an idle connection. The router in front of it
 * (components/traffic/nginx.ts) derives its own body limit and upstream idle timeout from these,
 * so the two cannot disagree. No imports: the router's build reads this file as it is.
 */

/** Request bodies above this are answered 413 without being buffered (the router refuses them first). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The largest model artifact the server reads and the artifact initializer (src/fetch-artifact.ts)
 * downloads: a logistic regression is a few kilobytes, so anything near this is a mistake.
 */
export const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

/**
 * How long an idle keep-alive connection stays open: longer than any proxy in front keeps one
 * idle (the router's upstream keepalive_timeout, derived from this; a cloud load balancer's usual
 * 60 s), so the server never closes a connection at the instant a proxy reuses it. Node's own
 * 5 s default lost that race.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
