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
import { STACK_TYPE } from "../components/type-tokens";
import { GATE_KINDS } from "../components/gates/kinds";
import { parseFlags, runCommand, UsageError } from "./command-line";
import { EXIT_OK } from "./exit-codes";
import { runUnderMocks, type RecordedGateResource, type RecordedResource } from "./mock-runtime";
import { findProjectDir, readStackFiles, type StackFiles } from "./project-files";

// Importable from here as before; it lives with the other readers of the project files.
export { findProjectDir };

export interface Render {
    stack: string;
    resources: RecordedResource[];
    /** The gate resources with their specs; not written out: resources.json has the resources themselves. */
    gates: RecordedGateResource[];
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
        const resources = run.resources.filter((r) => r.type !== STACK_TYPE).sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
        return { stack, resources, gates: run.gates, outputs: run.outputs };
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

/** `stable lint, scan (advisory), smoke; candidate ...`: the gates each track must pass, from the recorded gate specs. */
export function gateSummary(gates: readonly RecordedGateResource[], model: string): string {
    const trackOrder = (track: string) => (track === "stable" ? 0 : 1);
    const byTrack = new Map<string, string[]>();
    const ofModel = gates.filter((g) => g.model === model).sort((a, b) => trackOrder(a.track) - trackOrder(b.track) || GATE_KINDS.indexOf(a.kind) - GATE_KINDS.indexOf(b.kind));
    for (const gate of ofModel) byTrack.set(gate.track, [...(byTrack.get(gate.track) ?? []), `${gate.kind}${gate.required ? "" : " (advisory)"}`]);
    return [...byTrack].map(([track, kinds]) => `${track} ${kinds.join(", ")}`).join("; ");
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
        const weights = Object.entries(m.weights)
            .map(([t, w]) => `${t} ${m.versions[t as "stable"]}: ${w}%`)
            .join(", ");
        console.log(`  ${model} (${m.strategy}${m.step ? ` step ${m.step.index + 1}/${m.step.count}` : ""}${m.aborted ? ", aborted" : ""}): ${weights}`);
        const gates = gateSummary(render.gates, model);
        if (gates) console.log(`    gates: ${gates}`);
    }
    return EXIT_OK;
}

if (require.main === module) runCommand(USAGE, main);
