import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { run } from "../support/docker";
import { HADOLINT, toolOrSkip } from "../support/tools";

const projectDir = findProjectDir();

describe("the project's Dockerfiles under hadolint", () => {
    for (const dockerfile of ["model-server/Dockerfile", "model-server/mlserver/Dockerfile"]) {
        it(`${dockerfile} is clean: no error, warning, info or style finding`, function () {
            const hadolint = toolOrSkip(this, HADOLINT);
            const result = run(hadolint, ["--no-color", path.join(projectDir, ...dockerfile.split("/"))]);
            assert.equal(result.stdout + result.stderr, "");
            assert.equal(result.status, 0);
        });
    }

    it("would catch the usual mistakes (the linter really runs)", function () {
        const hadolint = toolOrSkip(this, HADOLINT);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-hadolint-"));
        try {
            const broken = path.join(dir, "Dockerfile");
            fs.writeFileSync(broken, ["FROM node:latest", "RUN apt-get update && apt-get install -y curl", "RUN cd /app && npm install", "CMD node main.js", ""].join("\n"));
            const result = run(hadolint, ["--no-color", broken]);
            assert.notEqual(result.status, 0);
            for (const rule of ["DL3007", "DL3008", "DL3003", "DL3025"]) assert.match(result.stdout, new RegExp(rule), `${rule} in\n${result.stdout}`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
