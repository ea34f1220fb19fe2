/**
 * What the policies read of the objects targets make, asked of each registered target's own
 * readers (components/targets/<type>/policy.ts), so that a policy written once applies to every
 * target, including one added later.
 */
import type { WorkloadCheck } from "../components/targets/definition";
import { targets } from "../components/targets/registry";
import type { Props, RouterPlans } from "./lib";

/**
 * The traffic plans a router object carries, whichever target made it: each target's folder says
 * how its router objects carry them (policy.ts there). Undefined for anything that declares no plan.
 */
export function routerPlans(type: string, props: Props): RouterPlans | undefined {
    for (const target of targets()) {
        const declared = target.policy.routerPlans?.(type, props);
        if (declared) return declared;
    }
    return undefined;
}

/** The nginx.conf a router object carries, on the targets whose router is nginx. */
export function routerNginxConf(type: string, props: Props): string | undefined {
    for (const target of targets()) {
        const conf = target.policy.routerNginxConf?.(type, props);
        if (conf !== undefined) return conf;
    }
    return undefined;
}

/** Every image reference a workload object of any target runs or pulls, with where it sits. */
export function workloadImages(type: string, props: Props): Array<{ where: string; image: string }> {
    return targets().flatMap((target) => target.policy.images?.(type, props) ?? []);
}

/** Why an object of any target faces the internet, one reason per finding. */
export function publicExposure(type: string, props: Props): string[] {
    return targets().flatMap((target) => target.policy.publicExposure?.(type, props) ?? []);
}

/** What a workload object of any target breaks, for one workload policy: one message per finding. */
export function workloadFindings(check: WorkloadCheck, type: string, props: Props): string[] {
    return targets().flatMap((target) => target.policy.workloadFindings?.[check]?.(type, props) ?? []);
}
