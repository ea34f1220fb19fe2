/**
 * The model: logistic regression read from a JSON artifact ("modelship-logreg/v1").
 * validateArtifact and predict are pure; resolveArtifact and loadModel read the file system.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { MAX_ARTIFACT_BYTES } from "./limits";

export const ARTIFACT_FORMAT = "modelship-logreg/v1";
export const ARTIFACT_FILE = "model.json";

export interface Model {
    readonly name: string;
    readonly version: string;
    /** The name of the model's one input tensor, e.g. "features". */
    readonly inputName: string;
    /** How many features a row has. */
    readonly size: number;
    readonly weights: readonly number[];
    readonly bias: number;
    readonly featureNames?: readonly string[];
}

/** Why an artifact cannot be served. `path` is the file (or URI) that was read, `problem` one sentence. */
export class ArtifactError extends Error {
    constructor(
        readonly path: string,
        readonly problem: string,
    ) {
        super(`model artifact ${path}: ${problem}`);
        this.name = "ArtifactError";
    }
}

/** A problem with the artifact's content, before a path is attached. */
export class InvalidArtifact extends Error {
    constructor(message: string) {
        super(message);
        this.name = "InvalidArtifact";
    }
}

/** 1 / (1 + e^-z), computed without overflow for large |z|. */
export function sigmoid(z: number): number {
    if (z >= 0) return 1 / (1 + Math.exp(-z));
    const e = Math.exp(z);
    return e / (1 + e);
}

/**
 * The probability for each row: sigmoid(w·x + b). Rows must have model.size finite values (the
 * protocol layer checks). Throws a RangeError if a score is not a number (w·x overflowed both ways).
 */
export function predict(model: Model, rows: readonly (readonly number[])[]): number[] {
    return rows.map((row, index) => {
        if (row.length !== model.size) throw new RangeError(`row ${index} has ${row.length} values, the model takes ${model.size}`);
        let z = model.bias;
        for (let i = 0; i < model.size; i++) z += model.weights[i]! * row[i]!;
        if (Number.isNaN(z)) throw new RangeError(`row ${index}: the score w·x + b is not a number (the values overflow)`);
        return sigmoid(z);
    });
}

/** Rounds to 4 decimals: what the `calibratedScores` feature flag does to every probability. */
export function roundScore(probability: number): number {
    return Math.round(probability * 10_000) / 10_000;
}

/** Checks a parsed artifact and returns the model, or throws InvalidArtifact naming the first problem. */
export function validateArtifact(raw: unknown): Model {
    if (!isObject(raw)) throw new InvalidArtifact(`expected a JSON object, got ${describe(raw)}`);
    if (raw.format !== ARTIFACT_FORMAT) throw new InvalidArtifact(`format is ${describe(raw.format)}: expected "${ARTIFACT_FORMAT}"`);
    const name = nonEmptyString(raw.name, "name");
    const version = nonEmptyString(raw.version, "version");

    if (!Array.isArray(raw.inputs) || raw.inputs.length !== 1) throw new InvalidArtifact(`inputs must be an array of exactly one input, got ${describe(raw.inputs)}`);
    const input: unknown = raw.inputs[0];
    if (!isObject(input)) throw new InvalidArtifact(`inputs[0] must be an object like {"name":"features","size":4}, got ${describe(input)}`);
    const inputName = nonEmptyString(input.name, "inputs[0].name");
    const size = input.size;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 100_000) throw new InvalidArtifact(`inputs[0].size is ${describe(size)}: expected an integer from 1 to 100000`);

    if (!Array.isArray(raw.weights)) throw new InvalidArtifact(`weights must be an array of numbers, got ${describe(raw.weights)}`);
    const weights = raw.weights as unknown[];
    if (weights.length !== size) throw new InvalidArtifact(`weights has ${weights.length} values but inputs[0].size is ${size}`);
    weights.forEach((weight, index) => {
        if (typeof weight !== "number" || !Number.isFinite(weight)) throw new InvalidArtifact(`weights[${index}] is ${describe(weight)}: expected a finite number`);
    });
    if (typeof raw.bias !== "number" || !Number.isFinite(raw.bias)) throw new InvalidArtifact(`bias is ${describe(raw.bias)}: expected a finite number`);

    let featureNames: string[] | undefined;
    if (raw.featureNames !== undefined) {
        if (!Array.isArray(raw.featureNames) || raw.featureNames.length !== size || !raw.featureNames.every((f) => typeof f === "string" && f !== "")) {
            throw new InvalidArtifact(`featureNames must be ${size} non-empty strings (one per weight), got ${describe(raw.featureNames)}`);
        }
        featureNames = raw.featureNames as string[];
        if (new Set(featureNames).size !== featureNames.length) throw new InvalidArtifact("featureNames has duplicates");
    }
    return { name, version, inputName, size, weights: weights as number[], bias: raw.bias, ...(featureNames ? { featureNames } : {}) };
}

export type ArtifactLocation = { kind: "path"; path: string } | { kind: "unsupported"; scheme: string };

/** MODEL_ARTIFACT to a local path: `file://` URLs become paths, any other scheme is unsupported. */
export function locateArtifact(artifact: string, cwd: string = process.cwd()): ArtifactLocation {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(artifact)?.[1];
    if (scheme === undefined) return { kind: "path", path: path.resolve(cwd, artifact) };
    if (scheme.toLowerCase() !== "file") return { kind: "unsupported", scheme: scheme.toLowerCase() };
    try {
        return { kind: "path", path: fileURLToPath(artifact) };
    } catch {
        // file://relative/path or a host part: read what follows the scheme as a path.
        return { kind: "path", path: path.resolve(cwd, decodeURIComponent(artifact.slice("file://".length))) };
    }
}

/**
 * The model file MODEL_ARTIFACT names: the file itself, or for a directory
 * `<dir>/<version>/model.json`, falling back to `<dir>/model.json`.
 */
export async function resolveArtifactFile(artifact: string, version: string, cwd?: string): Promise<string> {
    const location = locateArtifact(artifact, cwd);
    if (location.kind === "unsupported") {
        throw new ArtifactError(
            artifact,
            `the "${location.scheme}://" scheme is not supported: the model server reads local files only, so mount the artifact's files into the container (a volume or an init container that downloads them) and set MODEL_ARTIFACT to their path`,
        );
    }
    const stat = await fs.stat(location.path).catch((error: NodeJS.ErrnoException) => {
        throw new ArtifactError(location.path, error.code === "ENOENT" ? "no such file or directory" : `cannot be read (${error.code ?? error.message})`);
    });
    if (!stat.isDirectory()) return location.path;
    const candidates = [path.join(location.path, version, ARTIFACT_FILE), path.join(location.path, ARTIFACT_FILE)];
    for (const candidate of candidates) {
        if (
            await fs.stat(candidate).then(
                (s) => s.isFile(),
                () => false,
            )
        )
            return candidate;
    }
    throw new ArtifactError(location.path, `is a directory without ${path.join(version, ARTIFACT_FILE)} or ${ARTIFACT_FILE}`);
}

/** The artifact's model.json, read and parsed, with the file it came from. */
export async function readArtifactJson(artifact: string, version: string, cwd?: string): Promise<{ raw: unknown; file: string }> {
    const file = await resolveArtifactFile(artifact, version, cwd);
    let text: string;
    try {
        const handle = await fs.open(file, "r");
        try {
            const { size } = await handle.stat();
            if (size > MAX_ARTIFACT_BYTES) throw new ArtifactError(file, `is ${size} bytes, larger than the ${MAX_ARTIFACT_BYTES} bytes a model artifact may have`);
            text = await handle.readFile({ encoding: "utf8" });
        } finally {
            await handle.close();
        }
    } catch (error) {
        if (error instanceof ArtifactError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        throw new ArtifactError(file, code === "ENOENT" ? "no such file" : `cannot be read (${code ?? (error as Error).message})`);
    }
    try {
        return { raw: JSON.parse(text), file };
    } catch (error) {
        throw new ArtifactError(file, `is not valid JSON (${(error as Error).message})`);
    }
}

export function checkIdentity(file: string, model: { name: string; version: string }, expected: { name: string; version: string }): void {
    if (model.name !== expected.name) throw new ArtifactError(file, `is model "${model.name}" but MODEL_NAME is "${expected.name}"`);
    if (model.version !== expected.version) throw new ArtifactError(file, `is version "${model.version}" but MODEL_VERSION is "${expected.version}"`);
}

/** Reads, parses and validates a logistic-regression artifact, and checks it is the model and version the server was told to serve. */
export async function loadModel(artifact: string, expected: { name: string; version: string }, cwd?: string): Promise<{ model: Model; path: string }> {
    const { raw, file } = await readArtifactJson(artifact, expected.version, cwd);
    let model: Model;
    try {
        model = validateArtifact(raw);
    } catch (error) {
        throw new ArtifactError(file, (error as Error).message);
    }
    checkIdentity(file, model, expected);
    return { model, path: file };
}

export function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function nonEmptyString(value: unknown, field: string): string {
    if (typeof value !== "string" || value.trim() === "") throw new InvalidArtifact(`${field} is ${describe(value)}: expected a non-empty string`);
    return value;
}

const DESCRIBE_MAX = 60;

/**
 * A short rendering of a value for a message: JSON, cut to 60 characters. It stops writing once
 * it has enough, so its work is bounded by that length whatever the value's size or depth (a
 * client's body can be both).
 */
export function describe(value: unknown): string {
    if (value === undefined) return "missing";
    if (typeof value === "number") return String(value);
    let text = "";
    const full = () => text.length > DESCRIBE_MAX;
    // Each level writes a bracket before descending, so the recursion is at most DESCRIBE_MAX deep.
    const write = (item: unknown): void => {
        if (full()) return;
        if (Array.isArray(item)) {
            text += "[";
            for (let i = 0; i < item.length && !full(); i++) {
                if (i > 0) text += ",";
                write(item[i]);
            }
            text += "]";
        } else if (typeof item === "object" && item !== null) {
            text += "{";
            let first = true;
            for (const key in item) {
                if (full()) break;
                if (!Object.hasOwn(item, key)) continue;
                text += `${first ? "" : ","}${JSON.stringify(key.slice(0, DESCRIBE_MAX))}:`;
                first = false;
                write((item as Record<string, unknown>)[key]);
            }
            text += "}";
        } else if (typeof item === "string") {
            text += JSON.stringify(item.slice(0, DESCRIBE_MAX));
        } else {
            // Arrays and objects were written above: what is left is undefined, a bigint, a symbol or a function.
            // eslint-disable-next-line @typescript-eslint/no-base-to-string
            text += typeof item === "number" || typeof item === "boolean" || item === null ? JSON.stringify(item) : String(item);
        }
    };
    write(value);
    return text.length > DESCRIBE_MAX ? `${text.slice(0, DESCRIBE_MAX - 3)}...` : text;
}
