/**
 * The smoke gate's checks (model-server/src/smoke/checks.ts), each against the bad answer it
 * exists for, and the one program behind both the local gate command and the Kubernetes Job.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { smokeCommand, SMOKE_PROGRAM, type SmokeCheck } from "../../components/targets/kubernetes/smoke-job";
import { checkInfer, checkReady, checkV1Deprecation, checkVersion, type Answer, type CheckOutcome, type Expected } from "../../model-server/src/smoke/checks";
import { parseSmokeArgv } from "../../model-server/src/smoke/main";
import { SMOKE_FLAGS, smokeSettings } from "../../model-server/src/smoke/settings";
import { parseFlags } from "../../tools/command-line";
import { findProjectDir } from "../../tools/render";

const expected: Expected = {
    model: "fraud-scorer",
    version: "1.5.0",
    rows: [
        [1, 2],
        [3, 4],
    ],
    min: 0,
    max: 1,
};
const INFER = "http://s/v2/models/fraud-scorer/infer";
const V1 = "http://s/v1/models/fraud-scorer:predict";

function answer(body: unknown, headers: Record<string, string> = {}, status = 200): Answer {
    return { status, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body: typeof body === "string" ? body : JSON.stringify(body) };
}

function problem(outcome: CheckOutcome): string {
    assert.equal(outcome.passed, false, `expected a failure, got ${JSON.stringify(outcome)}`);
    return (outcome as { problem: string }).problem;
}

function detail(outcome: CheckOutcome): string {
    assert.equal(outcome.passed, true, `expected a pass, got ${JSON.stringify(outcome)}`);
    return (outcome as { detail: string }).detail;
}

const goodInfer = () => ({ model_name: "fraud-scorer", model_version: "1.5.0", outputs: [{ name: "probability", shape: [2], datatype: "FP32", data: [0.25, 0.75] }] });
const V1_HEADERS = { Deprecation: "true", Sunset: "Wed, 01 Jul 2026 00:00:00 GMT", Link: '</v2/models/fraud-scorer/infer>; rel="successor-version"' };
const goodV1 = () => answer({ predictions: [0.25, 0.75], model_version: "1.5.0" }, V1_HEADERS);

describe("smoke checks (pure)", () => {
    describe("ready", () => {
        it("passes a 200 and fails any other answer, saying what came back", () => {
            detail(checkReady(answer("", {}, 200)));
            assert.equal(problem(checkReady(answer({ ready: false }, {}, 503))), '503 {"ready":false}');
        });
    });

    describe("infer", () => {
        it("passes the expected version with every value in range, one row per input row", () => {
            assert.equal(detail(checkInfer(answer(goodInfer()), expected, INFER)), "2 rows, 0.25..0.75");
        });

        it("fails another version", () => {
            assert.equal(problem(checkInfer(answer({ ...goodInfer(), model_version: "1.4.0" }), expected, INFER)), 'model_version is "1.4.0", expected --version "1.5.0"');
        });

        it("fails values out of range, or not numbers, naming each", () => {
            const outputs = [{ name: "probability", shape: [2], data: [1.5, "x"] }];
            assert.equal(problem(checkInfer(answer({ ...goodInfer(), outputs }), expected, INFER)), 'output values outside [0, 1]: probability[0] = 1.5, probability[1] = "x"');
        });

        it("fails an answer with another number of rows, or no outputs, or no JSON, or not 200", () => {
            assert.match(problem(checkInfer(answer({ ...goodInfer(), outputs: [{ name: "p", shape: [3], data: [0.1, 0.2, 0.3] }] }), expected, INFER)), /outputs\[0\]\.shape is \[3\] for 2 rows/);
            assert.equal(problem(checkInfer(answer({ model_version: "1.5.0", outputs: [] }), expected, INFER)), `POST ${INFER}: the answer has no outputs`);
            assert.match(problem(checkInfer(answer("<html>"), expected, INFER)), /the answer is not JSON: <html>/);
            assert.equal(problem(checkInfer(answer({ error: "no" }, {}, 404), expected, INFER)), `POST ${INFER} answered 404 {"error":"no"}`);
        });
    });

    describe("v1 deprecation", () => {
        it("passes the legacy route's answer with its deprecation headers and a Link to the v2 route", () => {
            assert.match(detail(checkV1Deprecation(goodV1(), expected, V1)), /^2 instances, 0\.25\.\.0\.75; Deprecation: true, Sunset: .+ GMT, Link: <\/v2\/models\/fraud-scorer\/infer>/);
        });

        it("fails without Deprecation, without Sunset, without a Link or with one elsewhere", () => {
            const without = (name: keyof typeof V1_HEADERS) => answer({ predictions: [0.25, 0.75] }, Object.fromEntries(Object.entries(V1_HEADERS).filter(([k]) => k !== name)));
            assert.match(problem(checkV1Deprecation(without("Deprecation"), expected, V1)), /no Deprecation header/);
            assert.match(problem(checkV1Deprecation(without("Sunset"), expected, V1)), /no Sunset header/);
            assert.match(problem(checkV1Deprecation(without("Link"), expected, V1)), /Link is missing, expected one to \/v2\/models\/fraud-scorer\/infer/);
            const elsewhere = answer({ predictions: [0.25, 0.75] }, { ...V1_HEADERS, Link: '</v2/models/other/infer>; rel="successor-version"' });
            assert.match(problem(checkV1Deprecation(elsewhere, expected, V1)), /Link is "<\/v2\/models\/other\/infer>; rel=\\"successor-version\\"", expected one to/);
        });

        it("fails predictions out of range, or one per instance missing, or another version", () => {
            assert.match(problem(checkV1Deprecation(answer({ predictions: [0.25, 2] }, V1_HEADERS), expected, V1)), /predictions outside \[0, 1\]: predictions\[1\] = 2/);
            assert.match(problem(checkV1Deprecation(answer({ predictions: [0.25] }, V1_HEADERS), expected, V1)), /1 predictions for 2 instances/);
            assert.match(
                problem(checkV1Deprecation(answer({ predictions: [0.25, 0.75], model_version: "1.4.0" }, V1_HEADERS), expected, V1)),
                /model_version is "1\.4\.0", expected --version "1\.5\.0"/,
            );
        });
    });

    describe("version", () => {
        const withVersion = (v?: string) => answer({}, v === undefined ? {} : { "X-Model-Version": v });

        it("passes when every answer names the expected version", () => {
            assert.equal(
                detail(
                    checkVersion(
                        [
                            { check: "infer", answer: withVersion("1.5.0") },
                            { check: "v1", answer: withVersion("1.5.0") },
                        ],
                        "1.5.0",
                    ),
                ),
                "X-Model-Version 1.5.0 on infer and v1",
            );
        });

        it("fails an answer from another version, or without the header, naming it; and when there was no answer", () => {
            assert.equal(
                problem(
                    checkVersion(
                        [
                            { check: "infer", answer: withVersion("1.5.0") },
                            { check: "v1", answer: withVersion("1.4.0") },
                        ],
                        "1.5.0",
                    ),
                ),
                'X-Model-Version is "1.4.0" on the v1 answer, expected --version "1.5.0"',
            );
            assert.match(problem(checkVersion([{ check: "infer", answer: withVersion() }], "1.5.0")), /X-Model-Version is null on the infer answer/);
            assert.match(problem(checkVersion([], "1.5.0")), /no answer carried an X-Model-Version header/);
        });
    });
});

describe("one smoke program for the local gate command and the Kubernetes Job", () => {
    const projectDir = findProjectDir();
    const request = fs.readFileSync(path.join(projectDir, "model-server", "models", "fraud-scorer", "smoke-request.json"), "utf8");
    const check: SmokeCheck = { url: "http://fraud-scorer-candidate.models.svc.cluster.local:80", model: "fraud-scorer", version: "1.5.0", request, min: -0.5, max: 0.995, timeoutMs: 120000 };

    it("the Job runs the smoke program the model-server package compiles (and its image ships)", () => {
        const [node, program] = smokeCommand(check);
        assert.deepEqual([node, program], ["node", SMOKE_PROGRAM]);
        assert.equal(SMOKE_PROGRAM, path.join("dist", "src", "smoke", "main.js"));
        assert.ok(fs.existsSync(path.join(projectDir, "model-server", "src", "smoke", "main.ts")), "the entry point's source is in the package the Dockerfile builds");
        assert.ok(fs.existsSync(path.join(projectDir, "model-server", SMOKE_PROGRAM)), "npm run build compiled it where the image's working directory has it");
        assert.match(fs.readFileSync(path.join(projectDir, "model-server", "Dockerfile"), "utf8"), /COPY --from=build \/app\/dist \.\/dist/);
    });

    it("the Job's command gives the settings the local command's flags give (a negative bound and inline JSON included), one attempt per request", () => {
        const job = smokeSettings(parseSmokeArgv(smokeCommand(check).slice(2)));
        const local = smokeSettings(
            parseFlags(
                [
                    "--url",
                    check.url,
                    "--model",
                    check.model,
                    "--version",
                    check.version,
                    "--input",
                    request,
                    "--expect-min",
                    "-0.5",
                    "--expect-max",
                    "0.995",
                    "--timeout-ms",
                    "120000",
                    "--retries",
                    "0",
                ],
                SMOKE_FLAGS,
            ).values,
        );
        assert.deepEqual(job, local);
        assert.equal(job.retries, 0, "the Job's backoffLimit re-runs the whole check");
    });
});
