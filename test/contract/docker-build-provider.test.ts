/**
 * Contract: the docker-build provider plugin (pulumi-resource-docker-build, built by
 * `scripts/engine-toolchain.sh` from its module on the Go module proxy) serves
 * `docker-build:index:Image` with the inputs and outputs this project's image build relies on, with
 * the types it relies on, and reports the version the toolchain script pins, so the engine pairs
 * it with the npm @pulumi/docker-build of that version. A provider built from another release, or
 * with code-generation stubs that broke its schema, fails here rather than in a deployment.
 *
 * Needs the toolchain's pulumi and pulumi-resource-docker-build; skipped without them unless
 * MODELSHIP_REQUIRE_ENGINE=1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { builtProviderSchema } from "./support/built-schema";
import { schemaObjectShape, schemaResourceShape, type Properties } from "./support/provider-schema";

const IMAGE = "docker-build:index:Image";
const projectDir = findProjectDir();

/** DOCKER_BUILD_VERSION in scripts/engine-toolchain.sh, the one place the version is pinned. */
function pinnedVersion(): string {
    const script = fs.readFileSync(path.join(projectDir, "scripts", "engine-toolchain.sh"), "utf8");
    const match = /^DOCKER_BUILD_VERSION=(\S+)$/m.exec(script);
    assert.ok(match, "scripts/engine-toolchain.sh sets DOCKER_BUILD_VERSION");
    return match[1];
}

/** The subset of `actual` named in `expected`, so a property that is missing shows as undefined. */
function pick(actual: Properties, expected: Properties): Partial<Properties> {
    return Object.fromEntries(Object.keys(expected).map((name) => [name, actual[name]]));
}

// What the image build passes and reads: the image's name and tags, where and what to build, build
// arguments, loading into the local engine or pushing to a registry (with its credentials), the
// target platform, BuildKit's cache, and the digest the targets run the image by.
const IMAGE_INPUTS: Properties = {
    tags: { type: "array<string>", required: false },
    context: { type: "object(BuildContext)", required: false },
    dockerfile: { type: "object(Dockerfile)", required: false },
    buildArgs: { type: "map<string>", required: false },
    push: { type: "boolean", required: true },
    load: { type: "boolean", required: false },
    platforms: { type: "array<enum(darwin/386|darwin/amd64|darwin/arm|darwin/arm64|dragonfly/amd64|freebsd/386|freebsd/amd64|freebsd/arm|linux/386|linux/amd64|linux/arm|linux/arm64|linux/mips64|linux/mips64le|linux/ppc64le|linux/riscv64|linux/s390x|netbsd/386|netbsd/amd64|netbsd/arm|openbsd/386|openbsd/amd64|openbsd/arm|plan9/386|plan9/amd64|solaris/amd64|windows/386|windows/amd64)>", required: false },
    registries: { type: "array<object(Registry)>", required: false },
    exports: { type: "array<object(Export)>", required: false },
    cacheFrom: { type: "array<object(CacheFrom)>", required: false },
    cacheTo: { type: "array<object(CacheTo)>", required: false },
};
const IMAGE_OUTPUTS: Properties = {
    digest: { type: "string", required: true },
    ref: { type: "string", required: true },
    tags: { type: "array<string>", required: false },
};
/** The fields of the nested types that the image build sets. */
const OBJECT_TYPES: Record<string, Properties> = {
    "docker-build:index:BuildContext": { location: { type: "string", required: true } },
    "docker-build:index:Dockerfile": { location: { type: "string", required: false } },
    "docker-build:index:Registry": {
        address: { type: "string", required: true },
        username: { type: "string", required: false },
        password: { type: "string", required: false },
    },
    "docker-build:index:Export": {
        docker: { type: "object(ExportDocker)", required: false },
        registry: { type: "object(ExportRegistry)", required: false },
    },
    "docker-build:index:CacheFrom": {
        local: { type: "object(CacheFromLocal)", required: false },
        registry: { type: "object(CacheFromRegistry)", required: false },
    },
    "docker-build:index:CacheTo": {
        local: { type: "object(CacheToLocal)", required: false },
        registry: { type: "object(CacheToRegistry)", required: false },
        inline: { type: "object(CacheToInline)", required: false },
    },
    "docker-build:index:CacheFromRegistry": { ref: { type: "string", required: true } },
    "docker-build:index:CacheToRegistry": { ref: { type: "string", required: true } },
};

describe("contract: pulumi-resource-docker-build serves docker-build:index:Image as the image build uses it", function () {
    this.timeout(120_000);
    const schema = builtProviderSchema("pulumi-resource-docker-build");

    it("reports the version scripts/engine-toolchain.sh pins, so the engine pairs it with that npm @pulumi/docker-build", () => {
        assert.equal(schema().name, "docker-build");
        assert.equal(schema().version, pinnedVersion());
    });

    it(`${IMAGE}: the inputs the image build passes, with their types and requiredness`, () => {
        const image = schemaResourceShape(schema(), IMAGE);
        assert.deepEqual(pick(image.inputs, IMAGE_INPUTS), IMAGE_INPUTS);
    });

    it(`${IMAGE}: the digest, ref and tags outputs the targets run the image by`, () => {
        const image = schemaResourceShape(schema(), IMAGE);
        assert.deepEqual(pick(image.outputs, IMAGE_OUTPUTS), IMAGE_OUTPUTS);
    });

    for (const [token, expected] of Object.entries(OBJECT_TYPES)) {
        it(`${token}: the fields the image build sets`, () => {
            assert.deepEqual(pick(schemaObjectShape(schema(), token), expected), expected);
        });
    }

    it("names a drift: an input the provider drops or retypes", () => {
        const drifted = structuredClone(schema());
        const image = drifted.resources?.[IMAGE];
        assert.ok(image?.inputProperties && image.properties);
        delete image.inputProperties.buildArgs;
        image.properties.digest = { type: "array", items: { type: "string" } };
        const shape = schemaResourceShape(drifted, IMAGE);
        assert.notDeepEqual(pick(shape.inputs, IMAGE_INPUTS), IMAGE_INPUTS);
        assert.equal(shape.inputs.buildArgs, undefined);
        assert.deepEqual(shape.outputs.digest, { type: "array<string>", required: true });
    });
});
