import { strict as assert } from "assert";
import fc from "fast-check";
import { labelValue, NAME_HASH_LENGTH, NAME_RULES, physicalName, type NameKind } from "../../components/naming";
import { findProjectDir, renderStack } from "../../tools/render";
import { LONGEST, longestNamesStacks } from "../fixtures";
import { runStack } from "../mock-stack";
import { nameProblems, physicalNames, PROVIDER_NAMED } from "../support/physical-names";
import { TYPES } from "../../components/type-tokens";

const projectDir = findProjectDir();

const autoNamed = (resources: Parameters<typeof physicalNames>[0]) =>
    physicalNames(resources)
        .filter((n) => !n.explicit && !PROVIDER_NAMED.has(n.resource.slice(0, n.resource.indexOf("::"))))
        .map((n) => n.resource);

const KINDS = Object.keys(NAME_RULES) as NameKind[];
/** Parts as components pass them: DNS labels, and versions with dots. */
const part = fc.stringMatching(/^[a-z][a-z0-9-]{0,60}[a-z0-9]$/);

describe("physical names", () => {
    describe("physicalName", () => {
        it("keeps a name that fits as it is", () => {
            assert.equal(physicalName("kubernetes-dns-label", ["fraud-scorer", "candidate"]), "fraud-scorer-candidate");
            assert.equal(physicalName("aws-log-group", ["/modelship", "prod", "ranker"], { separator: "/" }), "/modelship/prod/ranker");
        });

        it("shortens an over-long name to its kind's limit, ending in a hash of the whole", () => {
            assert.equal(physicalName("aws-target-group", ["prod", "price-estimator", "candidate"]), "prod-price-estimator-candidate");
            const name = physicalName("aws-target-group", ["prod", "price-estimator-eu", "candidate"]);
            assert.equal(name.length, 32);
            assert.match(name, new RegExp(`^prod-price-estimator-eu-[0-9a-f]{${NAME_HASH_LENGTH}}$`));
        });

        it("is stable: the same parts give the same name on every call", () => {
            fc.assert(fc.property(fc.constantFrom(...KINDS), fc.array(part, { minLength: 1, maxLength: 6 }), (kind, parts) => assert.equal(physicalName(kind, parts), physicalName(kind, [...parts]))));
        });

        it("is within the kind's limit and in its alphabet, whatever the parts", () => {
            fc.assert(
                fc.property(fc.constantFrom(...KINDS), fc.array(part, { minLength: 1, maxLength: 8 }), (kind, parts) => {
                    const name = physicalName(kind, parts);
                    assert.ok(name.length <= NAME_RULES[kind].max, `${kind}: ${name} (${name.length})`);
                    assert.match(name, NAME_RULES[kind].pattern);
                }),
            );
        });

        it("gives different names to parts that share a prefix longer than the limit", () => {
            const prefix = "m".repeat(40);
            fc.assert(
                fc.property(fc.constantFrom(...KINDS.filter((k) => NAME_RULES[k].max < 100)), part, part, (kind, a, b) => {
                    fc.pre(a !== b);
                    assert.notEqual(physicalName(kind, [prefix, prefix, a]), physicalName(kind, [prefix, prefix, b]));
                }),
            );
            // The same characters split differently are other parts, and another name once hashed.
            assert.notEqual(physicalName("aws-target-group", ["prod", "a-b".repeat(20)]), physicalName("aws-target-group", ["prod-a", "b".concat("-a-b".repeat(19))]));
        });

        it("DNS-label kinds get DNS labels: lower case, a letter first, no trailing hyphen, 63 at most", () => {
            for (const parts of [
                ["model-" + "m".repeat(34), "candidate", "smoke", "cd8cb207"],
                ["a" + "-".repeat(70), "b"],
            ]) {
                const name = physicalName("kubernetes-dns-label", parts);
                assert.ok(name.length <= 63, name);
                assert.match(name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
            }
        });

        it("uniqueBy always hashes, and a change of it changes the name (a replacement gets a name of its own)", () => {
            const a = physicalName("aws-load-balancer", ["prod", "vms"], { uniqueBy: [true] });
            const b = physicalName("aws-load-balancer", ["prod", "vms"], { uniqueBy: [false] });
            assert.match(a, new RegExp(`^prod-vms-[0-9a-f]{${NAME_HASH_LENGTH}}$`));
            assert.notEqual(a, b);
        });

        it("refuses to make a name its kind cannot take rather than pass it on", () => {
            assert.throws(() => physicalName("kubernetes-dns-label", ["9lives"]), /cannot make a kubernetes-dns-label name from \["9lives"\]/);
        });

        it("label values: a version as it is where Kubernetes takes it, otherwise made one (64 characters, '+')", () => {
            assert.equal(labelValue("1.5.0"), "1.5.0");
            const long = labelValue(`1.5.0-${"r".repeat(58)}`);
            assert.equal(long.length, 63);
            const build = labelValue("1.5.0+build.7");
            assert.match(build, /^1\.5\.0-build\.7-[0-9a-f]{8}$/);
            assert.notEqual(build, labelValue("1.5.0-build.7"));
        });
    });

    describe("every resource within its kind's limit", () => {
        for (const stack of ["dev", "lab", "prod"]) {
            it(`the shipped ${stack} stack`, async () => {
                const { resources } = await renderStack(projectDir, stack);
                assert.ok(physicalNames(resources).length > 0);
                assert.deepEqual(nameProblems(resources), []);
                assert.deepEqual(autoNamed(resources), [], "every name chosen by the naming function, none left to the provider");
            });
        }

        for (const [target, raw] of Object.entries(longestNamesStacks())) {
            it(`the longest names the config accepts on ${target}`, async () => {
                const { resources } = await runStack(raw, LONGEST.stack);
                assert.deepEqual(nameProblems(resources), []);
                assert.deepEqual(autoNamed(resources), []);
            });
        }

        it("an image built for a version with build metadata ('+', which the config accepts) gets a tag Docker accepts", async () => {
            const raw = longestNamesStacks().docker;
            const model = Object.values(raw.models as Record<string, { tracks: Record<string, { version: string }> }>)[0];
            model.tracks.candidate.version = "1.5.0+build.7";
            const { resources } = await runStack(raw, LONGEST.stack);
            const tags = resources.filter((r) => r.type === TYPES.image).flatMap((r) => (r.inputs.tags as string[]).map((tag) => tag.split(":").pop()));
            assert.equal(tags.length, 2);
            // Docker's tag grammar: a word character, then up to 127 word characters, '.' or '-'.
            for (const tag of tags) assert.match(tag ?? "", /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
            assert.ok(
                tags.some((tag) => tag?.startsWith("1.5.0-build.7")),
                `the tag still reads as the version: ${tags.join(", ")}`,
            );
        });
    });
});
