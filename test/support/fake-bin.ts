/**
 * Stand-in commands for tests of the project's command-line tools: a directory of shell scripts
 * that log how they were called and answer as the real command would, used as the whole PATH, so
 * a test decides which commands exist (a missing Pulumi CLI is a PATH without `pulumi`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface FakeBin {
    dir: string;
    /** One line per call: `<command> <args> | backend=<PULUMI_BACKEND_URL> passphrase=<set or empty>`. */
    log: string;
    calls(): string[];
}

/** The absolute path of a system command, for a fake script that needs it (cat, sleep). */
function systemCommand(name: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (!found.startsWith("/")) throw new Error(`${name} is not on PATH`);
    return found;
}

/**
 * @param commands name -> the script's body, run after the call is logged
 * @param tools system commands the bodies use, linked into the directory
 */
export function fakeBin(commands: Record<string, string>, tools: readonly string[] = []): FakeBin {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-bin-"));
    const log = path.join(dir, "calls.log");
    for (const tool of tools) fs.symlinkSync(systemCommand(tool), path.join(dir, tool));
    for (const [name, body] of Object.entries(commands)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "${name} $* | backend=$PULUMI_BACKEND_URL passphrase=\${PULUMI_CONFIG_PASSPHRASE:+set}" >> "${log}"\n${body}\n`, { mode: 0o755 });
    }
    return { dir, log, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) };
}
