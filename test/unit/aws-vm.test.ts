import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { instanceRefreshPreferences, listenerRules, modelPaths } from "../../components/targets/aws-vm/alb";
import { userDataScript } from "../../components/targets/aws-vm/user-data";
import { ConfigError } from "../../components/config/errors";
import { parseConfig } from "../../components/config/parse";
import { shellQuote } from "../../components/shell";
import { planTraffic } from "../../components/traffic/plan";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir } from "../../tools/render";
import { AWS_VM_TARGET, awsVmConfig, canaryModel, configIssues, DIGEST, dockerConfig, OTHER_DIGEST, modelFor, prodModel, STRATEGIES } from "../fixtures";
import { at, named, ofType, runStack } from "../mock-stack";
import { abortedCanaryPlan, abTestPlan, blueGreenPreviewPlan, canaryPlan, singleTrackPlan, track } from "../support/plans";
import { AWS_TAG_VALUE, planTags, readPlanTags, summarizePlan } from "../../components/traffic/plan-annotation";
import { TYPES } from "../../components/type-tokens";

const TG = { stable: "arn:tg/stable", candidate: "arn:tg/candidate" };
const T = {
    rule: TYPES.listenerRule,
    group: TYPES.autoscalingGroup,
    targetGroup: TYPES.targetGroup,
    launchTemplate: TYPES.launchTemplate,
    lb: TYPES.loadBalancer,
    sg: TYPES.securityGroup,
    alarm: TYPES.metricAlarm,
};

type Forward = { targetGroups: Array<{ arn: string; weight: number }>; stickiness: { enabled: boolean } };
const splitOf = (resources: RecordedResource[], model: string) => at<Array<{ forward: Forward }>>(named(resources, T.rule, `${model}-split`), "actions")[0].forward;

describe("aws-vm target", () => {
    describe("listener rules (pure)", () => {
        it("pin rules come before the split, all on the model's paths", () => {
            const rules = listenerRules(canaryPlan(), 0, TG);
            assert.deepEqual(
                rules.map((r) => [r.kind, r.priority]),
                [
                    ["pin-stable", 101],
                    ["pin-candidate", 102],
                    ["split", 150],
                ],
            );
            for (const rule of rules) assert.deepEqual(rule.conditions[0].pathPattern?.values, modelPaths("fraud-scorer"));
            assert.deepEqual(rules[1].conditions[1].httpHeader, { httpHeaderName: "x-modelship-track", values: ["candidate"] });
            assert.deepEqual(rules[1].forward.targetGroups, [{ arn: TG.candidate, weight: 1 }]);
            assert.ok(
                rules.every((r) => r.conditions.reduce((n, c) => n + (c.pathPattern?.values.length ?? 0) + (c.httpHeader?.values.length ?? 0), 0) <= 5),
                "an ALB rule takes at most 5 condition values",
            );
        });

        it("the split carries the plan's weights; models get priority blocks of their own", () => {
            const split = listenerRules(canaryPlan("fraud-scorer", 25), 2, TG).at(-1)!;
            assert.equal(split.priority, 350);
            assert.deepEqual(split.forward.targetGroups, [
                { arn: TG.stable, weight: 75 },
                { arn: TG.candidate, weight: 25 },
            ]);
            assert.equal(split.forward.stickiness.enabled, false);
        });

        it("an A/B test is sticky (the load balancer's group cookie); a single pool forwards to stable alone", () => {
            assert.equal(listenerRules(abTestPlan({ header: "x-user" }), 0, TG).at(-1)!.forward.stickiness.enabled, true);
            assert.deepEqual(listenerRules(singleTrackPlan(), 0, { stable: TG.stable }).at(-1)!.forward.targetGroups, [{ arn: TG.stable, weight: 100 }]);
            assert.throws(() => listenerRules(canaryPlan(), 0, { stable: TG.stable }), /no target group for the candidate track/);
        });

        it("the split, and only it, carries the plan as tags the policy pack reads back with the weights", () => {
            for (const plan of [canaryPlan(), abTestPlan({ header: "x-user" }), abortedCanaryPlan(), blueGreenPreviewPlan(), singleTrackPlan()]) {
                const groups = plan.tracks.length === 1 ? { stable: TG.stable } : TG;
                const rules = listenerRules(plan, 0, groups);
                for (const pin of rules.slice(0, -1)) assert.equal(pin.tags, undefined, pin.kind);
                const split = rules.at(-1)!;
                assert.deepEqual(
                    readPlanTags(
                        split.tags!,
                        split.forward.targetGroups.map((g) => g.weight),
                    ),
                    { plan: summarizePlan(plan) },
                    plan.strategy,
                );
            }
            assert.deepEqual(listenerRules(canaryPlan(), 0, TG).at(-1)!.tags, {
                "modelship:model": "fraud-scorer",
                "modelship:traffic-strategy": "canary",
                "modelship:traffic-tracks": "stable candidate",
                "modelship:traffic-mirror": "0 0",
                "modelship:traffic-aborted": "false",
                "modelship:traffic-step": "1",
                "modelship:traffic-steps": "5 10 50 75 100",
            });
        });

        it("plan tags fit AWS's limits: a ladder of 101 steps continues in a second tag, every value at most 256 allowed characters", () => {
            const steps = Array.from({ length: 101 }, (_, i) => i);
            const plan = { ...canaryPlan("m".repeat(63), 0), step: { index: 0, count: steps.length, steps, setWeight: 0 } };
            const tags = planTags(plan);
            assert.ok(tags["modelship:traffic-steps-2"] !== undefined && tags["modelship:traffic-steps-3"] === undefined, JSON.stringify(tags));
            for (const [key, value] of Object.entries(tags)) {
                assert.ok(key.length <= 128, key);
                assert.ok(value.length <= AWS_TAG_VALUE.maxLength && AWS_TAG_VALUE.pattern.test(value), `${key}: ${value}`);
            }
            const reading = readPlanTags(tags, [100, 0]);
            assert.ok(reading && "plan" in reading);
            assert.deepEqual(reading.plan.steps, steps);
        });

        it("instance refresh: recreate replaces everything at once; rolling keeps capacity and surges", () => {
            const defaults = { minHealthyPercentage: 90, warmupSeconds: 120 };
            assert.deepEqual(instanceRefreshPreferences({ kind: "recreate" }, 4, defaults), { minHealthyPercentage: 0, maxHealthyPercentage: 100, instanceWarmup: "120" });
            assert.deepEqual(instanceRefreshPreferences({ kind: "rolling", maxSurge: 1, maxUnavailable: 1 }, 4, defaults), {
                minHealthyPercentage: 75,
                maxHealthyPercentage: 125,
                instanceWarmup: "120",
            });
            assert.deepEqual(instanceRefreshPreferences({ kind: "rolling", maxSurge: "25%", maxUnavailable: 0 }, 4, defaults), {
                minHealthyPercentage: 90,
                maxHealthyPercentage: 125,
                instanceWarmup: "120",
            });
        });
    });

    describe("config", () => {
        it("refuses shadow, naming the targets that can mirror", () => {
            assert.throws(
                () => parseConfig(awsVmConfig({ m: modelFor(prodModel(), "shadow") }), "prod"),
                (error: unknown) =>
                    error instanceof ConfigError &&
                    /shadow needs a router that mirrors requests, which the aws-vm target's Application Load Balancer is not; run the model on a kubernetes target \(router gateway-api or nginx\) or on the docker target/.test(
                        error.message,
                    ),
            );
        });

        it("needs ECR (instances pull with their role), S3 artifacts, and no kubernetes-only settings", () => {
            const error = (() => {
                try {
                    parseConfig({ ...awsVmConfig({ m: prodModel({ artifact: "https://models.example/m/", gpu: { count: 1 } }) }), registry: { type: "external", url: "registry.example" } }, "prod");
                } catch (e) {
                    return e as ConfigError;
                }
                return undefined;
            })();
            assert.deepEqual(error?.issues.map((i) => i.path).sort(), ["modelship:models.m.artifact", "modelship:models.m.gpu", "modelship:targets.vms.type"]);
        });

        it("a model names its target when there are several, and every target serves some model", () => {
            const raw = { ...awsVmConfig({ a: prodModel(), b: prodModel({ target: "nowhere" }) }), targets: { vms: AWS_VM_TARGET, spare: AWS_VM_TARGET } };
            try {
                parseConfig(raw, "prod");
                assert.fail("accepted");
            } catch (e) {
                const paths = (e as ConfigError).issues.map((i) => i.path);
                assert.deepEqual(paths, ["modelship:models.a.target", "modelship:models.b.target"]);
                assert.match((e as ConfigError).issues[0].expected, /there are several: vms, spare/);
            }
            const unused = { ...awsVmConfig({ a: prodModel({ target: "vms" }) }), targets: { vms: AWS_VM_TARGET, spare: AWS_VM_TARGET } };
            assert.throws(() => parseConfig(unused, "prod"), /modelship:targets\.spare: .*a target some model runs on/);
        });
    });

    describe("under mocks, per strategy", () => {
        for (const strategy of Object.keys(STRATEGIES).filter((s) => s !== "shadow")) {
            it(`${strategy}: target groups checked on readiness, groups sized by the plan, the split at the plan's weights`, async () => {
                const raw = awsVmConfig({ "fraud-scorer": modelFor(prodModel(), strategy) });
                const plan = planTraffic("fraud-scorer", parseConfig(raw, "prod").models["fraud-scorer"]);
                const { resources } = await runStack(raw, "prod");
                for (const t of plan.tracks) {
                    const name = `fraud-scorer-${t.track}`;
                    assert.equal(at(named(resources, T.targetGroup, name), "healthCheck.path"), "/v2/health/ready");
                    const group = named(resources, T.group, name);
                    assert.deepEqual([at(group, "desiredCapacity"), at(group, "minSize"), at(group, "maxSize")], [t.replicas, t.replicas, t.replicas]);
                    assert.equal(at(group, "instanceRefresh.preferences.minHealthyPercentage"), plan.poolUpdate.kind === "recreate" ? 0 : 90);
                    assert.equal(ofType(resources, T.alarm).filter((a) => a.name.startsWith(`${name}-`)).length, 3);
                }
                assert.deepEqual(
                    splitOf(resources, "fraud-scorer").targetGroups.map((g) => g.weight),
                    plan.tracks.map((t) => t.weight),
                );
                assert.equal(splitOf(resources, "fraud-scorer").stickiness.enabled, strategy === "abTest");
            });
        }

        it("an autoscaled canary: each group's bounds follow the step, its capacity is the CPU target-tracking policy's", async () => {
            const tracks = {
                stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, autoscaling: { min: 4, max: 20, targetCPU: 60 } },
                candidate: { version: "1.5.0", image: `registry.example/fraud-scorer@${OTHER_DIGEST}`, autoscaling: { min: 4, max: 20, targetCPU: 60 } },
            };
            const { resources } = await runStack(awsVmConfig({ m: prodModel({ tracks, strategy: { type: "canary", steps: [10, 25, 50, 100], step: 1, dynamicStableScale: true } }) }), "prod");
            const bounds = (track: string) => {
                const group = named(resources, T.group, `m-${track}`);
                return [at(group, "minSize"), at(group, "maxSize"), at(group, "desiredCapacity")];
            };
            assert.deepEqual(bounds("stable"), [3, 15, undefined]);
            assert.deepEqual(bounds("candidate"), [1, 5, undefined]);
            assert.equal(at(named(resources, T.group, "m-stable"), "waitForElbCapacity"), undefined, "mid-rollout nothing waits on the group's size");
            // Abort: stable's full floor healthy in its target group before the listener rules (which wait on the group) send it everything.
            const aborted = await runStack(awsVmConfig({ m: prodModel({ tracks, strategy: { type: "canary", steps: [10, 25, 50, 100], step: 1, dynamicStableScale: true, abort: true } }) }), "prod");
            assert.deepEqual([at(named(aborted.resources, T.group, "m-stable"), "minSize"), at(named(aborted.resources, T.group, "m-stable"), "waitForElbCapacity")], [4, 4]);
            const rules = ofType(aborted.resources, "aws:lb/listenerRule:ListenerRule").filter((r) => r.name.startsWith("m-") && !r.name.includes("pin"));
            assert.ok(
                rules.length > 0 && rules.every((r) => (r.dependsOn ?? []).some((d) => d.endsWith("::m-stable"))),
                `every rule of the split waits on stable's group: ${JSON.stringify(rules.map((r) => [r.name, r.dependsOn]))}`,
            );
            const policies = ofType(resources, "aws:autoscaling/policy:Policy");
            assert.deepEqual(
                policies.map((p) => [
                    p.name,
                    at(p, "policyType"),
                    at(p, "targetTrackingConfiguration.targetValue"),
                    at(p, "targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"),
                ]),
                [
                    ["m-stable-cpu", "TargetTrackingScaling", 60, "ASGAverageCPUUtilization"],
                    ["m-candidate-cpu", "TargetTrackingScaling", 60, "ASGAverageCPUUtilization"],
                ],
            );
        });

        it("autoscaling on what an Auto Scaling group cannot read, or on docker, is refused by name", () => {
            const vm = configIssues(
                awsVmConfig({
                    m: prodModel({
                        tracks: {
                            ...(prodModel().tracks as object),
                            stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}`, autoscaling: { min: 1, max: 4, targetConcurrency: 8 } },
                        },
                    }),
                }),
            );
            assert.deepEqual(
                vm.map((i) => i.path),
                ["modelship:models.m.tracks.stable.autoscaling"],
            );
            assert.match(vm[0].expected, /^targetCPU: the Auto Scaling group's target tracking/);
            const docker = canaryModel() as { tracks: { stable: Record<string, unknown> } };
            const onDocker = configIssues(dockerConfig({ m: { ...docker, tracks: { ...docker.tracks, stable: { ...docker.tracks.stable, autoscaling: { min: 1, max: 4, targetCPU: 60 } } } } }), "dev");
            assert.deepEqual(
                onDocker.map((i) => i.path),
                ["modelship:models.m.tracks.stable.autoscaling"],
            );
            assert.match(onDocker[0].expected, /nothing on the docker target, which runs a fixed number of replicas: autoscaling is for the kubernetes or aws-vm target/);
        });

        it("each canary step changes the split's weights and the candidate group's size", async () => {
            const at2 = async (step: number) => {
                const { resources } = await runStack(awsVmConfig({ m: prodModel({ strategy: { type: "canary", steps: [5, 50, 100], step } }) }), "prod");
                return [splitOf(resources, "m").targetGroups.map((g) => g.weight), at(named(resources, T.group, "m-candidate"), "desiredCapacity")];
            };
            assert.deepEqual(
                [await at2(0), await at2(1), await at2(2)],
                [
                    [[95, 5], 1],
                    [[50, 50], 2],
                    [[0, 100], 4],
                ],
            );
        });

        it("an internal load balancer reachable from the allowed CIDRs only; instances from the load balancer only; IMDSv2", async () => {
            const { resources } = await runStack(awsVmConfig(), "prod");
            assert.equal(at(named(resources, T.lb, "vms"), "internal"), true);
            assert.deepEqual(at(named(resources, T.sg, "vms-alb"), "ingress"), [{ cidrBlocks: ["10.0.0.0/16"], description: "model clients", fromPort: 80, protocol: "tcp", toPort: 80 }]);
            assert.equal(at(named(resources, T.sg, "vms-instances"), "ingress"), undefined);
            const fromAlb = named(resources, TYPES.securityGroupIngressRule, "vms-instances-from-alb-8080");
            assert.equal(at(fromAlb, "referencedSecurityGroupId"), "vms-alb-id", "the load balancer's group, not a CIDR");
            assert.equal(at(fromAlb, "securityGroupId"), "vms-instances-id");
            const template = named(resources, T.launchTemplate, "fraud-scorer-stable");
            assert.equal(at(template, "metadataOptions.httpTokens"), "required");
            assert.equal(at(template, "imageId"), "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id");
        });
    });

    describe("user data", () => {
        const script = () =>
            userDataScript({
                region: "us-east-1",
                environment: "prod",
                model: "fraud-scorer",
                track: { ...track("candidate", "1.5.0", 10), featureFlags: { note: "it's $(rm -rf /) `x`" } },
                image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/fraud-scorer@${DIGEST}`,
                artifact: { bucket: "example-models-prod", prefix: "fraud-scorer/" },
                port: 8080,
                logGroup: "/modelship/prod/fraud-scorer",
            });

        it("is valid bash", () => {
            const result = spawnSync("bash", ["--norc", "--noprofile", "-n"], { input: script(), encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
        });

        it("logs in with the instance role, pulls by digest, fetches the version with the image's own fetch-artifact, runs the server hardened, quoting every value", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-userdata-"));
            try {
                const log = path.join(dir, "calls");
                fs.mkdirSync(log);
                for (const command of ["aws", "docker", "install"]) {
                    // Each stand-in records its arguments one per line, so quoting mistakes show.
                    // docker login reads the password from stdin, as the real one does (or the pipe would break).
                    fs.writeFileSync(
                        path.join(dir, command),
                        // One file per call, named by the time it started: the two sides of a pipe run at once and
                        // would interleave their lines in a shared file.
                        `#!/bin/bash\n{ echo "${command}"; printf '%s\\n' "$@"; } > "${log}/$(date +%s%N)-$$"\n[ "${command}" = aws ] && [ "$1" = ecr ] && echo token\n[ "${command}" = docker ] && [ "$1" = login ] && cat > /dev/null\nexit 0\n`,
                        { mode: 0o755 },
                    );
                }
                const result = spawnSync("bash", ["--norc", "--noprofile", "-c", script()], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: `${dir}:/usr/bin:/bin` } });
                assert.equal(result.status, 0, result.stderr);
                const calls = fs
                    .readdirSync(log)
                    .sort()
                    .map((file) => fs.readFileSync(path.join(log, file), "utf8").trim().split("\n"));
                const call = (command: string, sub: string) => calls.find((c) => c[0] === command && c[1] === sub);
                assert.equal(call("aws", "s3"), undefined, "nothing copies the model around the checksum");
                assert.deepEqual(call("docker", "login"), ["docker", "login", "--username", "AWS", "--password-stdin", "123456789012.dkr.ecr.us-east-1.amazonaws.com"]);
                assert.deepEqual(call("docker", "pull"), ["docker", "pull", `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/fraud-scorer@${DIGEST}`]);
                assert.deepEqual(call("install", "-d"), ["install", "-d", "-m", "0755", "-o", "10001", "-g", "10001", "/opt/modelship/models/fraud-scorer"]);
                const runs = calls.filter((c) => c[0] === "docker" && c[1] === "run");
                assert.equal(runs.length, 2, "the fetch, then the server");
                const [fetch, server] = runs;
                const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelship/fraud-scorer@${DIGEST}`;
                // The image's own initializer, as the kubernetes init container runs it, into the directory the server mounts.
                assert.deepEqual(fetch.slice(fetch.indexOf(image) - 2), [
                    "--entrypoint",
                    "node",
                    image,
                    "dist/src/fetch-artifact.js",
                    "--source",
                    "s3://example-models-prod/fraud-scorer/",
                    "--version",
                    "1.5.0",
                    "--dest",
                    "/models/fraud-scorer",
                ]);
                for (const expected of [
                    "--rm",
                    "--read-only",
                    "ALL",
                    "no-new-privileges:true",
                    "type=bind,source=/opt/modelship/models/fraud-scorer,target=/models/fraud-scorer",
                    "AWS_REGION=us-east-1",
                    "awslogs-group=/modelship/prod/fraud-scorer",
                ]) {
                    assert.ok(fetch.includes(expected), `${expected} in ${fetch.join(" ")}`);
                }
                assert.equal(fetch[fetch.indexOf("--network") + 1], "host", "the metadata service answers one hop away");
                assert.equal(fetch[fetch.indexOf("--user") + 1], "10001:10001");
                const order = [call("docker", "login"), call("docker", "pull"), call("install", "-d"), fetch, server].map((c) => calls.indexOf(c!));
                assert.deepEqual(
                    [...order].sort((a, b) => a - b),
                    order,
                    "login, pull, directory, fetch, then the server",
                );
                for (const expected of [
                    "--read-only",
                    "--cap-drop",
                    "no-new-privileges:true",
                    "MODEL_VERSION=1.5.0",
                    "MODEL_TRACK=candidate",
                    "MODEL_ARTIFACT=/models/fraud-scorer",
                    "/opt/modelship/models/fraud-scorer:/models/fraud-scorer:ro",
                    "awslogs-group=/modelship/prod/fraud-scorer",
                ]) {
                    assert.ok(server.includes(expected), `${expected} in ${server.join(" ")}`);
                }
                assert.ok(server.includes(`FEATURE_FLAGS={"note":"it's $(rm -rf /) \`x\`"}`), "a hostile flag value stays literal");
                assert.equal(server.at(-1), image);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        describe("the fetch, run for real: the model-server's fetch-artifact against a loopback S3 stand-in", () => {
            const VERSION = "1.5.0";
            const shipped = fs.readFileSync(path.join(findProjectDir(), "model-server", "models", "fraud-scorer", VERSION, "model.json"));
            const key = `/example-models-prod/fraud-scorer/${VERSION}/model.json`;
            let dir: string;
            let hostRoot: string;
            let log: string;
            beforeEach(() => {
                dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-boot-"));
                hostRoot = path.join(dir, "host");
                log = path.join(dir, "calls");
                fs.mkdirSync(log, { recursive: true });
                const standIn = path.resolve(__dirname, "..", "support", "docker-stand-in.js");
                fs.writeFileSync(path.join(dir, "docker"), `#!/bin/bash\nexec ${shellQuote(process.execPath)} ${shellQuote(standIn)} "$@"\n`, { mode: 0o755 });
                fs.writeFileSync(path.join(dir, "aws"), "#!/bin/bash\necho token\n", { mode: 0o755 });
                // The instance's filesystem is under hostRoot; ownership is the real install's business.
                fs.writeFileSync(path.join(dir, "install"), `#!/bin/bash\nmkdir -p ${shellQuote(hostRoot)}"\${@: -1}"\n`, { mode: 0o755 });
            });
            afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

            async function boot(objects: Record<string, (res: http.ServerResponse) => void>): Promise<{ code: number | null; stderr: string; serverStarted: boolean; written: Buffer | undefined }> {
                const s3 = http.createServer((req, res) => {
                    const route = objects[decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)];
                    if (route) route(res);
                    else s3Error(404, "NoSuchKey")(res);
                });
                await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve));
                try {
                    const endpoint = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;
                    const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
                        const child = spawn("bash", ["--norc", "--noprofile", "-c", script()], {
                            stdio: ["ignore", "ignore", "pipe"],
                            env: {
                                PATH: `${dir}:/usr/bin:/bin`,
                                STAND_IN_LOG: log,
                                STAND_IN_HOST_ROOT: hostRoot,
                                STAND_IN_APP_DIR: path.join(findProjectDir(), "model-server"),
                                // What the metadata service gives the instance role, and where S3 is.
                                STAND_IN_CONTAINER_ENV: JSON.stringify({ AWS_ACCESS_KEY_ID: "instance", AWS_SECRET_ACCESS_KEY: "role", AWS_ENDPOINT_URL_S3: endpoint }),
                            },
                        });
                        let stderr = "";
                        child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
                        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
                        child.on("error", reject);
                        child.on("close", (code) => (clearTimeout(timer), resolve({ code, stderr })));
                    });
                    const calls = fs.readdirSync(log).map((file) => fs.readFileSync(path.join(log, file), "utf8").split("\n"));
                    const file = path.join(hostRoot, "opt/modelship/models/fraud-scorer", VERSION, "model.json");
                    return { ...outcome, serverStarted: calls.some((c) => c[1] === "run" && c[2] === "-d"), written: fs.existsSync(file) ? fs.readFileSync(file) : undefined };
                } finally {
                    s3.closeAllConnections();
                    await new Promise((resolve) => s3.close(resolve));
                }
            }
            const object = (data: Buffer | string) => (res: http.ServerResponse) => res.writeHead(200, { "content-length": Buffer.byteLength(data) }).end(data);
            const s3Error = (status: number, code: string) => (res: http.ServerResponse) =>
                res
                    .writeHead(status, { "content-type": "application/xml" })
                    .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>1</RequestId></Error>`);
            const checksum = (data: Buffer) => `${createHash("sha256").update(data).digest("hex")}  model.json\n`;

            it("a verified artifact is written where the server mounts it, then the server starts", async () => {
                const outcome = await boot({ [key]: object(shipped), [`${key}.sha256`]: object(checksum(shipped)) });
                assert.equal(outcome.code, 0, outcome.stderr);
                assert.deepEqual(outcome.written, shipped);
                assert.ok(outcome.serverStarted);
            });

            it("corrupt (model.json does not match its checksum): the boot fails saying so, nothing written, no server", async () => {
                const tampered = Buffer.from(shipped.toString("utf8").replace(/"version"/, ' "version"'));
                const outcome = await boot({ [key]: object(tampered), [`${key}.sha256`]: object(checksum(shipped)) });
                assert.equal(outcome.code, 1, outcome.stderr);
                assert.match(outcome.stderr, /s3:\/\/example-models-prod\/fraud-scorer\/1\.5\.0\/model\.json does not match its checksum/);
                assert.match(outcome.stderr, /modelship: fraud-scorer 1\.5\.0 was not fetched and verified from s3:\/\/example-models-prod\/fraud-scorer\/ .*the model server is not started/);
                assert.equal(outcome.written, undefined);
                assert.equal(outcome.serverStarted, false);
            });

            it("forbidden and missing: the boot fails naming the object and the fix, no server", async () => {
                const forbidden = await boot({ [key]: s3Error(403, "AccessDenied"), [`${key}.sha256`]: s3Error(403, "AccessDenied") });
                assert.equal(forbidden.code, 1, forbidden.stderr);
                assert.match(forbidden.stderr, /access to s3:\/\/example-models-prod\/fraud-scorer\/1\.5\.0\/model\.json \(AccessDenied, HTTP 403\) is denied; grant/);
                assert.equal(forbidden.serverStarted, false);
                const missing = await boot({});
                assert.equal(missing.code, 1, missing.stderr);
                assert.match(missing.stderr, /model\.json \(NoSuchKey, HTTP 404\) does not exist/);
                assert.equal(missing.serverStarted, false);
            });
        });

        it("shellQuote survives single quotes", () => {
            assert.equal(spawnSync("bash", ["--norc", "--noprofile", "-c", `printf %s ${shellQuote('a\'b "c" $d')}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).stdout, 'a\'b "c" $d');
        });
    });
});
