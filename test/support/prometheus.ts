/**
 * Debian's Prometheus on a free loopback port for tests, scraping the model servers given to it
 * every second, with its config and TSDB in a temporary folder.
 */
import { stopChild } from "./child";
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, sleep } from "./http";
import { LoopbackClient } from "./load";
import type { Track } from "./model-server";
import { binaryOrSkip, PROMETHEUS } from "./tools";

export function prometheusOrSkip(context: Mocha.Context): string {
    return binaryOrSkip(context, PROMETHEUS);
}

/** Labels a scrape target carries besides its pool, for servers whose metrics do not name their model and track. */
export type TargetLabels = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** One job, one target per track, scraped every second. */
function scrapeConfig(targets: Readonly<Record<string, string>>, labels: TargetLabels = {}): string {
    const staticConfigs = Object.entries(targets).map(([pool, address]) => {
        const extra = Object.entries(labels[pool] ?? {}).map(([key, value]) => `, ${key}: "${value}"`);
        return `      - targets: ["${address}"]\n        labels: { stack: "integration", pool: "${pool}"${extra.join("")} }`;
    });
    // One line of the file per line.
    // prettier-ignore
    return [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: modelship",
        "    static_configs:",
        ...staticConfigs,
        "",
    ].join("\n");
}

export type Vector = { metric: Record<string, string>; value: [number, string] }[];

/** Debian's Prometheus on a free loopback port, with its config and TSDB in a temp dir. */
export class PrometheusProcess {
    port = 0;
    dir = "";
    private child: ChildProcess | undefined;
    private log = "";
    private client: LoopbackClient | undefined;

    /** Scrapes each target (by pool name) every second, with its `labels` as target labels. */
    async start(bin: string, targets: Readonly<Record<string, string>>, labels: TargetLabels = {}): Promise<void> {
        this.port = await freePort();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-prometheus-"));
        const config = path.join(this.dir, "prometheus.yml");
        fs.writeFileSync(config, scrapeConfig(targets, labels));
        // Flags as of Prometheus 2.42 (Debian 12); `prometheus --help` lists them.
        const args = [`--config.file=${config}`, `--storage.tsdb.path=${path.join(this.dir, "data")}`, `--web.listen-address=127.0.0.1:${this.port}`, "--log.level=warn"];
        this.child = spawn(bin, args, { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
        this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.log = (this.log + chunk).slice(-4000)));
        this.client = new LoopbackClient(this.port, 2);
        await this.waitUntil(async () => (await this.client?.request({ path: "/-/ready", timeoutMs: 1000 }))?.status === 200, 20000, "/-/ready");
    }

    async query(promql: string): Promise<Vector> {
        assert.ok(this.client, "prometheus is not started");
        const reply = await this.client.request({ path: `/api/v1/query?query=${encodeURIComponent(promql)}` });
        const answer = JSON.parse(reply.body) as { status: string; error?: string; data?: { resultType: string; result: Vector } };
        assert.equal(answer.status, "success", `${promql}: ${answer.error ?? reply.body}`);
        assert.equal(answer.data?.resultType, "vector", promql);
        return answer.data.result;
    }

    /** The query's value per track. */
    async byTrack(promql: string): Promise<Partial<Record<Track, number>>> {
        return Object.fromEntries((await this.query(promql)).map((r) => [r.metric.track, Number(r.value[1])]));
    }

    /** Polls `ready` every 250 ms until it holds, failing after `timeoutMs` with Prometheus's log. */
    async waitUntil(ready: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
        for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
            if (this.child?.exitCode !== null) assert.fail(`prometheus exited with ${String(this.child?.exitCode)}: ${this.log}`);
            if (await ready().catch(() => false)) return;
        }
        assert.fail(`prometheus: ${what} not reached within ${timeoutMs} ms\n${this.log}`);
    }

    async stop(): Promise<void> {
        this.client?.close();
        await stopChild(this.child);
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** For the process exit hook only: no waiting. */
    killNow(): void {
        if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    }
}
