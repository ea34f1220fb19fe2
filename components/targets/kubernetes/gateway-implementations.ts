/**
 * The Gateway API implementations the kubernetes target's gateway-api router may sit behind, and
 * what each does with a mirror: whether a shadow can run there is decided at preview from this table.
 */
import type { StickyKey } from "../../traffic/types";
import type { KubernetesTargetConfig } from "./config";

/**
 * What a Gateway API implementation does with an HTTPRoute's RequestMirror filter, from its Gateway
 * API conformance report (HTTPRouteRequestMirror, HTTPRouteRequestPercentageMirror): `percent` mirrors
 * any share, `all` mirrors only every request (the filter without `percent`), `none` does not mirror.
 * An implementation without it may still accept the route (Traefik does: "unsupported filter" in its
 * log, the route Accepted, every request of the rule answered 500), so the check is here, at preview.
 * The README's table of Gateway API implementations is this one (a test compares them).
 */
export type MirrorSupport = "percent" | "all" | "none";

/**
 * The HTTPRoute `sessionPersistence` types an implementation honours (Gateway API's experimental
 * channel, GEP-1619), from its own documentation: a sticky strategy's key must be one of them.
 */
export type SessionPersistenceType = "Cookie" | "Header";

export interface GatewayImplementation {
    mirror: MirrorSupport;
    sessionPersistence: readonly SessionPersistenceType[];
    /** Where the row comes from: a conformance report under conformance/reports/ of kubernetes-sigs/gateway-api, or a measurement. */
    source: string;
}

export const GATEWAY_IMPLEMENTATIONS = {
    istio: { mirror: "percent", sessionPersistence: [], source: "v1.3.0/istio-istio, Istio 1.26.1" },
    "envoy-gateway": { mirror: "percent", sessionPersistence: ["Cookie", "Header"], source: "v1.3.0/envoy-gateway, v1.5.0" },
    "nginx-gateway-fabric": { mirror: "percent", sessionPersistence: ["Cookie"], source: "v1.3.0/nginx-nginx-gateway-fabric, 2.2.0" },
    cilium: { mirror: "percent", sessionPersistence: [], source: "v1.3.0/cilium-cilium, main of May 2025" },
    gke: { mirror: "percent", sessionPersistence: [], source: "v1.3.0/gke-gateway, 1.33.4-gke.1134000 (gxlb)" },
    contour: { mirror: "all", sessionPersistence: [], source: "v1.3.0/projectcontour-contour, v1.33.0" },
    kgateway: { mirror: "all", sessionPersistence: ["Cookie", "Header"], source: "v1.3.0/kgateway, v2.1.0" },
    traefik: { mirror: "none", sessionPersistence: [], source: "v1.3.0/traefik-traefik, v3.5; v3.6.12 measured: route Accepted, answers 500" },
    kong: { mirror: "none", sessionPersistence: [], source: "v1.3.0/kong-operator, v2.0.6" },
    "aws-load-balancer-controller": { mirror: "none", sessionPersistence: [], source: "v1.3.0/aws-load-balancer-controller, v3.0.0" },
} as const satisfies Record<string, GatewayImplementation>;

/** Where each implementation's `sessionPersistence` row comes from (its documentation), for the targets page. */
export const SESSION_PERSISTENCE_SOURCES: Partial<Record<keyof typeof GATEWAY_IMPLEMENTATIONS, string>> = {
    "envoy-gateway": 'Envoy Gateway task "Session Persistence"',
    "nginx-gateway-fabric": 'NGINX Gateway Fabric "Session persistence": cookies, with NGINX Plus only',
    kgateway: 'kgateway "Session persistence" (experimental channel)',
};

export type GatewayImplementationName = keyof typeof GATEWAY_IMPLEMENTATIONS;
export const GATEWAY_IMPLEMENTATION_NAMES = Object.keys(GATEWAY_IMPLEMENTATIONS) as [GatewayImplementationName, ...GatewayImplementationName[]];

const mirroring = (support: MirrorSupport) => GATEWAY_IMPLEMENTATION_NAMES.filter((name) => GATEWAY_IMPLEMENTATIONS[name].mirror === support);

/**
 * Undefined when the target's router can mirror `mirrorPercent`% of requests; otherwise the key at
 * fault (the model's strategy, for want of a known implementation, or its share) and the fix.
 * Only the Gateway API router depends on an implementation; the others are decided by `unsupportedStrategy`
 * against the router's offer.
 */
export function unsupportedMirror(
    target: KubernetesTargetConfig,
    targetName: string,
    mirrorPercent: number,
): { path: "strategy.type" | "strategy.mirrorPercent"; value: unknown; expected: string } | undefined {
    if (target.router.type !== "gateway-api") return undefined;
    const key = `targets.${targetName}.router.implementation`;
    const implementation = target.router.implementation;
    const support = implementation ? GATEWAY_IMPLEMENTATIONS[implementation].mirror : undefined;
    if (support === "percent" || (support === "all" && mirrorPercent === 100)) return undefined;
    const which = `${mirroring("percent").join(", ")} (any share); ${mirroring("all").join(", ")} (mirrorPercent 100 only)`;
    const orNginx = "or run it with router.type nginx, which mirrors any share";
    if (support === "all") {
        return {
            path: "strategy.mirrorPercent",
            value: mirrorPercent,
            expected: `100: ${key} is ${implementation}, whose RequestMirror copies every request or none (no HTTPRouteRequestPercentageMirror); or set ${key} to one of ${mirroring("percent").join(", ")}, ${orNginx}`,
        };
    }
    const problem = implementation
        ? `${key} is ${implementation}, which does not implement HTTPRoute RequestMirror (it may accept the route and fail the mirrored requests)`
        : `${key} is not set, so whether the Gateway mirrors requests is unknown (some accept a RequestMirror route and fail its requests)`;
    return {
        path: "strategy.type",
        value: "shadow",
        expected: `a strategy this router can run: shadow needs HTTPRoute RequestMirror, and ${problem}; set ${key} to the Gateway's implementation if it is one of ${which}, ${orNginx}`,
    };
}

const persisting = (type: SessionPersistenceType) => GATEWAY_IMPLEMENTATION_NAMES.filter((name) => (GATEWAY_IMPLEMENTATIONS[name].sessionPersistence as readonly string[]).includes(type));

/**
 * Undefined when the target's router keeps each key on one track; otherwise the key at fault and
 * the fix. On the Gateway API router that is the HTTPRoute rule's `sessionPersistence`: in the
 * experimental channel only (the cluster's HTTPRoute CRD must have the field), and honoured by
 * the implementations of the table alone.
 */
export function unsupportedSession(target: KubernetesTargetConfig, targetName: string, sticky: StickyKey): { path: "strategy.stickyBy"; value: StickyKey; expected: string } | undefined {
    if (target.router.type !== "gateway-api") return undefined;
    const type: SessionPersistenceType = "header" in sticky ? "Header" : "Cookie";
    const able = persisting(type);
    const others = `or run it with router.type nginx, which keeps any header or cookie on its track`;
    if (target.router.channel !== "experimental") {
        return {
            path: "strategy.stickyBy",
            value: sticky,
            expected: `a router that keeps each key on one track: stickyBy becomes the HTTPRoute rule's sessionPersistence, which only Gateway API's experimental channel has, and targets.${targetName}.router.channel is ${target.router.channel}; install the experimental CRDs and set it to experimental, ${others}`,
        };
    }
    const implementation = target.router.implementation;
    if (implementation && (GATEWAY_IMPLEMENTATIONS[implementation].sessionPersistence as readonly string[]).includes(type)) return undefined;
    const key = `targets.${targetName}.router.implementation`;
    const problem = implementation ? `is ${implementation}, which is not known to honour ${type} session persistence` : "is not set, so whether the Gateway honours session persistence is unknown";
    return {
        path: "strategy.stickyBy",
        value: sticky,
        expected: `a router that keeps each key on one track: ${key} ${problem}; set it to one that does (${able.join(", ")}), ${others}`,
    };
}
