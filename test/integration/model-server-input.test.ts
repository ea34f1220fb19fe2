/**
 * Bad input against the real model server process: whatever a client sends, the answer is a 2xx
 * or a 4xx, never a 5xx, and nothing of it reaches modelship_request_errors_total, the counter a
 * rollout's error rate (and so an automatic rollback) is computed from.
 */
import { strict as assert } from "assert";
import fc from "fast-check";
import * as http from "http";
import { MODEL, startModelServer, stopAll, sumMetric, type ModelServerProcess } from "../support/model-server";

const ROUTES = [`/v2/models/${MODEL}/infer`, `/v2/models/${MODEL}/versions/1.4.0/infer`, `/v1/models/${MODEL}:predict`] as const;
/** Bounded: each run is one request on loopback. */
const RUNS = 200;
/** The deepest nesting sent: 100,000 levels is 200 kB of brackets, under the 1 MiB body limit. */
const MAX_DEPTH = 100_000;

interface Reply {
    readonly status: number;
    readonly body: string;
}

/** One POST on a fresh connection, with the body's bytes exactly as given. */
function post(port: number, path: string, body: Uint8Array): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: "127.0.0.1", port, path, method: "POST", agent: false, timeout: 10_000, headers: { "content-type": "application/json", "content-length": body.length } },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within 10 s to POST ${path}`)));
        req.on("error", reject);
        req.end(body);
    });
}

function get(port: number, path: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path, agent: false, timeout: 10_000 }, (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        }).on("error", reject);
    });
}

const tensor = (data: unknown, shape: unknown = [1, 4], datatype: unknown = "FP32") => ({ name: "features", shape, datatype, data });

/** `depth` arrays or objects, one inside the other, around `core`. */
function nested(kind: "array" | "object" | "mixed", depth: number, core = ""): string {
    const open = kind === "array" ? "[" : kind === "object" ? '{"a":' : '[{"a":';
    const close = kind === "array" ? "]" : kind === "object" ? "}" : "}]";
    const levels = kind === "mixed" ? Math.ceil(depth / 2) : depth;
    return open.repeat(levels) + (core || (kind === "array" ? "" : "1")) + close.repeat(levels);
}

/** Where a deep structure sits in an otherwise well-formed request. */
const placements: readonly ((deep: string) => string)[] = [
    (deep) => deep,
    (deep) => `{"inputs":${deep}}`,
    (deep) => `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":${deep}}]}`,
    (deep) => `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"parameters":{"x":${deep}}}`,
    (deep) => `{"id":${deep},"inputs":[]}`,
    (deep) => `{"instances":${deep}}`,
    (deep) => `{"instances":[${deep}]}`,
];

const deepBody = fc
    .record({
        kind: fc.constantFrom("array" as const, "object" as const, "mixed" as const),
        depth: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 4_000, max: MAX_DEPTH }), fc.constant(MAX_DEPTH)),
        place: fc.integer({ min: 0, max: placements.length - 1 }),
        unclosed: fc.boolean(),
    })
    .map(({ kind, depth, place, unclosed }) => {
        const text = placements[place](nested(kind, depth));
        return unclosed ? text.slice(0, Math.ceil(text.length / 2)) : text;
    });

const hugeNumber = fc.constantFrom("1e400", "-1e400", "1e39", "123456789012345678901234567890", "9007199254740993", "-0", "1e-400", "0.0000000000000000000000000000000001");
const hugeNumbers = fc
    .record({ values: fc.array(hugeNumber, { minLength: 4, maxLength: 4 }), datatype: fc.constantFrom("FP32", "FP64", "INT32", "INT64"), v1: fc.boolean() })
    .map(({ values, datatype, v1 }) => (v1 ? `{"instances":[[${values.join(",")}]]}` : `{"inputs":[{"name":"features","shape":[1,4],"datatype":"${datatype}","data":[${values.join(",")}]}]}`));

/** A valid request with one field replaced by any JSON value (wrong types, wrong shapes, nulls). */
const wrongTypes = fc
    .record({ field: fc.constantFrom("inputs", "name", "shape", "datatype", "data", "id", "parameters", "outputs", "instances"), value: fc.jsonValue({ maxDepth: 6 }) })
    .map(({ field, value }) => {
        if (field === "instances") return JSON.stringify({ instances: value });
        if (field === "inputs" || field === "id" || field === "parameters" || field === "outputs") return JSON.stringify({ inputs: [tensor([1, 2, 3, 4])], [field]: value });
        return JSON.stringify({ inputs: [{ ...tensor([1, 2, 3, 4]), [field]: value }] });
    });

/** Text of a valid request cut or spliced with invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate, 0xFF). */
const invalidUtf8 = fc.record({ at: fc.nat(), bytes: fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xc3]) }).map(({ at, bytes }) => {
    const text = Buffer.from(JSON.stringify({ id: "abcdefgh", inputs: [tensor([1, 2, 3, 4])] }));
    const cut = at % (text.length + 1);
    return Buffer.concat([text.subarray(0, cut), Buffer.from(bytes), text.subarray(cut)]);
});

interface Body {
    readonly kind: string;
    readonly bytes: Buffer;
}

/** A body that prints as its kind, size and first bytes (a counterexample can be 200 kB). */
function labelled(kind: string, bytes: Buffer): Body {
    return { kind, bytes, [fc.toStringMethod]: () => `${kind}, ${bytes.length} bytes: ${JSON.stringify(bytes.subarray(0, 120).toString("latin1"))}` } as Body;
}

const body: fc.Arbitrary<Body> = fc.oneof(
    deepBody.map((text) => labelled("deeply nested", Buffer.from(text))),
    fc.uint8Array({ maxLength: 4096 }).map((bytes) => labelled("random bytes", Buffer.from(bytes))),
    fc.string({ unit: "binary", maxLength: 512 }).map((text) => labelled("random text", Buffer.from(text))),
    fc.jsonValue({ maxDepth: 8 }).map((value) => labelled("random JSON", Buffer.from(JSON.stringify(value) ?? "null"))),
    hugeNumbers.map((text) => labelled("huge numbers", Buffer.from(text))),
    wrongTypes.map((text) => labelled("a field of the wrong type", Buffer.from(text))),
    invalidUtf8.map((bytes) => labelled("invalid UTF-8", bytes)),
);

describe("model server process: malformed input of any shape", function () {
    this.timeout(180_000);
    let server: ModelServerProcess;

    before(async () => {
        server = await startModelServer({ track: "stable", version: "1.4.0" });
    });
    after(stopAll);

    it(`answers ${RUNS} random and deeply nested bodies (up to ${MAX_DEPTH.toLocaleString("en")} levels) with a 2xx or 4xx, counts none as a server error, and stays ready`, async () => {
        const errorsBefore = sumMetric(await server.metrics(), "modelship_request_errors_total");
        const statuses = new Map<number, number>();
        await fc.assert(
            fc.asyncProperty(body, fc.constantFrom(...ROUTES), async ({ bytes }, route) => {
                const reply = await post(server.port, route, bytes);
                statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
                assert.ok(reply.status === 200 || (reply.status >= 400 && reply.status < 500), `POST ${route} answered ${reply.status}: ${reply.body.slice(0, 300)}\n${server.diagnostics()}`);
                if (reply.status !== 200) assert.equal(typeof (JSON.parse(reply.body) as { error?: unknown }).error, "string", reply.body.slice(0, 300));
                assert.ok(server.running, `the server process exited\n${server.diagnostics()}`);
            }),
            { numRuns: RUNS },
        );
        assert.ok(server.running, `the server process exited\n${server.diagnostics()}`);
        assert.equal((await get(server.port, "/v2/health/ready")).status, 200, "still ready");
        assert.equal(sumMetric(await server.metrics(), "modelship_request_errors_total"), errorsBefore, `server errors counted; statuses seen: ${JSON.stringify([...statuses])}`);
        assert.ok(
            [...statuses.keys()].some((status) => status >= 400),
            `the bodies reached validation: ${JSON.stringify([...statuses])}`,
        );
    });
});
