/**
 * The docker router's reload script against a real nginx on loopback: a `docker` on PATH stands in
 * for `docker exec` (it runs the command here, with the container's /etc/nginx in a temporary
 * folder), so the script's nginx steps (test the new file, move it in, `nginx -s reload`) meet the
 * real nginx, started with the bootstrap config as the container is.
 */
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { routerReloadScript } from "../../components/targets/docker/router-reload";
import { nginxPidFile, renderBootstrapNginxConf, renderNginxConf, type ModelRoute } from "../../components/traffic/nginx";
import { fakeBin } from "../support/fake-bin";
import { freePort, listen, request, sleep, type Answer } from "../support/http";
import { failed, LoopbackClient, runLoadWith } from "../support/load";
import { errorLogArgs, LOCAL, makeRunDir, nginxOrSkip, stdoutFile } from "../support/nginx";
import { canaryPlan, route } from "../support/plans";

const INFER = "/v2/models/fraud-scorer/infer";

function trackServer(name: string): http.Server {
    return http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            res.writeHead(200, { "content-type": "application/json", "x-model-track": name });
            res.end(JSON.stringify({ track: name }));
        });
    });
}

/**
 * `docker exec [-i] [-u <user>] <container> <command...>` run here: the container's /etc/nginx and
 * pid file are in `root`, and its `nginx` is the real one with that prefix, its logs kept off a
 * socket (see stdoutFile).
 */
function fakeDocker(nginx: string, root: string) {
    const docker = `
[ "$1" = exec ] || { echo "fake docker: only exec" >&2; exit 2; }
shift
while [ "\${1#-}" != "$1" ]; do case "$1" in -u) shift 2 ;; *) shift ;; esac; done
shift
mapped=0
for arg in "$@"; do
    [ $mapped = 1 ] || { set --; mapped=1; }
    set -- "$@" "$(printf '%s' "$arg" | sed -e "s#/etc/nginx#${root}#g" -e "s#${nginxPidFile()}#${nginxPidFile(root)}#g")"
done
exec "$@"`;
    // A later -c (the script's nginx -t) wins over this default one.
    const wrapper = `exec ${nginx} ${errorLogArgs(nginx).join(" ")} -p ${root}/ -c ${root}/nginx.conf "$@" >> ${root}/stdout.log`;
    return fakeBin({ docker, nginx: wrapper }, ["sh", "cat", "sed", "mv", "rm", "sleep"]);
}

describe("the docker router's reload script with a real nginx", function () {
    this.timeout(60000);
    let bin = "";
    let dir = "";
    let port = 0;
    let nginx: ChildProcess | undefined;
    let docker: ReturnType<typeof fakeDocker>;
    let backends: ModelRoute["backends"] = {};
    const tracks = { stable: trackServer("stable"), candidate: trackServer("candidate") };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const send = (): Promise<Answer> => request(agent, port, INFER);
    const confFor = (candidateWeight: number) => renderNginxConf({ listenPort: port, listenAddress: "127.0.0.1", runDir: dir, routes: [route(canaryPlan("fraud-scorer", candidateWeight), backends)] });
    /** Asynchronous, so that the load below keeps running while the script does. */
    const reload = (conf: string) =>
        new Promise<{ status: number | null; stderr: string }>((resolve) => {
            const child = spawn("/bin/sh", ["-c", routerReloadScript("dev-modelship-router")], { env: { PATH: docker.dir }, stdio: ["pipe", "ignore", "pipe"], timeout: 20000 });
            let stderr = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (status) => resolve({ status, stderr }));
            child.stdin.end(conf);
        });
    const candidateShare = async (count: number) => {
        const answers: Answer[] = [];
        for (let i = 0; i < count; i++) answers.push(await send());
        assert.ok(
            answers.every((a) => a.status === 200),
            JSON.stringify(answers.find((a) => a.status !== 200)),
        );
        return answers.filter((a) => a.track === "candidate").length / count;
    };

    before(async function () {
        bin = nginxOrSkip(this);
        dir = makeRunDir();
        port = await freePort();
        backends = { stable: LOCAL(await listen(tracks.stable)), candidate: LOCAL(await listen(tracks.candidate)) };
        fs.writeFileSync(path.join(dir, "nginx.conf"), renderBootstrapNginxConf({ listenPort: port, listenAddress: "127.0.0.1", runDir: dir }));
        docker = fakeDocker(bin, dir);
        const stdout = stdoutFile(dir);
        nginx = spawn(bin, [...errorLogArgs(bin), "-p", `${dir}/`, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", stdout, "inherit"] });
        fs.closeSync(stdout);
        for (let attempt = 0; attempt < 100 && (await request(agent, port, "/healthz", {}, "GET").catch(() => undefined))?.status !== 200; attempt++) await sleep(100);
    });

    after(async () => {
        agent.destroy();
        nginx?.kill("SIGTERM");
        await sleep(200);
        for (const server of Object.values(tracks)) server.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        if (docker) fs.rmSync(docker.dir, { recursive: true, force: true });
    });

    it("the bootstrap config answers /healthz and no model", async () => {
        assert.equal((await request(agent, port, "/healthz", {}, "GET")).status, 200);
        assert.equal((await send()).status, 404);
    });

    it("a reload routes the model as the new config says, and the next one moves the weights", async () => {
        const first = await reload(confFor(0));
        assert.equal(first.status, 0, first.stderr);
        assert.equal(await candidateShare(50), 0);
        const second = await reload(confFor(100));
        assert.equal(second.status, 0, second.stderr);
        // The script returns once no worker of the previous config is left.
        assert.equal(await candidateShare(50), 1);
        assert.equal(fs.existsSync(path.join(dir, "nginx.conf.next")), false);
    });

    it("no request fails while the router reloads under load (a keep-alive client that sends again what a retiring worker closed before answering)", async () => {
        const client = new LoopbackClient(port, 8);
        const reloads = [10, 50, 90, 30].map((weight, i) => ({
            atMs: 100 + i * 500, // one at a time, as the engine runs them
            run: async () => {
                const result = await reload(confFor(weight));
                assert.equal(result.status, 0, result.stderr);
            },
        }));
        try {
            const { load, actionAtMs, actionDoneMs } = await runLoadWith({ send: () => client.request({ path: INFER, body: "{}" }), concurrency: 4, durationMs: 2400 }, reloads);
            const failures = load.samples.filter(failed);
            const retried = load.samples.filter((s) => s.retried).length;
            const took = actionAtMs.map((at, i) => Math.round(actionDoneMs[i] - at));
            console.log(
                `measured: ${load.samples.length} requests through 4 reloads (each ${took.join(", ")} ms): ${failures.length} failed, ${retried} sent again after a retiring worker closed their connection`,
            );
            assert.ok(load.samples.length > 100, `only ${load.samples.length} requests`);
            assert.deepEqual(
                failures.map((f) => f.error ?? f.status),
                [],
            );
        } finally {
            client.close();
        }
    });

    it("a config nginx refuses fails the reload and the router keeps serving the one it has", async () => {
        assert.equal((await reload(confFor(100))).status, 0);
        const before = fs.readFileSync(path.join(dir, "nginx.conf"), "utf8");
        const refused = await reload(confFor(0).replace("split_clients", "splitt_clients"));
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /unknown directive "splitt_clients"/);
        assert.match(refused.stderr, /keeps serving its current one/);
        assert.equal(fs.readFileSync(path.join(dir, "nginx.conf"), "utf8"), before);
        assert.equal(fs.existsSync(path.join(dir, "nginx.conf.next")), false);
        assert.equal(await candidateShare(20), 1);
    });
});
