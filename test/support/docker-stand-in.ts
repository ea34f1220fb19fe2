/**
 * A stand-in for the `docker` CLI, so that a generated fetch step (a boot script's, the docker
 * target's) runs for real without an engine: `docker run --rm ...` runs the image's command as a
 * local process (the model-server package standing for the image's /app), its bind mounts mapped
 * under a directory standing for the host's root (`/` for this machine) and its named volumes to
 * directories of STAND_IN_VOLUMES; every other call is recorded and succeeds. The container's `-e` variables are
 * passed on, plus STAND_IN_CONTAINER_ENV (JSON), which stands for what the instance metadata
 * service would give (credentials, here a loopback S3 endpoint).
 *
 *   STAND_IN_LOG=<dir>  STAND_IN_HOST_ROOT=<dir>  STAND_IN_APP_DIR=<model-server>  node docker-stand-in.js run ...
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The `docker run` options the boot script uses that take a value; any other option is refused, not guessed. */
const VALUED = new Set([
    "--network",
    "--user",
    "--tmpfs",
    "--cap-drop",
    "--security-opt",
    "--mount",
    "-e",
    "--log-driver",
    "--log-opt",
    "--entrypoint",
    "--name",
    "-p",
    "-v",
    "--restart",
    "--health-cmd",
    "--health-interval",
    "--health-retries",
]);
const FLAGS = new Set(["--rm", "--read-only", "-d"]);

function volumes(): string {
    const dir = process.env.STAND_IN_VOLUMES;
    if (!dir) throw new Error("STAND_IN_VOLUMES is not set: where named volumes are kept");
    return dir;
}

function record(args: readonly string[]): void {
    const log = process.env.STAND_IN_LOG;
    if (!log) throw new Error("STAND_IN_LOG is not set");
    fs.writeFileSync(path.join(log, `${process.hrtime.bigint()}-${process.pid}`), ["docker", ...args].join("\n") + "\n");
}

function parseRun(args: readonly string[]): { options: Array<[string, string | undefined]>; image: string; command: string[] } {
    const options: Array<[string, string | undefined]> = [];
    let i = 0;
    for (; i < args.length && args[i].startsWith("-"); i++) {
        const option = args[i];
        if (FLAGS.has(option)) options.push([option, undefined]);
        else if (VALUED.has(option)) options.push([option, args[++i]]);
        else throw new Error(`docker stand-in: unknown run option ${option}`);
    }
    if (i >= args.length) throw new Error("docker stand-in: run without an image");
    return { options, image: args[i], command: args.slice(i + 1) };
}

/** Runs a one-shot container's command here; resolves to its exit code. */
function runOneShot(options: Array<[string, string | undefined]>, command: readonly string[]): number {
    const hostRoot = process.env.STAND_IN_HOST_ROOT;
    const appDir = process.env.STAND_IN_APP_DIR;
    if (!hostRoot || !appDir) throw new Error("STAND_IN_HOST_ROOT and STAND_IN_APP_DIR must be set");
    const mounts: Array<{ target: string; source: string }> = [];
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: hostRoot, ...(JSON.parse(process.env.STAND_IN_CONTAINER_ENV ?? "{}") as Record<string, string>) };
    let entrypoint: string | undefined;
    for (const [option, value = ""] of options) {
        if (option === "--mount") {
            const fields = Object.fromEntries(value.split(",").map((field) => [field.split("=")[0], field.slice(field.indexOf("=") + 1)]));
            if (fields.type === "bind") mounts.push({ target: fields.target, source: path.join(hostRoot, fields.source) });
            else if (fields.type === "volume") mounts.push({ target: fields.target, source: path.join(volumes(), fields.source) });
            else throw new Error(`docker stand-in: bind and volume mounts only, not ${value}`);
        } else if (option === "-e") {
            env[value.slice(0, value.indexOf("="))] = value.slice(value.indexOf("=") + 1);
        } else if (option === "--entrypoint") {
            entrypoint = value;
        }
    }
    if (entrypoint !== "node") throw new Error(`docker stand-in: runs node commands only, not ${entrypoint ?? "the image's default"}`);
    const inHost = (arg: string) => {
        const mount = mounts.find((m) => arg === m.target || arg.startsWith(`${m.target}/`));
        return mount ? mount.source + arg.slice(mount.target.length) : arg;
    };
    const result = spawnSync(process.execPath, command.map(inHost), { cwd: appDir, env, stdio: "inherit" });
    return result.status ?? 1;
}

function main(args: readonly string[]): number {
    record(args);
    if (args[0] === "login") fs.readFileSync(0);
    if (args[0] !== "run") return 0;
    const { options, command } = parseRun(args.slice(1));
    return options.some(([option]) => option === "--rm") ? runOneShot(options, command) : 0;
}

try {
    process.exitCode = main(process.argv.slice(2));
} catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 125;
}
