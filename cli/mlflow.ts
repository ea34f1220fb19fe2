/**
 * The MLflow model registry, through its REST API (2.0): what a version or an alias names, where
 * a version's files are, and moving an alias. Only `modelship pin`, `promote` and `rollback --to`
 * ask it; the program deploys what the stack file pins and never does.
 */
import { httpRequest, type HttpAnswer } from "../model-server/src/http-client";

/** A registry answer the command cannot go on from: a missing model, version or alias (with those that exist), or an unreachable server. */
export class RegistryError extends Error {}

export interface RegistryVersion {
    name: string;
    version: string;
    /** Where MLflow says the files came from (a run's artifacts, say). */
    source: string;
    aliases: string[];
    /** READY once MLflow has the files; PENDING_REGISTRATION or FAILED_REGISTRATION otherwise. */
    status: string;
}

/** MLflow's artifact proxy (`mlflow server --serve-artifacts`): an mlflow-artifacts:/ URI is this path under the tracking server. */
const ARTIFACT_PROXY = "/api/2.0/mlflow-artifacts/artifacts";

const TIMEOUT_MS = 15_000;

interface VersionJson {
    name?: string;
    version?: string | number;
    source?: string;
    aliases?: string[];
    status?: string;
}

export class MlflowRegistry {
    private readonly base: string;

    constructor(readonly trackingUri: string) {
        this.base = trackingUri.replace(/\/+$/, "");
    }

    async version(name: string, version: string): Promise<RegistryVersion> {
        const answer = await this.call("GET", "/api/2.0/mlflow/model-versions/get", { name, version });
        if (answer.status === 404 || errorCode(answer) === "RESOURCE_DOES_NOT_EXIST")
            throw new RegistryError(`${name} has no version ${version} in ${this.trackingUri}; ${await this.whatExists(name)}`);
        return toVersion(this.json(answer, "model_version") as VersionJson);
    }

    async aliased(name: string, alias: string): Promise<RegistryVersion> {
        const answer = await this.call("GET", "/api/2.0/mlflow/registered-models/alias", { name, alias });
        // MLflow answers a missing alias with INVALID_PARAMETER_VALUE, and a missing model with RESOURCE_DOES_NOT_EXIST.
        if (answer.status >= 400 && answer.status < 500) throw new RegistryError(`${name} has no alias ${alias} in ${this.trackingUri}; ${await this.whatExists(name)}`);
        return toVersion(this.json(answer, "model_version") as VersionJson);
    }

    /** Every version of the model, newest first, with its aliases. */
    async versions(name: string): Promise<RegistryVersion[]> {
        const found: RegistryVersion[] = [];
        let pageToken: string | undefined;
        do {
            const answer = await this.call("GET", "/api/2.0/mlflow/model-versions/search", {
                filter: `name='${name.replace(/'/g, "\\'")}'`,
                max_results: "200",
                ...(pageToken ? { page_token: pageToken } : {}),
            });
            const page = this.json(answer) as { model_versions?: VersionJson[]; next_page_token?: string };
            found.push(...(page.model_versions ?? []).map(toVersion));
            pageToken = page.next_page_token;
        } while (pageToken);
        return found.sort((a, b) => Number(b.version) - Number(a.version));
    }

    /** Where a version's files are, as a location fetch-artifact reads: a path, https:// (http:// on loopback) or s3://. */
    async filesOf(name: string, version: string): Promise<string> {
        const answer = await this.call("GET", "/api/2.0/mlflow/model-versions/get-download-uri", { name, version });
        const uri = String(this.json(answer, "artifact_uri"));
        return this.fetchable(uri);
    }

    /** Points the alias at the version (MLflow moves an existing alias). */
    async setAlias(name: string, alias: string, version: string): Promise<void> {
        const answer = await this.call("POST", "/api/2.0/mlflow/registered-models/alias", undefined, { name, alias, version });
        this.json(answer);
    }

    /** The versions and aliases that do exist, for an error about one that does not. */
    async whatExists(name: string): Promise<string> {
        const answer = await this.call("GET", "/api/2.0/mlflow/registered-models/get", { name });
        if (answer.status === 404 || errorCode(answer) === "RESOURCE_DOES_NOT_EXIST") return `no registered model ${name} there`;
        const model = this.json(answer, "registered_model") as { aliases?: { alias: string; version: string }[] };
        const versions = (await this.versions(name)).map((v) => v.version);
        const aliases = (model.aliases ?? []).map((a) => `${a.alias} -> ${a.version}`);
        return `its versions: ${versions.join(", ") || "none"}; its aliases: ${aliases.join(", ") || "none"}`;
    }

    /**
     * A download URI as a location fetch-artifact reads. mlflow-artifacts:/ is the tracking server's
     * own artifact proxy; runs:/ and models:/ are MLflow's indirections, which get-download-uri
     * has resolved already; other stores (gs://, wasbs://, dbfs:/) are not read by the fetch.
     */
    fetchable(uri: string): string {
        if (uri.startsWith("mlflow-artifacts:")) {
            const rest = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?/, "").replace(/^\/+/, "");
            return `${this.base}${ARTIFACT_PROXY}/${rest}`;
        }
        if (/^(s3|https?|file):\/\//.test(uri) || uri.startsWith("/")) return uri;
        throw new RegistryError(
            `the registry keeps this version's files at ${uri}, which the artifact fetch cannot read: serve them through the tracking server (mlflow server --serve-artifacts), or keep them in s3:// or a local directory`,
        );
    }

    private async call(method: "GET" | "POST", route: string, query?: Record<string, string>, body?: unknown): Promise<HttpAnswer> {
        const url = new URL(this.base + route);
        for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
        try {
            return await httpRequest(url, { method, timeoutMs: TIMEOUT_MS, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        } catch (error) {
            throw new RegistryError(`the model registry at ${this.trackingUri} did not answer ${route} (${(error as Error).message}): check modelRegistry.trackingUri and that the server runs`);
        }
    }

    private json(answer: HttpAnswer, key?: string): unknown {
        let parsed: unknown;
        try {
            parsed = JSON.parse(answer.body);
        } catch {
            throw new RegistryError(`the model registry at ${this.trackingUri} answered ${answer.status} with something other than JSON: is it an MLflow tracking server?`);
        }
        if (answer.status >= 400) {
            const message = (parsed as { message?: string }).message ?? answer.body.slice(0, 200);
            throw new RegistryError(`the model registry at ${this.trackingUri} refused (${answer.status}): ${message}`);
        }
        if (key === undefined) return parsed;
        const value = (parsed as Record<string, unknown>)[key];
        if (value === undefined) throw new RegistryError(`the model registry at ${this.trackingUri} answered without ${key}: is it an MLflow tracking server?`);
        return value;
    }
}

function errorCode(answer: HttpAnswer): string | undefined {
    try {
        return (JSON.parse(answer.body) as { error_code?: string }).error_code;
    } catch {
        return undefined;
    }
}

function toVersion(json: VersionJson): RegistryVersion {
    return { name: String(json.name), version: String(json.version), source: String(json.source ?? ""), aliases: json.aliases ?? [], status: String(json.status ?? "READY") };
}
