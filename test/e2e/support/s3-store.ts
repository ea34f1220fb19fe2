/**
 * The S3-compatible store of scripts/s3-store.sh (moto, IAM access control on) for the real-node
 * tests, started inside the node's network namespace on the node's address, where the pods
 * reach it, and seeded with the model versions and each model's pod role.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { findProjectDir } from "../../../tools/render";
import type { RealNode } from "./real-node";

const script = () => path.join(findProjectDir(), "scripts", "s3-store.sh");

export interface SeededModel {
    artifact: string;
    roleArn: string;
}

export class S3Store {
    private constructor(
        private readonly node: RealNode,
        readonly endpoint: string,
    ) {}

    static async up(node: RealNode, address: string, port = 9000): Promise<S3Store> {
        const result = await node.exec("bash", [script(), "up", "--address", address, "--port", String(port)], 5 * 60_000);
        assert.equal(result.status, 0, result.all);
        const endpoint = result.stdout.trim().split("\n").pop() ?? "";
        assert.match(endpoint, /^http:\/\//, `s3-store.sh up printed its endpoint\n${result.all}`);
        return new S3Store(node, endpoint);
    }

    async down(): Promise<void> {
        const result = await this.node.exec("bash", [script(), "down"]);
        assert.equal(result.status, 0, result.all);
    }

    /** Uploads every version under `models` to `<location><model>/<version>/` with each model's role; by model. */
    async seed(location: string, options: { models: string; environment: string; namespace: string; corrupt?: string[]; forbid?: string[] }): Promise<Record<string, SeededModel>> {
        const args = ["seed", location, "--models", options.models, "--environment", options.environment, "--namespace", options.namespace];
        for (const v of options.corrupt ?? []) args.push("--corrupt", v);
        for (const v of options.forbid ?? []) args.push("--forbid", v);
        const result = await this.node.exec("bash", [script(), ...args], 5 * 60_000);
        assert.equal(result.status, 0, result.all);
        const seeded: Record<string, SeededModel> = {};
        for (const line of result.stdout.trim().split("\n")) {
            const [model, artifact, roleArn] = line.trim().split(/\s+/);
            if (roleArn?.startsWith("arn:aws:iam::")) seeded[model] = { artifact, roleArn };
        }
        return seeded;
    }
}
