import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir, renderFiles, renderStack, type Render } from "../../tools/render";
import { readStackFiles, type StackFiles } from "../../tools/project-files";
import { TYPES } from "../../components/type-tokens";

const projectDir = findProjectDir();
const renderCli = path.join(projectDir, "dist", "tools", "render.js");

function key(r: RecordedResource): string {
    return `${r.type}::${r.name}`;
}

/**
 * Router objects: the things whose job is to move traffic. Not the docker router container: a step
 * reloads its config (router-reload), so like any other resource it must not change.
 */
function isRouterObject(r: RecordedResource): boolean {
    return r.type.endsWith(":HTTPRoute") || r.type === TYPES.listenerRule || r.name.includes("-modelship-router") || (r.type === TYPES.command && r.name === "router-reload");
}

/** The inputs without their replica count: a Deployment's spec.replicas, an Auto Scaling group's sizes. */
function withoutReplicas(r: RecordedResource): string {
    const inputs = JSON.parse(JSON.stringify(r.inputs)) as { spec?: { replicas?: number }; desiredCapacity?: number; minSize?: number; maxSize?: number };
    if (inputs.spec) delete inputs.spec.replicas;
    delete inputs.desiredCapacity;
    delete inputs.minSize;
    delete inputs.maxSize;
    return JSON.stringify(inputs);
}

interface RenderDiff {
    changed: Array<[RecordedResource, RecordedResource]>;
    added: RecordedResource[];
    removed: RecordedResource[];
}

function diff(before: Render, after: Render): RenderDiff {
    const old = new Map(before.resources.map((r) => [key(r), r]));
    const next = new Map(after.resources.map((r) => [key(r), r]));
    return {
        changed: [...next.values()].flatMap((r) => {
            const was = old.get(key(r));
            return was && JSON.stringify(was.inputs) !== JSON.stringify(r.inputs) ? [[was, r] as [RecordedResource, RecordedResource]] : [];
        }),
        added: [...next.values()].filter((r) => !old.has(key(r))),
        removed: [...old.values()].filter((r) => !next.has(key(r))),
    };
}

function atStep(files: StackFiles, model: string, step: number): StackFiles {
    const models = JSON.parse(files.config["modelship:models"]) as Record<string, { strategy: Record<string, unknown> }>;
    models[model].strategy = { ...models[model].strategy, step };
    return { ...files, config: { ...files.config, "modelship:models": JSON.stringify(models) } };
}

function canaryModels(files: StackFiles): Array<[string, number[]]> {
    const models = JSON.parse(files.config["modelship:models"]) as Record<string, { strategy: { type: string; steps?: number[] } }>;
    return Object.entries(models).flatMap(([name, m]) => (m.strategy.type === "canary" && m.strategy.steps ? [[name, m.strategy.steps] as [string, number[]]] : []));
}

describe("npm run render", () => {
    describe("each canary step changes only router objects, replica counts and the candidate's smoke gate", function () {
        // One render per step of every canary in the stack: prod takes several renders' time.
        this.timeout(180_000);
        for (const stack of ["dev", "prod"]) {
            it(`stack ${stack}`, async () => {
                const files = readStackFiles(projectDir, stack);
                const canaries = canaryModels(files);
                assert.ok(canaries.length > 0, `the ${stack} stack ships a canary`);
                for (const [model, steps] of canaries) {
                    const renders: Render[] = [];
                    for (let step = 0; step < steps.length; step++) renders.push(await renderFiles(projectDir, atStep(files, model, step)));
                    for (let step = 1; step < steps.length; step++) {
                        const change = diff(renders[step - 1], renders[step]);
                        const label = `${stack}/${model} step ${step - 1} -> ${step}`;
                        assert.ok(
                            change.changed.some(([, r]) => isRouterObject(r)),
                            `${label}: the router changes`,
                        );
                        for (const [was, now] of change.changed) {
                            if (isRouterObject(now)) continue;
                            // The version gaining traffic is checked again at each step; nothing else re-runs.
                            if (now.name === `${model}-gates-candidate-smoke`) continue;
                            assert.equal(withoutReplicas(now), withoutReplicas(was), `${label}: ${key(now)} changed more than its replica count`);
                        }
                        // A track that scales by containers (docker) adds or removes containers of the candidate only;
                        // a track that starts or stops receiving requests gains or loses its smoke gate.
                        for (const r of [...change.added, ...change.removed]) {
                            const scaled = r.type === TYPES.container && r.name.startsWith(`${model}-candidate-`);
                            const smoke = /-gates-(stable|candidate)-smoke$/.test(r.name) && r.name.startsWith(`${model}-`);
                            assert.ok(scaled || smoke, `${label}: ${key(r)} added or removed`);
                        }
                        const weights = renders[step].outputs.models[model].weights;
                        assert.deepEqual(weights, { stable: 100 - steps[step], candidate: steps[step] });
                    }
                }
            });
        }
    });

    describe("the files it writes", () => {
        let outDir: string;
        beforeEach(() => {
            outDir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-render-"));
        });
        afterEach(() => fs.rmSync(outDir, { recursive: true, force: true }));

        it("prod: resources.json, outputs.json and the Kubernetes objects as YAML, one document per object", () => {
            const result = spawnSync(process.execPath, [renderCli, "--stack", "prod", "--out", outDir], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /rendered stack prod/);
            assert.match(result.stdout, /fraud-scorer \(canary step 2\/6\): stable 1\.4\.0: 90%, candidate 1\.5\.0: 10%/);
            const resources = JSON.parse(fs.readFileSync(path.join(outDir, "resources.json"), "utf8")) as RecordedResource[];
            assert.ok(resources.every((r) => typeof r.type === "string" && typeof r.name === "string" && typeof r.inputs === "object"));
            const docs = parseAllDocuments(fs.readFileSync(path.join(outDir, "kubernetes.yaml"), "utf8")).map((d) => d.toJS() as { apiVersion: string; kind: string });
            assert.equal(docs.length, resources.filter((r) => r.type.startsWith("kubernetes:")).length);
            assert.ok(docs.every((d) => d.apiVersion && d.kind));
            assert.ok(docs.some((d) => d.kind === "HTTPRoute" && d.apiVersion === "gateway.networking.k8s.io/v1"));
            const outputs = JSON.parse(fs.readFileSync(path.join(outDir, "outputs.json"), "utf8")) as { environment: string };
            assert.equal(outputs.environment, "prod");
        });

        it("dev: the nginx.conf of the router", () => {
            const result = spawnSync(process.execPath, [renderCli, "--stack", "dev", "--out", outDir], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            const conf = fs.readFileSync(path.join(outDir, "nginx", "router-reload.conf"), "utf8");
            assert.match(conf, /split_clients/);
            assert.ok(!fs.existsSync(path.join(outDir, "kubernetes.yaml")), "no Kubernetes objects on the docker target");
        });

        it("a bad config exits non-zero with the config message and writes nothing", () => {
            const project = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-project-"));
            try {
                fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
                const stackFile = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
                stackFile.config["modelship:environment"] = "prod";
                stackFile.config["modelship:registry"] = { type: "ecr", keepLast: 3 };
                fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), JSON.stringify(stackFile));
                const target = path.join(outDir, "never");
                const result = spawnSync(process.execPath, [renderCli, "--stack", "dev", "--out", target, "--project", project], { encoding: "utf8" });
                assert.equal(result.status, 1);
                assert.match(result.stderr, /stack "dev" has 2 problems/);
                assert.match(result.stderr, /modelship:environment: got "prod"/);
                assert.match(result.stderr, /modelship:registry\.keepLast: got 3; expected no such key/);
                assert.ok(!fs.existsSync(target), "nothing written");
            } finally {
                fs.rmSync(project, { recursive: true, force: true });
            }
        });

        it("an unknown stack names the stacks there are", () => {
            const result = spawnSync(process.execPath, [renderCli, "--stack", "staging", "--out", outDir], { encoding: "utf8" });
            assert.equal(result.status, 1);
            assert.match(result.stderr, /no stack file Pulumi\.staging\.yaml; the stacks here are: dev, lab, prod/);
        });
    });

    it("renders the same resources twice in one process (mock state does not leak between runs)", async () => {
        const first = await renderStack(projectDir, "prod");
        const second = await renderStack(projectDir, "prod");
        assert.deepEqual(second.resources, first.resources);
    });
});
