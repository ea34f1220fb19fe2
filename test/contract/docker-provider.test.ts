/**
 * Contract: this project's Docker provider plugin (plugins/pulumi-resource-docker, the Terraform
 * Docker provider bridged by scripts/engine-toolchain.sh) against the @pulumi/docker SDK in
 * node_modules. For every docker resource the components create, each property the SDK declares
 * is in the schema the built plugin reports (`pulumi package get-schema`) with the same type and
 * requiredness, and the other way round, down through every object type those resources use; the
 * plugin reports the SDK's version. So a rename in the token mapping, or a new SDK in
 * package-lock.json that adds, drops or retypes a property, fails here, not in a deployment.
 *
 * Needs the toolchain's pulumi and pulumi-resource-docker; skipped without them unless
 * MODELSHIP_REQUIRE_ENGINE=1.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { builtProviderSchema } from "./support/built-schema";
import { installedVersion, resourcesCreatedByComponents } from "./support/components";
import { schemaObjectShape, schemaResourceShape, sdkObjectShape, sdkResourceShape, shapeDifferences, type PackageSchema, type Properties, type SdkResource } from "./support/provider-schema";
import { TYPES } from "../../components/type-tokens";

/** The docker resources the components create, and where the SDK declares each. */
const USED_RESOURCES: SdkResource[] = [
    { token: TYPES.container, declarationFile: "container.d.ts", argsInterface: "ContainerArgs", className: "Container" },
    { token: TYPES.network, declarationFile: "network.d.ts", argsInterface: "NetworkArgs", className: "Network" },
    { token: TYPES.remoteImage, declarationFile: "remoteImage.d.ts", argsInterface: "RemoteImageArgs", className: "RemoteImage" },
    { token: TYPES.volume, declarationFile: "volume.d.ts", argsInterface: "VolumeArgs", className: "Volume" },
];

const projectDir = findProjectDir();
const sdkDir = path.join(projectDir, "node_modules", "@pulumi", "docker");

/** The object types named in a set of properties (`object(ContainerPort)`, `array<object(...)>`). */
function objectTypes(properties: Properties): string[] {
    return Object.values(properties).flatMap((p) => [...p.type.matchAll(/object\((\w+)\)/g)].map((m) => m[1]));
}

/** The schema's token of an object type named in a shape: `docker:index/ContainerPort:ContainerPort`. */
function objectToken(schema: PackageSchema, name: string): string {
    const token = Object.keys(schema.types ?? {}).find((t) => t.endsWith(`:${name}`));
    assert.ok(token, `the schema has an object type ${name}`);
    return token;
}

/** Differences of every object type reachable from the given ones, each named by its path. */
function nestedDifferences(schema: PackageSchema, roots: readonly string[], side: "input" | "output"): string[] {
    const differences: string[] = [];
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
        const name = queue.shift() as string;
        if (seen.has(name)) continue;
        seen.add(name);
        const sdk = sdkObjectShape(sdkDir, name, side);
        const provider = schemaObjectShape(schema, objectToken(schema, name), side);
        differences.push(...shapeDifferences({ inputs: sdk, outputs: {} }, { inputs: provider, outputs: {} }).map((d) => `${side} ${name}.${d.slice("inputs.".length)}`));
        queue.push(...objectTypes(sdk));
    }
    return differences;
}

describe("contract: pulumi-resource-docker's schema against the @pulumi/docker SDK", function () {
    this.timeout(120_000);
    const schema = builtProviderSchema("pulumi-resource-docker");

    it("covers every docker resource the components create", () => {
        const used = resourcesCreatedByComponents(projectDir, { package: "@pulumi/docker", alias: "docker" }, ([name]) => `docker:index/${name[0].toLowerCase()}${name.slice(1)}:${name}`);
        assert.ok(used.includes(TYPES.container), `the components create containers: ${used.join(", ")}`);
        assert.deepEqual(used, USED_RESOURCES.map((r) => r.token).sort());
    });

    it("reports the version of the SDK in node_modules, so the engine pairs them", () => {
        assert.equal(schema().name, "docker");
        assert.equal(schema().version, installedVersion(sdkDir));
    });

    for (const resource of USED_RESOURCES) {
        it(`${resource.token}: the same properties, types and requiredness as the SDK's ${resource.argsInterface} and ${resource.className}, nested types included`, () => {
            const sdk = sdkResourceShape(sdkDir, resource);
            const provider = schemaResourceShape(schema(), resource.token);
            assert.deepEqual(shapeDifferences(sdk, provider), []);
            assert.deepEqual(nestedDifferences(schema(), objectTypes(sdk.inputs), "input"), []);
            assert.deepEqual(nestedDifferences(schema(), objectTypes(sdk.outputs), "output"), []);
        });
    }

    it("the names the docker target relies on, stated once more so a vacuous parse cannot pass", () => {
        const container = sdkResourceShape(sdkDir, USED_RESOURCES[0]);
        assert.deepEqual(container.inputs.networksAdvanced, { type: "array<object(ContainerNetworksAdvanced)>", required: false });
        assert.deepEqual(container.inputs.command, { type: "array<string>", required: false });
        assert.deepEqual(container.inputs.image, { type: "string", required: true });
        assert.deepEqual(sdkObjectShape(sdkDir, "ContainerHealthcheck", "input").tests, { type: "array<string>", required: false });
        assert.deepEqual(sdkObjectShape(sdkDir, "ContainerUpload", "input").content, { type: "string", required: false });
        assert.deepEqual(schemaResourceShape(schema(), USED_RESOURCES[2].token).outputs.imageId, { type: "string", required: true });
    });

    it("names a drift: a nested field the mapping renames", () => {
        const drifted = structuredClone(schema());
        const token = objectToken(drifted, "ContainerHealthcheck");
        const healthcheck = drifted.types?.[token];
        assert.ok(healthcheck?.properties?.tests);
        healthcheck.properties.test = healthcheck.properties.tests;
        delete healthcheck.properties.tests;
        assert.deepEqual(nestedDifferences(drifted, ["ContainerHealthcheck"], "input"), [
            "input ContainerHealthcheck.test: in the provider's schema (array<string>), not declared by the SDK",
            "input ContainerHealthcheck.tests: declared by the SDK (array<string>), missing from the provider's schema",
        ]);
    });
});
