import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

/**
 * The resources of one provider SDK the components create: every `new <alias>.<...>.<Class>(`
 * under components/, made into a token by `token` (from the member path, e.g. ["local", "Command"]).
 * Each file must import the package under `alias`, so none is missed under another name.
 */
export function resourcesCreatedByComponents(projectDir: string, sdk: { package: string; alias: string }, token: (members: string[]) => string): string[] {
    const tokens = new Set<string>();
    const importOther = new RegExp(`import \\* as (?!${sdk.alias}\\b)\\w+ from "${sdk.package.replace("/", "\\/")}"`);
    const created = new RegExp(`new ${sdk.alias}\\.((?:\\w+\\.)*\\w+)\\(`, "g");
    const visit = (dir: string): void => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) visit(file);
            else if (entry.name.endsWith(".ts")) {
                const source = fs.readFileSync(file, "utf8");
                assert.doesNotMatch(source, importOther, `${file}: import ${sdk.package} as ${sdk.alias}, so the contract test finds what it creates`);
                for (const m of source.matchAll(created)) tokens.add(token(m[1].split(".")));
            }
        }
    };
    visit(path.join(projectDir, "components"));
    return [...tokens].sort();
}

/** The version of an npm package in node_modules. */
export function installedVersion(packageDir: string): string {
    return (JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version;
}
