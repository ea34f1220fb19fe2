import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { storeRoles } from "../../tools/artifact-store-roles";
import { findProjectDir } from "../../tools/project-files";

const base = { environment: "lab", namespace: "lab-gateway", oidcIssuer: "kubernetes.default.svc", scope: { partition: "aws", region: "us-east-1", accountId: "123456789012" } };

describe("the test store's roles (tools/artifact-store-roles)", () => {
    it("a whole bucket as the parent gives each model its own prefix, and each role reads only that prefix", () => {
        const roles = storeRoles({ ...base, prefix: "s3://lab-models/", models: ["fraud-scorer", "churn-predictor"] });
        assert.deepEqual(
            roles.map((r) => r.artifact),
            ["s3://lab-models/fraud-scorer/", "s3://lab-models/churn-predictor/"],
        );
        const resources = JSON.stringify(roles[0].runtimePolicy);
        assert.ok(resources.includes("arn:aws:s3:::lab-models/fraud-scorer/*"), resources);
        assert.ok(!resources.includes("churn-predictor"), "fraud-scorer's role names nothing of churn-predictor's");
    });

    it("a parent that is no s3:// location, or a model name no service account can have, is refused by name", () => {
        assert.throws(() => storeRoles({ ...base, prefix: "lab-models/", models: ["fraud-scorer"] }), /--prefix "lab-models\/" is not s3:\/\/<bucket>\//);
        assert.throws(() => storeRoles({ ...base, prefix: "s3://lab-models/", models: ["a*b"] }), /"a\*b" is not a DNS subdomain name/);
    });

    it("the command takes --model more than once, in order, and follows the project's command-line conventions", () => {
        const run = (...args: string[]) => spawnSync(process.execPath, [path.join(findProjectDir(), "dist/tools/artifact-store-roles.js"), ...args], { encoding: "utf8" });
        const ok = run("--prefix", "s3://lab-models/", "--model", "fraud-scorer", "--model=churn-predictor", "--namespace", "lab-gateway");
        assert.equal(ok.status, 0, ok.stderr);
        assert.deepEqual(
            (JSON.parse(ok.stdout) as Array<{ model: string }>).map((r) => r.model),
            ["fraud-scorer", "churn-predictor"],
        );
        for (const [args, problem] of [
            [["--prefix", "s3://lab-models/"], /--prefix and at least one --model are required/],
            [["--prefix", "s3://lab-models/", "--model"], /--model needs a value/],
            [["--prefix", "s3://lab-models/", "--model", "a", "--no-such-flag"], /unknown argument --no-such-flag/],
        ] as const) {
            const refused = run(...args);
            assert.equal(refused.status, 2, `${args.join(" ")}: ${refused.stderr}`);
            assert.match(refused.stderr, problem);
            assert.match(refused.stderr, /^usage: /m);
        }
    });
});
