/**
 * The module boundaries and documentation rules the design rests on, checked over the sources
 * (not the build), so a new file is held to them the day it is added.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../../..");

function sources(dir: string): string[] {
    const found: string[] = [];
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) found.push(...sources(rel));
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(rel);
    }
    return found;
}

/** The project files a source imports (relative specifiers only), as paths from the root. */
function localImports(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    return ts
        .preProcessFile(text, true, true)
        .importedFiles.map((f) => f.fileName)
        .filter((name) => name.startsWith("."))
        .map((name) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), name)));
}

function importsUnder(files: readonly string[], forbidden: readonly string[]): string[] {
    return files.flatMap((file) =>
        localImports(file)
            .filter((target) => forbidden.some((dir) => target === dir || target.startsWith(`${dir}/`)))
            .map((target) => `${file} imports ${target}`),
    );
}

describe("house style: module boundaries", () => {
    it("nothing in tools/ imports cli/: the commands the stack and npm scripts run do not depend on the operator's CLI", () => {
        assert.deepEqual(importsUnder(sources("tools"), ["cli"]), []);
    });

    it("no config module imports the traffic vocabulary: config says what a stack is, strategies and targets say what it means", () => {
        assert.deepEqual(importsUnder(sources("components/config"), ["components/traffic"]), []);
    });

    it("the check itself sees an import across a boundary", () => {
        const cliFile = sources("cli").find((f) => localImports(f).some((t) => t.startsWith("tools/")));
        assert.ok(cliFile, "some cli/ module imports tools/");
        assert.notDeepEqual(importsUnder([cliFile], ["tools"]), []);
    });
});

/** Every property of every exported `...Args` interface in components/ has a JSDoc comment. */
function undocumentedArgs(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const missing: string[] = [];
    source.forEachChild((node) => {
        if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith("Args")) return;
        for (const member of node.members) {
            if (!ts.isPropertySignature(member)) continue;
            const docs = ts.getJSDocCommentsAndTags(member);
            if (docs.length === 0) missing.push(`${file}: ${node.name.text}.${member.name.getText(source)}`);
        }
    });
    return missing;
}

describe("house style: component arguments", () => {
    it("every property of a component's Args interface says what it is (JSDoc), as the providers' own do", () => {
        assert.deepEqual(sources("components").flatMap(undocumentedArgs), []);
    });
});
