/**
 * The manifest of a version another server reads ("modelship-files/v1"): the version's model.json
 * names the model, the version and every file beside it with its SHA-256, so that fetch-artifact
 * copies exactly those files and verifies each one, as it does an ONNX manifest's model file.
 * modelship's own server never serves such a version. Written by this module's CLI:
 *
 *   node dist/src/files-manifest.js --dir models/fraud-scorer/2.0.0 --model fraud-scorer
 *
 * which writes `<dir>/model.json` and `<dir>/model.json.sha256` (the checksum file every version has).
 */
import { promises as fs } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { CHECKSUM_SUFFIX, sha256Hex } from "./checksum";
import { ARTIFACT_FILE, describe, InvalidArtifact, isObject, nonEmptyString as text } from "./model";

export const FILES_FORMAT = "modelship-files/v1";
/** A version of more files than this is not a model directory (or needs an archive). */
export const MAX_FILES = 256;
/** One listed file larger than this is refused before it is read, as an ONNX file is. */
export const MAX_LISTED_FILE_BYTES = 1024 * 1024 * 1024;

export interface ListedFile {
    /** Relative to the version's directory, `/`-separated: `model.joblib`, `1/model.onnx`. */
    path: string;
    sha256: string;
}

export interface FilesManifest {
    name: string;
    version: string;
    files: ListedFile[];
}

/** One path segment: no `.` or `..`, no hidden files, nothing a shell or an object key treats specially. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
/** The manifest and its checksum are the version's own files, never listed ones. */
const RESERVED = new Set([ARTIFACT_FILE, ARTIFACT_FILE + CHECKSUM_SUFFIX]);

/** Checks a parsed "modelship-files/v1" manifest, or throws InvalidArtifact naming the first problem. */
export function validateFilesManifest(raw: Record<string, unknown>): FilesManifest {
    const name = text(raw.name, "name");
    const version = text(raw.version, "version");
    if (!Array.isArray(raw.files) || raw.files.length === 0 || raw.files.length > MAX_FILES)
        throw new InvalidArtifact(`files is ${describe(raw.files)}: expected 1 to ${MAX_FILES} entries {"path": "<file>", "sha256": "<hex>"}, one per file of the version`);
    const seen = new Set<string>();
    const files = raw.files.map((entry: unknown, index): ListedFile => {
        if (!isObject(entry)) throw new InvalidArtifact(`files[${index}] is ${describe(entry)}: expected {"path": "<file>", "sha256": "<hex>"}`);
        const file = entry.path;
        if (typeof file !== "string" || !file.split("/").every((segment) => SEGMENT.test(segment)) || RESERVED.has(file))
            throw new InvalidArtifact(`files[${index}].path is ${describe(file)}: expected a relative path of the version's directory, such as "model.joblib" (no "..", no hidden or reserved file)`);
        if (seen.has(file)) throw new InvalidArtifact(`files[${index}].path ${file} is listed twice`);
        seen.add(file);
        if (typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256))
            throw new InvalidArtifact(`files[${index}].sha256 is ${describe(entry.sha256)}: expected the file's SHA-256 in hex (\`sha256sum ${file}\`)`);
        return { path: file, sha256: entry.sha256 };
    });
    return { name, version, files };
}

/** Every regular file below `dir` except the manifest and its checksum, sorted, as manifest paths. */
async function filesBelow(dir: string, prefix = ""): Promise<string[]> {
    const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
    const found: string[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory()) found.push(...(await filesBelow(dir, relative)));
        else if (entry.isFile() && !RESERVED.has(relative)) found.push(relative);
        else if (!entry.isFile()) throw new InvalidArtifact(`${path.join(dir, relative)} is neither a file nor a directory: a version holds files only`);
    }
    return found;
}

/** Lists a version directory's files with their checksums and writes model.json and model.json.sha256 beside them. */
export async function writeFilesManifest(dir: string, name: string, version: string): Promise<{ manifest: FilesManifest; sha256: string }> {
    const listed: ListedFile[] = [];
    for (const file of await filesBelow(dir)) listed.push({ path: file, sha256: sha256Hex(await fs.readFile(path.join(dir, file))) });
    const manifest = validateFilesManifest({ format: FILES_FORMAT, name, version, files: listed });
    const bytes = Buffer.from(JSON.stringify({ format: FILES_FORMAT, ...manifest }, null, 2) + "\n");
    const sha256 = sha256Hex(bytes);
    await fs.writeFile(path.join(dir, ARTIFACT_FILE), bytes);
    await fs.writeFile(path.join(dir, ARTIFACT_FILE + CHECKSUM_SUFFIX), `${sha256}  ${ARTIFACT_FILE}\n`);
    return { manifest, sha256 };
}

export const USAGE = `Usage: node dist/src/files-manifest.js --dir <version directory> --model <name> [--version <v>]

Writes <dir>/model.json, a "${FILES_FORMAT}" manifest listing every file below <dir> with its
SHA-256, and <dir>/model.json.sha256: what fetch-artifact needs to copy and verify a version that
another Open Inference Protocol server reads (MLServer's model-settings.json and model.joblib, a
Triton model repository's files). Run it after the files are final; upload the whole directory.

  --dir <path>        the version's directory
  --model <name>      the model's name, as the stack names it
  --version <v>       the version (default: the directory's name)
  --help              this text

Exit codes: 0 written; 1 the directory cannot be listed or holds something other than files; 2 usage.`;

/** The CLI: resolves to the exit code, having printed what it has to say. */
export async function main(argv: readonly string[]): Promise<number> {
    let values;
    try {
        values = parseArgs({
            args: [...argv],
            strict: true,
            allowPositionals: false,
            options: { dir: { type: "string" }, model: { type: "string" }, version: { type: "string" }, help: { type: "boolean" } },
        }).values;
    } catch (error) {
        process.stderr.write(`files-manifest: ${(error as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(USAGE + "\n");
        return 0;
    }
    if (!values.dir || !values.model) {
        process.stderr.write(`files-manifest: missing ${[values.dir ? "" : "--dir", values.model ? "" : "--model"].filter(Boolean).join(", ")}\n\n${USAGE}\n`);
        return 2;
    }
    const version = values.version ?? path.basename(path.resolve(values.dir));
    // fetch-artifact's rule: the version is a path segment and an object key.
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) {
        process.stderr.write(`files-manifest: the version ${JSON.stringify(version)} is not one: letters, digits, ".", "_", "+", "-", starting with a letter or digit (give --version)\n`);
        return 2;
    }
    try {
        const { manifest, sha256 } = await writeFilesManifest(values.dir, values.model, version);
        process.stdout.write(`files-manifest: wrote ${path.join(values.dir, ARTIFACT_FILE)} (${manifest.name} ${manifest.version}, ${manifest.files.length} files, sha256 ${sha256})\n`);
        return 0;
    } catch (error) {
        process.stderr.write(`files-manifest: cannot write the manifest of ${values.dir}: ${(error as Error).message}\n`);
        return 1;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
