/**
 * `npm run up|preview|destroy [-- --stack <name>] [pulumi flags]`: runs the Pulumi CLI against a
 * project-local file state backend, so a laptop needs no Pulumi account. Checks first for what
 * the command needs (the Pulumi CLI; the Docker engine for a docker-target stack; a valid config)
 * and says what is missing instead of failing halfway.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../components/config/errors";
import { namespaceValues } from "../components/config/load";
import { parseConfig } from "../components/config/parse";
import type { ModelshipConfig } from "../components/config/schema";
import { findProjectDir } from "./render";
import { readStackFiles } from "./stack-files";

const COMMANDS = ["up", "preview", "destroy", "refresh"] as const;
type Command = (typeof COMMANDS)[number];

/** Exit code for "a prerequisite is missing", distinct from a failed deployment. */
export const MISSING_PREREQUISITE = 2;
export const STATE_DIR = ".pulumi-state";
/** Only protects the secrets of a local dev state; set PULUMI_CONFIG_PASSPHRASE for anything shared. */
const LOCAL_PASSPHRASE = "modelship-local-dev";

class Missing extends Error {}

function commandExists(command: string, env: NodeJS.ProcessEnv): boolean {
    return spawnSync(command, ["version"], { env, stdio: "ignore" }).error === undefined;
}

function requirePulumi(env: NodeJS.ProcessEnv): void {
    if (commandExists("pulumi", env)) return;
    throw new Missing(
        [
            "The Pulumi CLI is not on PATH, and every deploy is a `pulumi up`.",
            "Install it (https://www.pulumi.com/docs/iac/download-install/), open a new shell, and run this again.",
            "Without it, `npm run render -- --stack <name>` still shows what a stack would deploy.",
        ].join("\n"),
    );
}

function requireDocker(env: NodeJS.ProcessEnv): void {
    const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { env, encoding: "utf8" });
    if (info.error) throw new Missing("The docker CLI is not on PATH: the dev stack runs its models on the local Docker engine. Install Docker and run this again.");
    if (info.status !== 0) {
        throw new Missing(`The Docker engine is not reachable (docker info: ${(info.stderr || "").trim().split("\n")[0] || `exit ${info.status}`}). Start it (dockerd, or Docker Desktop) and run this again.`);
    }
}

/** The stack's config from its stack file, parsed and checked as the program would. */
export function loadStackConfig(projectDir: string, stack: string): ModelshipConfig {
    return parseConfig(namespaceValues(readStackFiles(projectDir, stack).config), stack);
}

function parseArgs(argv: readonly string[]): { command: Command; stack: string; passThrough: string[] } {
    const [command, ...rest] = argv;
    if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(`usage: pulumi-local <${COMMANDS.join("|")}> [--stack <name>] [pulumi flags]`);
    let stack = "dev";
    const passThrough: string[] = [];
    for (let i = 0; i < rest.length; i++) {
        if (rest[i] === "--stack" || rest[i] === "-s") stack = rest[++i] ?? stack;
        else if (rest[i].startsWith("--stack=")) stack = rest[i].slice("--stack=".length);
        else passThrough.push(rest[i]);
    }
    return { command: command as Command, stack, passThrough };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): number {
    console.log(`$ ${command} ${args.join(" ")}`);
    const result = spawnSync(command, args, { env, cwd, stdio: "inherit" });
    return result.status ?? 1;
}

/**
 * The environment Pulumi runs in for this project: the user's backend and passphrase if set,
 * otherwise the project-local file backend (created) and the local dev passphrase.
 */
export function localPulumiEnv(projectDir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const childEnv: NodeJS.ProcessEnv = {
        ...env,
        PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL ?? `file://${path.join(projectDir, STATE_DIR)}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) childEnv.PULUMI_CONFIG_PASSPHRASE = LOCAL_PASSPHRASE;
    if (!env.PULUMI_BACKEND_URL) fs.mkdirSync(path.join(projectDir, STATE_DIR), { recursive: true });
    return childEnv;
}

export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
    const { command, stack, passThrough } = parseArgs(argv);
    const projectDir = findProjectDir();
    const config = loadStackConfig(projectDir, stack);
    const childEnv = localPulumiEnv(projectDir, env);
    requirePulumi(childEnv);
    if (Object.values(config.targets).some((t) => t.type === "docker")) requireDocker(childEnv);
    const selected = run("pulumi", ["stack", "select", stack, "--create"], childEnv, projectDir);
    if (selected !== 0) return selected;
    return run("pulumi", [command, "--stack", stack, ...passThrough], childEnv, projectDir);
}

if (require.main === module) {
    try {
        process.exit(main(process.argv.slice(2)));
    } catch (error) {
        if (error instanceof ConfigError) {
            console.error(error.message);
            process.exit(1);
        }
        if (error instanceof Missing) {
            console.error(error.message);
            process.exit(MISSING_PREREQUISITE);
        }
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    }
}
