/**
 * Where an artifact can be fetched from: a local path or `file://` URL, `https://` (plain
 * `http://` only on loopback, for tests), and `s3://bucket/prefix` through the AWS SDK's default
 * credential chain (environment, IRSA web identity, ...). Every read is bounded by a size limit
 * and an abort signal, and every failure is a FetchError of a kind the caller can explain.
 */
import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { promises as fs } from "fs";
import * as path from "path";
import type { Readable } from "stream";
import { locateArtifact } from "./model";

export type FetchErrorKind = "missing" | "forbidden" | "too-large" | "timeout" | "unreachable";

/** A read that failed. `uri` is the object that was read, `detail` what the store said. */
export class FetchError extends Error {
    constructor(
        readonly kind: FetchErrorKind,
        readonly uri: string,
        readonly detail: string,
    ) {
        super(`${uri}: ${kind} (${detail})`);
        this.name = "FetchError";
    }
}

/** A usage problem with the source URI itself (unsupported scheme, plain http to a remote host). */
export class SourceError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SourceError";
    }
}

export interface ReadLimits {
    readonly maxBytes: number;
    readonly signal: AbortSignal;
}

export interface ArtifactSource {
    /** The URI of `key` under the source, for messages. */
    uri(key: string): string;
    /** The bytes of `key` (a `/`-separated path under the source). */
    read(key: string, limits: ReadLimits): Promise<Buffer>;
}

export interface SourceOptions {
    /** An S3-compatible endpoint (path-style addressing); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
    readonly endpoint?: string;
    readonly env?: NodeJS.ProcessEnv;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function openSource(source: string, options: SourceOptions = {}): ArtifactSource {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source)?.[1]?.toLowerCase();
    const base = source.replace(/\/+$/, "");
    if (scheme === undefined || scheme === "file") {
        const location = locateArtifact(source);
        if (location.kind !== "path") throw new SourceError(`cannot read ${source} as a path`);
        return localSource(location.path);
    }
    if (scheme === "https") return httpSource(base);
    if (scheme === "http") {
        const host = new URL(source).hostname;
        if (!LOOPBACK_HOSTS.has(host)) throw new SourceError(`plain http:// is accepted only for loopback hosts (got ${host}): use https://`);
        return httpSource(base);
    }
    if (scheme === "s3") return s3Source(source, options);
    throw new SourceError(`the "${scheme}://" scheme is not supported: use s3://, https:// or a local path`);
}

function localSource(root: string): ArtifactSource {
    const file = (key: string) => path.join(root, ...key.split("/"));
    return {
        uri: file,
        async read(key, limits) {
            const target = file(key);
            try {
                const handle = await fs.open(target, "r");
                try {
                    const { size } = await handle.stat();
                    if (size > limits.maxBytes) throw new FetchError("too-large", target, `${size} bytes, the limit is ${limits.maxBytes}`);
                    return await handle.readFile({ signal: limits.signal });
                } finally {
                    await handle.close();
                }
            } catch (error) {
                if (error instanceof FetchError) throw error;
                const code = (error as NodeJS.ErrnoException).code;
                if (code === "ENOENT" || code === "ENOTDIR") throw new FetchError("missing", target, code);
                if (code === "EACCES" || code === "EPERM") throw new FetchError("forbidden", target, code);
                if (code === "ABORT_ERR") throw new FetchError("timeout", target, "the read did not finish in time");
                throw new FetchError("unreachable", target, code ?? (error as Error).message);
            }
        },
    };
}

function httpSource(base: string): ArtifactSource {
    const uri = (key: string) => `${base}/${key}`;
    return {
        uri,
        async read(key, limits) {
            const target = uri(key);
            let response: Response;
            try {
                response = await fetch(target, { signal: limits.signal });
            } catch (error) {
                throw limits.signal.aborted ? new FetchError("timeout", target, "no answer in time") : new FetchError("unreachable", target, describeCause(error));
            }
            if (response.status === 404 || response.status === 410) {
                await response.body?.cancel();
                throw new FetchError("missing", target, `HTTP ${response.status}`);
            }
            if (response.status === 401 || response.status === 403) {
                await response.body?.cancel();
                throw new FetchError("forbidden", target, `HTTP ${response.status}`);
            }
            if (!response.ok || !response.body) {
                await response.body?.cancel();
                throw new FetchError("unreachable", target, `HTTP ${response.status}`);
            }
            const declared = Number(response.headers.get("content-length") ?? NaN);
            if (declared > limits.maxBytes) {
                await response.body.cancel();
                throw new FetchError("too-large", target, `Content-Length ${declared}, the limit is ${limits.maxBytes}`);
            }
            return readBounded(response.body, target, limits);
        },
    };
}

function s3Source(source: string, options: SourceOptions): ArtifactSource {
    const url = new URL(source);
    const bucket = url.hostname;
    if (bucket === "") throw new SourceError(`${source} names no bucket: expected s3://<bucket>/<prefix>`);
    const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
    const env = options.env ?? process.env;
    const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    let client: S3Client | undefined;
    const objectKey = (key: string) => (prefix === "" ? key : `${prefix}/${key}`);
    const uri = (key: string) => `s3://${bucket}/${objectKey(key)}`;
    return {
        uri,
        async read(key, limits) {
            const target = uri(key);
            // A custom endpoint (MinIO, moto, ...) is addressed path-style; AWS itself by virtual host.
            client ??= new S3Client({
                region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
                followRegionRedirects: true,
                ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
            });
            let body: Readable;
            try {
                const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }), { abortSignal: limits.signal });
                if (answer.ContentLength !== undefined && answer.ContentLength > limits.maxBytes) {
                    (answer.Body as Readable | undefined)?.destroy();
                    throw new FetchError("too-large", target, `ContentLength ${answer.ContentLength}, the limit is ${limits.maxBytes}`);
                }
                body = answer.Body as Readable;
            } catch (error) {
                if (error instanceof FetchError) throw error;
                throw s3Failure(error, target, limits.signal);
            }
            return readBounded(body, target, limits);
        },
    };
}

function s3Failure(error: unknown, target: string, signal: AbortSignal): FetchError {
    if (signal.aborted) return new FetchError("timeout", target, "no answer in time");
    if (error instanceof S3ServiceException) {
        const status = error.$metadata.httpStatusCode;
        const detail = `${error.name}${status ? `, HTTP ${status}` : ""}`;
        if (error.name === "NoSuchKey" || error.name === "NoSuchBucket" || error.name === "NotFound" || status === 404) return new FetchError("missing", target, detail);
        if (error.name === "AccessDenied" || error.name === "Forbidden" || status === 403 || status === 401) return new FetchError("forbidden", target, detail);
        return new FetchError("unreachable", target, detail);
    }
    const name = (error as Error | undefined)?.name ?? "";
    // The credential chain found nothing: as good as forbidden, and the fix is the same.
    if (name === "CredentialsProviderError") return new FetchError("forbidden", target, `no credentials: ${(error as Error).message}`);
    return new FetchError("unreachable", target, describeCause(error));
}

/** Reads a stream (web or Node) to a Buffer, failing as soon as it passes the limit or the signal aborts. */
async function readBounded(body: AsyncIterable<Uint8Array>, target: string, limits: ReadLimits): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    try {
        for await (const chunk of body) {
            if (limits.signal.aborted) throw new FetchError("timeout", target, "the body did not arrive in time");
            total += chunk.byteLength;
            if (total > limits.maxBytes) throw new FetchError("too-large", target, `more than ${limits.maxBytes} bytes`);
            chunks.push(Buffer.from(chunk));
        }
    } catch (error) {
        if (error instanceof FetchError) throw error;
        throw limits.signal.aborted ? new FetchError("timeout", target, "the body did not arrive in time") : new FetchError("unreachable", target, describeCause(error));
    } finally {
        // Stops the download when the loop ends early (a limit, an error).
        const destroyable = body as { destroy?: () => void };
        destroyable.destroy?.();
    }
    return Buffer.concat(chunks);
}

function describeCause(error: unknown): string {
    const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    return cause?.code ?? cause?.message ?? (error as Error | undefined)?.message ?? String(error);
}
