/** The one flag parser of the commands: Node's util.parseArgs, with the project's rules over its tokens. */
import { strict as assert } from "assert";
import { parseFlags, UsageError } from "../../tools/command-line";

const VALUES = { "--stack": "stack", "-s": "stack", "--out": "out" } as const;

describe("parseFlags", () => {
    it("reads --flag value, --flag=value and a short alias, the last one winning", () => {
        assert.deepEqual(parseFlags(["--stack", "dev", "--out=x"], VALUES).values, { stack: "dev", out: "x" });
        assert.deepEqual(parseFlags(["-s", "lab"], VALUES).values, { stack: "lab" });
        assert.deepEqual(parseFlags(["--stack", "dev", "-s", "prod"], VALUES).values, { stack: "prod" });
    });

    it("a value given inline may look like a flag; a separate one may not", () => {
        assert.deepEqual(parseFlags(["--out=--odd"], VALUES).values, { out: "--odd" });
        assert.throws(
            () => parseFlags(["--out", "--odd"], VALUES),
            (e: unknown) => e instanceof UsageError && e.message === "--out needs a value",
        );
        assert.throws(
            () => parseFlags(["--out"], VALUES),
            (e: unknown) => e instanceof UsageError && e.message === "--out needs a value",
        );
    });

    it("switches, lists, and a switch given a value is refused", () => {
        const parsed = parseFlags(["--model", "a", "--yes", "--model", "b"], {}, { switches: { "--yes": "yes" }, lists: { "--model": "model" } });
        assert.deepEqual([...parsed.switches], ["yes"]);
        assert.deepEqual(parsed.lists, { model: ["a", "b"] });
        assert.throws(
            () => parseFlags(["--yes=1"], {}, { switches: { "--yes": "yes" } }),
            (e: unknown) => e instanceof UsageError && e.message === "unknown argument --yes=1",
        );
    });

    it("pass-through hands back every other argument once, in order, grouped short flags included", () => {
        const parsed = parseFlags(["--target", "urn:a", "--stack", "dev", "-xy", "--diff=true", "--", "--stack"], VALUES, { passThrough: true });
        assert.deepEqual(parsed.values, { stack: "dev" });
        assert.deepEqual(parsed.rest, ["--target", "urn:a", "-xy", "--diff=true", "--", "--stack"]);
    });

    it("without pass-through an unknown argument or a positional is a usage error naming it", () => {
        assert.throws(
            () => parseFlags(["--stack", "dev", "extra"], VALUES),
            (e: unknown) => e instanceof UsageError && e.message === "unknown argument extra",
        );
        assert.throws(
            () => parseFlags(["-q"], VALUES),
            (e: unknown) => e instanceof UsageError && e.message === "unknown argument -q",
        );
    });
});
