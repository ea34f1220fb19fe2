/** Graceful shutdown: the real process on SIGTERM, and the server object's own guarantees. */
import { strict as assert } from "assert";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { parseConfig } from "../src/config";
import type { Logger } from "../src/log";
import { createServer, type ModelServer } from "../src/server";
import { BASE_ENV, MODELS_DIR, request, startServer, stopAll, waitForStatus, type ParsedJson } from "./support/process";

const INFER = "/v2/models/fraud-scorer/infer";
const ONE_ROW = { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 0.5, 0, 2] }] };

/** Resolves with the error code of a fresh TCP connection attempt, or "connected". */
function connect(port: number): Promise<string> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        socket.once("connect", () => {
            socket.destroy();
            resolve("connected");
        });
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
}

/** POSTs on a keep-alive connection and resolves with the status, the Connection header and the body. */
function keepAliveInfer(port: number, agent: http.Agent): Promise<{ status: number; connection: string | undefined; body: ParsedJson }> {
    return new Promise((resolve, reject) => {
        const payload = JSON.stringify(ONE_ROW);
        const req = http.request(
            { host: "127.0.0.1", port, method: "POST", path: INFER, agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
            (res) => {
                let text = "";
                res.setEncoding("utf8").on("data", (d: string) => (text += d));
                res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text) }));
            },
        );
        req.on("error", reject);
        req.end(payload);
    });
}

describe("graceful shutdown of the process", function () {
    after(stopAll);

    it("finishes a slow in-flight request after SIGTERM, refuses new connections, and exits 0", async () => {
        const server = await startServer({ FAULT_LATENCY_MS: "1000" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
            const started = Date.now();
            const inflight = keepAliveInfer(server.port, agent);
            await new Promise((r) => setTimeout(r, 300)); // the request is now sleeping in FAULT_LATENCY_MS
            server.child.kill("SIGTERM");
            const shutdown = await server.waitForLog((l) => l.event === "shutdown");
            assert.equal(shutdown.reason, "SIGTERM");
            assert.equal(shutdown.inflight, 1);
            assert.equal(await connect(server.port), "ECONNREFUSED", "no new connections once shutting down");

            const answer = await inflight;
            assert.equal(answer.status, 200);
            assert.equal(answer.body.model_version, "1.4.0");
            assert.equal(answer.connection, "close", "the keep-alive connection closes after its response");
            assert.ok(Date.now() - started >= 1000);

            const exit = await server.exited;
            assert.deepEqual(exit, { code: 0, signal: null });
            assert.ok(server.logs.some((l) => l.event === "shutdown_complete" && l.forced === false));
            assert.ok(server.logs.some((l) => l.event === "request" && l.route === "/v2/models/:name/infer" && l.status === 200));
        } finally {
            agent.destroy();
        }
    });

    it("exits 0 at once on SIGINT when idle, even while the model is still loading", async () => {
        const server = await startServer({ FAULT_SLOW_START_MS: "60000" });
        const started = Date.now();
        server.child.kill("SIGINT");
        assert.deepEqual(await server.exited, { code: 0, signal: null });
        assert.ok(Date.now() - started < 3000);
        assert.ok(!server.logs.some((l) => l.event === "model_loaded"));
    });
});

describe("graceful shutdown of the server object", function () {
    const servers: ModelServer[] = [];
    const quiet: Logger = { log() {} };
    afterEach(async () => {
        for (const s of servers.splice(0)) {
            s.http.closeAllConnections();
            await s.shutdown("test cleanup");
        }
    });
    async function start(env: Record<string, string>) {
        const config = parseConfig({ ...BASE_ENV, MODEL_ARTIFACT: path.join(MODELS_DIR, "fraud-scorer"), ...env });
        const server = createServer({ config, log: quiet });
        servers.push(server);
        const { port } = await server.listen();
        assert.ok(await server.load());
        return { server, port, base: `http://127.0.0.1:${port}` };
    }

    /** Until the server has the request in flight (a fixed wait lost the race on a loaded machine: the request came after the shutdown, a 503). */
    async function inFlight(server: ModelServer): Promise<void> {
        for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
            if (/^modelship_requests_in_flight\{[^}]*\} 1$/m.test(await server.metrics.render())) return;
        }
        assert.fail("the request never reached the server");
    }

    it("turns not ready at once and sets the ready gauge to 0", async () => {
        const { server, base } = await start({ FAULT_LATENCY_MS: "500" });
        assert.equal(server.ready, true);
        const inflight = request(base, "POST", INFER, ONE_ROW);
        await inFlight(server);
        const stopping = server.shutdown("SIGTERM");
        assert.equal(server.ready, false);
        assert.match(await server.metrics.render(), /^modelship_model_ready\{model="fraud-scorer",version="1.4.0",track="stable"\} 0$/m);
        assert.equal((await inflight).status, 200);
        assert.deepEqual(await stopping, { forced: false });
        assert.equal(server.shutdown("SIGTERM again"), stopping, "a second signal waits for the same shutdown");
    });

    it("cuts requests still running after SHUTDOWN_TIMEOUT_MS and reports it", async () => {
        const { server, base } = await start({ FAULT_LATENCY_MS: "5000", SHUTDOWN_TIMEOUT_MS: "200" });
        const inflight = request(base, "POST", INFER, ONE_ROW).then(
            () => "answered",
            (error: NodeJS.ErrnoException) => error.code,
        );
        await inFlight(server);
        const started = Date.now();
        assert.deepEqual(await server.shutdown("SIGTERM"), { forced: true });
        assert.ok(Date.now() - started < 1000);
        assert.equal(await inflight, "ECONNRESET");
    });
});
