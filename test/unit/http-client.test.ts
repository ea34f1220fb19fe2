import { strict as assert } from "assert";
import * as http from "http";
import { httpRequest } from "../../model-server/src/http-client";
import { listen } from "../support/http";

describe("the commands' HTTP client (model-server/src/http-client)", () => {
    const servers: http.Server[] = [];
    afterEach(async () => {
        for (const server of servers.splice(0)) {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    });
    async function serve(handler: http.RequestListener): Promise<URL> {
        const server = http.createServer(handler);
        servers.push(server);
        return new URL(`http://127.0.0.1:${await listen(server)}/`);
    }

    it("sends JSON with its headers and returns status, headers and body", async () => {
        const url = await serve((req, res) => {
            let body = "";
            req.setEncoding("utf8").on("data", (c: string) => (body += c));
            req.on("end", () => {
                res.writeHead(201, { "x-seen": `${req.method} ${String(req.headers["content-type"])} ${String(req.headers.accept)} ${String(req.headers["x-pin"])}` }).end(body.toUpperCase());
            });
        });
        const answer = await httpRequest(url, { method: "POST", timeoutMs: 5_000, body: '{"a":1}', headers: { "x-pin": "candidate" } });
        assert.equal(answer.status, 201);
        assert.equal(answer.headers["x-seen"], "POST application/json application/json candidate");
        assert.equal(answer.body, '{"A":1}');
    });

    it("the deadline covers the whole answer: a server that keeps trickling bytes does not hold a command forever", async () => {
        const url = await serve((_req, res) => {
            res.writeHead(200);
            const timer = setInterval(() => res.write(" "), 50);
            res.on("close", () => clearInterval(timer));
        });
        const started = Date.now();
        await assert.rejects(httpRequest(url, { timeoutMs: 400 }), /no answer within 0\.4 s/);
        assert.ok(Date.now() - started < 3_000);
    });

    it("cuts an answer at maxBytes", async () => {
        const url = await serve((_req, res) => res.end("x".repeat(1000)));
        const answer = await httpRequest(url, { timeoutMs: 5_000, maxBytes: 100 });
        assert.equal(answer.body, "x".repeat(100));
    });
});
