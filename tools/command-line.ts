/**
 * The conventions every command of the project shares: `--flag value` and `--flag=value`;
 * `--help` (or `-h`) prints the usage on stdout and exits 0; a usage error goes to stderr with the
 * usage and exits 2; a missing prerequisite (the Pulumi CLI, the Docker engine) says what to
 * install and exits 2; any other failure prints its message and exits 1 (or the command's own code).
 */
import * as path from "path";
import { parseArgs, type ParseArgsConfig } from "util";
import { COMMAND_ENV } from "./env-vars";
import { EXIT_FAILED, EXIT_MISSING_PREREQUISITE, EXIT_OK, EXIT_USAGE } from "./exit-codes";

/** An error that ends the command with its own exit code. */
export class ExitError extends Error {
    constructor(
        message: string,
        readonly exitCode: number,
    ) {
        super(message);
    }
}

/** The command line is wrong: the message says what, and the usage follows it. */
export class UsageError extends ExitError {
    constructor(message: string) {
        super(message, EXIT_USAGE);
    }
}

export class MissingPrerequisite extends ExitError {
    constructor(message: string) {
        super(message, EXIT_MISSING_PREREQUISITE);
    }
}

export type FlagSpec<K extends string> = Readonly<Record<string, K>>;

export interface ParsedFlags<V extends string, S extends string, L extends string = never> {
    values: Partial<Record<V, string>>;
    switches: ReadonlySet<S>;
    /** With `lists`: every value of a flag that may be given more than once, in order (empty when not given). */
    lists: Record<L, string[]>;
    /** With `passThrough`: the arguments that are not this command's, in order. */
    rest: string[];
}

/** Node's parser options for the flags of a spec: each as typed (`--stack`, `-s`), by its own option name. */
function nodeOptions(spec: FlagSpec<string>, type: "string" | "boolean"): ParseArgsConfig["options"] {
    // A short flag is an alias of a long option to Node's parser; a synthetic long name keeps every flag its own.
    return Object.fromEntries(Object.keys(spec).map((flag) => (flag.startsWith("--") ? [flag.slice(2), { type }] : [`short ${flag}`, { type, short: flag.slice(1) }])));
}

/**
 * Node's `util.parseArgs` splits the command line (`--flag value`, `--flag=value`, `-s value`);
 * these are the project's rules over its tokens.
 * @param values flags that take a value (`--stack` -> "stack"); a missing value, or another flag
 *   where the value should be, is a usage error
 * @param options.switches flags without a value (`--yes` -> "yes")
 * @param options.lists flags that take a value and may be given more than once (`--model a --model b`)
 * @param options.passThrough hand unknown arguments back in `rest` instead of refusing them
 */
export function parseFlags<V extends string, S extends string = never, L extends string = never>(
    argv: readonly string[],
    values: FlagSpec<V>,
    options: { switches?: FlagSpec<S>; lists?: FlagSpec<L>; passThrough?: boolean } = {},
): ParsedFlags<V, S, L> {
    const switches = options.switches ?? {};
    const lists = options.lists ?? {};
    const parsed: ParsedFlags<V, S, L> = { values: {}, switches: new Set<S>(), lists: Object.fromEntries(Object.values(lists).map((name) => [name, []])) as unknown as Record<L, string[]>, rest: [] };
    const has = (spec: FlagSpec<string>, flag: string) => Object.prototype.hasOwnProperty.call(spec, flag);
    const { tokens } = parseArgs({
        args: [...argv],
        options: { ...nodeOptions(values, "string"), ...nodeOptions(lists, "string"), ...nodeOptions(switches, "boolean") },
        strict: false,
        allowPositionals: true,
        tokens: true,
    });
    // Grouped short flags (-abc) are several tokens of one argument: the argument is handed back once.
    const unknown = new Set<number>();
    for (const token of tokens) {
        if (token.kind === "option" && (has(values, token.rawName) || has(lists, token.rawName))) {
            if (token.value === undefined || (!token.inlineValue && token.value.startsWith("--"))) throw new UsageError(`${token.rawName} needs a value`);
            if (has(values, token.rawName)) parsed.values[values[token.rawName]] = token.value;
            else parsed.lists[lists[token.rawName]].push(token.value);
        } else if (token.kind === "option" && has(switches, token.rawName) && token.value === undefined) {
            (parsed.switches as Set<S>).add(switches[token.rawName]);
        } else if (options.passThrough) {
            unknown.add(token.index);
        } else {
            throw new UsageError(`unknown argument ${argv[token.index]}`);
        }
    }
    parsed.rest = [...unknown].sort((a, b) => a - b).map((index) => argv[index]);
    return parsed;
}

/**
 * A path the user typed, made absolute from the folder they typed it in: `npm run` starts scripts
 * in the project folder and says where it was called from in INIT_CWD.
 */
export function userPath(typed: string, env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env[COMMAND_ENV.initCwd] ?? process.cwd(), typed);
}

function wantsHelp(argv: readonly string[]): boolean {
    return argv.includes("--help") || argv.includes("-h");
}

/** Programming errors keep their stack trace; every other error is told by its message. */
function describe(error: unknown): string {
    if (error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError) return error.stack ?? error.message;
    return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a command's `main` as the process: --help, usage errors and exit codes as above.
 * @param failedCode the exit code of a failure that is neither a usage error nor a missing prerequisite
 */
export function runCommand(usage: string, main: (argv: readonly string[]) => number | Promise<number>, options: { failedCode?: number } = {}): void {
    const argv = process.argv.slice(2);
    if (wantsHelp(argv)) {
        process.stdout.write(`${usage}\n`);
        process.exitCode = EXIT_OK;
        return;
    }
    // The exit code is the command's verdict: exit at once, before anything left pending (a
    // program under mocks rejecting again, a child's handles) can end the process another way.
    Promise.resolve()
        .then(() => main(argv))
        .then(
            (code) => process.exit(code),
            (error: unknown) => {
                process.stderr.write(`${describe(error)}${error instanceof UsageError ? `\n${usage}` : ""}\n`);
                process.exit(error instanceof ExitError ? error.exitCode : (options.failedCode ?? EXIT_FAILED));
            },
        );
}
