/**
 * `modelship promote|abort|rollback` write Pulumi.<stack>.yaml only after an update applied the
 * step. Real processes: the built CLI against a fake `pulumi` on PATH (shell scripts that fail as
 * the real CLI does), on a copy of the project's lab stack file; every failure path leaves the
 * file byte-identical, however often it is run.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../../tools/render";
import { fakeBin, type FakeBin } from "../../support/fake-bin";
import { COMMAND_ENV } from "../../../tools/env-vars";

const projectDir = findProjectDir();
const cli = path.join(projectDir, "dist", "cli", "main.js");
const STACK = "lab";
const STEP_0 = "strategy: {type: canary, steps: [10, 25, 50, 75, 100], step: 0}";
const STEP_1 = "strategy: {type: canary, steps: [10, 25, 50, 75, 100], step: 1}";

/**
 * Every fake `pulumi` answers `version` and records the config file it was given (its path and its
 * content) in $FAKE_OUT, so a test sees what the engine would have run with.
 */
const PRELUDE = `prev=""
for arg in "$@"; do
  if [ "$prev" = "--config-file" ]; then echo "$arg" > "$FAKE_OUT/config-path"; cat "$arg" > "$FAKE_OUT/config.yaml"; fi
  prev="$arg"
done
case "$1" in version) echo v3.274.1; exit 0;; esac`;

const FAKES = {
    stackMissing: `echo "error: no stack named '${STACK}' found" >&2; exit 255`,
    backendUnreachable: `echo "error: could not open the backend s3://modelship-state: dial tcp 127.0.0.1:9: connect: connection refused" >&2; exit 255`,
    previewFails: `case "$1" in preview) echo "error: an unhandled error occurred: Program exited with non-zero exit code: 1" >&2; exit 255;; esac; exit 0`,
    updateFails: `case "$1" in up) echo "error: update failed: 1 error occurred: kubernetes:apps/v1:Deployment fraud-scorer-candidate: timed out" >&2; exit 255;; esac; exit 0`,
    succeeds: `case "$1 $2" in "stack output") echo '{}';; "stack history") echo '[]';; esac; exit 0`,
    /** An update or preview that runs until interrupted; SIGINT is Pulumi's "cancel", as the real CLI handles it. */
    runsUntilInterrupted: `case "$1" in
  up|preview)
    sleep 30 & sleeper=$!
    trap 'echo INT >> "$FAKE_OUT/signals"; kill $sleeper; echo "error: update canceled" >&2; exit 255' INT
    trap 'echo TERM >> "$FAKE_OUT/signals"; kill $sleeper; exit 143' TERM
    echo "$1" > "$FAKE_OUT/started"
    wait $sleeper
    exit 0;;
esac
exit 0`,
    /** An update that goes on cancelling after the first SIGINT, and stops at the second, as Pulumi's "terminate now". */
    cancelsSlowly: `case "$1" in
  up)
    sleep 30 & sleeper=$!
    trap 'echo INT >> "$FAKE_OUT/signals"; if [ "$(cat "$FAKE_OUT/signals" | wc -l)" -ge 2 ]; then kill $sleeper; exit 255; fi' INT
    echo "$1" > "$FAKE_OUT/started"
    while kill -0 $sleeper 2>/dev/null; do wait $sleeper; done
    exit 0;;
esac
exit 0`,
    /** An update during which someone else edits the stack file. */
    editsDuringUpdate: `case "$1" in up) echo "# edited meanwhile" >> "$FAKE_STACK_FILE";; esac; exit 0`,
};

interface Project {
    dir: string;
    file: string;
    original: Buffer;
    out: string;
}

describe("rollout commands leave the stack file as it was unless an update applied the step", function () {
    const made: string[] = [];
    after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    function tempDir(prefix: string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
        made.push(dir);
        return dir;
    }

    /** A copy of the project's Pulumi.yaml and lab stack file, and a folder for what the fake records. */
    function project(): Project {
        const dir = tempDir("modelship-project-");
        for (const file of ["Pulumi.yaml", `Pulumi.${STACK}.yaml`]) fs.copyFileSync(path.join(projectDir, file), path.join(dir, file));
        const file = path.join(dir, `Pulumi.${STACK}.yaml`);
        const original = fs.readFileSync(file);
        assert.ok(original.includes(STEP_0), "the lab stack's canary is at its first step");
        return { dir, file, original, out: tempDir("modelship-fake-out-") };
    }

    function pulumi(body: string): FakeBin {
        const bin = fakeBin({ pulumi: `${PRELUDE}\n${body}` }, ["cat", "sleep", "wc"]);
        made.push(bin.dir);
        return bin;
    }

    function env(p: Project, bin: { dir: string }): NodeJS.ProcessEnv {
        return { PATH: bin.dir, HOME: p.out, FAKE_OUT: p.out, FAKE_STACK_FILE: p.file };
    }

    function modelship(p: Project, bin: { dir: string }, ...args: string[]) {
        return spawnSync(process.execPath, [cli, ...args, "--stack", STACK, "--model", "fraud-scorer", "--project", p.dir], { encoding: "utf8", env: env(p, bin), timeout: 60_000 });
    }

    function assertUnchanged(p: Project, context: string): void {
        assert.ok(fs.readFileSync(p.file).equals(p.original), `${context}: Pulumi.${STACK}.yaml is byte-identical; it is now:\n${fs.readFileSync(p.file, "utf8")}`);
    }

    /** Nothing left in the project but the stack files and the local state folder; the scratch config is gone. */
    function assertNoLeftovers(p: Project): void {
        assert.deepEqual(
            fs
                .readdirSync(p.dir)
                .filter((f) => f !== ".pulumi-state")
                .sort(),
            [`Pulumi.${STACK}.yaml`, "Pulumi.yaml"],
        );
        const scratch = path.join(p.out, "config-path");
        if (fs.existsSync(scratch)) assert.ok(!fs.existsSync(fs.readFileSync(scratch, "utf8").trim()), "the temporary config file is removed");
    }

    /** Run after run: a preview that ratcheted the file would show at the second promote. */
    const commands: string[][] = [["promote"], ["promote"], ["abort"], ["promote", "--yes"]];

    it("without the Pulumi CLI: the message of `npm run up`, exit 2, and the file as it was, run after run", () => {
        const p = project();
        const noPulumi = fakeBin({}, ["cat", "sleep"]);
        made.push(noPulumi.dir);
        for (const command of commands) {
            const result = modelship(p, noPulumi, ...command);
            assertUnchanged(p, command.join(" "));
            assert.equal(result.status, 2, `${command.join(" ")}\n${result.stdout}${result.stderr}`);
            assert.match(result.stderr, /The Pulumi CLI is not on PATH/);
            assert.doesNotMatch(result.stderr, /ENOENT|at .*\.js:\d+/, "no raw error or stack trace");
        }
        assertNoLeftovers(p);
    });

    for (const [failure, body, pattern] of [
        ["a stack that was never created", FAKES.stackMissing, /no stack named 'lab' found/],
        ["an unreachable backend", FAKES.backendUnreachable, /connection refused/],
    ] as const) {
        it(`${failure}: every command fails with the engine's words, and the file does not ratchet`, () => {
            const p = project();
            const bin = pulumi(body);
            for (const command of commands) {
                const result = modelship(p, bin, ...command);
                assertUnchanged(p, command.join(" "));
                assert.equal(result.status, 1, `${command.join(" ")}\n${result.stdout}${result.stderr}`);
                assert.match(result.stderr, pattern);
                assert.match(result.stderr, /Pulumi\.lab\.yaml is unchanged/);
            }
            assertNoLeftovers(p);
        });
    }

    it("a preview that fails: exit 1, the file as it was; the preview ran on the stepped config, not the stack file", () => {
        const p = project();
        const result = modelship(p, pulumi(FAKES.previewFails), "promote");
        assertUnchanged(p, "promote");
        assert.equal(result.status, 1, result.stdout + result.stderr);
        assert.match(result.stderr, /pulumi preview failed \(exit 255\)/);
        const seen = fs.readFileSync(path.join(p.out, "config.yaml"), "utf8");
        assert.equal(seen, p.original.toString("utf8").replace(STEP_0, STEP_1), "the engine was given the step in a config file of its own");
        assertNoLeftovers(p);
    });

    it("an update that fails: exit 1, the file as it was", () => {
        const p = project();
        for (const command of [
            ["promote", "--yes"],
            ["abort", "--yes"],
            ["rollback", "--yes", "--retire"],
        ]) {
            const result = modelship(p, pulumi(FAKES.updateFails), ...command);
            assertUnchanged(p, command.join(" "));
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stderr, /pulumi up failed \(exit 255\)/);
        }
        assertNoLeftovers(p);
    });

    it("a preview that succeeds: the stack file is unchanged, and says so", () => {
        const p = project();
        const result = modelship(p, pulumi(FAKES.succeeds), "promote");
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /previewed only; the stack file is unchanged/);
        assertUnchanged(p, "promote");
        assert.ok(fs.readFileSync(path.join(p.out, "config.yaml"), "utf8").includes(STEP_1), "the preview saw the step");
        assertNoLeftovers(p);
    });

    it("an update that succeeds writes the step, and only the step: comments and layout kept, the file's mode kept", () => {
        const p = project();
        fs.chmodSync(p.file, 0o640);
        const result = modelship(p, pulumi(FAKES.succeeds), "promote", "--yes");
        assert.equal(result.status, 0, result.stdout + result.stderr);
        const expected = p.original.toString("utf8").replace(STEP_0, STEP_1);
        assert.equal(fs.readFileSync(p.file, "utf8"), expected);
        assert.equal(fs.readFileSync(path.join(p.out, "config.yaml"), "utf8"), expected, "the update ran on what the file now says");
        assert.equal(fs.statSync(p.file).mode & 0o777, 0o640);
        assert.match(result.stdout, /now holds this step: commit it/);
        assertNoLeftovers(p);
    });

    it("--config-file: the step is read from and written to that file (relative to where npm was called), Pulumi.<stack>.yaml untouched", () => {
        const p = project();
        const own = path.join(p.out, "lab.local.yaml");
        const ownText = `# this machine's own images\n${p.original.toString("utf8")}`;
        fs.writeFileSync(own, ownText);
        const result = spawnSync(process.execPath, [cli, "promote", "--yes", "--stack", STACK, "--model", "fraud-scorer", "--project", p.dir, "--config-file", "lab.local.yaml"], {
            encoding: "utf8",
            env: { ...env(p, pulumi(FAKES.succeeds)), [COMMAND_ENV.initCwd]: p.out },
            timeout: 60_000,
        });
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.equal(fs.readFileSync(own, "utf8"), ownText.replace(STEP_0, STEP_1), "the given file holds the step, its comment kept");
        assert.equal(fs.readFileSync(path.join(p.out, "config.yaml"), "utf8"), ownText.replace(STEP_0, STEP_1), "the update ran on the given file's config");
        assertUnchanged(p, "with --config-file");
    });

    it("a stack file edited by someone else during the update is not overwritten; the applied config is kept and named", () => {
        const p = project();
        const result = modelship(p, pulumi(FAKES.editsDuringUpdate), "promote", "--yes");
        assert.equal(result.status, 1, result.stdout + result.stderr);
        assert.equal(fs.readFileSync(p.file, "utf8"), `${p.original.toString("utf8")}# edited meanwhile\n`, "the other edit stands");
        const kept = fs.readFileSync(path.join(p.out, "config-path"), "utf8").trim();
        assert.ok(result.stderr.includes(kept), `the message names ${kept}:\n${result.stderr}`);
        assert.match(result.stderr, /changed while the update ran/);
        assert.equal(fs.readFileSync(kept, "utf8"), p.original.toString("utf8").replace(STEP_0, STEP_1));
        fs.rmSync(path.dirname(kept), { recursive: true, force: true });
    });

    /** Starts the CLI as a process of its own and waits until the fake engine runs. */
    async function startUntilEngineRuns(p: Project, bin: FakeBin, command: readonly string[]) {
        const child = spawn(process.execPath, [cli, ...command, "--stack", STACK, "--model", "fraud-scorer", "--project", p.dir], { env: env(p, bin), stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
        const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
        await until(
            () => fs.existsSync(path.join(p.out, "started")),
            () => `the engine started:\n${output}`,
        );
        return { child, closed, output: () => output };
    }

    async function until(done: () => boolean, what: () => string): Promise<void> {
        for (let waited = 0; !done(); waited += 50) {
            assert.ok(waited < 30_000, `within 30 s: ${what()}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }

    const signalsSeen = (p: Project) => (fs.existsSync(path.join(p.out, "signals")) ? fs.readFileSync(path.join(p.out, "signals"), "utf8") : "");

    for (const [signal, command, exitCode] of [
        ["SIGINT", ["promote", "--yes"], 130],
        ["SIGTERM", ["promote", "--yes"], 143],
        ["SIGHUP", ["rollback", "--yes"], 129],
        ["SIGINT", ["abort"], 130],
    ] as const) {
        it(`${signal} during \`${command.join(" ")}\`: the engine is cancelled once (SIGINT, Pulumi's graceful cancel), the file as it was, exit ${exitCode}`, async () => {
            const p = project();
            const run = await startUntilEngineRuns(p, pulumi(FAKES.runsUntilInterrupted), command);
            const started = path.join(p.out, "started");
            assert.equal(fs.readFileSync(started, "utf8").trim(), (command as readonly string[]).includes("--yes") ? "up" : "preview");
            run.child.kill(signal);
            const code = await run.closed;
            assertUnchanged(p, command.join(" "));
            assert.equal(code, exitCode, run.output());
            assert.equal(signalsSeen(p), "INT\n", "the engine got one SIGINT");
            assert.match(run.output(), /interrupted/);
            assertNoLeftovers(p);
        });
    }

    it('a second Ctrl-C while the engine cancels is passed on too (Pulumi\'s "terminate now"); the file as it was', async () => {
        const p = project();
        const run = await startUntilEngineRuns(p, pulumi(FAKES.cancelsSlowly), ["promote", "--yes"]);
        run.child.kill("SIGINT");
        await until(
            () => signalsSeen(p) === "INT\n",
            () => `the engine got the first SIGINT:\n${run.output()}`,
        );
        assert.equal(run.child.exitCode, null, "the CLI waits while the engine cancels");
        run.child.kill("SIGINT");
        assert.equal(await run.closed, 130, run.output());
        assert.equal(signalsSeen(p), "INT\nINT\n");
        assertUnchanged(p, "promote --yes");
        assertNoLeftovers(p);
    });
});
