import { strict as assert } from "assert";
import { parseConfig } from "../../components/config/parse";
import { GATE_KINDS, gateResourceName } from "../../components/gates/kinds";
import { gatePlan } from "../../components/gates/plan";
import { gateSummary } from "../../tools/render";
import { planTraffic } from "../../components/traffic/plan";
import { parseSmokeArgv } from "../../model-server/src/smoke/main";
import type { RecordedResource } from "../../tools/mock-runtime";
import { AWS_VM_TARGET, awsVmConfig, canaryModel, dockerConfig, kubernetesConfig, GATEWAY_ROUTER, modelFor, prodModel } from "../fixtures";
import { named, ofType, runStack } from "../mock-stack";
import { TYPES } from "../../components/type-tokens";

const COMMAND = TYPES.command;

function gatesOf(raw: ReturnType<typeof dockerConfig>, stack: string, model = "fraud-scorer", reachable = true) {
    const config = parseConfig(raw, stack).models[model];
    return gatePlan(config, planTraffic(model, config), stack, reachable);
}

describe("deployment gates", () => {
    describe("which gates, and what re-runs them (pure)", () => {
        it("lint per built image, scan per image, smoke per track that receives requests", () => {
            const specs = gatesOf(dockerConfig(), "dev").map((s) => `${s.track} ${s.kind}`);
            assert.deepEqual(specs, ["stable lint", "stable scan", "stable smoke", "candidate lint", "candidate scan", "candidate smoke"]);
            const blueGreen = gatesOf(dockerConfig({ "fraud-scorer": modelFor(canaryModel(), "blueGreen") }), "dev").map((s) => `${s.track} ${s.kind}`);
            assert.ok(!blueGreen.includes("stable smoke"), "blue-green active=candidate: stable gets no requests, so no smoke");
            assert.ok(blueGreen.includes("candidate smoke"));
        });

        it("a prebuilt image has no Dockerfile to lint; a cluster's tracks get no smoke gate by default", () => {
            const specs = gatesOf(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel() }), "prod", "fraud-scorer", false);
            assert.deepEqual(
                specs.map((s) => `${s.track} ${s.kind}`),
                ["stable scan", "candidate scan"],
            );
        });

        it("scan is required in prod and advisory elsewhere unless configured; lint and smoke are required", () => {
            assert.ok(
                gatesOf(dockerConfig(), "dev")
                    .filter((s) => s.kind === "scan")
                    .every((s) => !s.required),
            );
            assert.ok(gatesOf(kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel() }), "prod", "fraud-scorer", false).every((s) => s.required));
            assert.ok(
                gatesOf(dockerConfig(), "dev")
                    .filter((s) => s.kind !== "scan")
                    .every((s) => s.required),
            );
            const configured = gatesOf(dockerConfig({ "fraud-scorer": canaryModel({ gates: { scan: { required: true }, lint: { enabled: false } } }) }), "dev");
            assert.ok(configured.filter((s) => s.kind === "scan").every((s) => s.required));
            assert.ok(!configured.some((s) => s.kind === "lint"));
        });

        it("the candidate's smoke gate is triggered by its share of traffic; the stable's and the lint/scan gates are not", () => {
            const at = (step: number) => gatesOf(dockerConfig({ "fraud-scorer": canaryModel({ strategy: { type: "canary", steps: [10, 50, 100], step } }) }), "dev");
            const [first, second] = [at(0), at(1)];
            const changed = first.filter((spec, i) => JSON.stringify(spec.triggers) !== JSON.stringify(second[i].triggers)).map((s) => `${s.track} ${s.kind}`);
            assert.deepEqual(changed, ["candidate smoke"]);
        });

        it("smoke cannot be switched on without a recorded request where the artifact is not local (cluster, load balancer)", () => {
            assert.throws(
                () => parseConfig(awsVmConfig({ m: prodModel({ gates: { smoke: { enabled: true } } }) }), "prod"),
                /gates\.smoke\.request: got \(missing\); expected a recorded inference request \(a JSON file in the project\) for the smoke gate through the load balancer/,
            );
            assert.throws(
                () => parseConfig(kubernetesConfig(GATEWAY_ROUTER, { m: prodModel({ gates: { smoke: { enabled: true } } }) }), "prod"),
                /gates\.smoke\.request: got \(missing\); expected a recorded inference request/,
            );
        });
    });

    it("one set of defaults: a model without gates, with empty gates and with empty gates of each kind parse alike", () => {
        const parsed = (gates: Record<string, unknown> | undefined) => {
            const model = canaryModel();
            if (gates === undefined) delete model.gates;
            else model.gates = gates;
            return parseConfig(dockerConfig({ "fraud-scorer": model }), "dev").models["fraud-scorer"].gates;
        };
        const none = parsed(undefined);
        assert.deepEqual(none, {
            lint: { enabled: true, timeoutSeconds: 120 },
            scan: { enabled: true, timeoutSeconds: 120, scanner: "trivy" },
            smoke: { timeoutSeconds: 120, expect: { min: 0, max: 1 }, retries: 3 },
        });
        assert.deepEqual(parsed({}), none);
        assert.deepEqual(parsed(Object.fromEntries(GATE_KINDS.map((kind) => [kind, {}]))), none);
        assert.deepEqual(parsed({ scan: { timeoutSeconds: 30 } }).lint, none.lint, "a key set for one kind leaves the others at their defaults");
    });

    describe("recorded where they are created", () => {
        const stacks: Array<[string, () => ReturnType<typeof dockerConfig>, string]> = [
            ["docker", () => dockerConfig(), "dev"],
            [
                "kubernetes",
                () => kubernetesConfig(GATEWAY_ROUTER, { "fraud-scorer": prodModel({ gates: { smoke: { enabled: true, request: "model-server/models/fraud-scorer/smoke-request.json" } } }) }),
                "prod",
            ],
            ["aws-vm", () => awsVmConfig({ "fraud-scorer": prodModel({ gates: { smoke: { enabled: true, request: "model-server/models/fraud-scorer/smoke-request.json" } } }) }), "prod"],
        ];
        for (const [target, raw, stack] of stacks) {
            it(`${target}: every gate resource carries its spec and the one gate name`, async () => {
                const run = await runStack(raw(), stack);
                const config = parseConfig(raw(), stack).models["fraud-scorer"];
                const planned = gatePlan(config, planTraffic("fraud-scorer", config), stack, true);
                assert.ok(
                    run.gates.some((g) => g.kind === "smoke"),
                    "the target's smoke gate is recorded too",
                );
                assert.deepEqual(
                    run.gates.map(({ resource, model, ...spec }) => [resource.split("::")[1], model, spec.track, spec.kind]),
                    planned.map((spec) => [gateResourceName("fraud-scorer", spec.track, spec.kind), "fraud-scorer", spec.track, spec.kind]),
                );
                for (const gate of run.gates)
                    assert.ok(
                        run.resources.some((r) => `${r.type}::${r.name}` === gate.resource),
                        `${gate.resource} is a recorded resource`,
                    );
            });
        }

        it("the render's summary reads the specs: advisory where not required, stable first, kinds in order", () => {
            const gate = (track: "stable" | "candidate", kind: (typeof GATE_KINDS)[number], required: boolean, model = "m") => ({
                resource: `t::${gateResourceName(model, track, kind)}`,
                model,
                track,
                kind,
                required,
                version: "1",
                timeoutSeconds: 1,
                triggers: [],
            });
            const gates = [
                gate("candidate", "smoke", true),
                gate("stable", "smoke", false),
                gate("stable", "lint", true),
                gate("candidate", "scan", false),
                gate("stable", "scan", true, "m-gates-stable"),
            ];
            assert.equal(gateSummary(gates, "m"), "stable lint, smoke (advisory); candidate scan (advisory), smoke");
            assert.equal(gateSummary(gates, "m-gates-stable"), "stable scan");
            assert.equal(gateSummary(gates, "other"), "");
        });
    });

    describe("under mocks", () => {
        const byName = (resources: RecordedResource[], name: string) => named(resources, COMMAND, `fraud-scorer-gates-${name}`);

        it("the router's reload waits for the gates of every track it sends requests to", async () => {
            const { resources } = await runStack(dockerConfig(), "dev");
            const reload = named(resources, COMMAND, "router-reload");
            const gates = ofType(resources, COMMAND)
                .filter((c) => c.name.includes("-gates-"))
                .map((c) => `${COMMAND}::${c.name}`);
            assert.equal(gates.length, 6);
            assert.deepEqual(
                gates.filter((g) => !(reload.dependsOn ?? []).includes(g)),
                [],
                "every gate is a dependency of the reload",
            );
        });

        it("a gate command runs the gate program with the track's own image and server", async () => {
            const { resources } = await runStack(dockerConfig(), "dev");
            assert.match(String(byName(resources, "candidate-lint").inputs.create), /^timeout \d+ node dist\/tools\/gate\.js lint --dockerfile 'model-server\/Dockerfile' --required true$/);
            // The image the candidate's containers run: its tag in the local engine.
            const candidateImage = String(named(resources, TYPES.container, "fraud-scorer-candidate-0").inputs.image);
            assert.equal(candidateImage, "modelship/fraud-scorer:1.5.0");
            assert.match(
                String(byName(resources, "candidate-scan").inputs.create),
                new RegExp(`gate\\.js scan --image '${candidateImage}' --scanner trivy --required false \\|\\| echo 'scan gate of candidate 1\\.5\\.0 failed; advisory here`),
            );
            assert.match(
                String(byName(resources, "candidate-smoke").inputs.create),
                /gate\.js smoke --url 'http:\/\/127\.0\.0\.1:\d+' --model 'fraud-scorer' --version '1\.5\.0' --input 'model-server\/models\/fraud-scorer\/smoke-request\.json'/,
            );
        });

        it("a new candidate version re-runs the candidate's gates only; a change that touches neither re-runs nothing", async () => {
            const render = async (change: (model: Record<string, unknown>) => void) => {
                const model = canaryModel();
                change(model);
                return (await runStack(dockerConfig({ "fraud-scorer": model }), "dev")).resources;
            };
            const base = await render(() => undefined);
            const newVersion = await render((m) => ((m.tracks as { candidate: { version: string } }).candidate.version = "1.6.0"));
            const unrelated = await render((m) => (m.analysis = { maxErrorRate: 0.05 }));
            const changedGates = (other: RecordedResource[]) =>
                ofType(base, COMMAND)
                    .filter((c) => c.name.startsWith("fraud-scorer-gates-"))
                    .filter((c) => JSON.stringify(c.inputs) !== JSON.stringify(named(other, COMMAND, c.name).inputs))
                    .map((c) => c.name.replace("fraud-scorer-gates-", ""));
            assert.deepEqual(changedGates(newVersion).sort(), ["candidate-lint", "candidate-scan", "candidate-smoke"]);
            assert.deepEqual(changedGates(unrelated), []);
        });
    });
});

describe("the in-cluster smoke gate under mocks", () => {
    const JOB = TYPES.job;
    const withSmoke = (step: number) =>
        kubernetesConfig(GATEWAY_ROUTER, {
            "fraud-scorer": prodModel({
                strategy: { type: "canary", steps: [5, 50, 100], step },
                gates: { smoke: { request: "model-server/models/fraud-scorer/smoke-request.json", expect: { min: 0.05, max: 0.995 } } },
            }),
        });

    it("a Job per track that receives requests, against its own Service, and the route waits for them", async () => {
        const { resources } = await runStack(withSmoke(0), "prod");
        const jobs = ofType(resources, JOB);
        assert.deepEqual(jobs.map((j) => j.name).sort(), ["fraud-scorer-gates-candidate-smoke", "fraud-scorer-gates-stable-smoke"]);
        const command = (named(resources, JOB, "fraud-scorer-gates-candidate-smoke").inputs as { spec: { template: { spec: { containers: Array<{ command: string[] }> } } } }).spec.template.spec
            .containers[0].command;
        const script = JSON.stringify(parseSmokeArgv(command.slice(2)));
        assert.match(script, /"url":"http:\/\/fraud-scorer-candidate\.models\.svc\.cluster\.local:80"/);
        assert.match(script, /"version":"1\.5\.0"/);
        const route = named(resources, TYPES.httpRoute, "fraud-scorer-route");
        for (const job of jobs) assert.ok(route.dependsOn?.includes(`${JOB}::${job.name}`), `the route waits for ${job.name}`);
    });

    it("each track's Job starts after its own Deployment and Service: a check before the rollout would reach the version being replaced", async () => {
        const { resources } = await runStack(withSmoke(0), "prod");
        for (const track of ["stable", "candidate"]) {
            const job = named(resources, JOB, `fraud-scorer-gates-${track}-smoke`);
            for (const dependency of [`kubernetes:apps/v1:Deployment::fraud-scorer-${track}`, `kubernetes:core/v1:Service::fraud-scorer-${track}`]) {
                assert.ok(job.dependsOn?.includes(dependency), `${job.name} waits for ${dependency}: ${JSON.stringify(job.dependsOn)}`);
            }
        }
    });

    it("each step runs a new candidate Job; the stable's stays", async () => {
        const jobName = async (step: number, track: string) => {
            const { resources } = await runStack(withSmoke(step), "prod");
            return (named(resources, JOB, `fraud-scorer-gates-${track}-smoke`).inputs.metadata as { name: string }).name;
        };
        assert.notEqual(await jobName(0, "candidate"), await jobName(1, "candidate"));
        assert.equal(await jobName(0, "stable"), await jobName(1, "stable"));
    });
});

describe("deployment gates: the smoke gate on aws-vm, through the load balancer", () => {
    const RULE = TYPES.listenerRule;
    const REQUEST = "model-server/models/fraud-scorer/smoke-request.json";
    const vms = (internal: boolean, smoke: Record<string, unknown>, step = 0) => {
        const raw = awsVmConfig({ "fraud-scorer": prodModel({ strategy: { type: "canary", steps: [5, 50, 100], step }, gates: { scan: { enabled: false }, smoke } }) });
        raw.targets = { vms: { ...AWS_VM_TARGET, internal } };
        return raw;
    };

    it("pinned to each track by header; the pins come first, the split waits for the gates", async () => {
        const { resources } = await runStack(vms(false, { request: REQUEST }), "prod");
        const gates = ofType(resources, COMMAND);
        assert.deepEqual(gates.map((g) => g.name).sort(), ["fraud-scorer-gates-candidate-smoke", "fraud-scorer-gates-stable-smoke"]);
        for (const track of ["stable", "candidate"]) {
            const gate = named(resources, COMMAND, `fraud-scorer-gates-${track}-smoke`);
            assert.match(String(gate.inputs.create), new RegExp(`gate\\.js smoke --url 'http://[^']+' --model 'fraud-scorer' --version '[0-9.]+' .* --pin 'x-modelship-track=${track}'$`));
            assert.ok(gate.dependsOn?.includes(`${RULE}::fraud-scorer-pin-${track}`), `the ${track} gate waits for its pin rule`);
            assert.ok(gate.dependsOn?.includes(`aws:autoscaling/group:Group::fraud-scorer-${track}`), `the ${track} gate waits for its instances`);
            const pin = named(resources, RULE, `fraud-scorer-pin-${track}`);
            assert.deepEqual(
                (pin.dependsOn ?? []).filter((d) => d.startsWith(COMMAND)),
                [],
                "a pin moves no traffic and waits for no gate",
            );
        }
        const split = named(resources, RULE, "fraud-scorer-split");
        for (const gate of gates) assert.ok(split.dependsOn?.includes(`${COMMAND}::${gate.name}`), `the split waits for ${gate.name}`);
    });

    it("off by default behind an internal load balancer; on when enabled there (a deployer inside the VPC)", async () => {
        const internalDefault = await runStack(vms(true, { request: REQUEST }), "prod");
        assert.equal(ofType(internalDefault.resources, COMMAND).length, 0);
        const internalEnabled = await runStack(vms(true, { request: REQUEST, enabled: true }), "prod");
        assert.equal(ofType(internalEnabled.resources, COMMAND).length, 2);
    });

    it("a canary step re-runs the candidate's gate only", async () => {
        const triggers = async (step: number) => {
            const { resources } = await runStack(vms(false, { request: REQUEST }, step), "prod");
            return Object.fromEntries(ofType(resources, COMMAND).map((c) => [c.name, JSON.stringify(c.inputs.triggers)]));
        };
        const [first, second] = [await triggers(0), await triggers(1)];
        assert.deepEqual(
            Object.keys(first).filter((name) => first[name] !== second[name]),
            ["fraud-scorer-gates-candidate-smoke"],
        );
    });
});
