/**
 * What the server serves, whatever the artifact's format: the model's one input (rows of
 * features), its output tensors as the Open Inference Protocol describes them, and one score per
 * row, the number the server's metrics, feedback and shadow comparison read. The JSON logistic
 * regression (model.ts) and an ONNX file (onnx-model.ts) are both served through it.
 */
import { ARTIFACT_FORMAT, ArtifactError, checkIdentity, describe, InvalidArtifact, isObject, predict, readArtifactJson, validateArtifact, type Model } from "./model";
import { loadOnnxModel, ONNX_FORMAT, validateOnnxManifest } from "./onnx-model";

export type TensorDatatype = "FP32" | "FP64" | "INT32" | "INT64" | "BOOL" | "BYTES";

export interface TensorMetadata {
    name: string;
    datatype: TensorDatatype;
    /** -1 for a dimension of any size (the rows). */
    shape: number[];
}

export interface OutputTensor extends TensorMetadata {
    data: number[];
}

export interface Inference {
    /** One per row: the probability of the positive class (or the regression's value). */
    scores: number[];
    /** The answer's tensors, in the order of the model's outputs. */
    outputs: OutputTensor[];
}

export interface ServedModel {
    readonly name: string;
    readonly version: string;
    /** The OIP metadata's platform: the runtime that computes the answer. */
    readonly platform: string;
    readonly inputName: string;
    /** Features per row. */
    readonly size: number;
    readonly inputDatatype: "FP32" | "FP64";
    readonly featureNames?: readonly string[];
    readonly outputs: readonly TensorMetadata[];
    /** Throws a RangeError for rows the model cannot score (the server answers 400). */
    run(rows: readonly (readonly number[])[]): Promise<Inference>;
}

export const LOGREG_PLATFORM = "modelship-logreg";
/** The logistic regression's one output. */
export const PROBABILITY_OUTPUT = "probability";

export function servedLogreg(model: Model): ServedModel {
    return {
        name: model.name,
        version: model.version,
        platform: LOGREG_PLATFORM,
        inputName: model.inputName,
        size: model.size,
        inputDatatype: "FP32",
        ...(model.featureNames ? { featureNames: model.featureNames } : {}),
        outputs: [{ name: PROBABILITY_OUTPUT, datatype: "FP32", shape: [-1, 1] }],
        run: (rows) => {
            const scores = predict(model, rows);
            return Promise.resolve({ scores, outputs: [{ name: PROBABILITY_OUTPUT, datatype: "FP32", shape: [scores.length, 1], data: scores }] });
        },
    };
}

/** The same answer with every score and floating-point output value passed through `map` (the calibratedScores flag). */
export function mapScores(inference: Inference, map: (value: number) => number): Inference {
    return {
        scores: inference.scores.map(map),
        outputs: inference.outputs.map((o) => (o.datatype === "FP32" || o.datatype === "FP64" ? { ...o, data: o.data.map(map) } : o)),
    };
}

/**
 * The model the server serves, by the format its model.json names: the JSON logistic regression,
 * or a manifest of an ONNX file beside it (loaded with onnxruntime only then).
 */
export async function loadServedModel(artifact: string, expected: { name: string; version: string }, cwd?: string): Promise<{ model: ServedModel; path: string }> {
    const { raw, file } = await readArtifactJson(artifact, expected.version, cwd);
    const format = isObject(raw) ? raw.format : undefined;
    try {
        if (format === ONNX_FORMAT && isObject(raw)) {
            const manifest = validateOnnxManifest(raw);
            checkIdentity(file, manifest, expected);
            return { model: await loadOnnxModel(file, manifest), path: file };
        }
        if (format !== ARTIFACT_FORMAT) throw new InvalidArtifact(`format is ${describe(format)}: expected "${ARTIFACT_FORMAT}" or "${ONNX_FORMAT}"`);
        const model = validateArtifact(raw);
        checkIdentity(file, model, expected);
        return { model: servedLogreg(model), path: file };
    } catch (error) {
        if (error instanceof InvalidArtifact) throw new ArtifactError(file, error.message);
        throw error;
    }
}
