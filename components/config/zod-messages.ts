/**
 * What zod found wrong, in the project's wording: the text after "got <value>; expected" in a
 * config message. Passed to every safeParse as its error map, so zod's own English ("Too big:
 * expected number to be <=65535", "expected record", "Invalid input") never reaches a user. A
 * message a schema sets itself (`{ error: "..." }`) takes precedence over this one.
 */
import type { z } from "zod";

type RawIssue = z.core.$ZodRawIssue;

const TYPES: Readonly<Record<string, string>> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list ([a, b, ...])",
    tuple: "a list ([a, b, ...])",
    object: "a map of settings ({key: value, ...})",
    record: "a map from names to settings ({<name>: {...}, ...})",
    map: "a map from names to settings ({<name>: {...}, ...})",
    null: "null",
};

function typeWords(expected: string): string {
    return TYPES[expected] ?? `a value of type ${expected}`;
}

function plural(count: number | bigint, unit: string): string {
    return `${count} ${unit}${Number(count) === 1 ? "" : "s"}`;
}

/** The unit a size limit counts, by what zod measured. */
function sized(origin: string, limit: number | bigint): string {
    if (origin === "string") return plural(limit, "character");
    if (origin === "array" || origin === "set") return plural(limit, "item");
    return String(limit);
}

/** The keys an object schema knows, for "no such key" (zod's own issue lists only the unknown ones). */
function knownKeys(issue: RawIssue): string[] {
    const def = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
    return Object.keys(def?.shape ?? {});
}

/** A union option in a few words: an object by its keys, anything else by its type. */
function optionWords(option: unknown): string {
    const def = (option as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; values?: unknown[] } } })._zod?.def;
    if (def?.shape) return `{${Object.keys(def.shape).join(", ")}}`;
    if (def?.type === "literal" || def?.type === "enum") return (def.values ?? []).map((v) => JSON.stringify(v)).join(" or ");
    return typeWords(def?.type ?? "value");
}

function listOf(values: readonly unknown[]): string {
    const words = values.map((v) => JSON.stringify(v));
    return words.length === 1 ? words[0] : `one of ${words.join(", ")}`;
}

export function zodExpected(issue: RawIssue): string {
    switch (issue.code) {
        case "invalid_type":
            return typeWords(issue.expected);
        case "too_big": {
            const limit = sized(issue.origin, issue.maximum);
            if (issue.exact) return `exactly ${limit}`;
            return issue.inclusive === false ? `less than ${limit}` : `at most ${limit}`;
        }
        case "too_small": {
            if (issue.origin === "string" && Number(issue.minimum) === 1) return "a non-empty string";
            if ((issue.origin === "array" || issue.origin === "set") && Number(issue.minimum) === 1) return "a list of at least one item";
            const limit = sized(issue.origin, issue.minimum);
            if (issue.exact) return `exactly ${limit}`;
            return issue.inclusive === false ? `more than ${limit}` : `at least ${limit}`;
        }
        case "invalid_format":
            if (issue.format === "starts_with" && typeof issue.prefix === "string") return `text starting with "${issue.prefix}"`;
            if (issue.format === "ends_with" && typeof issue.suffix === "string") return `text ending with "${issue.suffix}"`;
            return issue.pattern !== undefined ? `text of the form ${issue.pattern}` : `text in ${issue.format} format`;
        case "not_multiple_of":
            return `a multiple of ${issue.divisor}`;
        case "unrecognized_keys": {
            const known = knownKeys(issue);
            return known.length > 0 ? `no such key; the keys here are ${known.join(", ")}` : "no such key";
        }
        case "invalid_union": {
            const options = (issue.inst as { _zod?: { def?: { options?: unknown[] } } } | undefined)?._zod?.def?.options ?? [];
            const words = [...new Set(options.map(optionWords))];
            return words.length > 0 ? `one of: ${words.join(" or ")}` : "one of the forms this key takes (see docs/config.md)";
        }
        case "invalid_value":
            return listOf(issue.values);
        case "invalid_key":
            return "a valid name";
        case "invalid_element":
            return "valid entries";
        case "custom":
            return "a valid value";
    }
}
