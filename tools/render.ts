/**
 * `npm run render -- --stack <name> [--out <dir>]`: the stack's plan without the Pulumi CLI or a
 * cloud account. Runs the program under mocks with Pulumi.<stack>.yaml and writes every resource
 * (type, name, inputs) as JSON, the Kubernetes objects as YAML and the nginx.conf files.
 */
import type { Unwrap } from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { stringify as toYaml } from "yaml";
import { loadConfig } from "../components/config/load";
import { routerNginxConf } from "../policies/target-readers";
import { deployModelship, type StackOutputs } from "../components/stack";
import { parseFlags, runCommand, UsageError } from "./args";
import { runUnderMocks, type RecordedResource } from "./mock-runtime";
import { findProjectDir, readStackFiles, type StackFiles } from "./stack-files";

// Importable from here as before; it lives with the other readers of the project files.
export { findProjectDir };

export interface Render {
    stack: string;
    resources: RecordedResource[];
    outputs: Unwrap<StackOutputs>;
}

/** @param stackFile a config file instead of Pulumi.<stack>.yaml, as `pulumi --config-file` takes */
export async function renderStack(projectDir: string, stack: string, stackFile?: string): Promise<Render> {
    return renderFiles(projectDir, readStackFiles(projectDir, stack, stackFile));
}

/** Renders a stack's config as given, e.g. a stack file changed in memory by a test. */
export async function renderFiles(projectDir: string, files: StackFiles): Promise<Render> {
    const stack = files.stack;
    // Build contexts and artifact paths are relative to the project, as under `pulumi up`.
    const previous = process.cwd();
    process.chdir(projectDir);
    try {
        const run = await runUnderMocks(files, () => deployModelship(loadConfig()));
        const resources = run.resources
            .filter((r) => r.type !== "pulumi:pulumi:Stack")
            .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
        return { stack, resources, outputs: run.outputs };
    } finally {
        process.chdir(previous);
    }
}

export function isKubernetesObject(resource: RecordedResource): boolean {
    return resource.type.startsWith("kubernetes:") && resource.custom && typeof resource.inputs.kind === "string";
}

/** Every generated nginx.conf, by the resource that carries it. */
export function nginxConfigs(resources: readonly RecordedResource[]): Array<{ name: string; conf: string }> {
    return resources.flatMap((r) => {
        const conf = routerNginxConf(r.type, r.inputs);
        return conf === undefined ? [] : [{ name: r.name, conf }];
    });
}

/** apiVersion and kind first, as people write manifests. */
function kubernetesObject(inputs: Record<string, unknown>): Record<string, unknown> {
    const { apiVersion, kind, metadata, ...rest } = inputs;
    return { apiVersion, kind, metadata, ...rest };
}

export function writeRender(render: Render, outDir: string): string[] {
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(outDir, { recursive: true });
    const written: string[] = [];
    const write = (relative: string, content: string) => {
        fs.writeFileSync(path.join(outDir, relative), content);
        written.push(relative);
    };
    write("resources.json", JSON.stringify(render.resources, null, 2) + "\n");
    write("outputs.json", JSON.stringify(render.outputs, null, 2) + "\n");
    const objects = render.resources.filter(isKubernetesObject).map((r) => kubernetesObject(r.inputs));
    if (objects.length > 0) write("kubernetes.yaml", objects.map((o) => toYaml(o)).join("---\n"));
    const confs = nginxConfigs(render.resources);
    if (confs.length > 0) fs.mkdirSync(path.join(outDir, "nginx"));
    for (const { name, conf } of confs) write(path.join("nginx", `${name}.conf`), conf);
    return written;
}

const USAGE = "usage: npm run render -- --stack <name> [--config-file <stack file>] [--out <dir>] [--project <dir with Pulumi.yaml>]";

function parseArgs(argv: readonly string[]): { stack: string; configFile?: string; out?: string; project?: string } {
    const args = parseFlags(argv, { "--stack": "stack", "-s": "stack", "--config-file": "configFile", "--out": "out", "-o": "out", "--project": "project" }).values;
    if (!args.stack) throw new UsageError("--stack is required");
    return { ...args, stack: args.stack };
}

/** `stable lint, scan (advisory), smoke; candidate ...`: the gates each track must pass, from the gate resources. */
export function gateSummary(resources: readonly RecordedResource[], model: string): string {
    const prefix = `${model}-gates-`;
    const byTrack = new Map<string, string[]>();
    for (const r of resources.filter((x) => x.custom && x.name.startsWith(prefix))) {
        const [track, kind] = r.name.slice(prefix.length).split("-");
        // A local gate says so in its command; an in-cluster smoke Job is not waited for.
        const annotations = (r.inputs.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
        const advisory = String(r.inputs.create ?? "").includes("advisory here") || annotations?.["pulumi.com/skipAwait"] === "true";
        byTrack.set(track, [...(byTrack.get(track) ?? []), `${kind}${advisory ? " (advisory)" : ""}`]);
    }
    const order = (track: string) => (track === "stable" ? 0 : 1);
    return [...byTrack]
        .sort(([a], [b]) => order(a) - order(b))
        .map(([track, kinds]) => `${track} ${kinds.join(", ")}`)
        .join("; ");
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs(argv);
    const projectDir = args.project ? path.resolve(args.project) : findProjectDir();
    const outDir = path.resolve(args.out ?? path.join(projectDir, "out", "render", args.stack));
    const render = await renderStack(projectDir, args.stack, args.configFile === undefined ? undefined : path.resolve(args.configFile));
    const written = writeRender(render, outDir);
    const kinds = new Set(render.resources.filter((r) => r.custom).map((r) => r.type));
    console.log(`rendered stack ${args.stack}: ${render.resources.filter((r) => r.custom).length} resources of ${kinds.size} types -> ${path.relative(process.cwd(), outDir) || "."}`);
    for (const file of written) console.log(`  ${file}`);
    for (const [model, m] of Object.entries(render.outputs.models)) {
        const weights = Object.entries(m.weights).map(([t, w]) => `${t} ${m.versions[t as "stable"]}: ${w}%`).join(", ");
        console.log(`  ${model} (${m.strategy}${m.step ? ` step ${m.step.index + 1}/${m.step.count}` : ""}${m.aborted ? ", aborted" : ""}): ${weights}`);
        const gates = gateSummary(render.resources, model);
        if (gates) console.log(`    gates: ${gates}`);
    }
    return 0;
}

if (require.main === module) runCommand(USAGE, main);
