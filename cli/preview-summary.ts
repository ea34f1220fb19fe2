/**
 * `npm run preview:summary -- --stack <name> [--config-file <stack file>] [--out <file.md>]`: what
 * an update of the stack would change, as markdown for a pull-request comment (see
 * cli/preview-markdown.ts). Runs `pulumi preview --json` and `pulumi stack output` with the same
 * backend rules as `npm run up`, renders the config for the weights after, and runs the policy
 * pack offline over the render.
 */
import * as fs from "fs";
import { spawnSync } from "child_process";
import { parseFlags, runCommand, UsageError } from "../tools/command-line";
import { EXIT_OK } from "../tools/exit-codes";
import { checkStack } from "../tools/policy";
import { findProjectDir, readStackFiles } from "../tools/project-files";
import { localPulumiEnv, requirePulumi } from "../tools/pulumi-local";
import { renderFiles } from "../tools/render";
import { previewSummary, type PreviewChange } from "./preview-markdown";
import type { ModelStatus } from "./status";

const USAGE = "usage: npm run preview:summary -- --stack <name> [--config-file <stack file>] [--out <file.md>]";

function pulumi(args: readonly string[], projectDir: string, env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("pulumi", [...args, "--non-interactive", "--color", "never"], { cwd: projectDir, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (result.error) throw new Error(`could not run pulumi ${args[0]}: ${result.error.message}`);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The preview's changes: every step but `same`, as type and name. */
export function previewChanges(json: string): PreviewChange[] {
    const parsed = JSON.parse(json) as { steps?: Array<{ op: string; urn: string }> };
    return (parsed.steps ?? [])
        .filter((s) => s.op !== "same")
        .map((s) => {
            const parts = s.urn.split("::");
            return { op: s.op, type: parts[2]?.split("$").pop() ?? "", name: parts[3] ?? "" };
        });
}

export async function main(argv: readonly string[]): Promise<string> {
    const args = parseFlags(argv, { "--stack": "stack", "-s": "stack", "--config-file": "configFile", "--out": "out" }).values;
    if (!args.stack) throw new UsageError("--stack is required");
    const projectDir = findProjectDir();
    const env = localPulumiEnv(projectDir);
    requirePulumi(env);
    const files = readStackFiles(projectDir, args.stack, args.configFile);
    const render = await renderFiles(projectDir, files);
    const after: Record<string, ModelStatus> = render.outputs.models;
    const configArgs = args.configFile ? ["--config-file", args.configFile] : [];
    const outputs = pulumi(["stack", "output", "--json", "--stack", args.stack], projectDir, env);
    // No outputs yet (a stack never updated, or not created): every value is new.
    const before = outputs.status === 0 ? ((JSON.parse(outputs.stdout || "{}") as { models?: Record<string, ModelStatus> }).models ?? undefined) : undefined;
    const preview = pulumi(["preview", "--json", "--stack", args.stack, ...configArgs], projectDir, env);
    if (preview.status !== 0) throw new Error(`pulumi preview failed (exit ${preview.status}):\n${preview.stderr || preview.stdout}`);
    const violations = await checkStack(projectDir, args.stack, { resources: render.resources });
    const markdown = previewSummary({ stack: args.stack, ...(before ? { before } : {}), after, changes: previewChanges(preview.stdout), violations });
    if (args.out) fs.writeFileSync(args.out, markdown);
    return markdown;
}

if (require.main === module) {
    runCommand(USAGE, async (argv) => {
        process.stdout.write(await main(argv));
        return EXIT_OK;
    });
}
