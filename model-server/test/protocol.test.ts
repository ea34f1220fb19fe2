import { strict as assert } from "assert";
import { describe as describeValue } from "../src/model";
import { MAX_JSON_DEPTH, parseInferRequest, parseJson, parseV1Request, ProtocolError } from "../src/protocol";

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
        [
            "a short nested row",
            body({
                data: [
                    [1, 2, 3, 4],
                    [5, 6, 7],
                ],
            }),
            /data\[1\] has 3 values/,
        ],
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

    it("answers 400 to a body that is not UTF-8", () => {
        rejects(() => parseJson(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, /not valid UTF-8/);
        assert.deepEqual(parseJson(Buffer.from('{"id":"é"}')), { id: "é" });
    });

    it(`answers 400 to JSON nested deeper than ${MAX_JSON_DEPTH} levels, whatever its shape, and counts brackets inside strings as text`, () => {
        const arrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
        assert.deepEqual(parseJson(arrays(MAX_JSON_DEPTH)), JSON.parse(arrays(MAX_JSON_DEPTH)));
        const bracketsInText = { id: `${"[{".repeat(100)}"\\`, parameters: { note: "]]]}}}" } };
        assert.deepEqual(parseJson(JSON.stringify(bracketsInText)), bracketsInText);
        for (const depth of [MAX_JSON_DEPTH + 1, 5_000, 500_000]) {
            rejects(() => parseJson(arrays(depth)), 400, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels deep`));
            rejects(() => parseJson('{"inputs":' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "}"), 400, /nested more than/);
            rejects(() => parseJson("[".repeat(depth)), 400, /nested more than/);
        }
    });

    it("describes any value in at most 60 characters, however deep or large it is", () => {
        let deep: unknown = [];
        for (let i = 0; i < 100_000; i++) deep = [deep];
        let deepObject: unknown = 1;
        for (let i = 0; i < 100_000; i++) deepObject = { a: deepObject };
        for (const value of [deep, deepObject, "x".repeat(1_000_000), Array.from({ length: 100_000 }, (_, i) => i), { a: 1, b: [true, null, "s"] }]) {
            const text = describeValue(value);
            assert.ok(text.length <= 60, `${text.length} characters`);
        }
        assert.match(describeValue(deep), /^\[\[\[\[.*\.\.\.$/);
        assert.match(describeValue(deepObject), /^\{"a":\{"a":.*\.\.\.$/);
        assert.equal(describeValue({ a: 1, b: [true, null, "s"] }), '{"a":1,"b":[true,null,"s"]}');
        assert.equal(describeValue(undefined), "missing");
        assert.equal(describeValue(-0.5), "-0.5");
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
