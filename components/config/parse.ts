/**
 * Turns the raw `modelship:` namespace into a typed ModelshipConfig, or one ConfigError listing
 * every bad key. Each top-level key is parsed on its own so that a mistake in one does not hide
 * mistakes in another.
 */
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors";
import { environmentRules, modelRules, targetRules } from "./rules";
import {
    CONFIG_KEYS,
    environmentSchema,
    modelEntriesSchema,
    modelSchema,
    registrySchema,
    targetSchema,
    type ModelConfig,
    type ModelshipConfig,
} from "./schema";

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
                expected: "no such key (a typo?)",
            }));
        }
        if (issue.code === "invalid_key") {
            // A bad map key (e.g. a model name): show the key itself and why it is bad.
            return [{ path: keyPath(segments), value: issue.path[issue.path.length - 1], expected: issue.issues.map((i) => expectedFrom(i.message)).join("; ") }];
        }
        return [{ path: keyPath(segments), value: valueAt(raw, issue.path), expected: expectedFrom(issue.message) }];
    });
}

/** zod says "Invalid input: expected string, received number"; the value is shown separately. */
function expectedFrom(message: string): string {
    return message.replace(/^Invalid input: expected /, "").replace(/, received \w+$/, "");
}

function parseKey<S extends z.ZodType>(schema: S, raw: RawConfig, key: string, issues: ConfigIssue[]): z.infer<S> | undefined {
    const result = schema.safeParse(raw[key]);
    if (result.success) return result.data;
    issues.push(...zodIssues(key, raw[key], result.error));
    return undefined;
}

function prefixed(prefix: string, found: ReadonlyArray<{ path: string; value: unknown; expected: string }>): ConfigIssue[] {
    return found.map((issue) => ({ ...issue, path: `${NAMESPACE}:${prefix}${issue.path}` }));
}

/**
 * Models are parsed one by one, so that a model with a type error does not keep the cross-key
 * rules of the other models from running.
 */
function parseModels(raw: RawConfig, issues: ConfigIssue[]): { models: Record<string, ModelConfig>; complete: boolean } {
    const entries = parseKey(modelEntriesSchema, raw, "models", issues);
    const models: Record<string, ModelConfig> = {};
    let complete = entries !== undefined;
    for (const [name, value] of Object.entries(entries ?? {})) {
        const result = modelSchema.safeParse(value);
        if (result.success) models[name] = result.data;
        else {
            complete = false;
            issues.push(...zodIssues(`models.${name}`, value, result.error));
        }
    }
    return { models, complete };
}

export function parseConfig(raw: RawConfig, stack: string): ModelshipConfig {
    const issues: ConfigIssue[] = [];
    for (const key of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            issues.push({ path: keyPath([key]), value: raw[key], expected: `no such key; the keys are ${CONFIG_KEYS.join(", ")}` });
        }
    }
    const environment = parseKey(environmentSchema, raw, "environment", issues);
    const target = parseKey(targetSchema, raw, "target", issues);
    const registry = parseKey(registrySchema, raw, "registry", issues);
    const { models, complete } = parseModels(raw, issues);

    if (environment !== undefined) issues.push(...prefixed("", environmentRules(environment, stack)));
    if (target !== undefined) issues.push(...prefixed("", targetRules(target, registry, stack)));
    for (const [name, model] of Object.entries(models)) {
        issues.push(...prefixed(`models.${name}.`, modelRules(model, { stack, target })));
    }

    if (issues.length > 0 || environment === undefined || target === undefined || registry === undefined || !complete) {
        throw new ConfigError(stack, issues);
    }
    return { environment, target, registry, models };
}
