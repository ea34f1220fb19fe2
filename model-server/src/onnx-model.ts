/**
 * An ONNX model served with onnxruntime-node (CPU). The artifact's model.json is a manifest
 * ("modelship-onnx/v1") naming the ONNX file beside it, its SHA-256 and which output is the score;
 * everything else the Open Inference Protocol describes (the input's name and width, each output's
 * name, datatype and shape) is read from the file itself. validateOnnxManifest is pure;
 * loadOnnxModel reads the file and starts the runtime, loaded only when a manifest asks for it.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { sha256Hex } from "./checksum";
import { describe, InvalidArtifact, isObject, nonEmptyString as text } from "./model";
import type { Inference, OutputTensor, ServedModel, TensorDatatype, TensorMetadata } from "./served-model";

export const ONNX_FORMAT = "modelship-onnx/v1";
export const ONNX_PLATFORM = "onnxruntime";
/** An ONNX file larger than this is refused before it is read. */
export const MAX_ONNX_BYTES = 1024 * 1024 * 1024;

export interface OnnxManifest {
    name: string;
    version: string;
    /** The ONNX file's name, in the manifest's directory. */
    file: string;
    sha256: string;
    /** The output whose values are the scores, and for a [rows, k] output the column (a classifier's positive class). */
    score: { output: string; column?: number };
    featureNames?: string[];
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks a parsed "modelship-onnx/v1" manifest, or throws InvalidArtifact naming the first problem. */
export function validateOnnxManifest(raw: Record<string, unknown>): OnnxManifest {
    const name = text(raw.name, "name");
    const version = text(raw.version, "version");
    const file = text(raw.file, "file");
    if (!FILE_NAME.test(file)) throw new InvalidArtifact(`file is ${describe(file)}: expected the ONNX file's name beside model.json, e.g. "model.onnx"`);
    if (typeof raw.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(raw.sha256))
        throw new InvalidArtifact(`sha256 is ${describe(raw.sha256)}: expected the file's SHA-256 in hex (\`sha256sum ${file}\`)`);
    if (!isObject(raw.score)) throw new InvalidArtifact(`score is ${describe(raw.score)}: expected {"output": "<output name>", "column": <index>} naming the output that scores each row`);
    const output = text(raw.score.output, "score.output");
    const column = raw.score.column;
    if (column !== undefined && (typeof column !== "number" || !Number.isInteger(column) || column < 0))
        throw new InvalidArtifact(`score.column is ${describe(column)}: expected a column index, 0 or more`);
    let featureNames: string[] | undefined;
    if (raw.featureNames !== undefined) {
        if (!Array.isArray(raw.featureNames) || !raw.featureNames.every((f) => typeof f === "string" && f !== ""))
            throw new InvalidArtifact(`featureNames is ${describe(raw.featureNames)}: expected non-empty strings`);
        featureNames = raw.featureNames as string[];
    }
    return { name, version, file, sha256: raw.sha256, score: { output, ...(column !== undefined ? { column } : {}) }, ...(featureNames ? { featureNames } : {}) };
}

const DATATYPES: Readonly<Record<string, TensorDatatype>> = { float32: "FP32", float64: "FP64", int32: "INT32", int64: "INT64", bool: "BOOL" };

/** onnxruntime's dimensions: a number, or a symbolic (named or empty) one for any size. */
const dimension = (d: number | string): number => (typeof d === "number" && d >= 0 ? d : -1);

interface RuntimeMetadata {
    name: string;
    isTensor: boolean;
    type?: string;
    shape?: readonly (number | string)[];
}

/** The input and outputs the runtime reports, as the server serves them; throws InvalidArtifact for a model it cannot. */
export function describeOnnxModel(manifest: OnnxManifest, inputs: readonly RuntimeMetadata[], outputs: readonly RuntimeMetadata[]) {
    if (inputs.length !== 1) throw new InvalidArtifact(`${manifest.file} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")}): the server feeds one, a tensor of [rows, features]`);
    const input = inputs[0]!;
    const inputDatatype = input.isTensor ? DATATYPES[input.type ?? ""] : undefined;
    if (inputDatatype !== "FP32" && inputDatatype !== "FP64")
        throw new InvalidArtifact(`${manifest.file}'s input ${input.name} is ${input.isTensor ? input.type : "not a tensor"}: expected float32 or float64 features`);
    const shape = input.shape ?? [];
    const size = shape.length === 2 ? shape[1] : undefined;
    if (typeof size !== "number" || size < 1)
        throw new InvalidArtifact(`${manifest.file}'s input ${input.name} has shape ${JSON.stringify(shape)}: expected [rows, features] with a fixed number of features`);
    if (manifest.featureNames && manifest.featureNames.length !== size) throw new InvalidArtifact(`featureNames has ${manifest.featureNames.length} names but ${manifest.file} takes ${size} features`);
    const served: TensorMetadata[] = outputs.map((o) => {
        const datatype = o.isTensor ? DATATYPES[o.type ?? ""] : undefined;
        if (!datatype)
            throw new InvalidArtifact(
                `${manifest.file}'s output ${o.name} is ${o.isTensor ? o.type : "not a tensor"}: the server answers numeric tensors (convert a classifier with numeric labels and without ZipMap)`,
            );
        return { name: o.name, datatype, shape: (o.shape ?? []).map(dimension) };
    });
    const score = served.find((o) => o.name === manifest.score.output);
    if (!score) throw new InvalidArtifact(`score.output is ${describe(manifest.score.output)}, but ${manifest.file}'s outputs are ${served.map((o) => o.name).join(", ")}`);
    if (score.datatype !== "FP32" && score.datatype !== "FP64")
        throw new InvalidArtifact(`score.output ${score.name} is ${score.datatype}: the score must be a floating-point output (a classifier's probabilities)`);
    const columns = score.shape.length === 2 ? score.shape[1]! : 1;
    const column = manifest.score.column ?? 0;
    if (score.shape.length > 2 || (columns > 0 && column >= columns)) throw new InvalidArtifact(`score.column ${column} is outside ${score.name}'s shape ${JSON.stringify(score.shape)}`);
    return { inputName: input.name, size, inputDatatype, outputs: served };
}

/** Reads and verifies the ONNX file the manifest names and starts a session on it. */
export async function loadOnnxModel(manifestFile: string, manifest: OnnxManifest): Promise<ServedModel> {
    const file = path.join(path.dirname(manifestFile), manifest.file);
    const stat = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
        throw new InvalidArtifact(`file ${manifest.file} ${error.code === "ENOENT" ? "is not beside it" : `cannot be read (${error.code ?? error.message})`}`);
    });
    if (stat.size > MAX_ONNX_BYTES) throw new InvalidArtifact(`file ${manifest.file} is ${stat.size} bytes, larger than the ${MAX_ONNX_BYTES} an ONNX model may have`);
    const bytes = await fs.readFile(file);
    const actual = sha256Hex(bytes);
    if (actual !== manifest.sha256) throw new InvalidArtifact(`file ${manifest.file} has sha256 ${actual}, but the manifest records ${manifest.sha256}`);
    const ort = await import("onnxruntime-node");
    let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
    try {
        session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"] });
    } catch (error) {
        throw new InvalidArtifact(`file ${manifest.file} is not a model onnxruntime ${ort.env.versions.common} can load: ${(error as Error).message}`);
    }
    const described = describeOnnxModel(manifest, session.inputMetadata, session.outputMetadata);
    const scoreIndex = described.outputs.findIndex((o) => o.name === manifest.score.output);
    const column = manifest.score.column ?? 0;
    const run = async (rows: readonly (readonly number[])[]): Promise<Inference> => {
        rows.forEach((row, i) => {
            if (row.length !== described.size) throw new RangeError(`row ${i} has ${row.length} values, the model takes ${described.size}`);
        });
        const flat = rows.flat();
        const tensor =
            described.inputDatatype === "FP32"
                ? new ort.Tensor("float32", Float32Array.from(flat), [rows.length, described.size])
                : new ort.Tensor("float64", Float64Array.from(flat), [rows.length, described.size]);
        const results = await session.run({ [described.inputName]: tensor });
        const outputs: OutputTensor[] = described.outputs.map((meta) => {
            const value = results[meta.name];
            if (!value) throw new Error(`onnxruntime returned no ${meta.name}`);
            const data = Array.from(value.data as ArrayLike<number | bigint>, Number);
            return { ...meta, shape: [...value.dims], data };
        });
        const score = outputs[scoreIndex]!;
        const width = score.shape.length === 2 ? score.shape[1]! : 1;
        const scores = Array.from({ length: rows.length }, (_, r) => score.data[r * width + column]!);
        if (scores.some((s) => !Number.isFinite(s))) throw new RangeError(`the model's ${score.name} is not a finite number for a row (the values overflow)`);
        return { scores, outputs };
    };
    return {
        name: manifest.name,
        version: manifest.version,
        platform: ONNX_PLATFORM,
        inputName: described.inputName,
        size: described.size,
        inputDatatype: described.inputDatatype,
        ...(manifest.featureNames ? { featureNames: manifest.featureNames } : {}),
        outputs: described.outputs,
        run,
    };
}
