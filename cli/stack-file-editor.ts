/**
 * A stack file (Pulumi.<stack>.yaml) edited in memory: the rollout commands change one model's
 * node and keep every comment and the layout of the rest, so the diff a reviewer reads is the
 * step itself. The file is replaced in one atomic rename, and only if nobody changed it since it
 * was read.
 */
import * as fs from "fs";
import * as path from "path";
import { isCollection, isMap, type Document } from "yaml";
import { parseYamlFile, stackNames } from "../tools/project-files";
import type { Edit } from "../components/strategies/strategy";

const MODELS_KEY = "modelship:models";

export class StackFile {
    private constructor(
        readonly file: string,
        /** The file's bytes as read. */
        readonly original: Buffer,
        private readonly document: Document,
    ) {}

    /** @param file the stack file to edit instead of Pulumi.<stack>.yaml, as `pulumi --config-file` takes */
    static read(projectDir: string, stack: string, file = path.join(projectDir, `Pulumi.${stack}.yaml`)): StackFile {
        if (!fs.existsSync(file)) {
            throw new Error(`no stack file ${path.basename(file)}; the stacks here are: ${stackNames(projectDir).join(", ") || "(none)"}`);
        }
        const original = fs.readFileSync(file);
        return new StackFile(file, original, parseYamlFile(file, original.toString("utf8")));
    }

    /** The models the file declares, in its order. */
    modelNames(): string[] {
        const models = this.document.getIn(["config", MODELS_KEY]);
        if (!isMap(models)) throw new Error(`${this.file} has no config.${MODELS_KEY} map`);
        return models.items.map((pair) => String((pair.key as { value?: unknown }).value ?? pair.key));
    }

    /** The model's node as plain data, as the stack file has it (before defaults). */
    rawModel(model: string): Record<string, unknown> {
        const models = this.document.getIn(["config", MODELS_KEY]);
        if (!isMap(models)) throw new Error(`${this.file} has no config.${MODELS_KEY} map`);
        const node = models.get(model, true);
        if (!isMap(node)) {
            const names = models.items.map((pair) => String((pair.key as { value?: unknown }).value ?? pair.key));
            throw new Error(`no model ${model} in ${this.file}; its models are: ${names.join(", ")}`);
        }
        // Through the document, so that YAML aliases (`*common`) resolve to what their anchors hold.
        return node.toJS(this.document) as Record<string, unknown>;
    }

    apply(model: string, edits: readonly Edit[]): void {
        for (const edit of edits) {
            const at = ["config", MODELS_KEY, model, ...edit.path];
            if ("remove" in edit) this.document.deleteIn(at);
            else {
                // A replaced collection keeps the style it had (block or flow); a new one is written inline.
                const existing = this.document.getIn(at, true);
                const flow = isCollection(existing) ? Boolean(existing.flow) : true;
                this.document.setIn(at, this.document.createNode(edit.value, { flow }));
            }
        }
    }

    text(): string {
        // The layout Pulumi itself writes stack files in (`{a: 1}`, `[1, 2]`, no re-wrapping), so
        // neither an edit here nor a `pulumi config set` reformats lines it did not change.
        return this.document.toString({ lineWidth: 0, flowCollectionPadding: false });
    }

    /** Whether the file on disk is still the one read. */
    unchanged(): boolean {
        try {
            return fs.readFileSync(this.file).equals(this.original);
        } catch {
            return false;
        }
    }

    /**
     * Replaces the file with the edited text: a temporary file in the same folder (the file's
     * mode), flushed to disk, renamed over it. A reader sees the old file or the new one, never
     * half of it, and a crash leaves the old one. Refuses when the file changed since it was read.
     */
    write(): void {
        if (!this.unchanged()) throw new StackFileChanged(this.file);
        const temporary = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
        const mode = fs.statSync(this.file).mode & 0o7777;
        try {
            const fd = fs.openSync(temporary, "w", mode);
            try {
                fs.writeFileSync(fd, this.text());
                fs.fchmodSync(fd, mode);
                fs.fsyncSync(fd);
            } finally {
                fs.closeSync(fd);
            }
            fs.renameSync(temporary, this.file);
        } finally {
            fs.rmSync(temporary, { force: true });
        }
        // The rename itself is durable once the folder is flushed.
        const dir = fs.openSync(path.dirname(this.file), "r");
        try {
            fs.fsyncSync(dir);
        } finally {
            fs.closeSync(dir);
        }
    }
}

export class StackFileChanged extends Error {
    constructor(readonly file: string) {
        super(`${file} changed since it was read`);
    }
}
