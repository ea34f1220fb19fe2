import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { modelSchema, type ModelConfig } from "../../../components/config/schema";
import { planTraffic } from "../../../components/traffic/plan";
import { perTrack } from "../../../components/traffic/types";
import { abort, promote, retire, rollbackTo, RolloutError, scaleDownDelaySeconds, tooSoonToPromote, trackFromHistory, type RolloutStep } from "../../../cli/rollout";
import { StackFile } from "../../../cli/stack-file-editor";
import { findProjectDir } from "../../../tools/render";
import { loadStackConfig } from "../../../tools/pulumi-local";
import { parseConfig } from "../../../components/config/parse";
import { canaryModel, dockerConfig } from "../../fixtures";

const projectDir = findProjectDir();

/** A copy of the project (Pulumi.yaml and the stack files) to edit. */
function copyProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-rollout-"));
    for (const file of fs.readdirSync(projectDir).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) fs.copyFileSync(path.join(projectDir, file), path.join(dir, file));
    return dir;
}

function modelsOf(dir: string, stack: string): Record<string, ModelConfig> {
    return loadStackConfig(dir, stack).models;
}

/** Applies one command to the stack file in `dir` and returns the step and the model's weights after it. */
function step(dir: string, stack: string, model: string, command: (m: ModelConfig, raw: Record<string, unknown>) => RolloutStep) {
    const file = StackFile.read(dir, stack);
    const result = command(modelsOf(dir, stack)[model], file.rawModel(model));
    file.apply(model, result.edits);
    file.write();
    const after = modelsOf(dir, stack)[model];
    return { result, after, weights: perTrack(planTraffic(model, after), (t) => t.weight) };
}

describe("rollout commands on the stack files", () => {
    const dirs: string[] = [];
    const project = () => {
        const dir = copyProject();
        dirs.push(dir);
        return dir;
    };
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("promote walks prod's canary one step at a time, then concludes; the file stays valid with its comments", () => {
        const dir = project();
        const before = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
        const seen: string[] = [];
        const weights: Array<Record<string, number>> = [];
        for (let i = 0; i < 5; i++) {
            const { result, weights: w } = step(dir, "prod", "fraud-scorer", (m, raw) => promote("fraud-scorer", m, raw));
            seen.push(result.description);
            weights.push(w);
        }
        assert.deepEqual(seen.slice(0, 4), [
            "fraud-scorer: canary step 3/6: 1.5.0 from 10% to 25%",
            "fraud-scorer: canary step 4/6: 1.5.0 from 25% to 50%",
            "fraud-scorer: canary step 5/6: 1.5.0 from 50% to 75%",
            "fraud-scorer: canary step 6/6: 1.5.0 from 75% to 100%",
        ]);
        assert.deepEqual(
            weights.slice(0, 4).map((w) => w.candidate),
            [25, 50, 75, 100],
        );
        assert.equal(seen[4], "fraud-scorer: canary done at 100%: 1.5.0 becomes stable (was 1.4.0); the candidate track is dropped");
        const concluded = modelsOf(dir, "prod")["fraud-scorer"];
        assert.equal(concluded.tracks.stable.version, "1.5.0");
        assert.equal(concluded.tracks.stable.replicas, 4);
        assert.deepEqual(concluded.tracks.stable.featureFlags, { calibratedScores: "true" });
        assert.equal(concluded.tracks.candidate, undefined);
        assert.equal(concluded.strategy.type, "rolling");
        assert.deepEqual(weights[4], { stable: 100 });
        const text = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
        for (const comment of before.split("\n").filter((l) => l.trim().startsWith("#"))) assert.ok(text.includes(comment.trim()), `comment kept: ${comment}`);
        assert.ok(text.includes("churn-predictor:"), "the other models are untouched");
        assert.throws(
            () => step(dir, "prod", "fraud-scorer", (m, raw) => promote("fraud-scorer", m, raw)),
            (e: unknown) => e instanceof RolloutError && /has no candidate track \(strategy rolling\): nothing to promote/.test(e.message),
        );
    });

    it("a step changes only its own line of the stack file: the diff a reviewer reads is the step", () => {
        for (const stack of ["dev", "lab", "prod"]) {
            const dir = project();
            const file = path.join(dir, `Pulumi.${stack}.yaml`);
            const before = fs.readFileSync(file, "utf8").split("\n");
            step(dir, stack, "fraud-scorer", (m, raw) => promote("fraud-scorer", m, raw));
            const after = fs.readFileSync(file, "utf8").split("\n");
            assert.equal(after.length, before.length, stack);
            const changed = after.flatMap((line, i) => (line === before[i] ? [] : [[before[i], line]]));
            assert.equal(changed.length, 1, `${stack}: ${JSON.stringify(changed)}`);
            assert.match(changed[0][1], /step: [12]}$/, stack);
        }
    });

    it("blue-green: promote switches, then concludes", () => {
        const dir = project();
        const first = step(dir, "prod", "churn-predictor", (m, raw) => promote("churn-predictor", m, raw));
        assert.equal(first.result.description, "churn-predictor: blue-green switch: all traffic to 2.1.0 (stable 2.0.1 kept warm)");
        assert.deepEqual(first.weights, { stable: 0, candidate: 100 });
        const second = step(dir, "prod", "churn-predictor", (m, raw) => promote("churn-predictor", m, raw));
        assert.match(second.result.description, /blue-green done: 2\.1\.0 becomes stable/);
        assert.equal(second.after.tracks.stable.version, "2.1.0");
    });

    it("gradual blue-green: the preview check comes with the first step only, each promote moves one step, then it concludes", () => {
        const dir = project();
        const file = path.join(dir, "Pulumi.prod.yaml");
        const text = fs.readFileSync(file, "utf8");
        const line = "strategy: {type: blueGreen, active: stable}";
        assert.ok(text.includes(line), "prod's churn-predictor is a blue-green");
        fs.writeFileSync(file, text.replace(line, "strategy: {type: blueGreen, steps: [10, 50, 100], preview: {requests: 40}}"));
        const descriptions: string[] = [];
        const weights: Array<Partial<Record<string, number>>> = [];
        const checks: unknown[] = [];
        for (let i = 0; i < 4; i++) {
            const { result, weights: w } = step(dir, "prod", "churn-predictor", (m, raw) => promote("churn-predictor", m, raw));
            descriptions.push(result.description);
            weights.push(w);
            checks.push(result.previewCheck?.requests);
        }
        assert.deepEqual(descriptions.slice(0, 3), [
            "churn-predictor: blue-green step 1/3: 2.1.0's pool from 0% to 10% (stable 2.0.1 at full size)",
            "churn-predictor: blue-green step 2/3: 2.1.0's pool from 10% to 50% (stable 2.0.1 at full size)",
            "churn-predictor: blue-green step 3/3: 2.1.0's pool from 50% to 100% (stable 2.0.1 at full size)",
        ]);
        assert.match(descriptions[3], /blue-green done: 2\.1\.0 becomes stable/);
        assert.deepEqual(weights.slice(0, 3), [
            { stable: 90, candidate: 10 },
            { stable: 50, candidate: 50 },
            { stable: 0, candidate: 100 },
        ]);
        // Only the step that sends the candidate's pool its first live request checks the preview first.
        assert.deepEqual(checks, [40, undefined, undefined, undefined]);
    });

    it("gradual blue-green: both pools stay at full size at every step, and a bad ladder is named", () => {
        const tracks = { stable: { version: "1.0.0", image: "r/m:1", replicas: 3 }, candidate: { version: "1.1.0", image: "r/m:2", replicas: 3 } };
        const model = (strategy: Record<string, unknown>) => ({ artifact: "model-server/models/fraud-scorer", tracks, strategy: { type: "blueGreen", ...strategy } });
        for (const step of [undefined, 0, 1]) {
            const config = parseConfig(dockerConfig({ m: model({ steps: [25, 100], ...(step === undefined ? {} : { step }) }) }), "dev");
            assert.deepEqual(
                planTraffic("m", config.models.m).tracks.map((t) => [t.track, t.weight, t.replicas]),
                [
                    ["stable", step === undefined ? 100 : step === 0 ? 75 : 0, 3],
                    ["candidate", step === undefined ? 0 : step === 0 ? 25 : 100, 3],
                ],
            );
        }
        const issues = (strategy: Record<string, unknown>) => {
            try {
                parseConfig(dockerConfig({ m: model(strategy) }), "dev");
                return [];
            } catch (error) {
                return String((error as Error).message)
                    .split("\n")
                    .filter((l) => l.includes("models.m.strategy"));
            }
        };
        assert.match(issues({ steps: [50, 25, 100] }).join(" "), /models\.m\.strategy\.steps.*strictly increasing/);
        assert.match(issues({ steps: [25, 50] }).join(" "), /models\.m\.strategy\.steps.*a last step of 100, e\.g\. \[25, 50, 100\]/);
        assert.match(issues({ step: 0 }).join(" "), /models\.m\.strategy\.step.*no step without strategy\.steps/);
        assert.match(issues({ steps: [25, 100], step: 2 }).join(" "), /models\.m\.strategy\.step.*0\.\.1/);
        assert.match(issues({ steps: [25, 100], active: "candidate" }).join(" "), /models\.m\.strategy\.active.*moves traffic with strategy\.step/);
    });

    it("scaleDownDelaySeconds: promote waits that long after the last update, so the pool that lost traffic stays warm", () => {
        const tracks = { stable: { version: "1.0.0", image: "r/m:1", autoscaling: { min: 2, max: 8, targetCPU: 60 } }, candidate: { version: "1.1.0", image: "r/m:2", replicas: 2 } };
        const config = (strategy: Record<string, unknown>) => modelSchema.parse({ artifact: "s3://models/m/", tracks, strategy });
        const delayed = config({ type: "canary", steps: [10, 50, 100], step: 1, dynamicStableScale: true, scaleDownDelaySeconds: 300 });
        const ended = new Date("2026-12-03T10:00:00Z");
        assert.match(
            tooSoonToPromote("m", delayed, ended, new Date("2026-12-03T10:02:00Z")) ?? "",
            /kept warm for strategy\.scaleDownDelaySeconds \(300 s\) after the last update, which ended at 2026-12-03T10:00:00\.000Z: promote again in 180 s/,
        );
        assert.equal(tooSoonToPromote("m", delayed, ended, new Date("2026-12-03T10:05:00Z")), undefined);
        assert.equal(tooSoonToPromote("m", config({ type: "canary", steps: [10, 50, 100], step: 1 }), ended, new Date("2026-12-03T10:00:01Z")), undefined);
        // An aborted rollout has nothing to keep warm for.
        assert.equal(scaleDownDelaySeconds(config({ type: "blueGreen", scaleDownDelaySeconds: 60, abort: true })), 0);
        assert.equal(scaleDownDelaySeconds(config({ type: "blueGreen", scaleDownDelaySeconds: 60, active: "candidate" })), 60);
    });

    it("abort sends live traffic back to stable and keeps the candidate; promote then refuses; retire drops it", () => {
        const dir = project();
        const aborted = step(dir, "lab", "fraud-scorer", (m) => abort("fraud-scorer", m));
        assert.equal(aborted.result.description, "fraud-scorer: abort: all live traffic back to stable 1.4.0; candidate 1.5.0 kept warm for inspection");
        assert.deepEqual(aborted.weights, { stable: 100, candidate: 0 });
        assert.equal(aborted.after.tracks.candidate?.version, "1.5.0");
        assert.throws(() => step(dir, "lab", "fraud-scorer", (m, raw) => promote("fraud-scorer", m, raw)), /is aborted: set strategy\.abort to false to resume it, or retire the candidate/);
        assert.throws(() => step(dir, "lab", "fraud-scorer", (m) => abort("fraud-scorer", m)), /already aborted/);
        const retired = step(dir, "lab", "fraud-scorer", (m) => retire("fraud-scorer", m));
        assert.deepEqual(retired.weights, { stable: 100 });
        assert.equal(retired.after.tracks.candidate, undefined);
    });

    it("A/B test and shadow conclude to the candidate; single-pool strategies have no step", () => {
        const dir = project();
        const ab = step(dir, "prod", "ranker", (m, raw) => promote("ranker", m, raw));
        assert.match(ab.result.description, /^ranker: A\/B test concluded for the candidate: 3\.2\.0 becomes stable/);
        assert.deepEqual(ab.after.tracks.stable.featureFlags, { diversityBoost: "true" }, "the candidate's flags win");
        assert.throws(() => step(dir, "prod", "ranker", (m, raw) => promote("ranker", m, raw)), /nothing to promote/);
    });

    it("a canary allowed to end below 100 concludes from its last step, and the update's message says the jump", () => {
        const model = parseConfig(dockerConfig({ m: canaryModel({ strategy: { type: "canary", steps: [5, 25], step: 1, allowFinalStepBelow100: true } }) }), "dev").models.m;
        const concluded = promote("m", model, canaryModel());
        assert.equal(concluded.description, "m: canary done at 25%, and from 25% to 100% at once (strategy.allowFinalStepBelow100): 1.5.0 becomes stable (was 1.4.0); the candidate track is dropped");
        assert.deepEqual(
            concluded.edits.find((e) => e.path.join(".") === "strategy"),
            { path: ["strategy"], value: { type: "rolling" } },
        );
    });

    it("rollback --to: the newest update that ran the version gives its track; it becomes stable, alone", () => {
        const ref = (hex: string) => `registry.example/fraud-scorer@sha256:${hex.repeat(64)}`;
        const models = (tracks: Record<string, unknown>) => ({ "modelship:models": { value: JSON.stringify({ "fraud-scorer": { tracks } }) }, "modelship:environment": { value: "prod" } });
        const history = [
            models({ stable: { version: "1.4.0", image: ref("b") }, candidate: { version: "1.5.0", image: ref("c"), featureFlags: { calibratedScores: true } } }),
            models({ stable: { version: "1.3.2", image: ref("d"), replicas: 9 } }),
            models({ stable: { version: "1.3.2", image: ref("e") } }),
            { "modelship:environment": { value: "prod" } },
        ];
        assert.deepEqual(trackFromHistory(history, "fraud-scorer", "1.3.2"), { version: "1.3.2", image: ref("d"), replicas: 9 });
        assert.throws(
            () => trackFromHistory(history, "fraud-scorer", "0.9.0"),
            /version 0\.9\.0 of model fraud-scorer is in none of the stack's 4 recorded updates; it has run 1\.3\.2, 1\.4\.0, 1\.5\.0/,
        );

        const dir = project();
        const { result, after, weights } = step(dir, "prod", "fraud-scorer", (m, raw) => rollbackTo("fraud-scorer", m, raw, trackFromHistory(history, "fraud-scorer", "1.3.2")));
        assert.equal(result.description, "fraud-scorer: roll back to 1.3.2 as stable (was 1.4.0, candidate 1.5.0 dropped)");
        assert.equal(after.tracks.stable.version, "1.3.2");
        assert.deepEqual(after.tracks.stable.source, { image: ref("d") });
        assert.equal(after.tracks.stable.replicas, 4, "the current stable size, not the old one");
        assert.deepEqual(weights, { stable: 100 });
    });

    it("a concluding promote copies a candidate whose build is a YAML alias of stable's as the values the anchor holds", () => {
        const dir = project();
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.writeFileSync(
            file,
            [
                "config:",
                "  modelship:environment: dev",
                "  modelship:targets: {local: {type: docker, port: 8080, routerImage: nginx:1.27-bookworm}}",
                "  modelship:registry: {type: local}",
                "  modelship:models:",
                "    fraud-scorer:",
                "      artifact: model-server/models/fraud-scorer",
                "      tracks:",
                "        stable: {version: 1.4.0, build: &server {context: model-server}}",
                "        candidate: {version: 1.5.0, build: *server}",
                "      strategy: {type: canary, steps: [100], step: 0}",
                "",
            ].join("\n"),
        );
        const { after } = step(dir, "dev", "fraud-scorer", (m, raw) => promote("fraud-scorer", m, raw));
        assert.equal(after.tracks.stable.version, "1.5.0");
        assert.deepEqual(after.tracks.stable.source, { build: { context: "model-server", args: {} } });
    });

    it("an unknown model or stack is named with what there is", () => {
        const dir = project();
        assert.throws(() => StackFile.read(dir, "staging"), /no stack file Pulumi\.staging\.yaml; the stacks here are: dev, lab, prod/);
        assert.throws(() => StackFile.read(dir, "prod").rawModel("nope"), /no model nope in .*Pulumi\.prod\.yaml; its models are: fraud-scorer, churn-predictor, ranker, price-estimator/);
    });

    it("a stack file that is not valid YAML is named with the line and column, as the offline tools name it", () => {
        const dir = project();
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.writeFileSync(file, "config:\n  modelship:environment: dev\n  modelship:models: {fraud-scorer: [\n");
        assert.throws(
            () => StackFile.read(dir, "dev"),
            (error: Error) => error.message.startsWith(`${file}:`) && /^:\d+:\d+: invalid YAML: /.test(error.message.slice(file.length)),
        );
    });
});
