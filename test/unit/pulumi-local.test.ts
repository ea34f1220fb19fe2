import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { fakeBin } from "../support/fake-bin";
import { COMMAND_ENV, PULUMI_ENV } from "../../tools/env-vars";

const projectDir = findProjectDir();
const cli = path.join(projectDir, "dist", "tools", "pulumi-local.js");

function runCli(args: string[], bin: { dir: string }, env: Record<string, string> = {}) {
    return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { PATH: bin.dir, HOME: os.tmpdir(), ...env } });
}

describe("npm run up / preview / destroy", () => {
    const created: string[] = [];
    after(() => created.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
    function bin(commands: Record<string, string>) {
        const made = fakeBin(commands);
        created.push(made.dir);
        return made;
    }

    it("says the Pulumi CLI is missing, and how to see the plan without it", () => {
        const result = runCli(["up"], bin({ docker: "exit 0" }));
        assert.equal(result.status, 2);
        assert.match(result.stderr, /The Pulumi CLI is not on PATH/);
        assert.match(result.stderr, /npm run render -- --stack <name>/);
    });

    it("says the docker CLI is missing for the dev stack", () => {
        const result = runCli(["up"], bin({ pulumi: "exit 0" }));
        assert.equal(result.status, 2);
        assert.match(result.stderr, /docker CLI is not on PATH/);
    });

    it("says the Docker engine is not running, with docker's own words", () => {
        const result = runCli(["up"], bin({ pulumi: "exit 0", docker: 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1' }));
        assert.equal(result.status, 2);
        assert.match(result.stderr, /Docker engine is not reachable \(docker info: Cannot connect to the Docker daemon/);
    });

    it("selects (or creates) the stack on a project-local file backend, then runs the command with the user's flags", () => {
        const fake = bin({ pulumi: "exit 0", docker: "echo 28.2.2" });
        const result = runCli(["up", "--yes"], fake);
        assert.equal(result.status, 0, result.stderr);
        const calls = fs
            .readFileSync(fake.log, "utf8")
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("pulumi ") && !l.startsWith("pulumi version"));
        const backend = `file://${path.join(projectDir, ".pulumi-state")}`;
        assert.deepEqual(calls, [`pulumi stack select dev --create | backend=${backend} passphrase=set`, `pulumi up --stack dev --yes | backend=${backend} passphrase=set`]);
    });

    it("keeps a backend and passphrase the user set, and passes the stack on", () => {
        const fake = bin({ pulumi: "exit 0" });
        const result = runCli(["preview", "--stack", "prod"], fake, { [PULUMI_ENV.backendUrl]: "s3://state-bucket", [PULUMI_ENV.configPassphraseFile]: "/run/secret" });
        assert.equal(result.status, 0, result.stderr);
        const calls = fs
            .readFileSync(fake.log, "utf8")
            .trim()
            .split("\n")
            .filter((l) => !l.startsWith("pulumi version"));
        assert.deepEqual(calls, ["pulumi stack select prod --create | backend=s3://state-bucket passphrase=", "pulumi preview --stack prod | backend=s3://state-bucket passphrase="]);
    });

    it("--config-file: the config is checked from that file (relative to where npm was called) and Pulumi is given it", () => {
        // Creating a stack writes its salt into Pulumi.<stack>.yaml, as the real CLI does.
        const devPath = path.join(projectDir, "Pulumi.dev.yaml");
        const fake = bin({ pulumi: `case "$1 $2" in "stack select") echo "encryptionsalt: v1:abc" >> "${devPath}";; esac; exit 0`, docker: "echo 28.2.2" });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-config-file-"));
        created.push(dir);
        const devFile = fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "dev.local.yaml"), devFile.replace("routerImage: nginx:1.27-bookworm", "routerImage: 127.0.0.1:5000/modelship-base/nginx@sha256:" + "a".repeat(64)));
        const result = runCli(["up", "--config-file", "dev.local.yaml", "--yes"], fake, { [COMMAND_ENV.initCwd]: dir });
        const devAfter = fs.readFileSync(devPath, "utf8");
        fs.writeFileSync(devPath, devFile);
        assert.equal(result.status, 0, result.stderr);
        assert.equal(devAfter, devFile, "the shipped stack file is left as it was");
        const calls = fs
            .readFileSync(fake.log, "utf8")
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("pulumi ") && !l.startsWith("pulumi version"));
        assert.equal(calls[1].split(" | ")[0], `pulumi up --stack dev --config-file ${path.join(dir, "dev.local.yaml")} --yes`);

        fs.writeFileSync(path.join(dir, "broken.yaml"), devFile.replace("port: 8080", "port: 80800"));
        const broken = runCli(["up", "--config-file", "broken.yaml"], bin({ pulumi: "exit 0", docker: "echo 28.2.2" }), { [COMMAND_ENV.initCwd]: dir });
        assert.equal(broken.status, 1, "a bad value in the given file stops before Pulumi");
        assert.match(broken.stderr, /port/);
        const missing = runCli(["up", "--config-file", "nowhere.yaml"], bin({ pulumi: "exit 0", docker: "echo 28.2.2" }), { [COMMAND_ENV.initCwd]: dir });
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, /no stack file nowhere\.yaml/);
    });

    it("stops on an unknown stack before calling Pulumi", () => {
        const fake = bin({ pulumi: "exit 0", docker: "exit 0" });
        const result = runCli(["up", "--stack", "staging"], fake);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /no stack file Pulumi\.staging\.yaml/);
        assert.ok(!fs.existsSync(fake.log), "nothing was run");
    });
});
