/**
 * `npm run up|preview|destroy [-- --stack <name>] [pulumi flags]`: runs the Pulumi CLI against a
 * project-local file state backend, so a laptop needs no Pulumi account. Checks first for what
 * the command needs (the Pulumi CLI; the Docker engine for a docker-target stack; a valid config)
 * and says what is missing instead of failing halfway.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { namespaceValues } from "../components/config/load";
import { parseConfig } from "../components/config/parse";
import type { ModelshipConfig } from "../components/config/schema";
import { targetDefinition } from "../components/targets/registry";
import { MissingPrerequisite, parseFlags, runCommand, UsageError, userPath } from "./command-line";
import { PULUMI_ENV } from "./env-vars";
import { findProjectDir, readStackFiles } from "./project-files";

const COMMANDS = ["up", "preview", "destroy", "refresh"] as const;
type Command = (typeof COMMANDS)[number];

export const STATE_DIR = ".pulumi-state";
/** Only protects the secrets of a local dev state; set PULUMI_CONFIG_PASSPHRASE for anything shared. */
const LOCAL_PASSPHRASE = "modelship-local-dev";

function commandExists(command: string, env: NodeJS.ProcessEnv): boolean {
    return spawnSync(command, ["version"], { env, stdio: "ignore" }).error === undefined;
}

/** Every command that runs the engine checks this first, so a missing CLI reads the same everywhere. */
export function requirePulumi(env: NodeJS.ProcessEnv = process.env): void {
    if (commandExists("pulumi", env)) return;
    throw new MissingPrerequisite(
        [
            "The Pulumi CLI is not on PATH, and every deploy is a `pulumi up`.",
            "Install it (https://www.pulumi.com/docs/iac/download-install/), open a new shell, and run this again.",
            "Without it, `npm run render -- --stack <name>` still shows what a stack would deploy.",
        ].join("\n"),
    );
}

/** What each target the stack uses needs on this machine (the docker target: a reachable Docker engine). */
function requireTargetPrerequisites(config: ModelshipConfig, env: NodeJS.ProcessEnv): void {
    for (const type of new Set(Object.values(config.targets).map((t) => t.type))) {
        const missing = targetDefinition(type).prerequisites?.(env);
        if (missing) throw new MissingPrerequisite(missing);
    }
}

/**
 * The stack's config from its stack file, parsed and checked as the program would.
 * @param stackFile a config file given instead of Pulumi.<stack>.yaml, as `pulumi --config-file` takes
 */
export function loadStackConfig(projectDir: string, stack: string, stackFile?: string): ModelshipConfig {
    return parseConfig(namespaceValues(readStackFiles(projectDir, stack, stackFile).config), stack);
}

const USAGE = [
    "usage: npm run up|preview|destroy|refresh [-- --stack <name>] [--config-file <stack file>] [pulumi flags]",
    "  Runs the Pulumi CLI on the stack (dev unless --stack names another), on a project-local file",
    "  backend unless PULUMI_BACKEND_URL is set. --config-file takes the stack's config from that file",
    "  instead of Pulumi.<stack>.yaml (e.g. a machine's own base and router images). Other flags go to",
    "  Pulumi (e.g. --yes).",
].join("\n");

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { command: Command; stack: string; configFile?: string; passThrough: string[] } {
    const [command, ...rest] = argv;
    if (command === undefined) throw new UsageError("no command given");
    if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const { values, rest: passThrough } = parseFlags(rest, { "--stack": "stack", "-s": "stack", "--config-file": "configFile" }, { passThrough: true });
    return { command: command as Command, stack: values.stack ?? "dev", ...(values.configFile !== undefined ? { configFile: userPath(values.configFile, env) } : {}), passThrough };
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
        [PULUMI_ENV.backendUrl]: env[PULUMI_ENV.backendUrl] ?? `file://${path.join(projectDir, STATE_DIR)}`,
        [PULUMI_ENV.skipUpdateCheck]: "true",
    };
    if (env[PULUMI_ENV.configPassphrase] === undefined && env[PULUMI_ENV.configPassphraseFile] === undefined) childEnv[PULUMI_ENV.configPassphrase] = LOCAL_PASSPHRASE;
    if (!env[PULUMI_ENV.backendUrl]) fs.mkdirSync(path.join(projectDir, STATE_DIR), { recursive: true });
    return childEnv;
}

/**
 * `pulumi stack select --create`. Creating a stack writes its encryption salt into
 * Pulumi.<stack>.yaml, and that command takes no --config-file; when the config comes from another
 * file, the stack file is put back as it was, since the salt is kept in the stack's state too.
 */
function selectStack(projectDir: string, stack: string, configFile: string | undefined, env: NodeJS.ProcessEnv): number {
    const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const before = configFile !== undefined && fs.existsSync(stackFile) ? fs.readFileSync(stackFile) : undefined;
    const status = run("pulumi", ["stack", "select", stack, "--create"], env, projectDir);
    if (configFile !== undefined) {
        if (before === undefined) fs.rmSync(stackFile, { force: true });
        else if (!fs.readFileSync(stackFile).equals(before)) fs.writeFileSync(stackFile, before);
    }
    return status;
}

export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
    const { command, stack, configFile, passThrough } = parseArgs(argv, env);
    const projectDir = findProjectDir();
    const config = loadStackConfig(projectDir, stack, configFile);
    const childEnv = localPulumiEnv(projectDir, env);
    requirePulumi(childEnv);
    requireTargetPrerequisites(config, childEnv);
    const selected = selectStack(projectDir, stack, configFile, childEnv);
    if (selected !== 0) return selected;
    return run("pulumi", [command, "--stack", stack, ...(configFile ? ["--config-file", configFile] : []), ...passThrough], childEnv, projectDir);
}

if (require.main === module) runCommand(USAGE, (argv) => main(argv));
