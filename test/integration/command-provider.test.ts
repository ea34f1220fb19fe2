/**
 * This project's command provider (plugins/pulumi-resource-command) under the real Pulumi engine:
 * a one-resource program of its own in a temporary folder, with this project's node_modules and
 * a file state backend, run through `pulumi up`, `preview` and `destroy`. Each command appends
 * a line to a journal file, so the test sees which commands ran, in which order, with what
 * environment. Needs the toolchain (scripts/engine-toolchain.sh), no cluster and no Docker.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { engineOrSkip, run, type Run } from "../e2e/support/engine";
import { PULUMI_ENV } from "../../tools/env-vars";
import { TYPES } from "../../components/type-tokens";

const BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-command"];
const STACK = "commands";
const TIMEOUT_MS = 5 * 60_000;

/**
 * The program: a command with create/delete/environment/dir/triggers whose stdout is exported,
 * and, when COMMAND_TEST_FAIL=1, a second command whose create fails. The trigger comes from
 * COMMAND_TEST_TRIGGER, so a run with another value changes only the trigger.
 */
const PROGRAM = `
import { local } from "@pulumi/command";

const probe = new local.Command("probe", {
    create: 'echo "create $GREETING" >> "$JOURNAL"; pwd -P; echo "hello $GREETING"; echo "to stderr" >&2',
    delete: 'echo "delete $(echo "$PULUMI_COMMAND_STDOUT" | tail -n 1)" >> "$JOURNAL"',
    environment: { GREETING: "world", JOURNAL: process.env.COMMAND_TEST_JOURNAL ?? "" },
    dir: process.env.COMMAND_TEST_DIR,
    triggers: [process.env.COMMAND_TEST_TRIGGER ?? "1"],
});

if (process.env.COMMAND_TEST_FAIL === "1") {
    new local.Command("failing-gate", { create: "echo checking; echo 'gate says no: 3 findings' >&2; exit 4" }, { dependsOn: probe });
}

export const stdout = probe.stdout;
export const stderr = probe.stderr;
`;

describe("pulumi-resource-command under the real engine (command:local:Command)", function () {
    this.timeout(20 * 60_000);
    let dir: string;
    let programDir: string;
    let workDir: string;
    let journal: string;
    let env: NodeJS.ProcessEnv;

    before(function () {
        const bin = engineOrSkip(this, BINARIES);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-command-"));
        programDir = path.join(dir, "program");
        workDir = path.join(dir, "work");
        journal = path.join(dir, "journal");
        for (const d of [programDir, workDir, path.join(dir, "state")]) fs.mkdirSync(d);
        fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: command-provider-test\nruntime: nodejs\n");
        fs.writeFileSync(path.join(programDir, "package.json"), JSON.stringify({ name: "command-provider-test", main: "index.ts" }));
        fs.writeFileSync(path.join(programDir, "index.ts"), PROGRAM);
        fs.symlinkSync(path.join(findProjectDir(), "node_modules"), path.join(programDir, "node_modules"), "dir");
        env = {
            ...process.env,
            PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
            [PULUMI_ENV.home]: path.join(dir, "home"),
            [PULUMI_ENV.backendUrl]: `file://${path.join(dir, "state")}`,
            [PULUMI_ENV.configPassphrase]: "modelship-command-test",
            [PULUMI_ENV.skipUpdateCheck]: "true",
            [PULUMI_ENV.disableAutomaticPluginAcquisition]: "true",
            [PULUMI_ENV.nodejsTranspileOnly]: "true",
            COMMAND_TEST_JOURNAL: journal,
            COMMAND_TEST_DIR: workDir,
            COMMAND_TEST_TRIGGER: "1",
            COMMAND_TEST_FAIL: "0",
        };
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function pulumi(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
        return run("pulumi", [...args, "--stack", STACK, "--non-interactive", "--color", "never"], { cwd: programDir, env: { ...env, ...extraEnv }, timeoutMs: TIMEOUT_MS });
    }

    function journalLines(): string[] {
        return fs.existsSync(journal) ? fs.readFileSync(journal, "utf8").trim().split("\n") : [];
    }

    async function outputs(): Promise<{ stdout: string; stderr: string }> {
        const result = await pulumi(["stack", "output", "--json"]);
        assert.equal(result.status, 0, result.all);
        return JSON.parse(result.stdout) as { stdout: string; stderr: string };
    }

    it("pulumi up runs create in dir with the environment, and exports its stdout and stderr", async () => {
        const init = await run("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: programDir, env, timeoutMs: TIMEOUT_MS });
        assert.equal(init.status, 0, init.all);
        const up = await pulumi(["up", "--yes", "--skip-preview"]);
        assert.equal(up.status, 0, up.all);
        assert.deepEqual(journalLines(), ["create world"]);
        const out = await outputs();
        assert.equal(out.stdout, `${fs.realpathSync(workDir)}\nhello world`);
        assert.equal(out.stderr, "to stderr");
    });

    it("a second preview right after up shows no change", async () => {
        const preview = await pulumi(["preview", "--expect-no-changes"]);
        assert.equal(preview.status, 0, preview.all);
        assert.deepEqual(journalLines(), ["create world"], "a preview runs no command");
    });

    it("a changed trigger replaces the command: create runs again, then the old one's delete with its stdout", async () => {
        const preview = await pulumi(["preview", "--diff"], { COMMAND_TEST_TRIGGER: "2" });
        assert.equal(preview.status, 0, preview.all);
        assert.match(preview.stdout, /\+-\s*command:local:Command: \(replace\)/, preview.all);
        const up = await pulumi(["up", "--yes", "--skip-preview"], { COMMAND_TEST_TRIGGER: "2" });
        assert.equal(up.status, 0, up.all);
        assert.deepEqual(journalLines(), ["create world", "create world", "delete hello world"]);
    });

    it("a failing create fails pulumi up with the command's exit code and output", async () => {
        const up = await pulumi(["up", "--yes", "--skip-preview"], { COMMAND_TEST_TRIGGER: "2", COMMAND_TEST_FAIL: "1" });
        assert.notEqual(up.status, 0, up.all);
        assert.match(up.all, /exited with code 4/, up.all);
        assert.match(up.all, /gate says no: 3 findings/, up.all);
        assert.deepEqual(journalLines(), ["create world", "create world", "delete hello world"], "the probe was not touched");
    });

    it("pulumi destroy runs delete and leaves an empty state", async () => {
        const destroy = await pulumi(["destroy", "--yes", "--skip-preview"], { COMMAND_TEST_TRIGGER: "2" });
        assert.equal(destroy.status, 0, destroy.all);
        assert.deepEqual(journalLines(), ["create world", "create world", "delete hello world", "delete hello world"]);
        const exported = await pulumi(["stack", "export"]);
        assert.equal(exported.status, 0, exported.all);
        const resources = (JSON.parse(exported.stdout) as { deployment: { resources?: Array<{ type: string }> } }).deployment.resources ?? [];
        assert.deepEqual(
            resources.filter((r) => r.type === TYPES.command),
            [],
        );
    });
});
