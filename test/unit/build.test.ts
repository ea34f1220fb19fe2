import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";

const projectDir = findProjectDir();

/** Every file under a directory with its modification time, so a rebuild shows as a change. */
function mtimes(dir: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = path.join(entry.parentPath, entry.name);
        out.set(path.relative(dir, file), fs.statSync(file).mtimeMs);
    }
    return out;
}

describe("npm scripts with nothing changed", function () {
    this.timeout(120_000);

    // Every npm script compiles first; a full compile takes tens of seconds on a small machine,
    // so a command's start-up is only fast when an unchanged tree compiles nothing.
    it("npm run build writes nothing in dist/ or model-server/dist/ when the sources are unchanged", () => {
        const first = spawnSync("npm", ["run", "--silent", "build"], { cwd: projectDir, encoding: "utf8" });
        assert.equal(first.status, 0, first.stderr + first.stdout);
        const before = [mtimes(path.join(projectDir, "dist")), mtimes(path.join(projectDir, "model-server", "dist"))];
        const second = spawnSync("npm", ["run", "--silent", "build"], { cwd: projectDir, encoding: "utf8" });
        assert.equal(second.status, 0, second.stderr + second.stdout);
        const after = [mtimes(path.join(projectDir, "dist")), mtimes(path.join(projectDir, "model-server", "dist"))];
        for (const [i, dir] of ["dist", "model-server/dist"].entries()) {
            const rewritten = [...after[i].entries()].filter(([file, mtime]) => before[i].get(file) !== mtime).map(([file]) => file);
            assert.deepEqual(rewritten, [], `${dir}: an unchanged tree rebuilt these`);
        }
    });

    it("every npm script that runs a compiled command builds incrementally first", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        const full = Object.entries(scripts).filter(([, command]) => /\btsc\b(?![^&]*\s-b\b)/.test(command));
        assert.deepEqual(
            full.map(([name, command]) => `${name}: ${command}`),
            [],
            "these compile everything on every run",
        );
    });
});
