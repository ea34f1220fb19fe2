/**
 * A real Alertmanager (scripts/alertmanager-toolchain.sh) on a free loopback port for tests, as
 * one instance (no cluster), routing every alert at once to a webhook receiver the test runs,
 * with its config and state in a temporary folder.
 */
import { stopChild } from "./child";
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { httpRequest } from "../../model-server/src/http-client";
import { freePort, sleep } from "./http";
import { ALERTMANAGER, binaryOrSkip } from "./tools";

export function alertmanagerOrSkip(context: Mocha.Context): string {
    return binaryOrSkip(context, ALERTMANAGER);
}

/** What Alertmanager's webhook receiver posts (its payload version 4). */
export interface AlertmanagerWebhook {
    version: string;
    status: "firing" | "resolved";
    receiver: string;
    groupLabels: Record<string, string>;
    commonLabels: Record<string, string>;
    commonAnnotations: Record<string, string>;
    alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; fingerprint: string }>;
}

/** An alert as GET /api/v2/alerts lists it (the fields the tests read). */
export interface ListedAlert {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
}

/** One route to one webhook receiver; no waiting to group (group_wait 0s), regrouped every second. */
function config(receiverUrl: string): string {
    // One line of the file per line.
    // prettier-ignore
    return [
        "route:",
        "  receiver: loopback",
        "  group_by: [alertname, event, model, environment]",
        "  group_wait: 0s",
        "  group_interval: 1s",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: loopback",
        "    webhook_configs:",
        `      - url: "${receiverUrl}"`,
        "        send_resolved: false",
        "",
    ].join("\n");
}

export class AlertmanagerProcess {
    port = 0;
    dir = "";
    private child: ChildProcess | undefined;
    private log = "";

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    /** Starts it routing to `receiverUrl` and waits until /-/ready answers 200. */
    async start(bin: string, receiverUrl: string): Promise<void> {
        this.port = await freePort();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-alertmanager-"));
        const configFile = path.join(this.dir, "alertmanager.yml");
        fs.writeFileSync(configFile, config(receiverUrl));
        // An empty cluster address turns the gossip cluster off: one instance, no port beside the API's.
        const args = [`--config.file=${configFile}`, `--storage.path=${path.join(this.dir, "data")}`, `--web.listen-address=127.0.0.1:${this.port}`, "--cluster.listen-address=", "--log.level=warn"];
        this.child = spawn(bin, args, { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
        this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.log = (this.log + chunk).slice(-4000)));
        const ready = new URL("/-/ready", this.url);
        for (const deadline = Date.now() + 20000; Date.now() < deadline; await sleep(100)) {
            if (this.child.exitCode !== null) assert.fail(`alertmanager exited with ${String(this.child.exitCode)}: ${this.log}`);
            const answer = await httpRequest(ready, { timeoutMs: 1000 }).catch(() => undefined);
            if (answer?.status === 200) return;
        }
        assert.fail(`alertmanager: /-/ready not reached within 20000 ms\n${this.log}`);
    }

    /** The alerts it holds, as its v2 API lists them. */
    async alerts(): Promise<ListedAlert[]> {
        const answer = await httpRequest(new URL("/api/v2/alerts", this.url), { timeoutMs: 5000 });
        assert.equal(answer.status, 200, answer.body);
        return JSON.parse(answer.body) as ListedAlert[];
    }

    get output(): string {
        return this.log;
    }

    async stop(): Promise<void> {
        await stopChild(this.child);
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
