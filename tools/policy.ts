/**
 * `npm run policy -- --stack <name> [--config <file>] [--project <dir>]`: the policy pack, offline,
 * over what the stack renders (no Pulumi CLI, no cloud account). Prints every violation with its
 * policy, level, resource and message; exits 1 when any is mandatory, 0 otherwise.
 * Enforcement levels and policy settings come from policies/config/<stack>.json, the same file
 * `pulumi preview --policy-pack policies --policy-pack-config` takes.
 */
import * as fs from "fs";
import * as path from "path";
import { allPolicies } from "../policies/catalog";
import { withProjectEnvironments } from "../policies/hygiene";
import { evaluate, type OfflineResource, type PackConfig, type Violation } from "../policies/offline";
import { parseFlags, runCommand, UsageError } from "./command-line";
import { EXIT_CANNOT_RUN, EXIT_FAILED, EXIT_OK } from "./exit-codes";
import type { RecordedResource } from "./mock-runtime";
import { findProjectDir, renderStack } from "./render";

const USAGE = "usage: npm run policy -- --stack <name> [--resources <resources.json from npm run render>] [--config <policy config json>] [--project <dir with Pulumi.yaml>]";

export function policyConfigPath(projectDir: string, stack: string): string {
    return path.join(projectDir, "policies", "config", `${stack}.json`);
}

export function readPackConfig(file: string): PackConfig {
    if (!fs.existsSync(file)) throw new Error(`no policy config ${file}: each stack has one (enforcement levels and settings)`);
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file} is not a JSON object`);
    return parsed as PackConfig;
}

function offline(recorded: readonly RecordedResource[]): OfflineResource[] {
    return recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs, ...(r.parent ? { parent: r.parent } : {}) }));
}

/** A saved render (`resources.json`), e.g. from an earlier job of a pipeline. */
export function readRenderedResources(file: string): RecordedResource[] {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!Array.isArray(parsed)) throw new Error(`${file} is not a resources.json from npm run render (a JSON list)`);
    return parsed as RecordedResource[];
}

/** Runs every policy over the stack's resources: rendered now, or read from a saved render. */
export async function checkStack(projectDir: string, stack: string, options: { configFile?: string; resourcesFile?: string; resources?: readonly RecordedResource[] } = {}): Promise<Violation[]> {
    const config = withProjectEnvironments(readPackConfig(options.configFile ?? policyConfigPath(projectDir, stack)), projectDir);
    const recorded = options.resources ?? (options.resourcesFile ? readRenderedResources(options.resourcesFile) : (await renderStack(projectDir, stack)).resources);
    return evaluate(allPolicies, offline(recorded), config);
}

export function formatViolations(stack: string, violations: readonly Violation[]): string {
    const mandatory = violations.filter((v) => v.level === "mandatory").length;
    const lines = [...violations]
        .sort((a, b) => (a.level === b.level ? a.policy.localeCompare(b.policy) : a.level === "mandatory" ? -1 : 1))
        .map((v) => `[${v.level}] ${v.policy}  ${v.resource ?? "(stack)"}\n    ${v.message}`);
    const summary =
        violations.length === 0
            ? `stack ${stack}: no policy violations (${allPolicies.length} policies)`
            : `stack ${stack}: ${violations.length} violation${violations.length === 1 ? "" : "s"}, ${mandatory} mandatory, ${violations.length - mandatory} advisory (${allPolicies.length} policies)`;
    return [...lines, summary].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseFlags(argv, { "--stack": "stack", "-s": "stack", "--config": "config", "--resources": "resources", "--project": "project" }).values;
    if (!args.stack) throw new UsageError("--stack is required");
    const projectDir = args.project ? path.resolve(args.project) : findProjectDir();
    const violations = await checkStack(projectDir, args.stack, {
        ...(args.config ? { configFile: path.resolve(args.config) } : {}),
        ...(args.resources ? { resourcesFile: path.resolve(args.resources) } : {}),
    });
    console.log(formatViolations(args.stack, violations));
    return violations.some((v) => v.level === "mandatory") ? EXIT_FAILED : EXIT_OK;
}

if (require.main === module) runCommand(USAGE, main, { failedCode: EXIT_CANNOT_RUN });
