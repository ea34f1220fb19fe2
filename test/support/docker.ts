/**
 * A real Docker engine for tests: started (and installed from Debian) by scripts/ when missing,
 * a local registry on loopback, and a base image built with debootstrap and named by digest.
 */
import { strict as assert } from "assert";
import { spawnSync, type SpawnSyncOptions } from "child_process";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import type { RecordedResource } from "../../tools/mock-runtime";

const projectDir = findProjectDir();
const script = (name: string) => path.join(projectDir, "scripts", name);

export interface CommandResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): CommandResult {
    const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
    return { status: result.status, stdout: String(result.stdout ?? ""), stderr: `${String(result.stderr ?? "")}${result.error ? String(result.error) : ""}` };
}

/** Runs a command and fails the test with its output when it does not exit 0. */
export function must(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
    const result = run(command, args, options);
    assert.equal(result.status, 0, `${command} ${args.join(" ")}\n${result.stderr}${result.stdout}`);
    return result.stdout.trim();
}

/** The legacy builder: Debian's engine has no BuildKit plugin, and the Dockerfile needs none. */
export const BUILD_ENV = { ...process.env, DOCKER_BUILDKIT: "0" };

export interface DockerEnvironment {
    /** The pid of a dockerd this run started, to stop afterwards; undefined when one was running. */
    startedEngine?: string;
    /** Likewise for the registry. */
    startedRegistry?: string;
    registry: string;
    baseImage: string;
}

export function prepareDocker(timeoutMs: number): DockerEnvironment {
    const engine = must("bash", [script("docker-engine.sh"), "start"], { timeout: timeoutMs });
    const started = /^started (\d+)$/m.exec(engine)?.[1];
    const [registry, registryStarted] = must("bash", [script("local-registry.sh")], { timeout: timeoutMs }).split("\n");
    const startedRegistry = /^started (\d+)$/.exec(registryStarted ?? "")?.[1];
    const baseImage =
        must("bash", [script("base-image.sh"), registry], { timeout: timeoutMs })
            .split("\n")
            .pop() ?? "";
    assert.match(baseImage, /@sha256:[a-f0-9]{64}$/, "the base image is named by digest");
    return { ...(started ? { startedEngine: started } : {}), ...(startedRegistry ? { startedRegistry } : {}), registry, baseImage };
}

/** Stops what prepareDocker started, and only that. */
export function stopDocker(environment: DockerEnvironment | undefined): void {
    if (environment?.startedRegistry) run("kill", [environment.startedRegistry]);
    if (environment?.startedEngine) run("bash", [script("docker-engine.sh"), "stop", environment.startedEngine]);
}

/**
 * `docker run` arguments for a container as the docker target declares it (the recorded inputs of
 * a docker:index/container:Container). Every input key must be understood here, so a field the
 * target adds later cannot be silently left out of the test.
 */
export function dockerRunArgs(container: RecordedResource, overrides: { name: string; network: string; image: string; volumes?: Readonly<Record<string, string>> }): string[] {
    const inputs = container.inputs as {
        envs?: string[];
        mounts?: Array<{ type: string; source: string; target: string; readOnly?: boolean }>;
        readOnly?: boolean;
        tmpfs?: Record<string, string>;
        capabilities?: { drops?: string[] };
        securityOpts?: string[];
        healthcheck?: { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string };
        restart?: string;
        user?: string;
        ports?: Array<{ internal: number; external?: number; ip?: string }>;
        labels?: Array<{ label: string; value: string }>;
        networksAdvanced?: Array<{ name: string; aliases?: string[] }>;
    };
    const understood = new Set([
        "name",
        "image",
        "envs",
        "labels",
        "networksAdvanced",
        "mounts",
        "healthcheck",
        "restart",
        "readOnly",
        "tmpfs",
        "capabilities",
        "securityOpts",
        "user",
        "ports",
        "wait",
        "waitTimeout",
    ]);
    const unknown = Object.keys(container.inputs).filter((k) => !understood.has(k));
    assert.deepEqual(unknown, [], `container inputs this test does not translate: ${unknown.join(", ")}`);
    const args = ["run", "-d", "--name", overrides.name, "--network", overrides.network];
    for (const alias of inputs.networksAdvanced?.[0]?.aliases ?? []) args.push("--network-alias", alias);
    for (const env of inputs.envs ?? []) args.push("-e", env);
    for (const m of inputs.mounts ?? []) {
        // A declared volume's name is the provider's; the test gives the one it made in its place.
        const source = m.type === "volume" ? overrides.volumes?.[m.source] : m.source;
        assert.ok(source, `no volume given for the declared ${m.source}`);
        args.push("--mount", `type=${m.type},source=${source},target=${m.target}${m.readOnly ? ",readonly" : ""}`);
    }
    if (inputs.readOnly) args.push("--read-only");
    for (const [target, options] of Object.entries(inputs.tmpfs ?? {})) args.push("--tmpfs", `${target}:${options}`);
    for (const cap of inputs.capabilities?.drops ?? []) args.push("--cap-drop", cap);
    for (const opt of inputs.securityOpts ?? []) args.push("--security-opt", opt);
    for (const { label, value } of inputs.labels ?? []) args.push("--label", `${label}=${value}`);
    const health = inputs.healthcheck;
    if (health) {
        const [kind, ...command] = health.tests;
        assert.equal(kind, "CMD", "exec-form health checks only");
        // docker run takes a shell string; the recorded check is exec form, so quote each word.
        args.push("--health-cmd", command.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(" "));
        if (health.interval) args.push("--health-interval", health.interval);
        if (health.timeout) args.push("--health-timeout", health.timeout);
        if (health.retries !== undefined) args.push("--health-retries", String(health.retries));
        if (health.startPeriod) args.push("--health-start-period", health.startPeriod);
    }
    if (inputs.restart) args.push("--restart", inputs.restart);
    if (inputs.user) args.push("--user", inputs.user);
    for (const p of inputs.ports ?? []) args.push("-p", `${p.ip ?? "0.0.0.0"}:${p.external ?? ""}:${p.internal}`);
    args.push(overrides.image);
    return args;
}
