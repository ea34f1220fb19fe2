/**
 * A stack file (Pulumi.<stack>.yaml) edited in place: the rollout commands change one model's
 * node and keep every comment and the layout of the rest, so the diff a reviewer reads is the
 * step itself.
 */
import * as fs from "fs";
import * as path from "path";
import { isCollection, isMap, parseDocument, type Document } from "yaml";
import type { Edit } from "./rollout";

const MODELS_KEY = "modelship:models";

export class StackFile {
    private constructor(
        readonly file: string,
        private readonly document: Document,
    ) {}

    static read(projectDir: string, stack: string): StackFile {
        const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
        if (!fs.existsSync(file)) {
            const known = fs.readdirSync(projectDir).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.slice(1) ?? []);
            throw new Error(`no stack file Pulumi.${stack}.yaml; the stacks here are: ${known.join(", ") || "(none)"}`);
        }
        const document = parseDocument(fs.readFileSync(file, "utf8"));
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
        return new StackFile(file, document);
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
        return node.toJSON() as Record<string, unknown>;
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

    write(): void {
        fs.writeFileSync(this.file, this.text());
    }
}
