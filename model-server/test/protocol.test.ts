import { strict as assert } from "assert";
import { parseInferRequest, parseJson, parseV1Request, ProtocolError } from "../src/protocol";

const model = { name: "fraud-scorer", inputName: "features", size: 4 };
const tensor = (overrides: Record<string, unknown> = {}) => ({ name: "features", shape: [2, 4], datatype: "FP32", data: [1, 2, 3, 4, 5, 6, 7, 8], ...overrides });
const body = (overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ inputs: [tensor(overrides)], ...extra });

function rejects(fn: () => unknown, status: number, message: RegExp): void {
    assert.throws(fn, (error: unknown) => {
        assert.ok(error instanceof ProtocolError, String(error));
        assert.equal(error.status, status);
        assert.match(error.message, message);
        return true;
    });
}

describe("request validation (v2 infer)", () => {
    it("reads flat row-major data into rows, and keeps the id", () => {
        assert.deepEqual(parseInferRequest(body({}, { id: "req-1" }), model), {
            id: "req-1",
            rows: [
                [1, 2, 3, 4],
                [5, 6, 7, 8],
            ],
        });
    });

    it("reads nested data, and every supported datatype", () => {
        const nested = [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
        ];
        for (const datatype of ["FP32", "FP64", "INT32", "INT64"]) {
            assert.deepEqual(parseInferRequest(body({ datatype, data: nested }), model).rows, nested);
        }
    });

    it("accepts requested outputs that name the probability, and parameters", () => {
        assert.equal(parseInferRequest(body({}, { outputs: [{ name: "probability" }], parameters: { x: 1 } }), model).rows.length, 2);
    });

    const bad: [string, unknown, RegExp][] = [
        ["a body that is not an object", [1], /must be a JSON object/],
        ["no inputs", {}, /inputs is missing/],
        ["an empty inputs array", { inputs: [] }, /expected an array with one tensor named "features"/],
        ["two tensors", { inputs: [tensor(), tensor()] }, /inputs has 2 tensors/],
        ["a wrong input name", body({ name: "x" }), /inputs\[0\]\.name is "x": model fraud-scorer has one input, "features"/],
        ["an unsupported datatype", body({ datatype: "BYTES" }), /datatype is "BYTES": expected one of FP32, FP64, INT32, INT64/],
        ["a rank-1 shape", body({ shape: [8] }), /shape is \[8\]: expected \[rows, 4\]/],
        ["a wrong feature count", body({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }), /takes 4 features per row/],
        ["zero rows", body({ shape: [0, 4], data: [] }), /at least one row/],
        ["a negative dimension", body({ shape: [-1, 4] }), /expected \[rows, 4\]/],
        ["data shorter than the shape", body({ data: [1, 2, 3] }), /has 3 values but the shape \[2, 4\] needs 8/],
        ["nested rows that disagree with the shape", body({ data: [[1, 2, 3, 4]] }), /has 1 rows but the shape says 2/],
        ["a short nested row", body({ data: [[1, 2, 3, 4], [5, 6, 7]] }), /data\[1\] has 3 values/],
        ["a string value", body({ data: [1, 2, "three", 4, 5, 6, 7, 8] }), /data\[2\] is "three": expected a number \(FP32\)/],
        ["a null value", body({ data: [1, 2, 3, null, 5, 6, 7, 8] }), /data\[3\] is null/],
        ["a boolean value", body({ data: [true, 2, 3, 4, 5, 6, 7, 8] }), /data\[0\] is true/],
        ["a fraction as INT32", body({ datatype: "INT32", data: [1.5, 2, 3, 4, 5, 6, 7, 8] }), /expected an INT32/],
        ["an FP32 out of range", body({ data: [1e39, 2, 3, 4, 5, 6, 7, 8] }), /out of range for FP32/],
        ["data that is not an array", body({ data: "1,2,3" }), /expected an array of numbers/],
        ["a numeric id", body({}, { id: 7 }), /id is 7: expected a string/],
        ["an unknown requested output", body({}, { outputs: [{ name: "logit" }] }), /the model's only output is "probability"/],
    ];
    for (const [what, request, message] of bad) {
        it(`answers 400 to ${what}`, () => rejects(() => parseInferRequest(request, model), 400, message));
    }
});

describe("request validation (JSON and v1 predict)", () => {
    it("parses JSON, and answers 400 to malformed or empty bodies", () => {
        assert.deepEqual(parseJson('{"a":1}'), { a: 1 });
        rejects(() => parseJson("{bad"), 400, /^malformed JSON/);
        rejects(() => parseJson(""), 400, /body is empty/);
    });

    it("reads v1 instances", () => {
        assert.deepEqual(parseV1Request({ instances: [[1, 2, 3, 4]] }, model), [[1, 2, 3, 4]]);
    });

    it("answers 400 to bad v1 instances", () => {
        rejects(() => parseV1Request({ inputs: [] }, model), 400, /\{"instances"/);
        rejects(() => parseV1Request({ instances: [] }, model), 400, /\{"instances"/);
        rejects(() => parseV1Request({ instances: [[1, 2, 3]] }, model), 400, /instances\[0\] is \[1,2,3\]: expected 4 numbers/);
        rejects(() => parseV1Request({ instances: [[1, 2, 3, "x"]] }, model), 400, /instances\[0\]\[3\] is "x"/);
    });
});
