/**
 * Reads the project's Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands them to a
 * program: every value a string, structured values as JSON.
 */
import * as fs from "fs";
import * as path from "path";
import { parseDocument, type Document } from "yaml";

export interface StackFiles {
    project: string;
    stack: string;
    config: Record<string, string>;
}

/** The top-level keys Pulumi reads in a stack file; it ignores any other without a word. */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"] as const;

/** A file's YAML document, comments kept; a syntax error names the file, line and column. */
export function parseYamlFile(file: string, text: string = fs.readFileSync(file, "utf8")): Document {
    const document = parseDocument(text);
    const error = document.errors[0];
    if (error) {
        const at = error.linePos?.[0];
        // The yaml package's message says "at line L, column C:" and then shows the line; the position goes up front, editor-style.
        throw new Error(`${file}${at ? `:${at.line}:${at.col}` : ""}: invalid YAML: ${error.message.replace(/ at line \d+, column \d+:/, ":")}`);
    }
    return document;
}

/** A file's YAML as a mapping. */
function readYaml(file: string): Record<string, unknown> {
    const parsed: unknown = parseYamlFile(file).toJS();
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file} is not a YAML mapping`);
    return parsed as Record<string, unknown>;
}

/**
 * A stack file's `config:` mapping. A misspelled `config:` would leave the stack without config
 * and every key "missing"; an unknown top-level key is named instead, with the keys there are.
 */
function stackConfig(file: string, stackYaml: Record<string, unknown>): Record<string, unknown> {
    const unknown = Object.keys(stackYaml).filter((key) => !(STACK_FILE_KEYS as readonly string[]).includes(key));
    if (unknown.length > 0) {
        throw new Error(
            `${file}: unknown top-level key${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => JSON.stringify(k)).join(", ")}; a stack file's keys are ${STACK_FILE_KEYS.join(", ")} (the settings go under config:)`,
        );
    }
    const config = stackYaml.config ?? {};
    if (config === null || typeof config !== "object" || Array.isArray(config)) throw new Error(`${file}: config is not a mapping of keys such as modelship:environment to values`);
    return config as Record<string, unknown>;
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

/** The nearest directory above `start` with a Pulumi.yaml: the same from tools/ and from dist/tools/. */
export function findProjectDir(start: string = __dirname): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${start}`);
    }
}

/** The stacks whose files (Pulumi.<stack>.yaml) the project holds, sorted. */
export function stackNames(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.slice(1) ?? [])
        .sort();
}

/** @param stackFile a stack file given instead of Pulumi.<stack>.yaml, as `pulumi --config-file` takes. */
export function readStackFiles(projectDir: string, stack: string, stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`)): StackFiles {
    const projectFile = path.join(projectDir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) throw new Error(`no Pulumi.yaml in ${projectDir}`);
    if (!fs.existsSync(stackFile)) {
        throw new Error(`no stack file ${path.basename(stackFile)}; the stacks here are: ${stackNames(projectDir).join(", ") || "(none)"}`);
    }
    const projectYaml = readYaml(projectFile);
    const project = String(projectYaml.name);
    const config = projectDefaults(project, projectYaml.config);
    for (const [key, value] of Object.entries(stackConfig(stackFile, readYaml(stackFile)))) {
        config[key.includes(":") ? key : `${project}:${key}`] = asString(value);
    }
    return { project, stack, config };
}
