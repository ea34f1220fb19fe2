/**
 * What every policy of the pack shares: its shape, the per-environment config it reads, and
 * small typed readers for the resources it inspects. Policies compare type tokens as strings, so
 * the same functions run under the Pulumi engine and offline over a render.
 */
import type { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PLANS_ANNOTATION, readPlansAnnotation, type PlanSummary } from "../components/traffic/plan-annotation";
import { AWS_TAG, LABEL } from "../components/naming";
import { TYPES } from "../components/type-tokens";
import { findProjectDir, stackNames } from "../tools/project-files";

export type Theme = "iam" | "storage" | "workloads" | "hygiene" | "traffic";

export type ModelshipPolicy = (ResourceValidationPolicy | StackValidationPolicy) & { theme: Theme };
export type { ReportViolation, ResourceValidationArgs, StackValidationArgs };

/** Config every environment-aware policy takes; the per-stack config files set it. */
export interface EnvironmentConfig {
    environment: string;
}

export const ENVIRONMENT_CONFIG: PolicyConfigSchema = {
    properties: { environment: { type: "string", minLength: 1 } },
    required: ["environment"],
};

let packProjectEnvironments: string[] | undefined;

/**
 * A project's environments: the names of its stack files, Pulumi.<stack>.yaml (a stack's
 * `modelship:environment` must be its name, a config rule). Without a directory, those of the
 * project that holds this pack, which is where `pulumi preview --policy-pack policies` runs it;
 * a pack run away from its project fails here rather than check against no environments.
 */
export function projectEnvironments(projectDir?: string): string[] {
    if (projectDir !== undefined) return stackNames(projectDir);
    packProjectEnvironments ??= stackNames(findProjectDir(__dirname));
    return packProjectEnvironments;
}

export const ENVIRONMENT_LABEL = LABEL.environment;
export const ENVIRONMENT_TAG = AWS_TAG.environment;

// The one table of type tokens; the policies import it from here with the rest of what they share.
export { TYPES } from "../components/type-tokens";

export type Props = Record<string, unknown>;

export function isRecord(value: unknown): value is Props {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function recordAt(value: unknown, ...path: string[]): Props | undefined {
    let current: unknown = value;
    for (const key of path) current = isRecord(current) ? current[key] : undefined;
    return isRecord(current) ? current : undefined;
}

export function arrayAt(value: unknown, ...path: string[]): unknown[] {
    let current: unknown = value;
    for (const key of path) current = isRecord(current) ? current[key] : undefined;
    return Array.isArray(current) ? current : [];
}

export function stringAt(value: unknown, ...path: string[]): string | undefined {
    let current: unknown = value;
    for (const key of path) current = isRecord(current) ? current[key] : undefined;
    return typeof current === "string" ? current : undefined;
}

/** The pod spec of a workload resource, or the pod's own spec. */
export function podSpecOf(type: string, props: Props): Props | undefined {
    if (type === TYPES.pod) return recordAt(props, "spec");
    if (type === TYPES.deployment || type === TYPES.statefulSet || type === TYPES.daemonSet || type === TYPES.job) return recordAt(props, "spec", "template", "spec");
    return undefined;
}

export interface ContainerSpec {
    name: string;
    image?: string;
    init: boolean;
    spec: Props;
}

export function containersOf(podSpec: Props): ContainerSpec[] {
    const of = (key: string, init: boolean) =>
        arrayAt(podSpec, key)
            .filter(isRecord)
            .map((spec) => ({ name: stringAt(spec, "name") ?? "(unnamed)", image: stringAt(spec, "image"), init, spec }));
    return [...of("containers", false), ...of("initContainers", true)];
}

/** Capabilities that give a container its host's powers, whatever else isolates it. */
export const DANGEROUS_CAPABILITIES: ReadonlySet<string> = new Set(["ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH"]);

export interface RouterPlans {
    plans: PlanSummary[];
    /** Why the plans the object declares could not be read (the traffic policies report it). */
    problem?: string;
}

/**
 * The entry of a list of `{<keyField>, value}` records that names `key`: a docker container's
 * `labels` (`{label, value}`), an Auto Scaling group's `tags` (`{key, value, propagateAtLaunch}`).
 */
export function listEntry(props: Props, list: string, keyField: string, key: string): Record<string, unknown> | undefined {
    const entry = arrayAt(props, list).find((e) => isRecord(e) && e[keyField] === key);
    return isRecord(entry) ? entry : undefined;
}

/** The plans of a router object's JSON (an annotation, an environment entry), or the problem reading them. */
export function plansFromJson(value: string | undefined): RouterPlans {
    const plans = readPlansAnnotation(value);
    return plans ? { plans } : { plans: [], problem: `the ${PLANS_ANNOTATION} annotation is not a JSON list of plans` };
}

/** A policy that checks each resource, with the args narrowed to what policies here use. */
export function resourcePolicy(
    policy: Omit<ResourceValidationPolicy, "validateResource"> & { theme: Theme },
    validate: (args: ResourceValidationArgs, report: ReportViolation) => void,
): ModelshipPolicy {
    return { ...policy, validateResource: validate };
}

export function stackPolicy(policy: Omit<StackValidationPolicy, "validateStack"> & { theme: Theme }, validate: (args: StackValidationArgs, report: ReportViolation) => void): ModelshipPolicy {
    return { ...policy, validateStack: validate };
}
