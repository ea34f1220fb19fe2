/**
 * The Open Inference Protocol (KServe v2) request and response bodies, and the legacy v1
 * `:predict` ones. Pure: bodies in, rows of numbers out, or a ProtocolError with the HTTP status
 * and the message the client gets as {"error": "..."}.
 */
import { isUtf8 } from "buffer";
import { describe } from "./model";
import { LOGREG_PLATFORM, PROBABILITY_OUTPUT, type OutputTensor, type ServedModel } from "./served-model";

export class ProtocolError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "ProtocolError";
    }
}

/** The JSON logistic regression's output and platform (served-model.ts); an ONNX model's come from its file. */
export const OUTPUT_NAME = PROBABILITY_OUTPUT;
export const PLATFORM = LOGREG_PLATFORM;
export const DATATYPES = ["FP32", "FP64", "INT32", "INT64"] as const;
export type Datatype = (typeof DATATYPES)[number];

const FP32_MAX = 3.4028234663852886e38;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** What an inference needs from the model: its input's name and width, and the outputs a request may ask for (the logistic regression's one by default). */
export type ModelInput = Pick<ServedModel, "name" | "inputName" | "size"> & { outputs?: ServedModel["outputs"] };

export interface InferRequest {
    readonly id?: string;
    readonly rows: number[][];
}

/**
 * How deep a request body may nest. A v2 inference request needs 5 levels (body, inputs, tensor,
 * data, row); deeper bodies are refused before they are parsed, so no client can make the server
 * build (or a message describe) a structure of unbounded depth.
 */
export const MAX_JSON_DEPTH = 32;

/** Parses a request body as JSON (UTF-8, at most MAX_JSON_DEPTH levels deep), or a 400. */
export function parseJson(body: Uint8Array | string): unknown {
    const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (!isUtf8(bytes)) throw new ProtocolError(400, "the request body is not valid UTF-8: JSON must be sent as UTF-8");
    const text = bytes.toString("utf8");
    if (text.trim() === "") throw new ProtocolError(400, "the request body is empty: expected a JSON object");
    if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
        throw new ProtocolError(400, `the request body is nested more than ${MAX_JSON_DEPTH} levels deep: an inference request needs 5`);
    }
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new ProtocolError(400, `malformed JSON: ${(error as Error).message}`);
    }
}

/**
 * Whether JSON opens more than `max` arrays or objects at once; brackets inside strings are text.
 * One pass over the bytes (every byte that matters is ASCII), stopping at the first level too deep.
 */
function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < bytes.length; i++) {
        const c = bytes[i];
        if (inString) {
            if (c === 0x5c /* \ */) i++;
            else if (c === 0x22 /* " */) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
            if (++depth > max) return true;
        } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
    }
    return false;
}

/** A v2 inference request to rows of features, checked against the model's one input. */
export function parseInferRequest(body: unknown, model: ModelInput): InferRequest {
    if (!isObject(body)) throw new ProtocolError(400, `the request must be a JSON object with "inputs", got ${describe(body)}`);
    if (body.id !== undefined && typeof body.id !== "string") throw new ProtocolError(400, `id is ${describe(body.id)}: expected a string`);
    if (body.parameters !== undefined && !isObject(body.parameters)) throw new ProtocolError(400, `parameters is ${describe(body.parameters)}: expected an object`);
    if (body.outputs !== undefined) checkRequestedOutputs(body.outputs, model.outputs?.map((o) => o.name) ?? [OUTPUT_NAME]);
    if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw new ProtocolError(400, `inputs is ${describe(body.inputs)}: expected an array with one tensor named "${model.inputName}"`);
    if (body.inputs.length !== 1) throw new ProtocolError(400, `inputs has ${body.inputs.length} tensors: model ${model.name} takes one, "${model.inputName}"`);

    const input: unknown = body.inputs[0];
    if (!isObject(input)) throw new ProtocolError(400, `inputs[0] is ${describe(input)}: expected a tensor {"name","shape","datatype","data"}`);
    if (input.name !== model.inputName) throw new ProtocolError(400, `inputs[0].name is ${describe(input.name)}: model ${model.name} has one input, "${model.inputName}"`);
    if (typeof input.datatype !== "string" || !(DATATYPES as readonly string[]).includes(input.datatype)) {
        throw new ProtocolError(400, `inputs[0].datatype is ${describe(input.datatype)}: expected one of ${DATATYPES.join(", ")}`);
    }
    const datatype = input.datatype as Datatype;
    const shape = input.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
        throw new ProtocolError(400, `inputs[0].shape is ${describe(shape)}: expected [rows, ${model.size}]`);
    }
    const [rows, columns] = shape as [number, number];
    if (columns !== model.size) throw new ProtocolError(400, `inputs[0].shape is ${describe(shape)}: model ${model.name} takes ${model.size} features per row, expected [rows, ${model.size}]`);
    if (rows < 1) throw new ProtocolError(400, `inputs[0].shape is ${describe(shape)}: expected at least one row`);

    const data = toRows(input.data, rows, columns, datatype);
    return { ...(body.id !== undefined ? { id: body.id } : {}), rows: data };
}

/** A v1 `:predict` body {"instances": [[...], ...]} to rows of features. */
export function parseV1Request(body: unknown, model: ModelInput): number[][] {
    if (!isObject(body) || !Array.isArray(body.instances) || body.instances.length === 0) {
        throw new ProtocolError(400, `the request must be {"instances": [[${model.size} numbers], ...]}, got ${describe(body)}`);
    }
    return body.instances.map((instance: unknown, row: number) => {
        if (!Array.isArray(instance) || instance.length !== model.size) {
            throw new ProtocolError(400, `instances[${row}] is ${describe(instance)}: expected ${model.size} numbers`);
        }
        return instance.map((value: unknown, column: number) => checkValue(value, "FP64", `instances[${row}][${column}]`));
    });
}

/**
 * Tensor data, flat in row-major order or nested as [rows][columns], to rows. Every value must be
 * a number that fits the datatype.
 */
function toRows(data: unknown, rows: number, columns: number, datatype: Datatype): number[][] {
    if (!Array.isArray(data)) throw new ProtocolError(400, `inputs[0].data is ${describe(data)}: expected an array of numbers`);
    const nested = data.length > 0 && data.every((item) => Array.isArray(item));
    if (nested) {
        if (data.length !== rows) throw new ProtocolError(400, `inputs[0].data has ${data.length} rows but the shape says ${rows}`);
        return data.map((row: unknown[], r: number) => {
            if (row.length !== columns) throw new ProtocolError(400, `inputs[0].data[${r}] has ${row.length} values but the shape says ${columns}`);
            return row.map((value, c) => checkValue(value, datatype, `inputs[0].data[${r}][${c}]`));
        });
    }
    if (data.length !== rows * columns) {
        throw new ProtocolError(400, `inputs[0].data has ${data.length} values but the shape [${rows}, ${columns}] needs ${rows * columns}`);
    }
    const values = data.map((value: unknown, i: number) => checkValue(value, datatype, `inputs[0].data[${i}]`));
    return Array.from({ length: rows }, (_, r) => values.slice(r * columns, (r + 1) * columns));
}

function checkValue(value: unknown, datatype: Datatype, where: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new ProtocolError(400, `${where} is ${describe(value)}: expected a number (${datatype})`);
    switch (datatype) {
        case "FP32":
            if (Math.abs(value) > FP32_MAX) throw new ProtocolError(400, `${where} is ${value}: out of range for FP32`);
            break;
        case "FP64":
            break;
        case "INT32":
            if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) throw new ProtocolError(400, `${where} is ${value}: expected an INT32`);
            break;
        case "INT64":
            if (!Number.isSafeInteger(value)) throw new ProtocolError(400, `${where} is ${value}: expected an INT64 that JSON carries exactly (|x| < 2^53)`);
            break;
    }
    return value;
}

function checkRequestedOutputs(outputs: unknown, names: readonly string[]): void {
    const list = names.map((n) => JSON.stringify(n)).join(", ");
    if (!Array.isArray(outputs)) throw new ProtocolError(400, `outputs is ${describe(outputs)}: expected an array of {"name": ...} naming the model's outputs, ${list}`);
    outputs.forEach((output: unknown, i: number) => {
        if (!isObject(output) || typeof output.name !== "string" || !names.includes(output.name)) {
            throw new ProtocolError(400, `outputs[${i}] is ${describe(output)}: the model's ${names.length === 1 ? `only output is ${list}` : `outputs are ${list}`}`);
        }
    });
}

export interface ServingContext {
    readonly track: string;
    readonly featureFlags: Readonly<Record<string, string>>;
}

/** `id` is the request's id (src/request-ids.ts): every answer has one. */
export function inferResponse(model: Pick<ServedModel, "name" | "version">, id: string, outputs: readonly OutputTensor[], context: ServingContext) {
    return {
        model_name: model.name,
        model_version: model.version,
        id,
        outputs: outputs.map((o) => ({ name: o.name, shape: o.shape, datatype: o.datatype, data: o.data })),
        parameters: { track: context.track, feature_flags: { ...context.featureFlags } },
    };
}

export function v1Response(model: Pick<ServedModel, "version">, scores: readonly number[], context: ServingContext) {
    return { predictions: [...scores], model_version: model.version, track: context.track };
}

/** The model's metadata: its input and outputs as the artifact (for ONNX, the file itself) describes them. */
export function modelMetadata(model: ServedModel) {
    return {
        name: model.name,
        versions: [model.version],
        platform: model.platform,
        inputs: [{ name: model.inputName, datatype: model.inputDatatype, shape: [-1, model.size] }],
        outputs: model.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    };
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
