/**
 * ONNX models: the manifest's rules, the shipped fraud-scorer 2.0.0 (a scikit-learn logistic
 * regression converted with skl2onnx by scripts/make-onnx-model.py) loaded with onnxruntime, its
 * Open Inference Protocol metadata read from the file, and the real server process answering with it.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { ArtifactError } from "../src/model";
import { describeOnnxModel, validateOnnxManifest, type OnnxManifest } from "../src/onnx-model";
import { loadServedModel } from "../src/served-model";
import { MODELS_DIR, request, startServer, stopAll, waitForStatus } from "./support/process";

const ONNX_VERSION = "2.0.0";
const expected = { name: "fraud-scorer", version: ONNX_VERSION };
const shippedDir = path.join(MODELS_DIR, "fraud-scorer", ONNX_VERSION);
const SMOKE_ROWS = [
    [-0.5, 0.1, 0.3, -0.4],
    [1.2, 0.9, -0.3, 2.0],
];

after(stopAll);

describe("ONNX manifests", () => {
    const manifest = { format: "modelship-onnx/v1", name: "m", version: "1", file: "model.onnx", sha256: "a".repeat(64), score: { output: "probabilities", column: 1 } };

    it("reads a manifest and names each broken field with what it should be", () => {
        assert.deepEqual(validateOnnxManifest(manifest), { name: "m", version: "1", file: "model.onnx", sha256: "a".repeat(64), score: { output: "probabilities", column: 1 } });
        const problems: Array<[Record<string, unknown>, RegExp]> = [
            [{ file: "../model.onnx" }, /file is "\.\.\/model\.onnx": expected the ONNX file's name beside model\.json/],
            [{ file: "sub/model.onnx" }, /file is "sub\/model\.onnx"/],
            [{ sha256: "xyz" }, /sha256 is "xyz": expected the file's SHA-256 in hex \(`sha256sum model\.onnx`\)/],
            [{ score: "probabilities" }, /score is "probabilities": expected \{"output"/],
            [{ score: { output: "probabilities", column: -1 } }, /score\.column is -1/],
            [{ featureNames: ["a", ""] }, /featureNames is .*expected non-empty strings/],
        ];
        for (const [change, message] of problems) assert.throws(() => validateOnnxManifest({ ...manifest, ...change }), message, JSON.stringify(change));
    });

    it("refuses models the server cannot feed or score, from what the runtime reports", () => {
        const valid: OnnxManifest = validateOnnxManifest(manifest);
        const input = { name: "features", isTensor: true, type: "float32", shape: ["", 4] };
        const outputs = [
            { name: "label", isTensor: true, type: "int64", shape: [""] },
            { name: "probabilities", isTensor: true, type: "float32", shape: ["", 2] },
        ];
        assert.deepEqual(describeOnnxModel(valid, [input], outputs), {
            inputName: "features",
            size: 4,
            inputDatatype: "FP32",
            outputs: [
                { name: "label", datatype: "INT64", shape: [-1] },
                { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
            ],
        });
        assert.throws(() => describeOnnxModel(valid, [input, { ...input, name: "extra" }], outputs), /has 2 inputs \(features, extra\): the server feeds one/);
        assert.throws(() => describeOnnxModel(valid, [{ ...input, shape: ["", ""] }], outputs), /expected \[rows, features\] with a fixed number of features/);
        assert.throws(() => describeOnnxModel(valid, [{ ...input, type: "string" }], outputs), /input features is string: expected float32 or float64 features/);
        assert.throws(
            () => describeOnnxModel(valid, [input], [{ name: "label", isTensor: true, type: "string", shape: [""] }, outputs[1]!]),
            /output label is string: the server answers numeric tensors/,
        );
        assert.throws(() => describeOnnxModel({ ...valid, score: { output: "proba" } }, [input], outputs), /score\.output is "proba", but model\.onnx's outputs are label, probabilities/);
        assert.throws(() => describeOnnxModel({ ...valid, score: { output: "label" } }, [input], outputs), /score\.output label is INT64: the score must be a floating-point output/);
        assert.throws(() => describeOnnxModel({ ...valid, score: { output: "probabilities", column: 2 } }, [input], outputs), /score\.column 2 is outside probabilities's shape \[-1,2\]/);
        assert.throws(() => describeOnnxModel({ ...valid, featureNames: ["a", "b"] }, [input], outputs), /featureNames has 2 names but model\.onnx takes 4 features/);
    });
});

describe("the shipped ONNX model (fraud-scorer 2.0.0)", () => {
    it("loads with onnxruntime; its metadata comes from the file; scores are the positive class's probability", async () => {
        const { model, path: file } = await loadServedModel(path.join(MODELS_DIR, "fraud-scorer"), expected);
        assert.equal(file, path.join(shippedDir, "model.json"));
        assert.deepEqual([model.platform, model.inputName, model.size, model.inputDatatype], ["onnxruntime", "features", 4, "FP32"]);
        assert.deepEqual(model.outputs, [
            { name: "label", datatype: "INT64", shape: [-1] },
            { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
        ]);
        const { scores, outputs } = await model.run(SMOKE_ROWS);
        const [label, probabilities] = outputs;
        assert.deepEqual(probabilities!.shape, [2, 2]);
        assert.deepEqual(label!.shape, [2]);
        scores.forEach((score, r) => {
            assert.ok(score > 0 && score < 1, `row ${r}: ${score}`);
            assert.equal(score, probabilities!.data[2 * r + 1]);
            assert.ok(Math.abs(probabilities!.data[2 * r]! + score - 1) < 1e-6, "the two classes' probabilities add up to 1");
            assert.equal(label!.data[r], score > 0.5 ? 1 : 0);
        });
        // Trained on labels drawn with merchant_risk's weight 1.5: more risk scores higher.
        const risk = await model.run([0, 1, 2].map((r) => [0, r, 0, 0]));
        assert.ok(risk.scores[0]! < risk.scores[1]! && risk.scores[1]! < risk.scores[2]!, JSON.stringify(risk.scores));
    });

    it("refuses a model file that does not match the checksum its manifest records, and one that is not there", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "onnx-test-"));
        try {
            const version = path.join(dir, ONNX_VERSION);
            await fs.cp(shippedDir, version, { recursive: true });
            const onnx = await fs.readFile(path.join(version, "model.onnx"));
            onnx.writeUInt8(onnx.readUInt8(onnx.length - 1) ^ 0xff, onnx.length - 1);
            await fs.writeFile(path.join(version, "model.onnx"), onnx);
            const tampered = await loadServedModel(dir, expected).then(
                () => assert.fail("loaded a tampered file"),
                (e: unknown) => e,
            );
            assert.ok(tampered instanceof ArtifactError);
            assert.match(tampered.problem, /file model\.onnx has sha256 [0-9a-f]{64}, but the manifest records ae0d034b/);
            await fs.rm(path.join(version, "model.onnx"));
            await assert.rejects(loadServedModel(dir, expected), /file model\.onnx is not beside it/);
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });

    it("the real server answers it over the Open Inference Protocol: metadata from the file, both outputs, v1 predictions, score metrics", async () => {
        const server = await startServer({ MODEL_VERSION: ONNX_VERSION });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const metadata = await request(server.base, "GET", "/v2/models/fraud-scorer");
        assert.deepEqual(metadata.body, {
            name: "fraud-scorer",
            versions: [ONNX_VERSION],
            platform: "onnxruntime",
            inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
            outputs: [
                { name: "label", datatype: "INT64", shape: [-1] },
                { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
            ],
        });
        const smoke = JSON.parse(await fs.readFile(path.join(MODELS_DIR, "fraud-scorer", "smoke-request.json"), "utf8")) as object;
        const answer = await request(server.base, "POST", "/v2/models/fraud-scorer/infer", smoke);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.model_version, ONNX_VERSION);
        assert.deepEqual(
            answer.body.outputs.map((o: { name: string; shape: number[]; datatype: string }) => [o.name, o.datatype, o.shape]),
            [
                ["label", "INT64", [2]],
                ["probabilities", "FP32", [2, 2]],
            ],
        );
        const asked = await request(server.base, "POST", "/v2/models/fraud-scorer/infer", { ...smoke, outputs: [{ name: "nope" }] });
        assert.equal(asked.status, 400);
        assert.match(asked.body.error, /the model's outputs are "label", "probabilities"/);
        const v1 = await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: SMOKE_ROWS });
        assert.equal(v1.status, 200, v1.text);
        const probabilities = answer.body.outputs[1].data as number[];
        assert.deepEqual(v1.body.predictions, [probabilities[1], probabilities[3]]);
        const metrics = (await request(server.base, "GET", "/metrics")).text;
        // Two rows answered on each route: four scores observed.
        assert.equal(
            Number(/^modelship_prediction_score_count\{[^}]*version="2\.0\.0"[^}]*\} (\S+)$/m.exec(metrics)?.[1]),
            4,
            metrics
                .split("\n")
                .filter((l) => l.startsWith("modelship_prediction_score_count"))
                .join("\n"),
        );
        const loaded = server.logs.find((l) => l.event === "model_loaded");
        assert.equal(loaded?.platform, "onnxruntime");
    });
});

describe("fetch-artifact: an ONNX version", () => {
    const CLI = path.resolve(__dirname, "..", "src", "fetch-artifact.js");
    const run = (args: string[]) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir() }, stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
            child.on("close", (code) => resolve({ code, stderr }));
        });

    it("writes the model file the manifest names beside model.json, each verified; a model file that does not match is refused and nothing written", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "onnx-fetch-"));
        try {
            const dest = path.join(dir, "dest");
            const ok = await run(["--source", path.join(MODELS_DIR, "fraud-scorer"), "--version", ONNX_VERSION, "--dest", dest]);
            assert.equal(ok.code, 0, ok.stderr);
            for (const file of ["model.json", "model.onnx"]) assert.deepEqual(await fs.readFile(path.join(dest, ONNX_VERSION, file)), await fs.readFile(path.join(shippedDir, file)), file);
            const source = path.join(dir, "source");
            await fs.cp(shippedDir, path.join(source, ONNX_VERSION), { recursive: true });
            await fs.appendFile(path.join(source, ONNX_VERSION, "model.onnx"), "x");
            const other = path.join(dir, "other");
            const bad = await run(["--source", source, "--version", ONNX_VERSION, "--dest", other]);
            assert.equal(bad.code, 1);
            assert.match(bad.stderr, /model\.onnx does not match the sha256 its manifest records/);
            assert.deepEqual(await fs.readdir(other).catch(() => []), []);
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });
});
