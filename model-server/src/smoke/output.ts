/**
 * The line formats every gate program prints, shared by the project's gate programs
 * (tools/gate.ts) and the smoke program that ships in this image: a gate run ends with
 * `<gate>: <verdict>[ (<detail>)] in <seconds with one decimal> s` (components/gates/reports.ts
 * reads it back).
 */

export type Verdict = "passed" | "FAILED" | "NOT RUN" | "NOT SCANNED";

/** Seconds with one decimal: 1234 ms -> "1.2". */
export function formatSeconds(ms: number): string {
    return (Math.max(0, ms) / 1000).toFixed(1);
}

/** A short single-line rendering of a text for messages. */
export function clip(text: string, max = 300): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** Up to 4 significant digits: 0.28495789 -> "0.285". */
export function formatValue(value: number): string {
    return String(Number(value.toPrecision(4)));
}

export function valueRange(values: readonly number[]): string {
    return `${formatValue(Math.min(...values))}..${formatValue(Math.max(...values))}`;
}

export function resultLine(gate: string, verdict: Verdict, ms: number, detail?: string): string {
    const clean = detail?.replace(/[()]/g, "").replace(/\s+/g, " ").trim();
    return `${gate}: ${verdict}${clean ? ` (${clean})` : ""} in ${formatSeconds(ms)} s`;
}
