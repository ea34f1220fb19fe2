/**
 * The real node of scripts/kube-node.sh for end-to-end tests: a control plane, containerd, a
 * kubelet and kube-proxy inside a network namespace the script creates, running real containers.
 * The API server, Services and pods are reachable only inside that namespace, so kubectl, the
 * engine and the load clients run there too (`exec`), with the host's files.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { findProjectDir } from "../../../tools/render";
import { KubeClient } from "./cluster";
import { run, type Run } from "./engine";
import type { NetnsLoadOutput } from "./netns-load";

const script = () => path.join(findProjectDir(), "scripts", "kube-node.sh");

export class RealNode extends KubeClient {
    /** Prefix of a command run inside the node's network namespace. */
    static readonly launcher: readonly string[] = ["bash", script(), "exec", "--"];

    private constructor(
        kubeconfig: string,
        bin: string,
        /** How long `up` took, for the note. */
        readonly upMs: number,
    ) {
        super(kubeconfig, bin, RealNode.launcher);
    }

    /** Stands the node up (or finds it up); builds nothing when the toolchain is cached. */
    static async up(bin: string): Promise<RealNode> {
        const result = await run("bash", [script(), "up"], { cwd: findProjectDir(), env: process.env, timeoutMs: 20 * 60_000 });
        assert.equal(result.status, 0, result.all);
        const kubeconfig = result.stdout.trim().split("\n").pop() ?? "";
        assert.ok(kubeconfig.endsWith(".yaml") || kubeconfig.endsWith("kubeconfig"), `kube-node.sh up printed the kubeconfig path\n${result.all}`);
        return new RealNode(kubeconfig, bin, result.ms);
    }

    async down(): Promise<void> {
        const result = await run("bash", [script(), "down"], { cwd: findProjectDir(), env: process.env, timeoutMs: 180_000 });
        assert.equal(result.status, 0, result.all);
    }

    /** Copies images from the host's Docker engine into the node's containerd, under their names. */
    async loadImages(images: readonly string[]): Promise<void> {
        const result = await run("bash", [script(), "load-image", ...images], { cwd: findProjectDir(), env: process.env, timeoutMs: 10 * 60_000 });
        assert.equal(result.status, 0, result.all);
    }

    /** The node's InternalIP: inside the namespace, pods reach what listens there. */
    async address(): Promise<string> {
        const result = await this.kubectl(["get", "nodes", "-o", "jsonpath={.items[0].status.addresses[?(@.type=='InternalIP')].address}"]);
        assert.equal(result.status, 0, result.all);
        assert.match(result.stdout.trim(), /^\d+\.\d+\.\d+\.\d+$/, result.all);
        return result.stdout.trim();
    }

    /** A command inside the node's network namespace. */
    exec(command: string, args: readonly string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
        const [first, ...rest] = [...RealNode.launcher, command, ...args];
        return run(first, rest, { cwd: findProjectDir(), env: { ...process.env, KUBECONFIG: this.kubeconfig, ...env }, timeoutMs });
    }

    /**
     * Requests from inside the node's namespace (netns-load.ts) to `host:port` and `path`, the
     * flags in `args` (`--total`, `--seconds`, ...); every answer's track and status.
     */
    async load(target: { host: string; port: string | number; path: string }, args: readonly string[], options: { concurrency: number; timeoutMs: number }): Promise<NetnsLoadOutput> {
        const client = path.join(__dirname, "netns-load.js");
        const flags = ["--host", target.host, "--port", String(target.port), "--path", target.path, "--concurrency", String(options.concurrency)];
        const result = await this.exec(process.execPath, [client, ...flags, ...args], options.timeoutMs);
        assert.equal(result.status, 0, result.all);
        return JSON.parse(result.stdout) as NetnsLoadOutput;
    }
}
