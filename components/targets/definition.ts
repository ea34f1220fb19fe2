/**
 * Everything the rest of modelship knows about one kind of target, declared by the target's own
 * folder: its config, the rules that config and the models on it must meet, what its router
 * offers, how it is created, what the mock runtime fakes for it, what `npm run up` needs first,
 * and how the policy pack reads the objects it makes. Config, the stack, the mock runtime, the
 * local wrapper and the policies loop over the registry (registry.ts) of these.
 */
import type { z } from "zod";
import type { ConfigIssue } from "../config/errors";
import type { AutoscalingConfig } from "../config/autoscaling";
import type { RouteMatch } from "../config/routes";
import type { ModelConfig, RegistryConfig } from "../config/schema";
import type { StrategyConfig } from "../strategies";
import type { ContainerRegistry } from "../registry";
import type { ModelTarget } from "../target";
import type { RouterOffer } from "../traffic/features";
import type { PlanSummary } from "../traffic/plan-annotation";

/** What every target config has: the key the registry dispatches on. */
export interface TargetConfigBase {
    type: string;
}

/** A config finding; the path is relative to the key the rule was given (`targets.<name>` or `models.<name>`). */
export type TargetIssue = Omit<ConfigIssue, "path"> & { path: string };

/** A model as far as it parsed (config/rules.ts ModelParts): rules check only the keys they can see. */
export type ModelPartsView = Partial<Omit<ModelConfig, "tracks">>;

/** The model keys some targets honour and others would silently ignore. */
export const TARGET_SPECIFIC_MODEL_KEYS = ["gpu", "dependsOn", "serviceAccountRoleArn"] as const;
export type TargetSpecificModelKey = (typeof TARGET_SPECIFIC_MODEL_KEYS)[number];

/** What a router that lacks a strategy's feature suggests instead, off Kubernetes: the targets whose routers offer every feature. */
export const RUN_ELSEWHERE = "run the model on a kubernetes target (router gateway-api or nginx) or on the docker target";

/** What a target is created with besides its own config. */
export interface TargetContext {
    /** The stack's environment (dev, lab, prod). */
    environment: string;
    /** The stack's container registry: each model's repository. */
    registry: ContainerRegistry;
    /** The names of the models that run on this target, in config order. */
    models: readonly string[];
}

/** The outputs a real provider computes for one resource type, faked for renders and unit tests. */
export type MockOutputs = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

/** The workload policies whose findings depend on how a target describes a workload. */
export const WORKLOAD_CHECKS = ["probes", "limits", "nonRoot", "privileged", "hostAccess"] as const;
export type WorkloadCheck = (typeof WORKLOAD_CHECKS)[number];

/** What the policy pack reads of the objects a target makes; every reader gets a resource's type token and inputs. */
export interface TargetPolicyReaders {
    /**
     * The traffic plans a router object declares (plan-annotation.ts), or undefined for an object
     * that declares none; `problem` says why declared plans could not be read.
     */
    routerPlans?(type: string, props: Record<string, unknown>): { plans: PlanSummary[]; problem?: string } | undefined;
    /** The nginx.conf a router object carries, where the target's router is nginx. */
    routerNginxConf?(type: string, props: Record<string, unknown>): string | undefined;
    /** Every image reference a workload object runs or pulls, with where it sits in the object. */
    images?(type: string, props: Record<string, unknown>): Array<{ where: string; image: string }>;
    /** Why an object faces the internet (a public load balancer, a port on every interface), one reason per finding. */
    publicExposure?(type: string, props: Record<string, unknown>): string[];
    /** What a workload object breaks, per workload policy (policies/workloads.ts says why each matters): one message per finding. */
    workloadFindings?: Partial<Record<WorkloadCheck, (type: string, props: Record<string, unknown>) => string[]>>;
}

export interface TargetDefinition<C extends TargetConfigBase, B = unknown> {
    /** The value of `targets.<name>.type` that selects this target. */
    type: C["type"];
    /** The zod schema of the target's config, with `type` as a literal. */
    schema: z.ZodType<C> & z.core.$ZodTypeDiscriminable;
    /** Rules for one target of this type; paths relative to `targets.<name>`. */
    targetRules?(config: C, context: { registry: RegistryConfig | undefined; production: boolean }): TargetIssue[];
    /** Rules across the targets of this type in one stack (name to config, config order); paths relative to the namespace. */
    targetsRules?(targets: ReadonlyArray<[string, C]>): TargetIssue[];
    /** What the target's router offers, for this config: strategies are accepted or refused by it. */
    router(config: C): RouterOffer;
    /** A strategy's fit beyond router features (whether a Gateway's implementation mirrors); paths relative to `models.<name>`. */
    strategyFit?(strategy: StrategyConfig, config: C, targetName: string): TargetIssue | undefined;
    /**
     * Why it cannot autoscale a track this way, or undefined when it can; a target without the hook
     * runs fixed replicas only.
     */
    autoscalingFit?(autoscaling: AutoscalingConfig): string | undefined;
    /** Why its router cannot match a header or cookie route this way (the ALB has no regular expressions), or undefined when it can. */
    routeFit?(match: RouteMatch): string | undefined;
    /** Where its smoke gate runs, when it needs a recorded request to run (one in the project, not in the artifact); unset when it reads the artifact itself. */
    smokeRequestFor?: string;
    /** Which target-specific model keys it honours. */
    modelKeys: readonly TargetSpecificModelKey[];
    /**
     * Why a track of this model cannot run another Open Inference Protocol server
     * (`tracks.<track>.server`) here, or undefined when it can; a target without the hook runs none.
     */
    otherServerRule?(model: ModelPartsView, config: C): string | undefined;
    /** Why a model's `artifact` location cannot be read by this target, or undefined when it can. */
    artifactRule?(artifact: string, model: ModelPartsView, config: C): TargetIssue | undefined;
    /** Creates the target component; its models are deployed onto it, then routed. */
    create(name: string, config: C, context: TargetContext): ModelTarget<B>;
    /** Provider resource type token to the outputs the mock runtime fakes for it. */
    mocks: Readonly<Record<string, MockOutputs>>;
    /** What `npm run up` of a stack with this target lacks on this machine and how to get it, or undefined when nothing is missing. */
    prerequisites?(env: NodeJS.ProcessEnv): string | undefined;
    /** How the policy pack reads its router and workload objects. */
    policy: TargetPolicyReaders;
}

/**
 * A definition seen through the registry: its config is any target's, checked against its type
 * before use, and what it creates is handed to `use`, which sees it with its backend type hidden.
 */
export type RegisteredTarget = Omit<TargetDefinition<TargetConfigBase>, "create"> & {
    create<R>(name: string, config: TargetConfigBase, context: TargetContext, use: <B>(target: ModelTarget<B>) => R): R;
};

/**
 * Erases a definition's config type for the registry. Each hook first checks that the config is
 * its own type: the registry dispatches on `type`, so reaching another's config is a bug.
 */
export function defineTarget<C extends TargetConfigBase, B>(definition: TargetDefinition<C, B>): Omit<RegisteredTarget, "schema"> & { schema: TargetDefinition<C>["schema"] } {
    const own = (config: TargetConfigBase): C => {
        if (config.type !== definition.type) throw new Error(`the ${definition.type} target was handed a ${config.type} target's config`);
        // The schema of this definition produced it: its type literal says so.
        return config as C;
    };
    const targetRules = definition.targetRules?.bind(definition);
    const targetsRules = definition.targetsRules?.bind(definition);
    const strategyFit = definition.strategyFit?.bind(definition);
    const artifactRule = definition.artifactRule?.bind(definition);
    const otherServerRule = definition.otherServerRule?.bind(definition);
    return {
        ...definition,
        router: (config) => definition.router(own(config)),
        create: (name, config, context, use) => use(definition.create(name, own(config), context)),
        ...(targetRules ? { targetRules: (config, context) => targetRules(own(config), context) } : {}),
        ...(targetsRules ? { targetsRules: (targets) => targetsRules(targets.map(([name, config]) => [name, own(config)])) } : {}),
        ...(strategyFit ? { strategyFit: (strategy, config, targetName) => strategyFit(strategy, own(config), targetName) } : {}),
        ...(artifactRule ? { artifactRule: (artifact, model, config) => artifactRule(artifact, model, own(config)) } : {}),
        ...(otherServerRule ? { otherServerRule: (model, config) => otherServerRule(model, own(config)) } : {}),
    };
}
