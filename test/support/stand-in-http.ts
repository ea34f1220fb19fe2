/**
 * A loopback HTTP server standing in for a webhook or an Alertmanager: it records each request's
 * method, path and JSON body, and answers as the test says (a status and a body, optionally late).
 */
import * as http from "http";
import { listen, sleep } from "./http";

export interface Received {
    method: string;
    path: string;
    /** The body as sent. */
    text: string;
    /** When the last byte of the body arrived (Date.now()). */
    at: number;
}

export interface StandInAnswer {
    status: number;
    body?: string;
    /** Answer this late, e.g. beyond the caller's timeout. */
    delayMs?: number;
}

export class StandInServer {
    readonly received: Received[] = [];
    port = 0;
    private readonly server: http.Server;
    private waiters: Array<() => void> = [];

    constructor(private answer: StandInAnswer = { status: 200, body: "{}" }) {
        this.server = http.createServer((req, res) => {
            let text = "";
            req.setEncoding("utf8");
            req.on("data", (chunk: string) => (text += chunk));
            req.on("end", () => {
                this.received.push({ method: req.method ?? "", path: req.url ?? "", text, at: Date.now() });
                for (const wake of this.waiters.splice(0)) wake();
                const { status, body = "", delayMs = 0 } = this.answer;
                void sleep(delayMs).then(() => {
                    if (res.destroyed) return;
                    res.writeHead(status, { "content-type": "application/json" }).end(body);
                });
            });
        });
    }

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    answerWith(answer: StandInAnswer): void {
        this.answer = answer;
    }

    async start(): Promise<this> {
        this.port = await listen(this.server);
        return this;
    }

    /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
    async waitFor(count: number, timeoutMs: number): Promise<Received[]> {
        const deadline = Date.now() + timeoutMs;
        while (this.received.length < count) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`stand-in on port ${this.port}: ${this.received.length} of ${count} requests within ${timeoutMs} ms`);
            await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, left);
                this.waiters.push(() => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
        return this.received.slice(0, count);
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise((resolve) => this.server.close(resolve));
    }
}

/** A maker of stand-ins for one describe block: every stand-in it made is stopped after each test. */
export function standInServers(): (answer?: StandInAnswer) => Promise<StandInServer> {
    const servers: StandInServer[] = [];
    afterEach(async () => {
        await Promise.all(servers.splice(0).map((s) => s.stop()));
    });
    return async (answer) => {
        const server = await new StandInServer(answer).start();
        servers.push(server);
        return server;
    };
}
