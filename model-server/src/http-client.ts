/**
 * The HTTP client of the project's commands (the rollout analysis asking Prometheus, the smoke
 * program asking a model server, in the image and from the deployer's machine): one JSON request, a deadline for the whole answer rather than
 * only for a quiet socket, an answer cut at a size, and no connection kept open, since a command
 * ends soon after its last request.
 */
import * as http from "http";
import * as https from "https";

export interface HttpAnswer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export interface HttpRequestOptions {
    method?: "GET" | "POST";
    /** The whole exchange, connecting included, may take at most this long. */
    timeoutMs: number;
    /** JSON text, sent as application/json. */
    body?: string;
    /** Sent with the request besides accept (and content-type with a body), e.g. a router's pin header. */
    headers?: Readonly<Record<string, string>>;
    /** Answers longer than this are cut here: the callers read small JSON documents. */
    maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** One request; rejects when the server cannot be reached or does not answer in time, resolves with any status. */
export function httpRequest(url: URL, options: HttpRequestOptions): Promise<HttpAnswer> {
    const { method = "GET", timeoutMs, body, headers = {}, maxBytes = DEFAULT_MAX_BYTES } = options;
    return new Promise((resolve, reject) => {
        const client = url.protocol === "https:" ? https : http;
        const payload = body === undefined ? undefined : Buffer.from(body, "utf8");
        const req = client.request(
            url,
            {
                method,
                agent: false,
                headers: { ...headers, accept: "application/json", connection: "close", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                let size = 0;
                res.on("data", (chunk: Buffer) => {
                    if (size < maxBytes) chunks.push(chunk.subarray(0, maxBytes - size));
                    size += chunk.length;
                });
                res.on("end", () => {
                    clearTimeout(timer);
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
                });
                res.on("error", (error) => {
                    clearTimeout(timer);
                    reject(error);
                });
            },
        );
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${(timeoutMs / 1000).toFixed(1)} s`)), Math.max(1, timeoutMs));
        req.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        req.end(payload);
    });
}
