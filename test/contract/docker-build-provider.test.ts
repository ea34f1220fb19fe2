/**
 * Contract: the docker-build provider plugin (pulumi-resource-docker-build, built by
 * `scripts/engine-toolchain.sh` from its module on the Go module proxy) against the
 * @pulumi/docker-build SDK in node_modules. For every docker-build resource the components create
 * (ModelImage's `Image`), each property the SDK declares is in the schema the built provider
 * reports (`pulumi package get-schema`) with the same type and requiredness, and the other way
 * round; so are the fields of each object type ModelImage passes. The provider reports the version
 * the toolchain script pins, which is the SDK's, so the engine pairs them. A provider built from
 * another release, code-generation stubs that broke its schema, or a new SDK in package-lock.json
 * fails here rather than in a deployment.
 *
 * Needs the toolchain's pulumi and pulumi-resource-docker-build; skipped without them unless
 * MODELSHIP_REQUIRE_ENGINE=1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { builtProviderSchema } from "./support/built-schema";
import { installedVersion, resourcesCreatedByComponents } from "./support/components";
import { propertyDifferences, schemaObjectShape, schemaResourceShape, sdkObjectShape, sdkResourceShape, shapeDifferences, type Properties, type SdkResource } from "./support/provider-schema";
import { TYPES } from "../../components/type-tokens";

/** The docker-build resources the components create, and where the SDK declares each. */
const USED_RESOURCES: SdkResource[] = [{ token: TYPES.image, declarationFile: "image.d.ts", argsInterface: "ImageArgs", className: "Image" }];
const IMAGE = USED_RESOURCES[0];
/** The object types ModelImage passes (context, dockerfile, registry login, inline cache and its import). */
const USED_OBJECT_TYPES = ["BuildContext", "Dockerfile", "Registry", "CacheFrom", "CacheFromRegistry", "CacheTo", "CacheToInline"];

const projectDir = findProjectDir();
const sdkDir = path.join(projectDir, "node_modules", "@pulumi", "docker-build");

/** DOCKER_BUILD_VERSION in scripts/versions.sh, the one place the version is pinned. */
function pinnedVersion(): string {
    const versions = fs.readFileSync(path.join(projectDir, "scripts", "versions.sh"), "utf8");
    const match = /^DOCKER_BUILD_VERSION=(\S+)$/m.exec(versions);
    assert.ok(match, "scripts/versions.sh sets DOCKER_BUILD_VERSION");
    return match[1];
}

/** The subset of `actual` named in `expected`, so a property that is missing shows as undefined. */
function pick(actual: Properties, expected: Properties): Partial<Properties> {
    return Object.fromEntries(Object.keys(expected).map((name) => [name, actual[name]]));
}

// What ModelImage relies on, stated once more so a vacuous parse of either side cannot pass.
const IMAGE_INPUTS: Properties = {
    tags: { type: "array<string>", required: false },
    context: { type: "object(BuildContext)", required: false },
    dockerfile: { type: "object(Dockerfile)", required: false },
    buildArgs: { type: "map<string>", required: false },
    push: { type: "boolean", required: true },
    load: { type: "boolean", required: false },
    registries: { type: "array<object(Registry)>", required: false },
    cacheFrom: { type: "array<object(CacheFrom)>", required: false },
    cacheTo: { type: "array<object(CacheTo)>", required: false },
};
const IMAGE_OUTPUTS: Properties = {
    digest: { type: "string", required: true },
    ref: { type: "string", required: true },
};

describe("contract: pulumi-resource-docker-build's schema against the @pulumi/docker-build SDK", function () {
    this.timeout(120_000);
    const schema = builtProviderSchema("pulumi-resource-docker-build");

    it("covers every docker-build resource the components create", () => {
        const used = resourcesCreatedByComponents(projectDir, { package: "@pulumi/docker-build", alias: "dockerBuild" }, ([name]) => `docker-build:index:${name}`);
        assert.ok(used.length > 0, "the components create docker-build resources (ModelImage)");
        assert.deepEqual(used, USED_RESOURCES.map((r) => r.token).sort());
    });

    it("reports the version scripts/versions.sh pins and the SDK in node_modules has, so the engine pairs them", () => {
        assert.equal(schema().name, "docker-build");
        assert.equal(schema().version, pinnedVersion());
        assert.equal(schema().version, installedVersion(sdkDir));
    });

    for (const resource of USED_RESOURCES) {
        it(`${resource.token}: the same properties, types and requiredness as the SDK's ${resource.argsInterface} and ${resource.className}`, () => {
            assert.deepEqual(shapeDifferences(sdkResourceShape(sdkDir, resource), schemaResourceShape(schema(), resource.token)), []);
        });
    }

    it(`${IMAGE.token}: the inputs ModelImage passes and the digest and ref it runs the image by`, () => {
        const sdk = sdkResourceShape(sdkDir, IMAGE);
        assert.deepEqual(pick(sdk.inputs, IMAGE_INPUTS), IMAGE_INPUTS);
        assert.deepEqual(pick(sdk.outputs, IMAGE_OUTPUTS), IMAGE_OUTPUTS);
        assert.match(sdk.inputs.platforms.type, /^array<enum\(.*\blinux\/amd64\|linux\/arm\|linux\/arm64\b.*\)>$/);
    });

    for (const name of USED_OBJECT_TYPES) {
        it(`docker-build:index:${name}: the same fields as the SDK's ${name}Args`, () => {
            assert.deepEqual(propertyDifferences(name, sdkObjectShape(sdkDir, name), schemaObjectShape(schema(), `docker-build:index:${name}`)), []);
        });
    }

    it("the fields ModelImage sets on those object types", () => {
        const fields = (name: string, ...keys: string[]) => Object.fromEntries(keys.map((key) => [key, sdkObjectShape(sdkDir, name)[key]]));
        assert.deepEqual(fields("BuildContext", "location"), { location: { type: "string", required: true } });
        assert.deepEqual(fields("Dockerfile", "location"), { location: { type: "string", required: false } });
        assert.deepEqual(fields("Registry", "address", "username", "password"), {
            address: { type: "string", required: true },
            username: { type: "string", required: false },
            password: { type: "string", required: false },
        });
        assert.deepEqual(fields("CacheFrom", "registry"), { registry: { type: "object(CacheFromRegistry)", required: false } });
        assert.deepEqual(fields("CacheFromRegistry", "ref"), { ref: { type: "string", required: true } });
        assert.deepEqual(fields("CacheTo", "inline"), { inline: { type: "object(CacheToInline)", required: false } });
    });

    it("names a drift: a property the provider drops, adds or retypes, on the resource and on an object type", () => {
        const drifted = structuredClone(schema());
        const image = drifted.resources?.[IMAGE.token];
        const registry = drifted.types?.["docker-build:index:Registry"];
        assert.ok(image?.inputProperties && image.properties && registry?.properties);
        delete image.inputProperties.buildArgs;
        image.properties.digest = { type: "array", items: { type: "string" } };
        image.inputProperties.squash = { type: "boolean" };
        delete registry.properties.password;
        assert.deepEqual(shapeDifferences(sdkResourceShape(sdkDir, IMAGE), schemaResourceShape(drifted, IMAGE.token)), [
            "inputs.buildArgs: declared by the SDK (map<string>), missing from the provider's schema",
            "inputs.squash: in the provider's schema (boolean), not declared by the SDK",
            "outputs.digest: the SDK says string, the provider's schema array<string>",
        ]);
        assert.deepEqual(propertyDifferences("Registry", sdkObjectShape(sdkDir, "Registry"), schemaObjectShape(drifted, "docker-build:index:Registry")), [
            "Registry.password: declared by the SDK (string), missing from the provider's schema",
        ]);
    });
});
