/**
 * The artifact initializer: fetches `<source>/<version>/model.json` and its checksum file,
 * verifies the checksum and writes `<dest>/<version>/model.json` atomically, the layout the server
 * reads with MODEL_ARTIFACT=<dest>; for a manifest (an ONNX model's, or another server's version:
 * files-manifest.ts), every file it names too, each verified against the checksum it records. Run as a Kubernetes init container of the track's own image:
 *
 *   node dist/src/fetch-artifact.js --source s3://bucket/models/fraud-scorer --version 1.4.0 --dest /models
 *
 * A version pinned from a model registry names its own directory and model.json's checksum:
 *
 *   node dist/src/fetch-artifact.js --source https://mlflow.example.com/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model \
 *       --version 2.0.0 --sha256 <hex> --dest /models
 *
 * Exit codes: 0 written; 1 the artifact could not be fetched or did not verify (one line on
 * stderr naming the source, the version and the fix); 2 a usage error.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { FetchError, openSource, SourceError, type ArtifactSource } from "./artifact-sources";
import { CHECKSUM_SUFFIX, parseChecksumFile, sha256Hex } from "./checksum";
import { MAX_ARTIFACT_BYTES } from "./limits";
import { FILES_FORMAT, MAX_LISTED_FILE_BYTES, validateFilesManifest } from "./files-manifest";
import { ARTIFACT_FILE, InvalidArtifact, isObject } from "./model";
import { MAX_ONNX_BYTES, ONNX_FORMAT, validateOnnxManifest } from "./onnx-model";

export const DEFAULT_TIMEOUT_MS = 60_000;
/** A checksum file is one line: anything bigger is not one. */
const MAX_CHECKSUM_BYTES = 4096;

export interface FetchOptions {
    /** A directory holding `<version>/model.json`: a path, `file://`, `https://` or `s3://bucket/prefix`. */
    readonly source: string;
    readonly version: string;
    /**
     * model.json's SHA-256, pinned from a model registry: the source is then the version's own
     * directory (holding model.json), and no checksum file is read.
     */
    readonly sha256?: string;
    /** The directory to write `<version>/model.json` into. */
    readonly dest: string;
    /** An S3-compatible endpoint for `s3://` sources. */
    readonly endpoint?: string;
    /** For everything: both reads and the write. */
    readonly timeoutMs?: number;
    readonly maxBytes?: number;
    readonly env?: NodeJS.ProcessEnv;
}

/** Why the artifact was not written: `kind` decides the fix the message gives. */
export class ArtifactFetchError extends Error {
    constructor(
        readonly kind: "missing" | "forbidden" | "corrupt" | "too-large" | "timeout" | "unreachable",
        message: string,
    ) {
        super(message);
        this.name = "ArtifactFetchError";
    }
}

export async function fetchArtifact(options: FetchOptions): Promise<{ file: string; sha256: string; bytes: number }> {
    const source = openSource(options.source, { ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.env ? { env: options.env } : {}) });
    // A pinned version's source is its own directory; otherwise a directory of versions.
    const directory = options.sha256 === undefined ? `${options.version}/` : "";
    const key = directory + ARTIFACT_FILE;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    const fail = (kind: ArtifactFetchError["kind"], problem: string, fix: string) => new ArtifactFetchError(kind, `cannot fetch version ${options.version} from ${options.source}: ${problem}; ${fix}`);

    const [artifactRead, recorded] = await Promise.allSettled([
        read(source, key, { maxBytes: options.maxBytes ?? MAX_ARTIFACT_BYTES, signal }, timeoutMs, fail),
        recordedChecksum(source, key, options, { signal, timeoutMs }, fail),
    ]);
    // When both fail, the artifact's own problem is the one to report.
    if (artifactRead.status === "rejected") throw artifactRead.reason;
    if (recorded.status === "rejected") throw recorded.reason;
    const artifact = artifactRead.value;
    const actual = sha256Hex(artifact);
    if (actual !== recorded.value.digest) {
        throw fail("corrupt", `${source.uri(key)} does not match its checksum (sha256 ${actual}, ${recorded.value.where} records ${recorded.value.digest})`, recorded.value.fix);
    }
    // A manifest names the files beside it and their checksums (an ONNX model's one file, another server's every file): each is
    // fetched and verified first, so model.json never names a file that is not there.
    for (const listed of listedFiles(artifact, options.version)) {
        const fileKey = directory + listed.path;
        const bytes = await read(source, fileKey, { maxBytes: listed.maxBytes, signal }, timeoutMs, fail);
        const digest = sha256Hex(bytes);
        if (digest !== listed.sha256) {
            throw fail(
                "corrupt",
                `${source.uri(fileKey)} does not match the sha256 its manifest records (${digest}, model.json records ${listed.sha256})`,
                "upload the files and their manifest of the same build",
            );
        }
        await writeAtomically(path.resolve(options.dest, options.version, ...listed.path.split("/")), bytes);
    }
    const file = path.resolve(options.dest, options.version, ARTIFACT_FILE);
    await writeAtomically(file, artifact);
    return { file, sha256: actual, bytes: artifact.length };
}

/** The checksum model.json must have: the pinned one, or the one its `model.json.sha256` records. */
async function recordedChecksum(
    source: ArtifactSource,
    key: string,
    options: FetchOptions,
    limits: { signal: AbortSignal; timeoutMs: number },
    fail: (kind: ArtifactFetchError["kind"], problem: string, fix: string) => ArtifactFetchError,
): Promise<{ digest: string; where: string; fix: string }> {
    if (options.sha256 !== undefined) {
        return { digest: options.sha256, where: "the pin (--sha256)", fix: "the registry's files changed after they were pinned: pin the version again (modelship pin) and review the new checksum" };
    }
    const text = await read(source, key + CHECKSUM_SUFFIX, { maxBytes: MAX_CHECKSUM_BYTES, signal: limits.signal }, limits.timeoutMs, fail, "checksum");
    const parsed = parseChecksumFile(text.toString("utf8"));
    const rewrite = `write it with \`sha256sum ${ARTIFACT_FILE} > ${ARTIFACT_FILE}${CHECKSUM_SUFFIX}\` in the version's directory and upload both files`;
    if ("problem" in parsed) throw fail("corrupt", `the checksum file ${source.uri(key + CHECKSUM_SUFFIX)} ${parsed.problem}`, rewrite);
    return { digest: parsed.digest, where: `${ARTIFACT_FILE}${CHECKSUM_SUFFIX}`, fix: "upload the intended model.json again, or if this file is the intended one, " + rewrite };
}

/**
 * The files a manifest lists beside model.json, with their checksums and size limits: an ONNX
 * manifest's model file, or every file of another server's version. None for modelship's own
 * JSON model (the server judges it).
 */
function listedFiles(artifact: Buffer, version: string): Array<{ path: string; sha256: string; maxBytes: number }> {
    let raw: unknown;
    try {
        raw = JSON.parse(artifact.toString("utf8"));
    } catch {
        return [];
    }
    if (!isObject(raw)) return [];
    try {
        if (raw.format === ONNX_FORMAT) {
            const manifest = validateOnnxManifest(raw);
            return [{ path: manifest.file, sha256: manifest.sha256, maxBytes: MAX_ONNX_BYTES }];
        }
        if (raw.format === FILES_FORMAT) {
            const manifest = validateFilesManifest(raw);
            if (manifest.version !== version) throw new InvalidArtifact(`it is version ${manifest.version}'s manifest, not ${version}'s`);
            return manifest.files.map((file) => ({ ...file, maxBytes: MAX_LISTED_FILE_BYTES }));
        }
    } catch (error) {
        throw new ArtifactFetchError("corrupt", `model.json is a ${String(raw.format)} manifest that cannot be used: ${(error as Error).message}`);
    }
    return [];
}

async function read(
    source: ArtifactSource,
    key: string,
    limits: { maxBytes: number; signal: AbortSignal },
    timeoutMs: number,
    fail: (kind: ArtifactFetchError["kind"], problem: string, fix: string) => ArtifactFetchError,
    role: "artifact" | "checksum" = "artifact",
): Promise<Buffer> {
    try {
        return await source.read(key, limits);
    } catch (error) {
        if (!(error instanceof FetchError)) throw error;
        const what = `${error.uri} (${error.detail})`;
        switch (error.kind) {
            case "missing":
                // No checksum means the artifact cannot be verified: corrupt, not merely missing.
                if (role === "checksum")
                    throw fail(
                        "corrupt",
                        `no checksum file: ${what} does not exist`,
                        `record one beside ${ARTIFACT_FILE}: \`sha256sum ${ARTIFACT_FILE} > ${ARTIFACT_FILE}${CHECKSUM_SUFFIX}\`, then upload it`,
                    );
                throw fail("missing", `${what} does not exist`, "upload the version's model.json and model.json.sha256 there, or point --source at the directory that holds <version>/model.json");
            case "forbidden":
                throw fail("forbidden", `access to ${what} is denied`, "grant the pod's role (or these credentials) read access to the source's prefix, e.g. s3:GetObject on <bucket>/<prefix>/*");
            case "too-large":
                throw fail("too-large", `${what} is larger than allowed`, `a ${role} file is at most ${limits.maxBytes} bytes: check that the source names the right file`);
            case "timeout":
                throw fail("timeout", `${what}: no complete answer within ${timeoutMs} ms`, "check that the store is reachable from the pod, or raise --timeout-ms");
            case "unreachable":
                throw fail("unreachable", `${what} could not be read`, "check the source URI, the endpoint and the network path to the store");
        }
    }
}

/** Writes through a temporary file in the same directory and renames it: a reader sees all or nothing. */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
    try {
        const handle = await fs.open(temporary, "wx", 0o644);
        try {
            await handle.writeFile(data);
            await handle.sync();
        } finally {
            await handle.close();
        }
        await fs.rename(temporary, file);
    } catch (error) {
        await fs.rm(temporary, { force: true });
        throw error;
    }
}

export const USAGE = `Usage: node dist/src/fetch-artifact.js --source <uri> --version <version> --dest <dir> [options]

Fetches <source>/<version>/model.json and <source>/<version>/model.json.sha256, verifies the
SHA-256, and writes <dest>/<version>/model.json (the layout MODEL_ARTIFACT=<dest> reads). Where
model.json is a manifest (an ONNX model's, or a version another server reads: files-manifest.js),
every file it lists is fetched, checked against the SHA-256 it records, and written beside it.

  --source <uri>      a directory of versions: a path, file://..., https://..., or s3://<bucket>/<prefix>
                      (http:// only for loopback hosts)
  --version <v>       the version to fetch
  --dest <dir>        where to write <version>/model.json
  --sha256 <hex>      model.json's SHA-256 pinned from a model registry: --source is then the
                      version's own directory (<source>/model.json), and no checksum file is read
  --endpoint <url>    an S3-compatible endpoint for s3:// (path-style); default AWS_ENDPOINT_URL_S3
  --timeout-ms <n>    give up after n ms (default ${DEFAULT_TIMEOUT_MS})
  --help              this text

s3:// uses the AWS SDK's default credential chain (environment, web identity / IRSA, profile, ...)
and AWS_REGION (default us-east-1).
Exit codes: 0 written; 1 missing, forbidden, corrupt, too large, timed out or unreachable; 2 usage.`;

export class UsageError extends Error {}

/** The CLI's arguments, or a UsageError naming the problem. `undefined` means --help. */
export function parseCli(argv: readonly string[]): FetchOptions | undefined {
    let parsed;
    try {
        parsed = parseArgs({
            args: [...argv],
            strict: true,
            allowPositionals: false,
            options: {
                source: { type: "string" },
                version: { type: "string" },
                sha256: { type: "string" },
                dest: { type: "string" },
                endpoint: { type: "string" },
                "timeout-ms": { type: "string" },
                help: { type: "boolean" },
            },
        }).values;
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    if (parsed.help) return undefined;
    const missing = (["source", "version", "dest"] as const).filter((name) => !parsed[name]);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => "--" + m).join(", ")}`);
    const version = parsed.version!;
    // The version becomes a path segment and an object key: no traversal, no separators.
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version))
        throw new UsageError(`--version ${JSON.stringify(version)} is not a version: letters, digits, ".", "_", "+", "-", starting with a letter or digit`);
    if (parsed.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(parsed.sha256)) throw new UsageError(`--sha256 ${JSON.stringify(parsed.sha256)} is not a SHA-256: 64 lowercase hex digits`);
    let timeoutMs: number | undefined;
    if (parsed["timeout-ms"] !== undefined) {
        timeoutMs = Number(parsed["timeout-ms"]);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000) throw new UsageError(`--timeout-ms ${parsed["timeout-ms"]} is not an integer from 1 to 3600000`);
    }
    return {
        source: parsed.source!,
        version,
        dest: parsed.dest!,
        ...(parsed.sha256 !== undefined ? { sha256: parsed.sha256 } : {}),
        ...(parsed.endpoint ? { endpoint: parsed.endpoint } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
}

/** The CLI: resolves to the exit code, having printed what it has to say. */
export async function main(argv: readonly string[]): Promise<number> {
    let options: FetchOptions | undefined;
    try {
        options = parseCli(argv);
    } catch (error) {
        process.stderr.write(`fetch-artifact: ${(error as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (options === undefined) {
        process.stdout.write(USAGE + "\n");
        return 0;
    }
    try {
        const written = await fetchArtifact(options);
        process.stdout.write(`fetch-artifact: wrote ${written.file} (${written.bytes} bytes, sha256 ${written.sha256}) from ${options.source}\n`);
        return 0;
    } catch (error) {
        if (error instanceof SourceError) {
            process.stderr.write(`fetch-artifact: --source ${options.source}: ${error.message}\n`);
            return 2;
        }
        const message =
            error instanceof ArtifactFetchError ? error.message : `cannot fetch version ${options.version} from ${options.source}: ${(error as Error).message}; check --dest is a writable directory`;
        process.stderr.write(`fetch-artifact: ${message}\n`);
        return 1;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
