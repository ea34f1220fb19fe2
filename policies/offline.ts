/**
 * Runs the pack's policies without the Pulumi engine, over resources as `npm run render` records
 * them: each resource policy on each resource, each stack policy on all of them, with the
 * enforcement levels and properties of a per-stack config file (the same file `pulumi preview
 * --policy-pack-config` takes).
 */
import type { EnforcementLevel, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { ModelshipPolicy, Props } from "./lib";

export interface OfflineResource {
    type: string;
    name: string;
    props: Props;
    /** `type::name` of the parent, when known. */
    parent?: string;
}

export interface Violation {
    policy: string;
    level: EnforcementLevel;
    /** `type::name` of the resource, or undefined for the stack as a whole. */
    resource?: string;
    message: string;
}

/** `{ "all": "mandatory", "<policy>": "advisory" | { "enforcementLevel": ..., <properties> } }` */
export type PackConfig = Readonly<Record<string, unknown>>;

const DEFAULT_LEVEL: EnforcementLevel = "advisory";

class NotApplicable extends Error {}

export function enforcementLevel(policy: ModelshipPolicy, config: PackConfig): EnforcementLevel {
    const own = config[policy.name];
    if (typeof own === "string") return own as EnforcementLevel;
    if (own !== null && typeof own === "object" && typeof (own as { enforcementLevel?: unknown }).enforcementLevel === "string") {
        return (own as { enforcementLevel: EnforcementLevel }).enforcementLevel;
    }
    if (typeof config.all === "string") return config.all as EnforcementLevel;
    return policy.enforcementLevel ?? DEFAULT_LEVEL;
}

/** The policy's properties: schema defaults, then the config file's values. */
export function policyConfig(policy: ModelshipPolicy, config: PackConfig): Record<string, unknown> {
    const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).flatMap(([key, schema]) => ("default" in schema ? [[key, schema.default]] : [])));
    const own = config[policy.name];
    const values = own !== null && typeof own === "object" ? Object.fromEntries(Object.entries(own).filter(([key]) => key !== "enforcementLevel")) : {};
    const merged = { ...defaults, ...values };
    const missing = (policy.configSchema?.required ?? []).filter((key) => merged[key] === undefined);
    if (missing.length > 0) throw new Error(`policy ${policy.name} needs config ${missing.join(", ")}`);
    return merged;
}

const NO_OPTIONS: PolicyResourceOptions = { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } };

type TypeCheck = { isType: ResourceValidationArgs["isType"]; asType: ResourceValidationArgs["asType"] };

function typeChecks(type: string, props: Props): TypeCheck {
    const isType = (resourceClass: unknown) => (resourceClass as { __pulumiType?: string }).__pulumiType === type;
    return { isType, asType: ((resourceClass: unknown) => (isType(resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"] };
}

function urnOf(resource: OfflineResource): string {
    return `urn:pulumi:offline::modelship::${resource.type}::${resource.name}`;
}

function key(resource: OfflineResource): string {
    return `${resource.type}::${resource.name}`;
}

function notApplicable(): never {
    throw new NotApplicable();
}

export async function evaluate(policies: readonly ModelshipPolicy[], resources: readonly OfflineResource[], config: PackConfig): Promise<Violation[]> {
    const violations: Violation[] = [];
    const stackTags = new Map<string, string>();
    const policyResources = toPolicyResources(resources);
    for (const policy of policies) {
        const level = enforcementLevel(policy, config);
        if (level === "disabled") continue;
        const properties = policyConfig(policy, config);
        const getConfig = <T extends object>() => properties as T;
        const reporter = (resource?: string) => (message: string, urn?: string) =>
            violations.push({ policy: policy.name, level, ...((resource ?? urn) ? { resource: resource ?? resourceOfUrn(urn ?? "", resources) } : {}), message });
        try {
            if ("validateResource" in policy) {
                const validators = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
                for (const resource of resources) {
                    const args: ResourceValidationArgs = {
                        type: resource.type,
                        props: resource.props,
                        urn: urnOf(resource),
                        name: resource.name,
                        opts: NO_OPTIONS,
                        stackTags,
                        getConfig,
                        notApplicable,
                        ...typeChecks(resource.type, resource.props),
                    };
                    for (const validate of validators) await validate(args, reporter(key(resource)));
                }
            } else if ("validateStack" in policy) {
                const args: StackValidationArgs = { resources: policyResources, stackTags, getConfig, notApplicable };
                await policy.validateStack(args, reporter());
            }
        } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
        }
    }
    return violations;
}

function resourceOfUrn(urn: string, resources: readonly OfflineResource[]): string | undefined {
    const found = resources.find((r) => urnOf(r) === urn);
    return found ? key(found) : urn || undefined;
}

function toPolicyResources(resources: readonly OfflineResource[]): PolicyResource[] {
    const byKey = new Map<string, PolicyResource>();
    for (const resource of resources) {
        byKey.set(key(resource), {
            type: resource.type,
            props: resource.props,
            urn: urnOf(resource),
            name: resource.name,
            opts: NO_OPTIONS,
            dependencies: [],
            propertyDependencies: {},
            ...typeChecks(resource.type, resource.props),
        });
    }
    for (const resource of resources) {
        const parent = resource.parent ? byKey.get(resource.parent) : undefined;
        if (parent) byKey.get(key(resource))!.parent = parent;
    }
    return [...byKey.values()];
}
