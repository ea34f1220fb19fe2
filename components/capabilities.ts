/**
 * What each router can do. Config validation reads this table, so an unsupported
 * strategy/target pair is refused at preview time with the alternative named.
 */
import type { TargetConfig } from "./config/schema";
import { SINGLE_POOL_STRATEGIES, STRATEGY_TYPES, type StrategyType } from "./traffic/types";

export type RouterKind = "docker-nginx" | "kubernetes-nginx" | "gateway-api" | "none";

export interface RouterCapabilities {
    kind: RouterKind;
    /** Human name used in messages. */
    label: string;
    strategies: readonly StrategyType[];
}

const ROUTERS: Record<RouterKind, RouterCapabilities> = {
    "docker-nginx": { kind: "docker-nginx", label: "the docker target's nginx router", strategies: STRATEGY_TYPES },
    "kubernetes-nginx": { kind: "kubernetes-nginx", label: "the kubernetes nginx router", strategies: STRATEGY_TYPES },
    "gateway-api": { kind: "gateway-api", label: "the Gateway API HTTPRoute router", strategies: STRATEGY_TYPES },
    none: { kind: "none", label: "a kubernetes target without a router", strategies: SINGLE_POOL_STRATEGIES },
};

export function routerOf(target: TargetConfig): RouterCapabilities {
    if (target.type === "docker") return ROUTERS["docker-nginx"];
    switch (target.router.type) {
        case "nginx":
            return ROUTERS["kubernetes-nginx"];
        case "gateway-api":
            return ROUTERS["gateway-api"];
        case "none":
            return ROUTERS.none;
    }
}

/** Kubernetes router settings by the name they have in config. */
const KUBERNETES_ROUTERS: ReadonlyArray<[string, RouterKind]> = [
    ["gateway-api", "gateway-api"],
    ["nginx", "kubernetes-nginx"],
];

/** Undefined when the router can run the strategy; otherwise why not and what to change instead. */
export function unsupportedStrategy(target: TargetConfig, strategy: StrategyType): string | undefined {
    const router = routerOf(target);
    if (router.strategies.includes(strategy)) return undefined;
    const alternatives = KUBERNETES_ROUTERS.filter(([, kind]) => ROUTERS[kind].strategies.includes(strategy)).map(([name]) => name);
    const needs = strategy === "shadow" ? "a router that mirrors requests" : "a router that splits traffic between tracks";
    return `${strategy} needs ${needs}, which ${router.label} is not; set target.router.type to ${alternatives.join(" or ")}`;
}
