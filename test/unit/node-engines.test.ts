import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as semver from "semver";
import { findProjectDir } from "../../tools/render";

const projectDir = findProjectDir();

interface LockFile {
    packages: Record<string, { engines?: { node?: string } | string[] }>;
}
interface PackageFile {
    engines?: { node?: string };
}

function read<T>(file: string): T {
    return JSON.parse(fs.readFileSync(path.join(projectDir, file), "utf8")) as T;
}

/** Every package in a lockfile that declares the Node.js versions it runs on. */
function declaredEngines(lockFile: string): Array<{ name: string; range: string }> {
    const lock = read<LockFile>(lockFile);
    const out: Array<{ name: string; range: string }> = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
        const engines = entry.engines;
        if (name === "" || engines === undefined || Array.isArray(engines) || engines.node === undefined) continue;
        out.push({ name, range: engines.node });
    }
    return out;
}

describe("the Node.js the project declares", () => {
    for (const dir of [".", "model-server"]) {
        const range = read<PackageFile>(path.join(dir, "package.json")).engines?.node;

        it(`${dir}/package.json declares a current LTS (22 or newer) that every locked dependency accepts, so npm prints no EBADENGINE`, () => {
            assert.ok(range, `${dir}/package.json has no engines.node`);
            const floor = semver.minVersion(range);
            assert.ok(floor && semver.major(floor) >= 22, `engines.node ${range} allows Node.js ${String(floor)}, past its end of life`);
            const refused = declaredEngines(path.join(dir, "package-lock.json")).filter((dep) => !semver.subset(range, dep.range));
            assert.deepEqual(
                refused.map((dep) => `${dep.name} wants node ${dep.range}`),
                [],
                `engines.node ${range} admits versions these dependencies refuse`,
            );
        });

        it(`the running Node.js (${process.version}) satisfies ${dir}/package.json`, () => {
            assert.ok(range && semver.satisfies(process.version, range), `node ${process.version} is outside engines.node ${range}`);
        });
    }

    it("the README, the toolchain page, .ci/run, its Node.js installer and the workflows agree with package.json", () => {
        const range = read<PackageFile>("package.json").engines?.node ?? "";
        const floor = semver.minVersion(range)?.version.replace(/\.0$/, "") ?? "";
        for (const page of ["README.md", path.join("docs", "toolchain.md")]) {
            const text = fs.readFileSync(path.join(projectDir, page), "utf8");
            assert.match(text, new RegExp(`Node\\.js ≥ ${floor.replace(/\./g, "\\.")}\\b`), page);
        }
        const ci = fs.readFileSync(path.join(projectDir, ".ci", "run"), "utf8");
        assert.match(ci, /scripts\/node-toolchain\.sh/, ".ci/run must install an LTS Node.js where the machine's is older");
        for (const workflow of fs.readdirSync(path.join(projectDir, ".github", "workflows"))) {
            const text = fs.readFileSync(path.join(projectDir, ".github", "workflows", workflow), "utf8");
            for (const [, version] of text.matchAll(/node-version:\s*(\S+)/g)) {
                assert.ok(semver.satisfies(semver.coerce(version) ?? "0.0.0", range), `${workflow} sets up Node.js ${version}, outside ${range}`);
            }
        }
        // scripts/node-toolchain.sh installs the versions scripts/versions.sh pins.
        const versions = fs.readFileSync(path.join(projectDir, "scripts", "versions.sh"), "utf8");
        const pinned = /^NODE_VERSION=(\S+)$/m.exec(versions)?.[1] ?? "";
        assert.ok(semver.satisfies(pinned, range), `scripts/node-toolchain.sh installs ${pinned} (scripts/versions.sh), outside ${range}`);
        assert.equal(/^MIN_NODE=(\S+)$/m.exec(versions)?.[1], semver.minVersion(range)?.version, "the script's floor (scripts/versions.sh) is package.json's");
    });
});
