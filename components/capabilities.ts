/**
 * What each router can do. Config validation reads this table, so an unsupported
 * strategy/target pair is refused at preview time with the alternative named.
 */
import type { TargetConfig } from "./config/schema";
import { SINGLE_POOL_STRATEGIES, STRATEGY_TYPES, type StrategyType } from "./traffic/types";

export type RouterKind = "docker-nginx" | "kubernetes-nginx" | "gateway-api" | "none" | "alb";

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
    // An ALB forwards by weight and sticks by its own cookie, but cannot copy requests anywhere.
    alb: { kind: "alb", label: "the aws-vm target's Application Load Balancer", strategies: STRATEGY_TYPES.filter((s) => s !== "shadow") },
};

export function routerOf(target: TargetConfig): RouterCapabilities {
    switch (target.type) {
        case "docker":
            return ROUTERS["docker-nginx"];
        case "aws-vm":
            return ROUTERS.alb;
        case "kubernetes":
            return ROUTERS[target.router.type === "nginx" ? "kubernetes-nginx" : target.router.type];
    }
}

/** Undefined when the router can run the strategy; otherwise why not and what to use instead. */
export function unsupportedStrategy(target: TargetConfig, strategy: StrategyType): string | undefined {
    const router = routerOf(target);
    if (router.strategies.includes(strategy)) return undefined;
    const needs = strategy === "shadow" ? "a router that mirrors requests" : "a router that splits traffic between tracks";
    const instead =
        target.type === "kubernetes"
            ? "set router.type to gateway-api or nginx on this target"
            : "run the model on a kubernetes target (router gateway-api or nginx) or on the docker target";
    return `${strategy} needs ${needs}, which ${router.label} is not; ${instead}`;
}
