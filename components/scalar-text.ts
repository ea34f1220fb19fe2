/**
 * A value read from untyped inputs (a provider's inputs, a parsed report) as text: scalars as
 * written, anything else as JSON, never "[object Object]"; undefined and null as the fallback.
 */
export function scalarText(value: unknown, fallback: string): string {
    if (value === undefined || value === null) return fallback;
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" ? String(value) : JSON.stringify(value);
}
