/**
 * Kubernetes clusters for end-to-end tests, read back with kubectl: the kwok cluster of
 * scripts/kube-cluster.sh (a real kube-apiserver, controller manager and scheduler with fake
 * nodes) and the real node of scripts/kube-node.sh (support/real-node.ts).
 */
import { strict as assert } from "assert";
import * as path from "path";
import { findProjectDir } from "../../../tools/render";
import { run } from "./engine";

export interface KubeObject {
    metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
    data?: Record<string, string>;
}

/** kubectl against one cluster, read back as objects; `launcher` runs it where the API server is reachable. */
export class KubeClient {
    constructor(
        readonly kubeconfig: string,
        private readonly bin: string,
        private readonly launcher: readonly string[] = [],
    ) {}

    kubectl(args: readonly string[], input?: string) {
        const env = { ...process.env, KUBECONFIG: this.kubeconfig };
        const kubectl = path.join(this.bin, "kubectl");
        const command = input === undefined ? [kubectl, ...args] : ["bash", "-c", `"$0" "$@" <<'MODELSHIP_EOF'\n${input}\nMODELSHIP_EOF`, kubectl, ...args];
        const [first, ...rest] = [...this.launcher, ...command];
        return run(first, rest, { cwd: findProjectDir(), env, timeoutMs: 60_000 });
    }

    /** One object, or undefined when the API server has none by that name. */
    async get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
        const result = await this.kubectl(["get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "json"]);
        if (result.status !== 0 && /NotFound|not found/.test(result.stderr)) return undefined;
        assert.equal(result.status, 0, result.all);
        return JSON.parse(result.stdout) as KubeObject;
    }

    /** Every object of the kinds given that carries the label selector, across namespaces. */
    async list(kinds: string, selector: string): Promise<KubeObject[]> {
        const result = await this.kubectl(["get", kinds, "--all-namespaces", "-l", selector, "-o", "json"]);
        assert.equal(result.status, 0, result.all);
        return (JSON.parse(result.stdout) as { items: KubeObject[] }).items;
    }

    async apply(manifest: string): Promise<void> {
        const result = await this.kubectl(["apply", "-f", "-"], manifest);
        assert.equal(result.status, 0, result.all);
    }
}

/** The kwok cluster of scripts/kube-cluster.sh: a real API server with fake nodes. */
export class KwokCluster extends KubeClient {
    /** Creates the cluster (or finds it up) and returns it; the first call builds nothing if the toolchain is cached. */
    static async up(bin: string): Promise<KwokCluster> {
        const script = path.join(findProjectDir(), "scripts", "kube-cluster.sh");
        const result = await run("bash", [script, "up"], { cwd: findProjectDir(), env: process.env, timeoutMs: 10 * 60_000 });
        assert.equal(result.status, 0, result.all);
        const kubeconfig = result.stdout.trim().split("\n").pop() ?? "";
        assert.ok(kubeconfig.endsWith(".yaml"), `kube-cluster.sh up printed the kubeconfig path\n${result.all}`);
        return new KwokCluster(kubeconfig, bin);
    }

    async down(): Promise<void> {
        const result = await run("bash", [path.join(findProjectDir(), "scripts", "kube-cluster.sh"), "down"], { cwd: findProjectDir(), env: process.env, timeoutMs: 120_000 });
        assert.equal(result.status, 0, result.all);
    }
}
