/** `modelship <command> --stack <name> [--model <name>] [flags]`, parsed into one typed command. */
import { parseFlags, userPath, UsageError } from "../tools/command-line";
import { COMMAND_ENV } from "../tools/env-vars";

export const COMMANDS = ["status", "promote", "abort", "rollback", "analyze", "auto", "pin"] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CliArgs {
    command: CommandName;
    stack: string;
    model?: string;
    /** Apply; without it the command previews and changes nothing. */
    yes: boolean;
    /** rollback/abort: drop the candidate instead of keeping it warm. */
    retire: boolean;
    /** analyze, auto: the Prometheus to ask; MODELSHIP_PROMETHEUS_URL otherwise. */
    prometheus?: string;
    /** rollback: the earlier version to make stable again, from the stack's history. */
    to?: string;
    /** auto: seconds to bake before each analysis, instead of the model's `analysis.bakeSeconds`. */
    bakeSeconds?: number;
    /** promote, auto: the model's endpoint through the router for a preview check, instead of the stack's output (e.g. a port-forward). */
    endpoint?: string;
    /** The project directory (with Pulumi.yaml); the one this program belongs to otherwise. */
    project?: string;
    /** The stack file to read and edit instead of Pulumi.<stack>.yaml (absolute), as `pulumi --config-file` takes. */
    configFile?: string;
    /** pin: the registry alias or version to resolve, instead of the one the model's artifact names. */
    from?: string;
    /** pin: the track to write, instead of the one the alias feeds. */
    track?: "stable" | "candidate";
}

export const USAGE = [
    "usage: modelship <command> --stack <name> [--model <name>] [--project <dir with Pulumi.yaml>] [--config-file <stack file>] [flags]",
    "  status                     each model's tracks, versions, live weights, mirror, step and the last update",
    "  promote  [--yes] [--endpoint <url>] [--prometheus <url>]  the next step of the model's strategy (canary weight, blue-green step or switch, conclude);",
    "                             a blue-green with strategy.preview checks the candidate's pool first (requests pinned through --endpoint, its metrics from Prometheus)",
    "  abort    [--yes] [--retire] all live traffic back to stable; the candidate kept warm unless --retire",
    "  rollback [--yes] [--retire] the same as abort",
    "  rollback --to <version> [--yes]  an earlier version, from the stack's history (or, for a models:/ artifact, a registry version number), stable again",
    "  analyze  [--prometheus <url>]  promote, hold or roll back, from the candidate's and stable's metrics",
    "  auto     [--prometheus <url>] [--bake <seconds>] [--endpoint <url>]  bake, analyze and promote step by step; roll back on a failed analysis",
    "  pin      [--from <alias|version>] [--track stable|candidate]  resolve a models:/ artifact's alias or version in the model registry into the exact",
    "                             version, its files' URI and model.json's SHA-256, written into the track in the stack file (no update: commit and review it);",
    "                             --from defaults to the artifact's own alias or version (challenger for --track candidate), --track to the alias's track",
    "                             (champion: stable, challenger: candidate)",
    "A concluding promote of a models:/ model moves the registry's modelRegistry.promoteAlias (champion) to the promoted version, after the update succeeded.",
    "Without --yes a command previews the update and changes nothing; with --yes the stack file is written once the update succeeded.",
    "--config-file names the stack file to read and edit instead of Pulumi.<stack>.yaml (as `pulumi --config-file` and `npm run up -- --config-file` take it).",
].join("\n");

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
    const [command, ...rest] = argv;
    if (command === undefined) throw new UsageError("no command given");
    if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const { values, switches } = parseFlags(
        rest,
        {
            "--stack": "stack",
            "-s": "stack",
            "--model": "model",
            "--prometheus": "prometheus",
            "--bake": "bake",
            "--to": "to",
            "--project": "project",
            "--config-file": "configFile",
            "--endpoint": "endpoint",
            "--from": "from",
            "--track": "track",
        },
        { switches: { "--yes": "yes", "-y": "yes", "--retire": "retire" } },
    );
    const { stack, model, to, bake, project, configFile, endpoint, from, track } = values;
    const retire = switches.has("retire");
    if (!stack) throw new UsageError("--stack is required");
    if (retire && command !== "abort" && command !== "rollback") throw new UsageError("--retire goes with abort or rollback");
    if (to !== undefined && command !== "rollback") throw new UsageError("--to goes with rollback");
    if (to !== undefined && retire) throw new UsageError("--to drops the candidate already; leave out --retire");
    if (bake !== undefined && (command !== "auto" || !/^\d+$/.test(bake))) throw new UsageError("--bake takes a number of seconds, with auto");
    if (endpoint !== undefined && command !== "promote" && command !== "auto") throw new UsageError("--endpoint goes with promote or auto (the preview check's requests)");
    if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
        throw new UsageError(`--endpoint ${JSON.stringify(endpoint)}: expected the model's URL through the router, e.g. http://127.0.0.1:8080/v2/models/fraud-scorer`);
    if ((from !== undefined || track !== undefined) && command !== "pin") throw new UsageError("--from and --track go with pin");
    if (track !== undefined && track !== "stable" && track !== "candidate") throw new UsageError(`--track ${JSON.stringify(track)}: stable or candidate`);
    if (command === "pin" && switches.has("yes")) throw new UsageError("pin writes the stack file and applies nothing: leave out --yes, review the diff, then run `npm run up` or promote");
    const prometheus = values.prometheus ?? env[COMMAND_ENV.prometheusUrl];
    return {
        command: command as CommandName,
        stack,
        yes: switches.has("yes"),
        retire,
        ...(model ? { model } : {}),
        ...(prometheus ? { prometheus } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(bake !== undefined ? { bakeSeconds: Number(bake) } : {}),
        ...(project !== undefined ? { project } : {}),
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(configFile !== undefined ? { configFile: userPath(configFile, env) } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(track === "stable" || track === "candidate" ? { track } : {}),
    };
}
