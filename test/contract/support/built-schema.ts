import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { engineOrSkip, run } from "../../e2e/support/engine";
import type { PackageSchema } from "./provider-schema";
import { PULUMI_ENV } from "../../../tools/env-vars";

/**
 * The schema a provider plugin of the toolchain reports (`pulumi package get-schema`), read once
 * for the enclosing suite with a throwaway PULUMI_HOME. The suite is skipped without the
 * toolchain, and fails where MODELSHIP_REQUIRE_ENGINE=1. Call it inside a `describe`; its tests
 * call the returned function.
 */
export function builtProviderSchema(plugin: string): () => PackageSchema {
    let schema: PackageSchema | undefined;
    let home: string | undefined;
    before(async function () {
        const bin = engineOrSkip(this, ["pulumi", plugin]);
        home = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-schema-"));
        const result = await run(path.join(bin, "pulumi"), ["package", "get-schema", path.join(bin, plugin)], {
            cwd: home,
            env: { ...process.env, [PULUMI_ENV.home]: home, [PULUMI_ENV.skipUpdateCheck]: "true" },
            timeoutMs: 60_000,
        });
        assert.equal(result.status, 0, result.all);
        schema = JSON.parse(result.stdout) as PackageSchema;
    });
    after(() => {
        if (home) fs.rmSync(home, { recursive: true, force: true });
    });
    return () => {
        assert.ok(schema, `no schema was read from ${plugin}`);
        return schema;
    };
}
