/**
 * Rules that relate one config key to another. Each returns issues instead of throwing, so that
 * every mistake in a stack reaches the user in one message.
 */
import { strategyRules } from "../strategies/rules";
import { TARGET_SPECIFIC_MODEL_KEYS } from "../targets/definition";
import { targetDefinition, targets, type TargetConfig } from "../targets/registry";
import { unsupportedRoutes, unsupportedStrategy } from "../strategies/router-fit";
import type { ConfigIssue } from "./errors";
import { isPinnedByDigest, type ModelConfig, type RegistryConfig } from "./schema";
import { describeReference, isRegistryReference, parseRegistryReference } from "./model-registry";
import { TRACK_NAMES } from "./tracks";

export const PRODUCTION_ENVIRONMENT = "prod";

export function isProduction(environment: string): boolean {
    return environment === PRODUCTION_ENVIRONMENT;
}

type Issue = Omit<ConfigIssue, "path"> & { path: string };

/**
 * A model as far as it parsed. A model with a schema error still has its cross-key rules run on
 * the keys that parsed, so that every mistake is reported at once; each rule checks only what it
 * can see. `tracks` holds the tracks that parsed; `tracksComplete` says whether all of them did.
 */
export type ModelParts = Partial<Omit<ModelConfig, "tracks">> & { tracks: Partial<ModelConfig["tracks"]>; tracksComplete: boolean };

export interface RuleContext {
    stack: string;
    /** The model's key under `models`, for messages that give a command. */
    model?: string;
    /** Undefined when the target itself failed to parse: target-dependent rules are skipped. */
    target?: TargetConfig;
    /** The target's key under `targets`, for messages that name one of its settings. */
    targetName?: string;
}

export function environmentRules(environment: string, stack: string): Issue[] {
    if (environment === stack) return [];
    return [{ path: "environment", value: environment, expected: `"${stack}", the name of the stack being deployed (a config file copied from another environment?)` }];
}

/** Rules across targets, each target type's own (one docker target per engine, one kubernetes target per namespace). */
export function targetsRules(configs: Readonly<Record<string, TargetConfig>>): Issue[] {
    return targets().flatMap((definition) => definition.targetsRules?.(Object.entries(configs).filter(([, t]) => t.type === definition.type)) ?? []);
}

/** Rules for one target; paths are relative to `targets.<name>`. */
export function targetRules(target: TargetConfig, registry: RegistryConfig | undefined, stack: string): Issue[] {
    return targetDefinition(target.type).targetRules?.(target, { registry, production: isProduction(stack) }) ?? [];
}

/** Rules for one model; paths are relative to `models.<name>`. */
export function modelRules(model: ModelParts, context: RuleContext): Issue[] {
    return [
        ...strategyRules(model),
        ...pinningRules(model, context.stack),
        ...registryRules(model, context),
        ...(context.target ? targetFitRules(model, context.target, context.targetName ?? "") : []),
    ];
}

function pinningRules(model: ModelParts, stack: string): Issue[] {
    if (!isProduction(stack)) return [];
    return TRACK_NAMES.flatMap((name) => {
        const source = model.tracks[name]?.source;
        return source && "image" in source && !isPinnedByDigest(source.image)
            ? [{ path: `tracks.${name}.image`, value: source.image, expected: "an image pinned by digest (name@sha256:...) in prod, so what was reviewed is what runs" }]
            : [];
    });
}

/**
 * A models:/ artifact names the registry and its tracks carry what `pin` resolved; nothing else
 * pins tracks. The program never asks the registry itself, so a track without its pin cannot deploy.
 */
function registryRules(model: ModelParts, context: RuleContext): Issue[] {
    const artifact = model.artifact;
    if (artifact === undefined) return [];
    const pinned = TRACK_NAMES.filter((name) => model.tracks[name]?.artifact !== undefined);
    if (!isRegistryReference(artifact)) {
        return [
            ...pinned.map((name) => ({
                path: `tracks.${name}.artifact`,
                value: model.tracks[name]?.artifact,
                expected: `nothing: only a model whose artifact is a registry reference (models:/<name>@<alias>) pins its tracks; ${artifact} holds <version>/model.json itself`,
            })),
            ...(model.modelRegistry
                ? [
                      {
                          path: "modelRegistry",
                          value: model.modelRegistry,
                          expected: `nothing: the artifact ${artifact} is not a registry reference (models:/<name>/<version> or models:/<name>@<alias>)`,
                      },
                  ]
                : []),
        ];
    }
    const reference = parseRegistryReference(artifact);
    if ("problem" in reference) return [{ path: "artifact", value: artifact, expected: reference.problem }];
    const issues: Issue[] = [];
    if (!model.modelRegistry) issues.push({ path: "modelRegistry", value: undefined, expected: `{ trackingUri: <the MLflow server ${describeReference(reference)} is registered in> }` });
    const pin = (track: string) => `modelship pin --stack ${context.stack} --model ${context.model ?? "<model>"}${track === "stable" ? "" : ` --track ${track}`}`;
    for (const name of TRACK_NAMES) {
        const track = model.tracks[name];
        if (!track || track.artifact) continue;
        issues.push({
            path: `tracks.${name}.artifact`,
            value: undefined,
            expected: `the registry version the track runs, written by \`${pin(name)}\`: the program never resolves ${artifact} by itself`,
        });
    }
    const stablePin = model.tracks.stable?.artifact;
    if ("version" in reference && stablePin && stablePin.registryVersion !== reference.version) {
        issues.push({
            path: "tracks.stable.artifact.registryVersion",
            value: stablePin.registryVersion,
            expected: `${reference.version}, the version ${artifact} names: run \`${pin("stable")}\` again`,
        });
    }
    const smoke = model.gates?.smoke;
    if (smoke && smoke.enabled !== false && smoke.request === undefined) {
        issues.push({
            path: "gates.smoke.request",
            value: undefined,
            expected: `a recorded inference request (a JSON file in the project): the model's files are in the registry, not beside the stack`,
        });
    }
    return issues;
}

/** Each autoscaled track on a target that autoscales, by a metric it can read. */
function autoscalingFitRules(model: ModelParts, definition: ReturnType<typeof targetDefinition>, type: string): Issue[] {
    return TRACK_NAMES.flatMap((name) => {
        const autoscaling = model.tracks[name]?.autoscaling;
        if (!autoscaling) return [];
        const path = `tracks.${name}.autoscaling`;
        if (!definition.autoscalingFit) {
            const able = targets()
                .filter((t) => t.autoscalingFit !== undefined)
                .map((t) => t.type);
            return [
                {
                    path,
                    value: autoscaling,
                    expected: `nothing on the ${type} target, which runs a fixed number of replicas: autoscaling is for the ${able.join(" or ")} target; set replicas instead`,
                },
            ];
        }
        const misfit = definition.autoscalingFit(autoscaling);
        return misfit ? [{ path, value: autoscaling, expected: misfit }] : [];
    });
}

function targetFitRules(model: ModelParts, target: TargetConfig, targetName: string): Issue[] {
    const definition = targetDefinition(target.type);
    const issues: Issue[] = [];
    const unsupported = model.strategy && unsupportedStrategy(definition.router(target), model.strategy);
    if (unsupported) issues.push(unsupported);
    const misfit = !unsupported && model.strategy ? definition.strategyFit?.(model.strategy, target, targetName) : undefined;
    if (misfit) issues.push(misfit);
    issues.push(...autoscalingFitRules(model, definition, target.type));
    issues.push(...unsupportedRoutes(model.routes ?? [], model.strategy, definition.router(target), definition.routeFit?.bind(definition)));
    const smoke = model.gates?.smoke;
    if (smoke?.enabled === true && definition.smokeRequestFor !== undefined && smoke.request === undefined) {
        issues.push({
            path: "gates.smoke.request",
            value: undefined,
            expected: `a recorded inference request (a JSON file in the project) for ${definition.smokeRequestFor}; the artifact is in the model registry, not here`,
        });
    }
    if (smoke && smoke.expect.min > smoke.expect.max) issues.push({ path: "gates.smoke.expect", value: smoke.expect, expected: "min no greater than max" });
    for (const key of TARGET_SPECIFIC_MODEL_KEYS) {
        const present = key === "dependsOn" ? (model.dependsOn ?? []).length > 0 : model[key] !== undefined;
        if (!present || definition.modelKeys.includes(key)) continue;
        const honouring = targets()
            .filter((t) => t.modelKeys.includes(key))
            .map((t) => t.type);
        issues.push({ path: key, value: model[key], expected: `nothing on the ${target.type} target; this setting is for the ${honouring.join(" or ")} target` });
    }
    for (const name of TRACK_NAMES) {
        const track = model.tracks[name];
        if (!track?.server) continue;
        const capable = targets()
            .filter((t) => t.otherServerRule !== undefined)
            .map((t) => t.type);
        const why = definition.otherServerRule
            ? definition.otherServerRule(model, target)
            : `nothing on the ${target.type} target, for now: another server's track runs on the ${capable.join(" or ")} target`;
        if (why !== undefined) issues.push({ path: `tracks.${name}.server`, value: track.server, expected: why });
    }
    if (model.artifact === undefined) return issues;
    const artifact = definition.artifactRule?.(model.artifact, model, target);
    if (artifact) issues.push(artifact);
    return issues;
}
