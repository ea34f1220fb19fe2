/**
 * Traffic: the router objects split by valid weights, a canary moves in steps no larger than the
 * environment allows, and a shadow rollout really mirrors. Router objects of every target carry
 * the plans they were rendered from (plan-annotation.ts), read by one reader (routerPlans in
 * target-readers.ts), so these checks read the plan beside the weights wherever the model runs.
 */
import { findStrategy } from "../components/strategies";
import { MIRROR_LOCATION_PREFIX } from "../components/traffic/nginx";
import type { PlanSummary } from "../components/traffic/plan-annotation";
import { arrayAt, isRecord, resourcePolicy, TYPES, type ModelshipPolicy, type Props, type ReportViolation } from "./lib";
import { routerNginxConf, routerPlans } from "./target-readers";

function plansOf(type: string, props: Props, report: ReportViolation): PlanSummary[] {
    const declared = routerPlans(type, props);
    if (declared?.problem) report(declared.problem);
    return declared?.plans ?? [];
}

function isWeight(value: unknown): value is number {
    return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 100;
}

function checkPlanWeights(plan: PlanSummary, report: ReportViolation): void {
    const weights = Object.values(plan.weights);
    if (!weights.every(isWeight)) report(`${plan.model}: weights ${JSON.stringify(plan.weights)} are not integers 0..100`);
    else if (weights.reduce((a, b) => a + b, 0) !== 100) report(`${plan.model}: weights ${JSON.stringify(plan.weights)} do not sum to 100`);
    if (plan.aborted && (plan.weights.stable !== 100 || Object.values(plan.mirrorPercent).some((m) => m !== 0))) {
        report(`${plan.model}: an aborted rollout must send all live traffic to stable and mirror nothing`);
    }
    const strategy = findStrategy(plan.strategy);
    if (strategy?.tracks === "two" && !strategy.candidateAnswers && (plan.weights.candidate ?? 0) !== 0) report(`${plan.model}: a ${plan.strategy} candidate must get no live traffic`);
}

/** The HTTPRoute's split rules (no header match) must give percentages that add up to 100. */
function checkRouteWeights(props: Props, report: ReportViolation): void {
    for (const [i, rule] of arrayAt(props, "spec", "rules").filter(isRecord).entries()) {
        const refs = arrayAt(rule, "backendRefs").filter(isRecord);
        const pinned = arrayAt(rule, "matches").some((m) => isRecord(m) && arrayAt(m, "headers").length > 0);
        const weights = refs.map((r) => r.weight ?? 1);
        if (!weights.every((w) => typeof w === "number" && Number.isInteger(w) && w >= 0)) report(`rule ${i}: backend weights ${JSON.stringify(weights)} are not non-negative integers`);
        else if (!pinned && refs.length > 1 && (weights as number[]).reduce((a, b) => a + b, 0) !== 100) report(`rule ${i}: the split's weights ${JSON.stringify(weights)} do not sum to 100`);
    }
}

/** Each split_clients block must hand out at most 100%, and all of it (a `*` entry or exactly 100%). */
function checkNginxSplits(conf: string, report: ReportViolation): void {
    for (const block of conf.matchAll(/split_clients\s+"[^"]*"\s+(\$\w+)\s*\{([^}]*)\}/g)) {
        const entries = [...block[2].matchAll(/([\d.]+%|\*)\s+[^;]+;/g)].map((m) => m[1]);
        const total = entries.filter((e) => e !== "*").reduce((sum, e) => sum + Number(e.slice(0, -1)), 0);
        if (total > 100 || (total < 100 && !entries.includes("*"))) report(`split ${block[1]} hands out ${total}%${entries.includes("*") ? " plus the rest" : ""}`);
    }
}

const weightsValid = resourcePolicy(
    {
        name: "traffic-weights-valid",
        description:
            "Weights are integers 0..100 that add up to 100, an aborted rollout is all stable, and a shadow candidate gets no live traffic: otherwise requests go nowhere, or somewhere unreviewed.",
        theme: "traffic",
    },
    (args, report) => {
        for (const plan of plansOf(args.type, args.props, report)) checkPlanWeights(plan, report);
        if (args.type === TYPES.httpRoute) checkRouteWeights(args.props, report);
        const conf = routerNginxConf(args.type, args.props);
        if (conf !== undefined) checkNginxSplits(conf, report);
    },
);

interface StepCapConfig {
    maxStepPoints: number;
}

const canaryStepCap = resourcePolicy(
    {
        name: "canary-step-cap",
        description: "A canary that jumps too far in one step exposes too many users to an unproven model before its analysis can react; each environment caps the points a step may add.",
        theme: "traffic",
        configSchema: { properties: { maxStepPoints: { type: "integer", minimum: 1, maximum: 100, default: 100 } } },
    },
    (args, report) => {
        const { maxStepPoints } = args.getConfig<StepCapConfig>();
        for (const plan of plansOf(args.type, args.props, report)) {
            // A canary's steps grow a share of capacity; a gradual blue-green's move traffic between two full pools, which a one-switch blue-green does at once.
            if (plan.strategy !== "canary" || !plan.steps) continue;
            // A canary whose steps end below 100 (allowFinalStepBelow100) still concludes at 100: `promote` at its last step.
            const last = plan.steps[plan.steps.length - 1] ?? 0;
            const ladder = last < 100 ? [...plan.steps, 100] : plan.steps;
            const jumps = ladder.map((weight, i) => ({ from: i === 0 ? 0 : ladder[i - 1], to: weight, concludes: i === plan.steps!.length })).filter(({ from, to }) => to - from > maxStepPoints);
            const named = jumps.map((j) => `${j.from} -> ${j.to}${j.concludes ? " (the promote that concludes)" : ""}`);
            if (jumps.length > 0) report(`${plan.model}: canary steps ${named.join(", ")} add more than ${maxStepPoints} points; add intermediate steps`);
        }
    },
);

function mirrorsIn(type: string, props: Props, model: string): boolean {
    if (type === TYPES.httpRoute) {
        return arrayAt(props, "spec", "rules").some((rule) => isRecord(rule) && arrayAt(rule, "filters").some((f) => isRecord(f) && f.type === "RequestMirror"));
    }
    const conf = routerNginxConf(type, props);
    return conf !== undefined && conf.includes(`mirror ${MIRROR_LOCATION_PREFIX}${model}/`);
}

const shadowMirrors = resourcePolicy(
    {
        name: "shadow-needs-mirror",
        description: "A shadow rollout is only evidence if the router really copies requests to the candidate; a router that cannot mirror would report a candidate with no traffic as healthy.",
        theme: "traffic",
    },
    (args, report) => {
        for (const plan of plansOf(args.type, args.props, report)) {
            const mirroring = findStrategy(plan.strategy)?.needs.includes("mirror") === true && !plan.aborted && Object.values(plan.mirrorPercent).some((m) => m > 0);
            if (mirroring && !mirrorsIn(args.type, args.props, plan.model)) report(`${plan.model}: the plan mirrors to the candidate but this router does not mirror its requests`);
        }
    },
);

/**
 * Values a narrow route leaves out: a regex that matches every one of them is taken to match any
 * value (`.*`, `.+`, `[^/]*`), and so every request that carries the header or cookie at all.
 */
const CATCH_ALL_PROBES = ["a", "Z", "0", "-", "x_y", "value-42", "beta", "internal tenant"];

function matchesEveryProbe(regex: string): boolean {
    try {
        const anchored = new RegExp(`^(?:${regex})$`);
        return CATCH_ALL_PROBES.every((probe) => anchored.test(probe));
    } catch {
        return false;
    }
}

const routesNarrow = resourcePolicy(
    {
        name: "route-not-catch-all",
        description:
            "A route sends its matches to a track before the weights: one to the candidate whose regex matches any value sends every request carrying the header or cookie there, around the canary's steps and its analysis.",
        theme: "traffic",
    },
    (args, report) => {
        for (const plan of plansOf(args.type, args.props, report)) {
            for (const route of plan.routes ?? []) {
                const { header, cookie, regex } = route.match;
                if (route.track !== "candidate" || regex === undefined || !matchesEveryProbe(regex)) continue;
                const key = header !== undefined ? `header ${header}` : `cookie ${cookie ?? ""}`;
                report(`${plan.model}: the route on ${key} ~ ${regex} sends any value to the candidate; match the chosen users' values (value, or a narrower regex)`);
            }
        }
    },
);

export const trafficPolicies: ModelshipPolicy[] = [weightsValid, canaryStepCap, shadowMirrors, routesNarrow];
