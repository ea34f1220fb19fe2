/**
 * Contract: this project's command provider (plugins/pulumi-resource-command, built by
 * scripts/engine-toolchain.sh) against the @pulumi/command SDK in node_modules. For every
 * command resource the components create, each property the SDK declares is in the schema the
 * built provider reports (`pulumi package get-schema`) with the same type and requiredness, and
 * the other way round; the provider reports the SDK's version. So a new SDK in package-lock.json
 * that adds, drops or retypes a property fails here, not in a deployment.
 *
 * Needs the toolchain's pulumi and pulumi-resource-command; skipped without them unless
 * MODELSHIP_REQUIRE_ENGINE=1.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { builtProviderSchema } from "./support/built-schema";
import { installedVersion, resourcesCreatedByComponents } from "./support/components";
import { schemaResourceShape, sdkResourceShape, shapeDifferences, type SdkResource } from "./support/provider-schema";
import { TYPES } from "../../components/type-tokens";

/** The command resources the components create, and where the SDK declares each. */
const USED_RESOURCES: SdkResource[] = [{ token: TYPES.command, declarationFile: "local/command.d.ts", argsInterface: "CommandArgs", className: "Command" }];

const projectDir = findProjectDir();
const sdkDir = path.join(projectDir, "node_modules", "@pulumi", "command");

describe("contract: pulumi-resource-command's schema against the @pulumi/command SDK", function () {
    this.timeout(120_000);
    const schema = builtProviderSchema("pulumi-resource-command");

    it("covers every command resource the components create", () => {
        const used = resourcesCreatedByComponents(projectDir, { package: "@pulumi/command", alias: "command" }, (members) => `command:${members.join(":")}`);
        assert.ok(used.length > 0, "the components create command resources (the gates)");
        assert.deepEqual(used, USED_RESOURCES.map((r) => r.token).sort());
    });

    it("reports the version of the SDK in node_modules, so the engine pairs them", () => {
        assert.equal(schema().name, "command");
        assert.equal(schema().version, installedVersion(sdkDir));
    });

    for (const resource of USED_RESOURCES) {
        it(`${resource.token}: the same properties, types and requiredness as the SDK's ${resource.argsInterface} and ${resource.className}`, () => {
            const sdk = sdkResourceShape(sdkDir, resource);
            const provider = schemaResourceShape(schema(), resource.token);
            assert.deepEqual(shapeDifferences(sdk, provider), []);
            // What the gates and a user rely on, stated once more so a vacuous parse cannot pass.
            assert.deepEqual(sdk.inputs.triggers, { type: "array<any>", required: false });
            assert.deepEqual(sdk.inputs.environment, { type: "map<string>", required: false });
            assert.deepEqual(sdk.outputs.stdout, { type: "string", required: true });
            assert.deepEqual(sdk.inputs.logging, { type: "enum(none|stderr|stdout|stdoutAndStderr)", required: false });
        });
    }

    it("names a drift: a property the provider drops or retypes", () => {
        const resource = USED_RESOURCES[0];
        const drifted = structuredClone(schema());
        const command = drifted.resources?.[resource.token];
        assert.ok(command?.inputProperties && command.properties);
        delete command.inputProperties.dir;
        command.properties.stdout = { type: "array", items: { type: "string" } };
        command.inputProperties.timeout = { type: "number" };
        assert.deepEqual(shapeDifferences(sdkResourceShape(sdkDir, resource), schemaResourceShape(drifted, resource.token)), [
            "inputs.dir: declared by the SDK (string), missing from the provider's schema",
            "inputs.timeout: in the provider's schema (number), not declared by the SDK",
            "outputs.stdout: the SDK says string, the provider's schema array<string>",
        ]);
    });
});
