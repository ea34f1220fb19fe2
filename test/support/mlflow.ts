/**
 * The real MLflow registry of scripts/mlflow-registry.sh, and what a data scientist's side does
 * to it through MLflow's REST API: a run whose artifacts are a model version's files, the
 * registered version made from them, and aliases. The tests drive modelship against it.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";

const script = () => path.join(findProjectDir(), "scripts", "mlflow-registry.sh");

export class MlflowServer {
    private constructor(
        readonly url: string,
        private readonly state: string,
    ) {}

    /** Starts a registry with its own state directory on `port`; the first start installs MLflow into the toolchain cache. */
    static up(state: string, port: number): MlflowServer {
        const result = spawnSync("bash", [script(), "up", "--port", String(port), "--state", state], { encoding: "utf8", timeout: 15 * 60_000 });
        assert.equal(result.status, 0, `mlflow-registry.sh up: ${result.stderr}`);
        const url = result.stdout.trim().split("\n").pop() ?? "";
        assert.equal(url, `http://127.0.0.1:${port}`, result.stderr);
        return new MlflowServer(url, state);
    }

    down(): void {
        spawnSync("bash", [script(), "down", "--state", this.state], { encoding: "utf8", timeout: 60_000 });
    }

    async call(method: "GET" | "POST" | "PUT", route: string, body?: unknown): Promise<Record<string, unknown>> {
        const response = await fetch(this.url + route, {
            method,
            ...(body !== undefined
                ? { body: Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { "content-type": Buffer.isBuffer(body) ? "application/octet-stream" : "application/json" } }
                : {}),
            signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        assert.ok(response.ok, `${method} ${route}: ${response.status} ${text}`);
        return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    }

    /** Logs a run whose `model/` artifacts are the files of `dir`, and registers them as the next version of `name`; its version number. */
    async register(name: string, dir: string): Promise<string> {
        const models = (await this.call("GET", `/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(name)}`).catch(() => undefined)) as unknown;
        if (models === undefined) await this.call("POST", "/api/2.0/mlflow/registered-models/create", { name });
        const run = (await this.call("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" })) as { run: { info: { run_id: string; artifact_uri: string } } };
        const { run_id: runId, artifact_uri: artifactUri } = run.run.info;
        const proxied = artifactUri.replace(/^mlflow-artifacts:\//, "");
        for (const file of fs.readdirSync(dir)) {
            await this.call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${proxied}/model/${file}`, fs.readFileSync(path.join(dir, file)));
        }
        const created = (await this.call("POST", "/api/2.0/mlflow/model-versions/create", { name, source: `${artifactUri}/model`, run_id: runId })) as { model_version: { version: string } };
        return created.model_version.version;
    }

    async setAlias(name: string, alias: string, version: string): Promise<void> {
        await this.call("POST", "/api/2.0/mlflow/registered-models/alias", { name, alias, version });
    }

    /** The version an alias names now. */
    async alias(name: string, alias: string): Promise<string> {
        const found = (await this.call("GET", `/api/2.0/mlflow/registered-models/alias?name=${encodeURIComponent(name)}&alias=${encodeURIComponent(alias)}`)) as { model_version: { version: string } };
        return found.model_version.version;
    }

    /** The directory on this machine holding a version's files (the artifacts are served from here). */
    async filesOnDisk(name: string, version: string): Promise<string> {
        const uri = (await this.call("GET", `/api/2.0/mlflow/model-versions/get-download-uri?name=${encodeURIComponent(name)}&version=${version}`)) as { artifact_uri: string };
        return path.join(this.state, "artifacts", uri.artifact_uri.replace(/^mlflow-artifacts:\//, ""));
    }
}

/** A copy of a shipped version's files declaring another version (the server checks model.json is the version it was told to serve). */
export function versionCopy(from: string, into: string, version: string): string {
    fs.mkdirSync(into, { recursive: true });
    for (const file of fs.readdirSync(from)) if (file !== "model.json.sha256") fs.copyFileSync(path.join(from, file), path.join(into, file));
    const manifest = JSON.parse(fs.readFileSync(path.join(from, "model.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(path.join(into, "model.json"), JSON.stringify({ ...manifest, version }, null, 2) + "\n");
    return into;
}
