/**
 * Reads the project's Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands them to a
 * program: every value a string, structured values as JSON.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

export interface StackFiles {
    project: string;
    stack: string;
    config: Record<string, string>;
}

function readYaml(file: string): Record<string, unknown> {
    const parsed: unknown = parseYaml(fs.readFileSync(file, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file} is not a YAML mapping`);
    return parsed as Record<string, unknown>;
}

function asString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Project-level `config:` entries may carry a default (`default:` or `value:`), used when the stack sets none. */
function projectDefaults(project: string, declared: unknown): Record<string, string> {
    if (declared === null || typeof declared !== "object") return {};
    const defaults: Record<string, string> = {};
    for (const [key, declaration] of Object.entries(declared as Record<string, unknown>)) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        if (declaration !== null && typeof declaration === "object" && !Array.isArray(declaration)) {
            const d = declaration as Record<string, unknown>;
            const value = d.value ?? d.default;
            if (value !== undefined) defaults[fullKey] = asString(value);
        } else if (declaration !== undefined) {
            defaults[fullKey] = asString(declaration);
        }
    }
    return defaults;
}

/** @param stackFile a stack file given instead of Pulumi.<stack>.yaml, as `pulumi --config-file` takes. */
export function readStackFiles(projectDir: string, stack: string, stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`)): StackFiles {
    const projectFile = path.join(projectDir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) throw new Error(`no Pulumi.yaml in ${projectDir}`);
    if (!fs.existsSync(stackFile)) {
        const known = fs.readdirSync(projectDir).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.slice(1) ?? []);
        throw new Error(`no stack file ${path.basename(stackFile)}; the stacks here are: ${known.join(", ") || "(none)"}`);
    }
    const projectYaml = readYaml(projectFile);
    const project = String(projectYaml.name);
    const stackConfig = (readYaml(stackFile).config ?? {}) as Record<string, unknown>;
    const config = projectDefaults(project, projectYaml.config);
    for (const [key, value] of Object.entries(stackConfig)) {
        config[key.includes(":") ? key : `${project}:${key}`] = asString(value);
    }
    return { project, stack, config };
}

/** The nearest directory above this file with a Pulumi.yaml: the same from tools/ and from dist/tools/. */
export function findProjectDir(start: string = __dirname): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${start}`);
    }
}
