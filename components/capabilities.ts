/**
 * What each router can do. Config validation reads this table, so an unsupported
 * strategy/target pair is refused at preview time with the alternative named.
 */
import type { TargetConfig } from "./config/schema";
import { ROUTER_FEATURES, type RouterOffer } from "./traffic/features";

export type RouterKind = "docker-nginx" | "kubernetes-nginx" | "gateway-api" | "none" | "alb";

const EVERYTHING = new Set(ROUTER_FEATURES);
const ON_KUBERNETES = "set router.type to gateway-api or nginx on this target";
const ELSEWHERE = "run the model on a kubernetes target (router gateway-api or nginx) or on the docker target";

const ROUTERS: Record<RouterKind, RouterOffer> = {
    "docker-nginx": { label: "the docker target's nginx router", features: EVERYTHING, instead: ELSEWHERE },
    "kubernetes-nginx": { label: "the kubernetes nginx router", features: EVERYTHING, instead: ON_KUBERNETES },
    // Whether the Gateway mirrors depends on its implementation: unsupportedMirror below.
    "gateway-api": { label: "the Gateway API HTTPRoute router", features: new Set(["split", "sticky", "mirror", "pin"]), instead: ON_KUBERNETES },
    none: { label: "a kubernetes target without a router", features: new Set(), instead: ON_KUBERNETES },
    // An ALB forwards by weight and sticks by its own cookie, but cannot copy requests anywhere.
    alb: { label: "the aws-vm target's Application Load Balancer", features: new Set(["split", "sticky", "pin"]), instead: ELSEWHERE },
};

/**
 * What a Gateway API implementation does with an HTTPRoute's RequestMirror filter, from its Gateway
 * API conformance report (HTTPRouteRequestMirror, HTTPRouteRequestPercentageMirror): `percent` mirrors
 * any share, `all` mirrors only every request (the filter without `percent`), `none` does not mirror.
 * An implementation without it may still accept the route (Traefik does: "unsupported filter" in its
 * log, the route Accepted, every request of the rule answered 500), so the check is here, at preview.
 * The README's table of Gateway API implementations is this one (a test compares them).
 */
export type MirrorSupport = "percent" | "all" | "none";

export interface GatewayImplementation {
    mirror: MirrorSupport;
    /** Where the row comes from: a conformance report under conformance/reports/ of kubernetes-sigs/gateway-api, or a measurement. */
    source: string;
}

export const GATEWAY_IMPLEMENTATIONS = {
    istio: { mirror: "percent", source: "v1.3.0/istio-istio, Istio 1.26.1" },
    "envoy-gateway": { mirror: "percent", source: "v1.3.0/envoy-gateway, v1.5.0" },
    "nginx-gateway-fabric": { mirror: "percent", source: "v1.3.0/nginx-nginx-gateway-fabric, 2.2.0" },
    cilium: { mirror: "percent", source: "v1.3.0/cilium-cilium, main of May 2025" },
    gke: { mirror: "percent", source: "v1.3.0/gke-gateway, 1.33.4-gke.1134000 (gxlb)" },
    contour: { mirror: "all", source: "v1.3.0/projectcontour-contour, v1.33.0" },
    kgateway: { mirror: "all", source: "v1.3.0/kgateway, v2.1.0" },
    traefik: { mirror: "none", source: "v1.3.0/traefik-traefik, v3.5; v3.6.12 measured: route Accepted, answers 500" },
    kong: { mirror: "none", source: "v1.3.0/kong-operator, v2.0.6" },
    "aws-load-balancer-controller": { mirror: "none", source: "v1.3.0/aws-load-balancer-controller, v3.0.0" },
} as const satisfies Record<string, GatewayImplementation>;

export type GatewayImplementationName = keyof typeof GATEWAY_IMPLEMENTATIONS;
export const GATEWAY_IMPLEMENTATION_NAMES = Object.keys(GATEWAY_IMPLEMENTATIONS) as [GatewayImplementationName, ...GatewayImplementationName[]];

const mirroring = (support: MirrorSupport) => GATEWAY_IMPLEMENTATION_NAMES.filter((name) => GATEWAY_IMPLEMENTATIONS[name].mirror === support);

/**
 * Undefined when the target's router can mirror `mirrorPercent`% of requests; otherwise the key at
 * fault (the model's strategy, for want of a known implementation, or its share) and the fix.
 * Only the Gateway API router depends on an implementation; the others are decided by `unsupportedStrategy`.
 */
export function unsupportedMirror(target: TargetConfig, targetName: string, mirrorPercent: number): { path: "strategy.type" | "strategy.mirrorPercent"; value: unknown; expected: string } | undefined {
    if (target.type !== "kubernetes" || target.router.type !== "gateway-api") return undefined;
    const key = `targets.${targetName}.router.implementation`;
    const implementation = target.router.implementation;
    const support = implementation ? GATEWAY_IMPLEMENTATIONS[implementation].mirror : undefined;
    if (support === "percent" || (support === "all" && mirrorPercent === 100)) return undefined;
    const which = `${mirroring("percent").join(", ")} (any share); ${mirroring("all").join(", ")} (mirrorPercent 100 only)`;
    const orNginx = "or run it with router.type nginx, which mirrors any share";
    if (support === "all") {
        return { path: "strategy.mirrorPercent", value: mirrorPercent, expected: `100: ${key} is ${implementation}, whose RequestMirror copies every request or none (no HTTPRouteRequestPercentageMirror); or set ${key} to one of ${mirroring("percent").join(", ")}, ${orNginx}` };
    }
    const problem = implementation
        ? `${key} is ${implementation}, which does not implement HTTPRoute RequestMirror (it may accept the route and fail the mirrored requests)`
        : `${key} is not set, so whether the Gateway mirrors requests is unknown (some accept a RequestMirror route and fail its requests)`;
    return { path: "strategy.type", value: "shadow", expected: `a strategy this router can run: shadow needs HTTPRoute RequestMirror, and ${problem}; set ${key} to the Gateway's implementation if it is one of ${which}, ${orNginx}` };
}

export function routerOf(target: TargetConfig): RouterOffer {
    switch (target.type) {
        case "docker":
            return ROUTERS["docker-nginx"];
        case "aws-vm":
            return ROUTERS.alb;
        case "kubernetes":
            return ROUTERS[target.router.type === "nginx" ? "kubernetes-nginx" : target.router.type];
    }
}
