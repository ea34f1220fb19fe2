import { strict as assert } from "assert";
import { parseCliArgs } from "../../../cli/args";
import { UsageError } from "../../../tools/command-line";
import { formatStatus, type ModelStatus } from "../../../cli/status";
import { COMMAND_ENV } from "../../../tools/env-vars";

describe("modelship command line", () => {
    it("parses a command, its stack and model, and the switches", () => {
        assert.deepEqual(parseCliArgs(["promote", "--stack", "prod", "--model=fraud-scorer", "--yes"], {}), { command: "promote", stack: "prod", model: "fraud-scorer", yes: true, retire: false });
        assert.deepEqual(parseCliArgs(["rollback", "-s", "lab", "--retire"], {}), { command: "rollback", stack: "lab", yes: false, retire: true });
        assert.equal(parseCliArgs(["analyze", "--stack", "prod"], { [COMMAND_ENV.prometheusUrl]: "http://prom:9090" }).prometheus, "http://prom:9090");
        assert.equal(parseCliArgs(["analyze", "--stack", "prod", "--prometheus", "http://other:9090"], { [COMMAND_ENV.prometheusUrl]: "http://prom:9090" }).prometheus, "http://other:9090");
    });

    it("refuses what it does not know, with the usage", () => {
        const refuses = (argv: string[], message: RegExp) =>
            assert.throws(
                () => parseCliArgs(argv, {}),
                (e: unknown) => e instanceof UsageError && message.test(e.message),
            );
        refuses([], /no command given/);
        refuses(["deploy", "--stack", "dev"], /unknown command "deploy"/);
        refuses(["promote"], /--stack is required/);
        refuses(["promote", "--stack"], /--stack needs a value/);
        refuses(["promote", "--stack", "--yes"], /--stack needs a value/);
        refuses(["promote", "--stack", "dev", "--force"], /unknown argument --force/);
        refuses(["promote", "--stack", "dev", "--retire"], /--retire goes with abort or rollback/);
        refuses(["promote", "--stack", "dev", "--bake", "5"], /--bake takes a number of seconds, with auto/);
        refuses(["auto", "--stack", "dev", "--bake", "soon"], /--bake takes a number of seconds/);
        assert.equal(parseCliArgs(["auto", "--stack", "dev", "--bake", "5"], {}).bakeSeconds, 5);
        assert.equal(parseCliArgs(["rollback", "--stack", "prod", "--to", "1.3.2"], {}).to, "1.3.2");
        refuses(["promote", "--stack", "dev", "--to", "1.3.2"], /--to goes with rollback/);
        refuses(["rollback", "--stack", "dev", "--to", "1.3.2", "--retire"], /--to drops the candidate already/);
    });
});

describe("modelship status", () => {
    const models: Record<string, ModelStatus> = {
        "fraud-scorer": {
            strategy: "canary",
            step: { index: 1, count: 5, steps: [10, 25, 50, 75, 100], setWeight: 25 },
            aborted: false,
            endpoint: "http://inference.gateway-system/v2/models/fraud-scorer",
            versions: { candidate: "1.5.0", stable: "1.4.0" },
            weights: { candidate: 25, stable: 75 },
            mirrorPercent: { candidate: 0, stable: 0 },
            replicas: { candidate: 1, stable: 2 },
        },
        ranker: {
            strategy: "shadow",
            aborted: true,
            versions: { stable: "3.2.0", candidate: "3.3.0" },
            weights: { stable: 100, candidate: 0 },
            mirrorPercent: { stable: 0, candidate: 20 },
            replicas: { stable: 2, candidate: 1 },
        },
    };

    it("shows each model's step, tracks (stable first), weights, mirror and replicas, and the last update", () => {
        const text = formatStatus("prod", models, { kind: "update", result: "succeeded", endTime: "2026-11-26T01:00:00.000Z", message: "fraud-scorer: canary step 2/5" });
        assert.equal(
            text,
            [
                "stack prod: last update update succeeded at 2026-11-26T01:00:00.000Z (fraud-scorer: canary step 2/5)",
                "fraud-scorer: canary, step 2/5 at http://inference.gateway-system/v2/models/fraud-scorer",
                "  stable    1.4.0      weight  75%, replicas 2",
                "  candidate 1.5.0      weight  25%, replicas 1",
                "ranker: shadow, ABORTED",
                "  stable    3.2.0      weight 100%, replicas 2",
                "  candidate 3.3.0      weight   0%, mirror 20%, replicas 1",
            ].join("\n"),
        );
    });

    it("one model on request; an unknown one is named with the ones there are", () => {
        assert.equal(formatStatus("prod", models, undefined, "ranker").split("\n")[0], "stack prod: no updates yet");
        assert.throws(() => formatStatus("prod", models, undefined, "nope"), /no model nope in stack prod's outputs; its models are: fraud-scorer, ranker/);
    });
});
