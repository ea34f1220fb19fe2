/**
 * Turns the raw `modelship:` namespace into a typed ModelshipConfig, or one ConfigError listing
 * every bad key. Each top-level key is parsed on its own so that a mistake in one does not hide
 * mistakes in another.
 */
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors";
import { environmentRules, modelRules, targetRules, targetsRules, type ModelParts } from "./rules";
import {
    CONFIG_KEYS,
    environmentSchema,
    modelEntriesSchema,
    modelSchema,
    registrySchema,
    targetEntriesSchema,
    trackSchema,
    type ModelConfig,
    type ModelshipConfig,
    type ResolvedModelConfig,
} from "./schema";
import { TRACK_NAMES } from "./tracks";
import { zodExpected } from "./zod-messages";
import { targetSchema, type TargetConfig } from "../targets/registry";

export const NAMESPACE = "modelship";

/** Raw values by key without the namespace, e.g. { environment: "dev", models: {...} }. */
export type RawConfig = Readonly<Record<string, unknown>>;

function keyPath(segments: ReadonlyArray<PropertyKey>): string {
    return `${NAMESPACE}:${segments.map(String).join(".")}`;
}

function valueAt(root: unknown, segments: ReadonlyArray<PropertyKey>): unknown {
    let value = root;
    for (const segment of segments) {
        if (value === null || typeof value !== "object") return undefined;
        value = (value as Record<PropertyKey, unknown>)[segment];
    }
    return value;
}

function zodIssues(key: string, raw: unknown, error: z.ZodError): ConfigIssue[] {
    return error.issues.flatMap((issue): ConfigIssue[] => {
        const segments = [key, ...issue.path];
        if (issue.code === "unrecognized_keys") {
            return issue.keys.map((unknownKey) => ({
                path: keyPath([...segments, unknownKey]),
                value: valueAt(raw, [...issue.path, unknownKey]),
                expected: issue.message,
            }));
        }
        if (issue.code === "invalid_key") {
            // A bad map key (e.g. a model name): show the key itself and why it is bad.
            return [{ path: keyPath(segments), value: issue.path[issue.path.length - 1], expected: issue.issues.map((i) => i.message).join("; ") }];
        }
        return [{ path: keyPath(segments), value: valueAt(raw, issue.path), expected: issue.message }];
    });
}

/** safeParse in the project's wording (zod-messages.ts). */
function safeParse<S extends z.ZodType>(schema: S, value: unknown) {
    return schema.safeParse(value, { error: zodExpected });
}

function parseKey<S extends z.ZodType>(schema: S, raw: RawConfig, key: string, issues: ConfigIssue[]): z.infer<S> | undefined {
    const result = safeParse(schema, raw[key]);
    if (result.success) return result.data;
    issues.push(...zodIssues(key, raw[key], result.error));
    return undefined;
}

function prefixed(prefix: string, found: ReadonlyArray<{ path: string; value: unknown; expected: string }>): ConfigIssue[] {
    return found.map((issue) => ({ ...issue, path: `${NAMESPACE}:${prefix}${issue.path}` }));
}

/**
 * Map entries (models, targets) are parsed one by one, so that a type error in one does not keep
 * the cross-key rules of the others from running.
 */
function parseEntries<S extends z.ZodType>(
    raw: RawConfig,
    key: string,
    entriesSchema: z.ZodType<Record<string, unknown>>,
    schema: S,
    issues: ConfigIssue[],
): { entries: Record<string, z.infer<S>>; failed: Record<string, unknown>; complete: boolean } {
    const entries = parseKey(entriesSchema, raw, key, issues);
    const parsed: Record<string, z.infer<S>> = {};
    const failed: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(entries ?? {})) {
        const result = safeParse(schema, value);
        if (result.success) parsed[name] = result.data;
        else {
            failed[name] = value;
            issues.push(...zodIssues(`${key}.${name}`, value, result.error));
        }
    }
    return { entries: parsed, failed, complete: entries !== undefined && Object.keys(failed).length === 0 };
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What parsed of a model that did not parse as a whole: each of its keys on its own, and its
 * tracks one by one, so that the cross-key rules still check those (a bad replica count must not
 * hide a bad canary step). Its schema errors are already reported; these parses add none.
 */
function modelParts(value: unknown): ModelParts {
    const raw = isRecord(value) ? value : {};
    const parts: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(modelSchema.shape)) {
        const result = (schema as z.ZodType).safeParse(raw[key]);
        if (result.success) parts[key] = result.data;
    }
    const rawTracks = isRecord(raw.tracks) ? raw.tracks : {};
    const tracks: ModelParts["tracks"] = {};
    for (const name of TRACK_NAMES) {
        const result = rawTracks[name] === undefined ? undefined : trackSchema.safeParse(rawTracks[name]);
        if (result?.success) tracks[name] = result.data;
    }
    // Each value was produced by the schema of its own key.
    return { ...(parts as Partial<ModelConfig>), tracks: (parts.tracks as ModelConfig["tracks"] | undefined) ?? tracks, tracksComplete: parts.tracks !== undefined };
}

/** Sorts names in the order the config lists them, so messages follow the file. */
function byEntryOrder(entries: unknown): (a: string, b: string) => number {
    const order = isRecord(entries) ? Object.keys(entries) : [];
    return (a, b) => order.indexOf(a) - order.indexOf(b);
}

/** The target a model names, or the only one there is. */
function resolveTarget(model: Pick<ModelConfig, "target">, targets: Readonly<Record<string, TargetConfig>>): { name?: string; issue?: { path: string; value: unknown; expected: string } } {
    const names = Object.keys(targets);
    if (model.target !== undefined) {
        return names.includes(model.target) ? { name: model.target } : { issue: { path: "target", value: model.target, expected: `one of the targets: ${names.join(", ")}` } };
    }
    if (names.length === 1) return { name: names[0] };
    return { issue: { path: "target", value: undefined, expected: `the name of its target; there are several: ${names.join(", ")}` } };
}

export function parseConfig(raw: RawConfig, stack: string): ModelshipConfig {
    const issues: ConfigIssue[] = [];
    for (const key of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            issues.push({ path: keyPath([key]), value: raw[key], expected: `no such key; the keys are ${CONFIG_KEYS.join(", ")}` });
        }
    }
    const environment = parseKey(environmentSchema, raw, "environment", issues);
    const registry = parseKey(registrySchema, raw, "registry", issues);
    const targets = parseEntries(raw, "targets", targetEntriesSchema, targetSchema(), issues);
    const models = parseEntries(raw, "models", modelEntriesSchema, modelSchema, issues);

    if (environment !== undefined) issues.push(...prefixed("", environmentRules(environment, stack)));
    issues.push(...prefixed("", targetsRules(targets.entries)));
    for (const [name, target] of Object.entries(targets.entries)) {
        issues.push(...prefixed(`targets.${name}.`, targetRules(target, registry, stack)));
    }
    const resolved: Record<string, ResolvedModelConfig> = {};
    const parts: Record<string, ModelParts> = {
        ...Object.fromEntries(Object.entries(models.entries).map(([name, model]) => [name, { ...model, tracksComplete: true }])),
        ...Object.fromEntries(Object.entries(models.failed).map(([name, value]) => [name, modelParts(value)])),
    };
    for (const name of Object.keys(parts).sort(byEntryOrder(raw.models))) {
        const model = parts[name];
        // Target-dependent rules wait until the targets parse: a broken target would only add noise.
        // ...and so does a model whose own `target` key is broken.
        const failed = models.failed[name];
        const targetBroken = model.target === undefined && isRecord(failed) && failed.target !== undefined;
        const target = targets.complete && !targetBroken ? resolveTarget(model, targets.entries) : {};
        if (target.issue) issues.push(...prefixed(`models.${name}.`, [target.issue]));
        const complete = models.entries[name];
        if (target.name && complete) resolved[name] = { ...complete, target: target.name };
        issues.push(...prefixed(`models.${name}.`, modelRules(model, { stack, model: name, target: target.name ? targets.entries[target.name] : undefined, targetName: target.name })));
    }

    // Only once every model found its target: otherwise an unused target is just the other side of that mistake.
    if (targets.complete && models.complete && Object.keys(resolved).length === Object.keys(models.entries).length) {
        const used = new Set(Object.values(resolved).map((m) => m.target));
        for (const name of Object.keys(targets.entries).filter((n) => !used.has(n))) {
            issues.push({
                path: keyPath(["targets", name]),
                value: { type: targets.entries[name].type },
                expected: "a target some model runs on (models.<name>.target); remove it or point a model at it",
            });
        }
    }

    if (issues.length > 0 || environment === undefined || registry === undefined || !targets.complete || !models.complete) {
        throw new ConfigError(stack, issues);
    }
    return { environment, targets: targets.entries, registry, models: resolved };
}
