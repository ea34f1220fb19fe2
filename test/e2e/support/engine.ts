/**
 * The real Pulumi engine for end-to-end tests: the CLI, this project's Node.js language host and
 * the Kubernetes provider from the toolchain cache (scripts/engine-toolchain.sh), a file state
 * backend in a temporary folder, and stack config given per run with --config-file, so a test
 * moves a stack step by step without touching the stack files of the project.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import type { PreviewChange } from "../../../cli/preview-markdown";
import { previewChanges } from "../../../cli/preview-summary";
import { findProjectDir } from "../../../tools/render";
import { isOn, PULUMI_ENV, TEST_ENV } from "../../../tools/env-vars";

/** Where scripts/*-toolchain.sh put their binaries: under MODELSHIP_CACHE, as they do. */
export const TOOLCHAIN_BIN = process.env[TEST_ENV.toolchainBin] ?? path.join(process.env[TEST_ENV.cache] ?? "/var/cache/modelship", "toolchain", "bin");
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "kubectl", "kwokctl", "kube-apiserver", "etcd"];

/** The toolchain's bin folder, or a skipped test (a failure where CI requires the engine). */
export function engineOrSkip(context: Mocha.Context, binaries: readonly string[] = ENGINE_BINARIES): string {
    const missing = binaries.filter((b) => !fs.existsSync(path.join(TOOLCHAIN_BIN, b)));
    if (missing.length === 0) return TOOLCHAIN_BIN;
    const message = `${missing.join(", ")} not in ${TOOLCHAIN_BIN}: run scripts/engine-toolchain.sh and scripts/kube-toolchain.sh`;
    if (isOn(TEST_ENV.requireEngine)) assert.fail(`${message} (${TEST_ENV.requireEngine}=1)`);
    return context.skip();
}

export interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
    ms: number;
    /** Both streams, for assertion messages. */
    all: string;
}

/** Runs a command to completion without blocking the event loop; bounded in time. */
export function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
        child.once("error", reject);
        child.once("close", (status) => {
            clearTimeout(timer);
            const ms = performance.now() - started;
            resolve({ status, stdout, stderr, ms, all: `$ ${command} ${args.join(" ")}\n--- stdout\n${stdout}--- stderr\n${stderr}` });
        });
    });
}

export interface Preview {
    /** The steps that change something: everything but `same`. */
    changes: PreviewChange[];
    run: Run;
}

const UPDATE_TIMEOUT_MS = 10 * 60_000;

export class EngineStack {
    readonly projectDir = findProjectDir();
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-engine-"));
    readonly configFile = path.join(this.dir, "stack-config.yaml");
    readonly env: NodeJS.ProcessEnv;

    constructor(
        readonly stack: string,
        bin: string,
        /** For stacks with a Kubernetes target. */
        kubeconfig?: string,
        /** A command every run goes through, e.g. `kube-node.sh exec --` to run inside the real node's network namespace. */
        private readonly launcher: readonly string[] = [],
    ) {
        fs.mkdirSync(path.join(this.dir, "state"));
        this.env = {
            ...process.env,
            PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
            [PULUMI_ENV.home]: path.join(this.dir, "home"),
            [PULUMI_ENV.backendUrl]: `file://${path.join(this.dir, "state")}`,
            [PULUMI_ENV.configPassphrase]: "modelship-e2e",
            [PULUMI_ENV.skipUpdateCheck]: "true",
            [PULUMI_ENV.disableAutomaticPluginAcquisition]: "true",
            // The program was type-checked by the build; the engine run only transpiles.
            [PULUMI_ENV.nodejsTranspileOnly]: "true",
            ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
        };
    }

    private encryptionSalt: string | undefined;

    /** Writes the stack's config (the `config:` map of a stack file) for the next runs. */
    writeConfig(config: Record<string, unknown>): void {
        fs.writeFileSync(this.configFile, stringify({ ...(this.encryptionSalt ? { encryptionsalt: this.encryptionSalt } : {}), config }));
    }

    salt(): string {
        assert.ok(this.encryptionSalt, "the stack's salt is known (adoptSalt)");
        return this.encryptionSalt;
    }

    /** Keeps the passphrase salt `pulumi stack init` wrote into a stack file, for the config files of later runs. */
    adoptSalt(stackFile: string): void {
        const salt = (parse(stackFile) as { encryptionsalt?: string } | null)?.encryptionsalt;
        assert.ok(salt, "the stack file has the stack's encryptionsalt");
        this.encryptionSalt = salt;
    }

    /** A command with this stack's environment, through the launcher (`env` over the stack's). */
    run(command: string, args: readonly string[], timeoutMs = UPDATE_TIMEOUT_MS, env: NodeJS.ProcessEnv = {}): Promise<Run> {
        const [first, ...rest] = [...this.launcher, command, ...args];
        return run(first, rest, { cwd: this.projectDir, env: { ...this.env, ...env }, timeoutMs });
    }

    pulumi(args: readonly string[], timeoutMs = UPDATE_TIMEOUT_MS): Promise<Run> {
        return this.run("pulumi", [...args, "--non-interactive", "--color", "never"], timeoutMs);
    }

    private stackArgs(): string[] {
        return ["--stack", this.stack, "--config-file", this.configFile];
    }

    /** One of the project's built Node.js programs, with this stack's environment (and `env` over it). */
    node(script: string, args: readonly string[], timeoutMs = UPDATE_TIMEOUT_MS, env: NodeJS.ProcessEnv = {}): Promise<Run> {
        return this.run(process.execPath, [path.join(this.projectDir, script), ...args], timeoutMs, env);
    }

    /** `modelship <args>`, as `npm run modelship -- <args>` runs it. */
    modelship(...args: string[]): Promise<Run> {
        return this.node("dist/cli/main.js", args);
    }

    up(message: string, extra: readonly string[] = []): Promise<Run> {
        return this.pulumi(["up", "--yes", "--skip-preview", "--message", message, ...this.stackArgs(), ...extra]);
    }

    async preview(extra: readonly string[] = []): Promise<Preview> {
        const result = await this.pulumi(["preview", "--json", ...this.stackArgs(), ...extra]);
        assert.equal(result.status, 0, result.all);
        return { changes: previewChanges(result.stdout), run: result };
    }

    /** `pulumi preview` as text, for a run that is expected to fail (policy violations). */
    previewText(extra: readonly string[] = []): Promise<Run> {
        return this.pulumi(["preview", ...this.stackArgs(), ...extra]);
    }

    destroy(): Promise<Run> {
        return this.pulumi(["destroy", "--yes", "--skip-preview", ...this.stackArgs()]);
    }

    /** The number of updates in the stack's history. */
    async updates(): Promise<number> {
        // The CLI pages history, ten updates by default.
        const result = await this.pulumi(["stack", "history", "--json", "--page-size", "10000", "--stack", this.stack], 60_000);
        assert.equal(result.status, 0, result.all);
        return (JSON.parse(result.stdout) as unknown[]).length;
    }

    /** The resources the state holds. */
    async resources(): Promise<Array<{ type: string; urn: string }>> {
        const result = await this.pulumi(["stack", "export", "--stack", this.stack], 60_000);
        assert.equal(result.status, 0, result.all);
        return (JSON.parse(result.stdout) as { deployment: { resources?: Array<{ type: string; urn: string }> } }).deployment.resources ?? [];
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
