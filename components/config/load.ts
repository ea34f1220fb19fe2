/**
 * The one place that reads Pulumi config: every `modelship:` key, parsed with the schema and
 * rules into a ModelshipConfig. Components receive typed objects and never read config.
 */
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE, parseConfig, type RawConfig } from "./parse";
import type { ModelshipConfig } from "./schema";

/** Pulumi hands structured values over as JSON strings; plain strings stay strings. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

export function namespaceValues(all: Readonly<Record<string, string>>): RawConfig {
    const prefix = `${NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), decode(value)]),
    );
}

export function loadConfig(): ModelshipConfig {
    return parseConfig(namespaceValues(pulumi.runtime.allConfig()), pulumi.getStack());
}
