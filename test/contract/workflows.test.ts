/**
 * The GitHub workflows: clean under actionlint (built from the Go module proxy), and shaped as
 * docs/rollouts.md says: every stack previewed with its policy config on a pull request; dev, then prod
 * behind the production environment's approval, on a merge.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { findProjectDir } from "../../tools/render";
import { ACTIONLINT, toolOrSkip } from "../support/tools";

const projectDir = findProjectDir();
const workflows = path.join(projectDir, ".github", "workflows");

type Step = { uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Job = { needs?: string | string[]; environment?: string; strategy?: { matrix?: Record<string, unknown> }; steps: Step[] };
const read = (file: string) => parse(fs.readFileSync(path.join(workflows, file), "utf8")) as { on: Record<string, unknown>; jobs: Record<string, Job> };
const stacks = () =>
    fs
        .readdirSync(projectDir)
        .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.slice(1) ?? [])
        .sort();

describe("GitHub workflows", () => {
    it("actionlint finds nothing in .github/workflows", function () {
        const actionlint = toolOrSkip(this, ACTIONLINT);
        const result = spawnSync(actionlint, ["-no-color"], { cwd: projectDir, encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    it("actionlint does catch a broken workflow (an unknown matrix key, a job that needs a missing job)", function () {
        const actionlint = toolOrSkip(this, ACTIONLINT);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
        try {
            const broken =
                fs.readFileSync(path.join(workflows, "preview.yml"), "utf8").replace("stack-name: ${{ matrix.stack }}", "stack-name: ${{ matrix.stak }}") +
                "\n  later:\n    needs: nope\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n";
            fs.writeFileSync(path.join(dir, "preview.yml"), broken);
            const result = spawnSync(actionlint, ["-no-color", path.join(dir, "preview.yml")], { encoding: "utf8" });
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stdout, /property "stak" is not defined/);
            assert.match(result.stdout, /job "later" needs job "nope" which does not exist/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a pull request previews every stack with its own policy config and posts the summary", () => {
        const preview = read("preview.yml");
        assert.ok("pull_request" in preview.on);
        const job = preview.jobs.preview;
        assert.deepEqual(((job.strategy?.matrix?.stack ?? []) as string[]).slice().sort(), stacks(), "one preview per stack file");
        const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.equal(pulumi?.with?.command, "preview");
        assert.equal(pulumi?.with?.policyPacks, "policies");
        assert.equal(pulumi?.with?.policyPackConfigs, "policies/config/${{ matrix.stack }}.json");
        for (const stack of stacks()) assert.ok(fs.existsSync(path.join(projectDir, "policies", "config", `${stack}.json`)), `policies/config/${stack}.json`);
        assert.ok(
            job.steps.some((s) => s.run?.includes("npm run --silent preview:summary")),
            "the summary is made",
        );
        assert.ok(
            job.steps.some((s) => s.uses?.startsWith("actions/github-script@")),
            "and posted",
        );
    });

    it("a merge updates dev, then prod once the production environment is approved", () => {
        const deploy = read("deploy.yml");
        assert.deepEqual(Object.keys(deploy.on), ["push"]);
        const up = (job: Job) => job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))?.with;
        assert.deepEqual([up(deploy.jobs.dev)?.command, up(deploy.jobs.dev)?.["stack-name"]], ["up", "dev"]);
        assert.deepEqual([up(deploy.jobs.prod)?.command, up(deploy.jobs.prod)?.["stack-name"], up(deploy.jobs.prod)?.policyPackConfigs], ["up", "prod", "policies/config/prod.json"]);
        assert.equal(deploy.jobs.prod.needs, "dev");
        assert.equal(deploy.jobs.prod.environment, "production");
    });
});
