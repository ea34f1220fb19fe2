/**
 * The smoke gate as this image's own program, for the Kubernetes smoke Job
 * (components/kubernetes/smoke-job.ts) in the track's pod:
 *
 *   node dist/src/smoke/main.js --url=<track's Service> --model=<name> --version=<v> --input=<inline JSON>
 *                               --expect-min=<n> --expect-max=<n> [--timeout-ms=60000] [--retries=3] [--pin=<header>=<track>]
 *
 * The same program as `node dist/tools/gate.js smoke` on the deployer's machine: the same
 * settings (settings.ts), checks (checks.ts) and runner (run.ts). Values are given as
 * `--flag=value`, so a negative number or a JSON text is never read as a flag.
 * Exit codes, as every gate program: 0 passed, 1 a check failed, 2 usage error.
 */
import { parseArgs } from "util";
import { runSmoke } from "./run";
import { SMOKE_FLAGS, SMOKE_USAGE, smokeSettings, SmokeUsageError, type SmokeFlag, type SmokeFlagValues } from "./settings";

/** The flag values of the command line; a usage error for anything else. */
export function parseSmokeArgv(argv: readonly string[]): SmokeFlagValues {
    const flags = Object.keys(SMOKE_FLAGS) as SmokeFlag[];
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({ args: [...argv], options: Object.fromEntries(flags.map((flag) => [flag.slice(2), { type: "string" as const }])), strict: true, allowPositionals: false }).values;
    } catch (error) {
        throw new SmokeUsageError((error as Error).message);
    }
    return Object.fromEntries(flags.flatMap((flag) => (typeof values[flag.slice(2)] === "string" ? [[SMOKE_FLAGS[flag], values[flag.slice(2)]]] : []))) as SmokeFlagValues;
}

export async function main(argv: readonly string[], out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
    let settings;
    try {
        settings = smokeSettings(parseSmokeArgv(argv));
    } catch (error) {
        if (!(error instanceof SmokeUsageError)) throw error;
        process.stderr.write(`smoke: ${error.message}\nusage, each value as --flag=value: node dist/src/smoke/main.js ${SMOKE_USAGE.replace(/^smoke /, "")}\n`);
        return 2;
    }
    return (await runSmoke(settings, out)) ? 0 : 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            process.stderr.write(`smoke: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
