/**
 * Runs the real server process (`node dist/src/main.js`) on 127.0.0.1 with PORT=0, and learns the
 * bound port from its `start` log line. Every process started here is killed by stopAll().
 */
import { spawn, type ChildProcess } from "child_process";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";

/** dist/test/support -> dist/src/main.js */
export const MAIN = path.resolve(__dirname, "..", "..", "src", "main.js");
/** The package's models/ directory (dist/test/support -> model-server/models). */
export const MODELS_DIR = path.resolve(__dirname, "..", "..", "..", "models");

export type LogLine = Record<string, unknown> & { event?: string; level?: string; msg?: string };

export interface Exit {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
}

export interface Running {
    readonly child: ChildProcess;
    readonly port: number;
    readonly base: string;
    /** Every JSON line the process printed so far. */
    readonly logs: LogLine[];
    readonly stderr: () => string;
    readonly exited: Promise<Exit>;
    waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

const running = new Set<ChildProcess>();

export const BASE_ENV: Readonly<Record<string, string>> = {
    MODEL_NAME: "fraud-scorer",
    MODEL_VERSION: "1.4.0",
    MODEL_TRACK: "stable",
    MODEL_ARTIFACT: MODELS_DIR + "/fraud-scorer",
    MODELSHIP_ENVIRONMENT: "test",
    HOST: "127.0.0.1",
    PORT: "0",
};

/** Spawns the server and resolves once its `start` line (with the port) is printed. */
export async function startServer(env: Record<string, string | undefined> = {}): Promise<Running> {
    const { child, logs, stderr, exited, waitForLog } = spawnServer(env);
    const start = await Promise.race([
        waitForLog((line) => line.event === "start", 10_000),
        exited.then((exit) => {
            throw new Error(`the server exited (${exit.code ?? exit.signal}) before listening: ${stderr()}`);
        }),
    ]);
    const port = start.port as number;
    return { child, port, base: `http://127.0.0.1:${port}`, logs, stderr, exited, waitForLog };
}

/** Spawns the server without waiting for anything (for start-up failures). */
export function spawnServer(env: Record<string, string | undefined> = {}) {
    const merged: Record<string, string> = { PATH: process.env.PATH ?? "" };
    for (const [key, value] of Object.entries({ ...BASE_ENV, ...env })) if (value !== undefined) merged[key] = value;
    const child = spawn(process.execPath, [MAIN], { env: merged, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const logs: LogLine[] = [];
    const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
    let stderrText = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderrText += chunk));
    readline.createInterface({ input: child.stdout }).on("line", (text) => {
        let line: LogLine;
        try {
            line = JSON.parse(text) as LogLine;
        } catch {
            line = { event: "not-json", msg: text };
        }
        logs.push(line);
        for (const waiter of [...waiters]) {
            if (waiter.predicate(line)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve(line);
            }
        }
    });
    const exited = new Promise<Exit>((resolve) =>
        child.once("exit", (code, signal) => {
            running.delete(child);
            resolve({ code, signal });
        }),
    );
    const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
        const seen = logs.find(predicate);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; got:\n${logs.map((l) => JSON.stringify(l)).join("\n")}`)), timeoutMs);
            waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        });
    };
    return { child, logs, stderr: () => stderrText, exited, waitForLog };
}

/** Kills every server process still running (for after hooks). */
export async function stopAll(): Promise<void> {
    const children = [...running];
    await Promise.all(
        children.map(
            (child) =>
                new Promise<void>((resolve) => {
                    if (child.exitCode !== null || child.signalCode !== null) return resolve();
                    child.once("exit", () => resolve());
                    child.kill("SIGKILL");
                }),
        ),
    );
    running.clear();
}

/** A body parsed from JSON, of whatever shape the server sent: each test's assertions check it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field by the tests, which is what they check
export type ParsedJson = any;

export interface Answer {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly text: string;
    /** The body parsed as JSON (undefined if it is not JSON). */
    readonly body: ParsedJson;
}

/** One HTTP request on a fresh connection (no pooling, so no connection outlives a test). */
export function request(base: string, method: string, pathname: string, body?: string | Buffer | object, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
    const payload = body === undefined ? undefined : typeof body === "string" || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = http.request(
            new URL(pathname, base),
            { method, agent: false, headers: { ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}), ...headers } },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("error", reject);
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: unknown;
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        parsed = undefined;
                    }
                    resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed });
                });
            },
        );
        req.on("error", reject);
        req.end(payload);
    });
}

/** Polls `pathname` until it answers `status`. */
export async function waitForStatus(base: string, pathname: string, status: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const answer = await request(base, "GET", pathname).catch(() => undefined);
        if (answer?.status === status) return;
        if (Date.now() > deadline) throw new Error(`${pathname} did not answer ${status} within ${timeoutMs} ms (last: ${answer?.status})`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

/** The value of one Prometheus sample line, by metric name and exact labels. */
export function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
    for (const line of metrics.split("\n")) {
        if (!line.startsWith(name + "{")) continue;
        const match = /^([^{]+)\{(.*)\} (\S+)$/.exec(line);
        if (!match) continue;
        const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
        if (Object.keys(labels).length === Object.keys(found).length && Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
    }
    return undefined;
}

export interface Outcome {
    code: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs one of the image's programs (`dist/src/<program>`) to its end with nothing inherited but
 * PATH (no AWS settings: the tests give the process exactly what it may use), killed after 20 s.
 */
export function runProgram(program: string, args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.resolve(__dirname, "..", "..", "src", program), ...args], {
            env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        child.on("error", reject);
        child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
    });
}
