/** The real nginx for tests: find it, check a config with `nginx -t`, run it on loopback. */
import { strict as assert } from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNginxConf, type ModelRoute } from "../../components/traffic/nginx";
import * as http from "http";
import { freePort, request, sleep, type Answer } from "./http";
import { binaryOrSkip, findBinary, isExecutable, NGINX } from "./tools";

export { isExecutable };

export function findNginx(): string | undefined {
    return findBinary(NGINX);
}

export function nginxOrSkip(context: Mocha.Context): string {
    return binaryOrSkip(context, NGINX);
}

/** `-e` (1.19.5+) keeps nginx off its compiled-in error log, which may be /var/log/nginx. */
export function errorLogArgs(bin: string): string[] {
    const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(bin, ["-v"], { encoding: "utf8" }).stderr ?? "");
    const [major, minor, patch] = version ? version.slice(1).map(Number) : [0, 0, 0];
    const hasE = major > 1 || (major === 1 && (minor > 19 || (minor === 19 && patch >= 5)));
    return hasE ? ["-e", "stderr"] : [];
}

export function makeRunDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-nginx-"));
    // Readable and writable by an unprivileged nginx too (the non-root check, root's workers).
    fs.chmodSync(dir, 0o777);
    return dir;
}

export function writeConf(dir: string, routes: ModelRoute[], listenPort = 18080): string {
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, renderNginxConf({ listenPort, listenAddress: "127.0.0.1", runDir: dir, routes }), { mode: 0o644 });
    return file;
}

/**
 * nginx opens `access_log /dev/stdout` itself, which fails (ENXIO) when stdout is a socket, as
 * Node's stdio pipes are; containers give it a FIFO. A file stands in for it here.
 */
export function stdoutFile(dir: string): number {
    const fd = fs.openSync(path.join(dir, "stdout.log"), "a");
    // nginx reopens it by path, possibly as an unprivileged user.
    fs.fchmodSync(fd, 0o666);
    return fd;
}

export function nginxCheck(bin: string, dir: string, conf: string, prefix: string[] = []): { status: number | null; output: string } {
    const [command, ...args] = [...prefix, bin, ...errorLogArgs(bin), "-t", "-p", `${dir}/`, "-c", conf];
    const stdout = stdoutFile(dir);
    try {
        const result = spawnSync(command, args, { encoding: "utf8", timeout: 15000, stdio: ["ignore", stdout, "pipe"] });
        return { status: result.status, output: `${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
    } finally {
        fs.closeSync(stdout);
    }
}

export const LOCAL = (port: number) => [`127.0.0.1:${port}`];

/** nginx in the foreground on a free loopback port, with a rendered config it can reload. */
export class NginxProcess {
    agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    port = 0;
    dir = "";
    private bin = "";
    private routes: readonly ModelRoute[] = [];
    private process: ChildProcess | undefined;
    private stderr = "";

    async start(bin: string, routes: readonly ModelRoute[]): Promise<void> {
        this.bin = bin;
        this.port = await freePort();
        this.dir = makeRunDir();
        this.routes = routes;
        const conf = writeConf(this.dir, [...routes], this.port);
        const stdout = stdoutFile(this.dir);
        this.process = spawn(bin, [...errorLogArgs(bin), "-p", `${this.dir}/`, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", stdout, "pipe"] });
        fs.closeSync(stdout);
        this.process.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
        await this.waitForHealthz();
    }

    /** Renders the new routes into the same file and signals nginx to reload, as a config change would. */
    reload(routes: readonly ModelRoute[]): void {
        this.routes = routes;
        const conf = writeConf(this.dir, [...routes], this.port);
        const result = spawnSync(this.bin, [...errorLogArgs(this.bin), "-p", `${this.dir}/`, "-c", conf, "-s", "reload"], { encoding: "utf8", timeout: 10000 });
        assert.equal(result.status, 0, `nginx -s reload: ${result.stderr}`);
    }

    /**
     * Reloads, then waits (boundedly) until the previous config's workers are gone and drops the
     * client's kept-alive connections: an old worker serves the connections it holds with the old
     * config until it exits, so a request just after `-s reload` may still see the old routes.
     */
    async reloadAndSettle(routes: readonly ModelRoute[]): Promise<void> {
        const before = this.workers();
        this.reload(routes);
        for (let attempt = 0; attempt < 100; attempt++) {
            const now = this.workers();
            if (!before.some((pid) => now.includes(pid)) && now.length > 0) break;
            await sleep(100);
        }
        this.agent.destroy();
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    }

    /** The master's worker processes (pgrep -P). */
    private workers(): number[] {
        const master = this.process?.pid;
        if (master === undefined) return [];
        const children = spawnSync("pgrep", ["-P", String(master)], { encoding: "utf8" }).stdout ?? "";
        return children
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map(Number);
    }

    currentRoutes(): readonly ModelRoute[] {
        return this.routes;
    }

    private async waitForHealthz(): Promise<void> {
        for (let attempt = 0; attempt < 100; attempt++) {
            if (this.process?.exitCode !== null) assert.fail(`nginx exited with ${String(this.process?.exitCode)}: ${this.stderr}`);
            const answer = await this.send("/healthz", {}, "GET").catch(() => undefined);
            if (answer?.status === 200) return;
            await sleep(100);
        }
        assert.fail(`nginx did not answer /healthz within 10 s: ${this.stderr}`);
    }

    send(urlPath: string, headers: http.OutgoingHttpHeaders = {}, method = "POST", body?: string): Promise<Answer> {
        return request(this.agent, this.port, urlPath, headers, method, body);
    }

    accessLog(): string {
        return fs.readFileSync(path.join(this.dir, "stdout.log"), "utf8");
    }

    async stop(): Promise<void> {
        this.agent.destroy();
        const nginx = this.process;
        if (nginx && nginx.exitCode === null) {
            const exited = new Promise((resolve) => nginx.once("exit", resolve));
            nginx.kill("SIGTERM");
            await Promise.race([exited, sleep(5000)]);
            if (nginx.exitCode === null) nginx.kill("SIGKILL");
        }
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
