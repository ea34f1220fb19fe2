/**
 * Every command behaves like the command-line tools users know: `--help` prints the usage on
 * stdout and exits 0; a usage error says what is wrong on stderr, with the usage, and exits 2; a
 * missing Pulumi CLI reads the same, with the same exit code, wherever the engine is needed.
 * Real processes: the built commands, with a PATH that holds no Pulumi CLI.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { fakeBin } from "../support/fake-bin";

const projectDir = findProjectDir();

/** Each npm script: the program it runs and the arguments the script gives it. */
const COMMANDS: Record<string, { script: string; args: string[]; subcommand?: string[] }> = {
    modelship: { script: "dist/cli/main.js", args: [], subcommand: ["promote", "--stack", "dev"] },
    render: { script: "dist/tools/render.js", args: [] },
    policy: { script: "dist/tools/policy.js", args: [] },
    "preview:summary": { script: "dist/cli/preview-summary.js", args: [] },
    up: { script: "dist/tools/pulumi-local.js", args: ["up"] },
};

describe("command lines: --help, usage errors, a missing Pulumi CLI", function () {
    const noPulumi = fakeBin({});
    after(() => fs.rmSync(noPulumi.dir, { recursive: true, force: true }));

    function run(name: string, ...args: string[]) {
        const command = COMMANDS[name];
        return spawnSync(process.execPath, [path.join(projectDir, command.script), ...command.args, ...args], { encoding: "utf8", env: { PATH: noPulumi.dir, HOME: os.tmpdir() }, timeout: 120_000 });
    }

    for (const name of Object.keys(COMMANDS)) {
        it(`${name}: --help and -h print the usage on stdout and exit 0, after other arguments too`, () => {
            const variants = [["--help"], [...(COMMANDS[name].subcommand ?? ["--stack", "dev"]), "-h"]];
            for (const args of variants) {
                const result = run(name, ...args);
                assert.equal(result.status, 0, `${name} ${args.join(" ")}\n${result.stdout}${result.stderr}`);
                assert.match(result.stdout, /^usage: /, `${name} ${args.join(" ")}`);
                assert.equal(result.stderr, "", `${name} ${args.join(" ")}`);
            }
        });

        it(`${name}: an unknown flag, or --stack without its value, is a usage error: exit 2, the problem and the usage on stderr`, () => {
            const prefix = COMMANDS[name].subcommand?.slice(0, 1) ?? [];
            // `up` hands flags it does not know to Pulumi: a missing value is its usage error, at the end or before a flag.
            const cases: ReadonlyArray<readonly [string[], RegExp]> =
                name === "up"
                    ? [
                          [["--stack"], /--stack needs a value/],
                          [["--stack", "--yes"], /--stack needs a value/],
                      ]
                    : [
                          [[...prefix, "--stack", "dev", "--no-such-flag"], /unknown argument --no-such-flag/],
                          [[...prefix, "--stack"], /--stack needs a value/],
                      ];
            for (const [args, problem] of cases) {
                const result = run(name, ...args);
                assert.equal(result.status, 2, `${name} ${args.join(" ")}\n${result.stdout}${result.stderr}`);
                assert.match(result.stderr, problem, `${name} ${args.join(" ")}`);
                assert.match(result.stderr, /^usage: /m, `${name} ${args.join(" ")}`);
                assert.equal(result.stdout, "", `${name} ${args.join(" ")}`);
            }
        });
    }

    it("no command, or an unknown one, is a usage error for modelship and up; no --stack for render", () => {
        for (const [name, args, problem] of [
            ["modelship", [], /no command given/],
            ["render", [], /--stack is required/],
        ] as const) {
            const result = run(name, ...args);
            assert.equal(result.status, 2, `${name} ${args.join(" ")}\n${result.stdout}${result.stderr}`);
            assert.match(result.stderr, problem);
        }
        const up = spawnSync(process.execPath, [path.join(projectDir, COMMANDS.up.script), "deploy"], { encoding: "utf8", env: { PATH: noPulumi.dir, HOME: os.tmpdir() } });
        assert.equal(up.status, 2, up.stderr);
        assert.match(up.stderr, /unknown command "deploy"/);
    });

    it("without the Pulumi CLI, `modelship status` and `preview:summary` say so as `npm run up` does, with its exit code", () => {
        const up = run("up", "--stack", "dev");
        assert.equal(up.status, 2, up.stderr);
        assert.match(up.stderr, /^The Pulumi CLI is not on PATH/);
        for (const [name, args] of [
            ["modelship", ["status", "--stack", "dev"]],
            ["modelship", ["rollback", "--stack", "lab", "--model", "fraud-scorer", "--to", "1.3.0"]],
            ["modelship", ["auto", "--stack", "lab", "--model", "fraud-scorer", "--prometheus", "http://127.0.0.1:9", "--bake", "600"]],
            ["preview:summary", ["--stack", "dev"]],
        ] as const) {
            const result = run(name, ...args);
            assert.equal(result.status, up.status, `${name} ${args.join(" ")}\n${result.stderr}`);
            assert.equal(result.stderr, up.stderr, `${name} ${args.join(" ")}: the message of npm run up, and nothing else (no ENOENT, no stack trace)`);
        }
    });

    it("render takes --config-file, as preview:summary does: the config given, not the stack file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-render-"));
        try {
            const stepped = path.join(dir, "lab-step-2.yaml");
            const lab = fs.readFileSync(path.join(projectDir, "Pulumi.lab.yaml"), "utf8");
            const from = "strategy: {type: canary, steps: [10, 25, 50, 75, 100], step: 0}";
            assert.ok(lab.includes(from));
            fs.writeFileSync(stepped, lab.replace(from, from.replace("step: 0", "step: 2")));
            const result = run("render", "--stack", "lab", "--config-file", stepped, "--out", path.join(dir, "out"));
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /fraud-scorer \(canary step 3\/5\): stable 1\.4\.0: 50%, candidate 1\.5\.0: 50%/);
            const outputs = JSON.parse(fs.readFileSync(path.join(dir, "out", "outputs.json"), "utf8")) as { models: Record<string, { weights: Record<string, number> }> };
            assert.deepEqual(outputs.models["fraud-scorer"].weights, { stable: 50, candidate: 50 });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
