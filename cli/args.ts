/** `modelship <command> --stack <name> [--model <name>] [flags]`, parsed into one typed command. */

export const COMMANDS = ["status", "promote", "abort", "rollback", "analyze", "auto"] as const;
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
}

export const USAGE = [
    "usage: modelship <command> --stack <name> [--model <name>] [flags]",
    "  status                     each model's tracks, versions, live weights, mirror, step and the last update",
    "  promote  [--yes]           the next step of the model's strategy (canary weight, blue-green switch, conclude)",
    "  abort    [--yes] [--retire] all live traffic back to stable; the candidate kept warm unless --retire",
    "  rollback [--yes] [--retire] the same as abort",
    "  rollback --to <version> [--yes]  an earlier version, from the stack's history, stable again",
    "  analyze  [--prometheus <url>]  promote, hold or roll back, from the candidate's and stable's metrics",
    "  auto     [--prometheus <url>] [--bake <seconds>]  bake, analyze and promote step by step; roll back on a failed analysis",
    "Without --yes a command previews the update and changes nothing.",
].join("\n");

export class UsageError extends Error {}

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
    const [command, ...rest] = argv;
    if (command === undefined || command === "--help" || command === "-h") throw new UsageError(USAGE);
    if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
    const args: Partial<CliArgs> & { yes: boolean; retire: boolean } = { command: command as CommandName, yes: false, retire: false };
    const valued: Record<string, "stack" | "model" | "prometheus" | "bake" | "to"> = { "--stack": "stack", "-s": "stack", "--model": "model", "--prometheus": "prometheus", "--bake": "bake", "--to": "to" };
    let bake: string | undefined;
    for (let i = 0; i < rest.length; i++) {
        const [flag, inline] = rest[i].split(/=(.*)/s, 2);
        if (flag === "--yes" || flag === "-y") args.yes = true;
        else if (flag === "--retire") args.retire = true;
        else if (valued[flag]) {
            const value = inline ?? rest[++i];
            if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            const key = valued[flag];
            if (key === "bake") bake = value;
            else args[key] = value;
        } else throw new UsageError(`unknown argument ${rest[i]}\n${USAGE}`);
    }
    if (!args.stack) throw new UsageError(`--stack is required\n${USAGE}`);
    if (args.retire && args.command !== "abort" && args.command !== "rollback") throw new UsageError(`--retire goes with abort or rollback\n${USAGE}`);
    if (args.to !== undefined && args.command !== "rollback") throw new UsageError(`--to goes with rollback\n${USAGE}`);
    if (args.to !== undefined && args.retire) throw new UsageError(`--to drops the candidate already; leave out --retire\n${USAGE}`);
    const prometheus = args.prometheus ?? env.MODELSHIP_PROMETHEUS_URL;
    if (bake !== undefined && (args.command !== "auto" || !/^\d+$/.test(bake))) throw new UsageError(`--bake takes a number of seconds, with auto\n${USAGE}`);
    return {
        ...(bake !== undefined ? { bakeSeconds: Number(bake) } : {}),
        ...(args.to !== undefined ? { to: args.to } : {}), command: args.command as CommandName, stack: args.stack, yes: args.yes, retire: args.retire, ...(args.model ? { model: args.model } : {}), ...(prometheus ? { prometheus } : {}) };
}
