import { strict as assert } from "assert";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { ArtifactError, loadModel, locateArtifact, predict, roundScore, sigmoid, validateArtifact, type Model } from "../src/model";
import { MODELS_DIR } from "./support/process";

const artifact = (overrides: Record<string, unknown> = {}) => ({
    format: "modelship-logreg/v1",
    name: "fraud-scorer",
    version: "1.4.0",
    inputs: [{ name: "features", size: 4 }],
    weights: [0.85, 1.6, -0.25, 0.7],
    bias: -0.3,
    featureNames: ["amount_zscore", "merchant_risk", "hour_sin", "velocity"],
    ...overrides,
});

describe("model math", () => {
    it("sigmoid is 1/2 at 0, 3/4 at ln 3, symmetric, and finite at the extremes", () => {
        assert.equal(sigmoid(0), 0.5);
        assert.ok(Math.abs(sigmoid(Math.log(3)) - 0.75) < 1e-15);
        assert.ok(Math.abs(sigmoid(-Math.log(3)) - 0.25) < 1e-15);
        assert.ok(Math.abs(sigmoid(2) + sigmoid(-2) - 1) < 1e-15);
        assert.equal(sigmoid(1000), 1);
        assert.equal(sigmoid(-1000), 0);
        assert.equal(sigmoid(Infinity), 1);
        assert.equal(sigmoid(-Infinity), 0);
    });

    it("predict is sigmoid(w·x + b) per row", () => {
        const model = validateArtifact(artifact());
        // Row 1: z = -0.3 + 0.85*1 + 1.6*0.5 + (-0.25)*0 + 0.7*2 = 2.75.
        // Row 2: z = -0.3 (all features 0).
        const [p1, p2] = predict(model, [
            [1, 0.5, 0, 2],
            [0, 0, 0, 0],
        ]);
        assert.ok(Math.abs(p1! - 1 / (1 + Math.exp(-2.75))) < 1e-12);
        assert.ok(Math.abs(p1! - 0.939913) < 1e-6);
        assert.ok(Math.abs(p2! - 0.425557) < 1e-6);
    });

    it("a weight of ln 3 on a one-hot row gives exactly 3/4", () => {
        const model: Model = { name: "m", version: "1", inputName: "x", size: 2, weights: [Math.log(3), 7], bias: 0 };
        assert.ok(Math.abs(predict(model, [[1, 0]])[0]! - 0.75) < 1e-15);
    });

    it("predict refuses a row of the wrong width and a score that overflows to NaN", () => {
        const model: Model = { name: "m", version: "1", inputName: "x", size: 2, weights: [1e308, -1e308], bias: 0 };
        assert.throws(() => predict(model, [[1]]), /row 0 has 1 values, the model takes 2/);
        assert.throws(() => predict(model, [[1e10, 1e10]]), RangeError);
    });

    it("roundScore keeps 4 decimals", () => {
        assert.equal(roundScore(0.939913349825), 0.9399);
        assert.equal(roundScore(0.12345), 0.1235);
        assert.equal(roundScore(1), 1);
    });
});

describe("artifact validation", () => {
    it("accepts a valid artifact", () => {
        const model = validateArtifact(artifact());
        assert.equal(model.size, 4);
        assert.equal(model.inputName, "features");
        assert.deepEqual(model.featureNames, ["amount_zscore", "merchant_risk", "hour_sin", "velocity"]);
    });

    const invalid: [string, unknown, RegExp][] = [
        ["not an object", [1, 2], /expected a JSON object/],
        ["a wrong format", artifact({ format: "onnx" }), /format is "onnx": expected "modelship-logreg\/v1"/],
        ["no name", artifact({ name: "" }), /name is "": expected a non-empty string/],
        ["no version", artifact({ version: undefined }), /version is missing/],
        [
            "two inputs",
            artifact({
                inputs: [
                    { name: "a", size: 1 },
                    { name: "b", size: 1 },
                ],
            }),
            /exactly one input/,
        ],
        ["a zero size", artifact({ inputs: [{ name: "features", size: 0 }] }), /inputs\[0\]\.size is 0/],
        ["a fractional size", artifact({ inputs: [{ name: "features", size: 2.5 }] }), /inputs\[0\]\.size is 2\.5/],
        ["too few weights", artifact({ weights: [1, 2, 3] }), /weights has 3 values but inputs\[0\]\.size is 4/],
        ["a string weight", artifact({ weights: [1, "2", 3, 4] }), /weights\[1\] is "2": expected a finite number/],
        ["an infinite weight", artifact({ weights: [1, 2, Infinity, 4] }), /weights\[2\] is Infinity: expected a finite number/],
        ["a missing bias", artifact({ bias: undefined }), /bias is missing/],
        ["a null bias", artifact({ bias: null }), /bias is null/],
        ["featureNames of the wrong length", artifact({ featureNames: ["a"] }), /featureNames must be 4 non-empty strings/],
        ["duplicate featureNames", artifact({ featureNames: ["a", "b", "a", "c"] }), /featureNames has duplicates/],
    ];
    for (const [what, raw, message] of invalid) {
        it(`rejects ${what}`, () => assert.throws(() => validateArtifact(raw), message));
    }

    it("the shipped example artifacts are valid, with different weights per version", async () => {
        const a = await loadModel(path.join(MODELS_DIR, "fraud-scorer"), { name: "fraud-scorer", version: "1.4.0" });
        const b = await loadModel(path.join(MODELS_DIR, "fraud-scorer"), { name: "fraud-scorer", version: "1.5.0" });
        assert.equal(a.path, path.join(MODELS_DIR, "fraud-scorer", "1.4.0", "model.json"));
        assert.equal(b.path, path.join(MODELS_DIR, "fraud-scorer", "1.5.0", "model.json"));
        assert.deepEqual(a.model.featureNames, ["amount_zscore", "merchant_risk", "hour_sin", "velocity"]);
        assert.deepEqual(b.model.featureNames, a.model.featureNames);
        assert.notDeepEqual(a.model.weights, b.model.weights);
    });
});

describe("artifact loading", () => {
    let dir: string;
    before(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), "model-server-test-"));
    });
    after(async () => {
        await fs.rm(dir, { recursive: true, force: true });
    });
    const write = async (relative: string, content: unknown) => {
        const file = path.join(dir, relative);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
        return file;
    };
    const expected = { name: "fraud-scorer", version: "1.4.0" };

    it("reads a file path, a file:// URL, <dir>/<version>/model.json and falls back to <dir>/model.json", async () => {
        const file = await write("direct.json", artifact());
        assert.equal((await loadModel(file, expected)).path, file);
        assert.equal((await loadModel(pathToFileURL(file).href, expected)).path, file);
        const versioned = await write("versioned/1.4.0/model.json", artifact());
        await write("versioned/model.json", artifact({ version: "0.0.1" }));
        assert.equal((await loadModel(path.join(dir, "versioned"), expected)).path, versioned);
        const flat = await write("flat/model.json", artifact());
        assert.equal((await loadModel(path.join(dir, "flat"), expected)).path, flat);
        assert.equal((await loadModel("flat", expected, dir)).path, flat, "a relative path resolves against cwd");
    });

    const failure = async (artifactPath: string, problem: RegExp, file?: string) => {
        const error = await loadModel(artifactPath, expected).then(
            () => assert.fail("expected the load to fail"),
            (e: unknown) => e,
        );
        assert.ok(error instanceof ArtifactError, String(error));
        assert.match(error.problem, problem);
        if (file) assert.equal(error.path, file);
    };

    it("names the path and the problem for each kind of broken artifact", async () => {
        await failure(path.join(dir, "missing.json"), /no such file or directory/, path.join(dir, "missing.json"));
        await fs.mkdir(path.join(dir, "empty"), { recursive: true });
        await failure(path.join(dir, "empty"), /is a directory without 1\.4\.0\/model\.json or model\.json/);
        const corrupt = await write("corrupt.json", '{"format": "modelship-logreg/v1", "weights": [1, 2');
        await failure(corrupt, /is not valid JSON/, corrupt);
        const short = await write("short.json", artifact({ weights: [1] }));
        await failure(short, /weights has 1 values but inputs\[0\]\.size is 4/, short);
        const other = await write("other-version.json", artifact({ version: "1.5.0" }));
        await failure(other, /is version "1\.5\.0" but MODEL_VERSION is "1\.4\.0"/, other);
        const otherModel = await write("other-model.json", artifact({ name: "ranker" }));
        await failure(otherModel, /is model "ranker" but MODEL_NAME is "fraud-scorer"/, otherModel);
    });

    it("refuses remote schemes and says to mount the files", async () => {
        assert.deepEqual(locateArtifact("s3://bucket/models/fraud-scorer/"), { kind: "unsupported", scheme: "s3" });
        assert.deepEqual(locateArtifact("gs://bucket/m"), { kind: "unsupported", scheme: "gs" });
        await failure("s3://bucket/models/fraud-scorer/", /"s3:\/\/" scheme is not supported.*mount the artifact's files/, "s3://bucket/models/fraud-scorer/");
    });
});
