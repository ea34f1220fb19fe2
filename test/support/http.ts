/** Plain HTTP on loopback for tests: one request, a bounded fan-out, free ports. */
import * as http from "http";
import * as net from "net";

export interface Answer {
    status: number;
    track: string | undefined;
    body: string;
}

export function listen(server: http.Server | net.Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
}

export async function freePort(): Promise<number> {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    return port;
}

/** A small inference request body, sent by POSTs that bring none of their own. */
export const DEFAULT_BODY = JSON.stringify({ inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [0.5] }] });

export function request(agent: http.Agent, port: number, urlPath: string, headers: http.OutgoingHttpHeaders = {}, method = "POST", body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const payload = body ?? (method === "POST" ? DEFAULT_BODY : undefined);
        const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent, headers: { "content-type": "application/json", ...headers }, timeout: 10000 }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, track: res.headers["x-modelship-track"] as string | undefined, body: text }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout on ${urlPath}`)));
        req.on("error", reject);
        req.end(payload);
    });
}

/** Bounded fan-out: `count` requests, `parallel` at a time. */
export async function many(count: number, parallel: number, send: () => Promise<Answer>): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let sent = 0; sent < count; sent += parallel) {
        answers.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - sent) }, send))));
    }
    return answers;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const answeredBy = (a: Answer): string => (JSON.parse(a.body) as { track: string }).track;
