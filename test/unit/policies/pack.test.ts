import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { allPolicies } from "../../../policies/catalog";
import type { ModelshipPolicy } from "../../../policies/lib";
import { enforcementLevel, policyConfig, type Violation } from "../../../policies/offline";
import type { RecordedResource } from "../../../tools/mock-runtime";
import { checkStack, policyConfigPath, readPackConfig } from "../../../tools/policy";
import { findProjectDir, renderFiles, renderStack } from "../../../tools/render";
import { readStackFiles, stackNames } from "../../../tools/project-files";
import { IAM_TYPES, TYPES } from "../../../components/type-tokens";

const projectDir = findProjectDir();
const cli = path.join(projectDir, "dist", "tools", "policy.js");

function runCli(args: string[]) {
    return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "modelship-policy-"));
}

describe("the policy pack", () => {
    describe("its policies", () => {
        it("have unique kebab-case names, a reason, and one theme file each", () => {
            const names = allPolicies.map((p) => p.name);
            assert.equal(new Set(names).size, names.length);
            for (const p of allPolicies) {
                assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
                assert.ok(p.description.length >= 40, `${p.name} says why it matters`);
                assert.equal(p.enforcementLevel, undefined, `${p.name}: the stack's config file decides enforcement`);
                assert.ok(fs.existsSync(path.join(projectDir, "policies", `${p.theme}.ts`)), `${p.theme}.ts`);
            }
            assert.deepEqual([...new Set(allPolicies.map((p) => p.theme))], ["iam", "storage", "workloads", "hygiene", "traffic"]);
        });

        it("cover the themes the pack promises", () => {
            for (const name of [
                "iam-no-wildcard-actions",
                "iam-no-wildcard-resources",
                "iam-no-admin-managed-policies",
                "iam-trust-scoped",
                "iam-no-inline-user-policies",
                "ecr-scan-on-push",
                "ecr-immutable-tags",
                "s3-bucket-private",
                "s3-bucket-versioned",
                "s3-bucket-encrypted",
                "image-pinned",
                "probes-required",
                "resource-limits",
                "workload-non-root",
                "workload-no-privileged",
                "workload-no-host-access",
                "no-public-load-balancer",
                "environment-label",
                "no-cross-environment-references",
                "no-plaintext-secrets",
                "traffic-weights-valid",
                "canary-step-cap",
                "shadow-needs-mirror",
                "route-not-catch-all",
            ]) {
                assert.ok(
                    allPolicies.some((p) => p.name === name),
                    name,
                );
            }
        });
    });

    describe("per-stack config files", () => {
        for (const [stack, level] of [
            ["dev", "advisory"],
            ["prod", "mandatory"],
        ] as const) {
            it(`${stack}: ${level} by default, every key a policy, every required setting present, the environment its own`, () => {
                const config = readPackConfig(policyConfigPath(projectDir, stack));
                assert.equal(config.all, level);
                for (const key of Object.keys(config)) assert.ok(key === "all" || allPolicies.some((p) => p.name === key), `unknown policy ${key}`);
                for (const p of allPolicies) {
                    assert.doesNotThrow(() => policyConfig(p, config), p.name);
                    assert.equal(enforcementLevel(p, config), level, p.name);
                    const environment = (policyConfig(p, config) as { environment?: string }).environment;
                    if (environment !== undefined) assert.equal(environment, stack, p.name);
                }
            });
        }

        it("name no environments to refuse: the pack takes them from the stack files, so a new stack cannot be left out", () => {
            for (const stack of stackNames(projectDir)) {
                const config = readPackConfig(policyConfigPath(projectDir, stack));
                assert.equal((config["no-cross-environment-references"] as { environments?: unknown }).environments, undefined, `${stack}.json lists environments by hand`);
            }
        });

        it("every stack file has its policy config", () => {
            for (const stack of stackNames(projectDir)) assert.ok(fs.existsSync(policyConfigPath(projectDir, stack)), `policies/config/${stack}.json`);
        });

        it("prod caps canary steps at 25 points, requires digests and forbids public load balancers", () => {
            const config = readPackConfig(policyConfigPath(projectDir, "prod"));
            const setting = (name: string) => policyConfig(allPolicies.find((p) => p.name === name) as ModelshipPolicy, config);
            assert.equal(setting("canary-step-cap").maxStepPoints, 25);
            assert.equal(setting("image-pinned").requireDigest, true);
            assert.equal(setting("no-public-load-balancer").forbidPublic, true);
        });

        it("a policy's own level wins over `all`, and `disabled` switches it off", () => {
            const policy = allPolicies[0];
            assert.equal(enforcementLevel(policy, { all: "mandatory", [policy.name]: "advisory" }), "advisory");
            assert.equal(enforcementLevel(policy, { all: "advisory", [policy.name]: { enforcementLevel: "mandatory" } }), "mandatory");
            assert.equal(enforcementLevel(policy, {}), "advisory");
        });
    });

    describe("the shipped stacks", () => {
        for (const stack of ["dev", "lab", "prod"]) {
            it(`${stack} passes the pack without a single violation`, async () => {
                assert.deepEqual(await checkStack(projectDir, stack), []);
            });
        }
    });

    describe("npm run policy", () => {
        it("prints every violation of a broken prod render, naming the wildcard IAM action, the `latest` image and the dev bucket, and exits 1", async () => {
            const dir = tempDir();
            try {
                const resources = JSON.parse(JSON.stringify((await renderStack(projectDir, "prod")).resources)) as RecordedResource[];
                const deployment = resources.find((r) => r.type === TYPES.deployment && r.name === "fraud-scorer-candidate")!;
                const container = (deployment.inputs.spec as { template: { spec: { containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> } } }).template.spec.containers[0];
                container.image = "registry.example/fraud-scorer:latest";
                container.env.find((e) => e.name === "MODEL_ARTIFACT")!.value = "s3://example-models-dev/fraud-scorer/";
                resources.push({
                    type: IAM_TYPES.rolePolicy,
                    name: "fraud-scorer-artifacts",
                    custom: true,
                    inputs: {
                        role: "fraud-scorer",
                        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::example-models-prod/fraud-scorer/*" }] }),
                    },
                });
                const file = path.join(dir, "resources.json");
                fs.writeFileSync(file, JSON.stringify(resources));
                const result = runCli(["--stack", "prod", "--resources", file]);
                assert.equal(result.status, 1, result.stderr);
                assert.match(result.stdout, /\[mandatory\] iam-no-wildcard-actions {2}aws:iam\/rolePolicy:RolePolicy::fraud-scorer-artifacts\n.*s3:\*/);
                assert.match(result.stdout, /\[mandatory\] image-pinned {2}kubernetes:apps\/v1:Deployment::fraud-scorer-candidate\n.*registry\.example\/fraud-scorer:latest/);
                assert.match(result.stdout, /\[mandatory\] no-cross-environment-references {2}kubernetes:apps\/v1:Deployment::fraud-scorer-candidate\n.*s3:\/\/example-models-dev/);
                assert.match(result.stdout, /stack prod: \d+ violations, \d+ mandatory/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("renders a broken prod config and names each of its mix-ups; a `latest` image stops at the config check", () => {
            const dir = tempDir();
            try {
                // The dev stack file makes dev an environment prod must not reference.
                for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml"]) fs.copyFileSync(path.join(projectDir, file), path.join(dir, file));
                // The smoke gate's recorded request, which the program reads.
                fs.cpSync(path.join(projectDir, "model-server", "models"), path.join(dir, "model-server", "models"), { recursive: true });
                fs.mkdirSync(path.join(dir, "policies", "config"), { recursive: true });
                fs.copyFileSync(policyConfigPath(projectDir, "prod"), policyConfigPath(dir, "prod"));
                const stack = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, Record<string, Record<string, unknown>>> };
                const models = stack.config["modelship:models"];
                models["fraud-scorer"].artifact = "s3://example-models-dev/fraud-scorer/";
                models["churn-predictor"].serviceAccountRoleArn = "arn:aws:iam::123456789012:role/modelship-dev-churn-predictor";
                fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), JSON.stringify(stack));
                const mixedUp = runCli(["--stack", "prod", "--project", dir]);
                assert.equal(mixedUp.status, 1, mixedUp.stderr);
                assert.match(mixedUp.stdout, /no-cross-environment-references {2}kubernetes:apps\/v1:Deployment::fraud-scorer-stable\n.*example-models-dev/);
                assert.match(mixedUp.stdout, /no-cross-environment-references {2}kubernetes:core\/v1:ServiceAccount::churn-predictor\n.*role\/modelship-dev-churn-predictor/);

                (models["ranker"].tracks as Record<string, Record<string, unknown>>).candidate.image = "registry.example/ranker:latest";
                fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), JSON.stringify(stack));
                const latest = runCli(["--stack", "prod", "--project", dir]);
                assert.equal(latest.status, 2);
                assert.match(
                    latest.stderr,
                    /modelship:models\.ranker\.tracks\.candidate\.image: got "registry\.example\/ranker:latest"; expected an explicit tag other than `latest`, or a digest: .*; prod needs the digest too/,
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("refuses a prod render that reads the lab bucket, and takes a new stack file's environment as foreign without a config change", async () => {
            const resources = JSON.parse(JSON.stringify((await renderStack(projectDir, "prod")).resources)) as RecordedResource[];
            const deployment = resources.find((r) => r.type === TYPES.deployment && r.name === "fraud-scorer-candidate")!;
            const env = (deployment.inputs.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } }).template.spec.containers[0].env;
            env.find((e) => e.name === "MODEL_ARTIFACT")!.value = "s3://example-models-lab/fraud-scorer/";
            env.push({ name: "NOTE", value: "copied from s3://example-models-qa/fraud-scorer/" });
            const foreign = (violations: Violation[]) => violations.filter((v) => v.policy === "no-cross-environment-references").map((v) => /names environment (\w+)/.exec(v.message)?.[1]);
            assert.deepEqual(foreign(await checkStack(projectDir, "prod", { resources })), ["lab"]);
            const dir = tempDir();
            try {
                for (const file of ["Pulumi.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(projectDir, file), path.join(dir, file));
                fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config:\n  modelship:environment: qa\n");
                assert.deepEqual(foreign(await checkStack(dir, "prod", { resources, configFile: policyConfigPath(projectDir, "prod") })), ["qa"]);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("refuses a prod aws-vm target made internet-facing and open to the world (internal: false, allowedCidrs: [0.0.0.0/0])", async () => {
            const files = readStackFiles(projectDir, "prod");
            const targets = JSON.parse(files.config["modelship:targets"]) as Record<string, Record<string, unknown>>;
            Object.assign(targets.vms, { internal: false, allowedCidrs: ["0.0.0.0/0"] });
            const render = await renderFiles(projectDir, { ...files, config: { ...files.config, "modelship:targets": JSON.stringify(targets) } });
            const found = (await checkStack(projectDir, "prod", { resources: render.resources })).filter((v) => v.policy === "no-public-load-balancer");
            assert.deepEqual(
                found.map((v) => `${v.level} ${v.resource}`),
                ["mandatory aws:lb/loadBalancer:LoadBalancer::vms"],
            );
        });

        it("refuses a prod aws-vm canary whose step adds more than prod's cap, on the listener rule that splits it", async () => {
            const files = readStackFiles(projectDir, "prod");
            const models = JSON.parse(files.config["modelship:models"]) as Record<string, Record<string, unknown>>;
            models["price-estimator"].strategy = { type: "canary", steps: [10, 50, 100], step: 0 };
            const render = await renderFiles(projectDir, { ...files, config: { ...files.config, "modelship:models": JSON.stringify(models) } });
            const found = (await checkStack(projectDir, "prod", { resources: render.resources })).filter((v) => v.policy === "canary-step-cap");
            assert.deepEqual(
                found.map((v) => `${v.level} ${v.resource} ${v.message}`),
                ["mandatory aws:lb/listenerRule:ListenerRule::price-estimator-split price-estimator: canary steps 10 -> 50, 50 -> 100 add more than 25 points; add intermediate steps"],
            );
        });

        it("exits 0 when every violation is advisory (dev), printing them", async () => {
            const dir = tempDir();
            try {
                const resources = JSON.parse(JSON.stringify((await renderStack(projectDir, "dev")).resources)) as RecordedResource[];
                delete resources.find((r) => r.type === TYPES.container && r.name === "router")!.inputs.user;
                const file = path.join(dir, "resources.json");
                fs.writeFileSync(file, JSON.stringify(resources));
                const result = runCli(["--stack", "dev", "--resources", file]);
                assert.equal(result.status, 0, result.stderr);
                assert.match(result.stdout, /\[advisory\] workload-non-root {2}docker:index\/container:Container::router/);
                assert.match(result.stdout, /stack dev: 1 violation, 0 mandatory, 1 advisory/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("says where a stack's policy config is missing", () => {
            const dir = tempDir();
            try {
                fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
                fs.copyFileSync(path.join(projectDir, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
                const missing = runCli(["--stack", "dev", "--project", dir]);
                assert.equal(missing.status, 2);
                assert.match(missing.stderr, /no policy config .*policies\/config\/dev\.json/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
