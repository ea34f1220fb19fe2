/**
 * A pull request's view of a stack update, in markdown: per model its versions, live weights
 * before -> after, mirror and replicas; the IAM resources the update touches; the policy
 * violations. Pure: `before` is the stack's outputs (undefined before its first update), `after`
 * the outputs the config renders, `steps` the engine's preview.
 */
import type { ModelStatus } from "./status";
import type { Violation } from "../policies/offline";

export interface PreviewChange {
    op: string;
    type: string;
    name: string;
}

export interface SummaryInput {
    stack: string;
    before?: Record<string, ModelStatus>;
    after: Record<string, ModelStatus>;
    /** The preview's steps other than `same`. */
    changes: readonly PreviewChange[];
    violations: readonly Violation[];
}

const TRACKS = ["stable", "candidate"] as const;

function cell<T>(before: T | undefined, after: T | undefined, show: (v: T) => string): string {
    const b = before === undefined ? "–" : show(before);
    const a = after === undefined ? "–" : show(after);
    return b === a ? a : `${b} → **${a}**`;
}

function strategyOf(m: ModelStatus | undefined): string | undefined {
    if (!m) return undefined;
    return `${m.strategy}${m.step ? ` ${m.step.index + 1}/${m.step.count}` : ""}${m.aborted ? " (aborted)" : ""}`;
}

export function previewSummary(input: SummaryInput): string {
    const lines = [`### modelship preview: stack \`${input.stack}\``, ""];
    const models = [...new Set([...Object.keys(input.before ?? {}), ...Object.keys(input.after)])].sort();
    lines.push("| model | track | version | weight | mirror | replicas |", "|---|---|---|---|---|---|");
    for (const name of models) {
        const b = input.before?.[name];
        const a = input.after[name];
        lines.push(`| **${name}** | ${cell(strategyOf(b), strategyOf(a), String)} | | | | |`);
        for (const track of TRACKS) {
            const pick = <K extends "versions" | "weights" | "mirrorPercent" | "replicas">(m: ModelStatus | undefined, key: K) => m?.[key]?.[track] as ModelStatus[K][typeof track] | undefined;
            if (pick(b, "versions") === undefined && pick(a, "versions") === undefined) continue;
            lines.push(
                `| | ${track} | ${cell(pick(b, "versions"), pick(a, "versions"), String)} | ${cell(pick(b, "weights"), pick(a, "weights"), (w) => `${w}%`)} | ${cell(pick(b, "mirrorPercent"), pick(a, "mirrorPercent"), (m) => `${m}%`)} | ${cell(pick(b, "replicas"), pick(a, "replicas"), String)} |`,
            );
        }
    }
    const iam = input.changes.filter((c) => c.type.startsWith("aws:iam/"));
    lines.push("", `**IAM**: ${iam.length === 0 ? "no change" : iam.map((c) => `${c.op} \`${c.type.replace(/^aws:iam\/\w+:/, "")}\` ${c.name}`).join(", ")}`);
    const byOp = new Map<string, number>();
    for (const c of input.changes) byOp.set(c.op, (byOp.get(c.op) ?? 0) + 1);
    lines.push(
        `**Resources**: ${
            byOp.size === 0
                ? "no change"
                : [...byOp]
                      .sort()
                      .map(([op, n]) => `${n} ${op}`)
                      .join(", ")
        }`,
    );
    const mandatory = input.violations.filter((v) => v.level === "mandatory");
    lines.push(
        `**Policies**: ${input.violations.length === 0 ? "no violations" : `${input.violations.length} violation${input.violations.length === 1 ? "" : "s"}, ${mandatory.length} mandatory${mandatory.length > 0 ? " (this update is blocked)" : ""}`}`,
    );
    for (const v of input.violations) lines.push(`- ${v.level === "mandatory" ? "❌" : "⚠️"} \`${v.policy}\` ${v.resource ? `(${v.resource}) ` : ""}${v.message}`);
    return `${lines.join("\n")}\n`;
}
