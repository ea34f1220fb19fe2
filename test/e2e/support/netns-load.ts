/**
 * The load client of the real-node tests, run inside the node's network namespace (through
 * `scripts/kube-node.sh exec`), where the router's Service address is reachable and nothing of the
 * host's network is. It prints every sample as one JSON document on stdout:
 *
 *   node netns-load.js --host 10.96.0.20 --port 80 --path /v2/models/m/infer --concurrency 8 --total 2000
 *   node netns-load.js ... --until-file /tmp/stop   (5-second rounds until the file exists; at most 60)
 *   node netns-load.js ... --header x-modelship-track:candidate   (on every request; repeatable)
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { inferBody } from "../../support/model-server";
import { combine, LoopbackClient, runLoad, type LoadResult, type Sample } from "../../support/load";

const ROUND_MS = 5000;
const MAX_ROUNDS = 60;

export interface NetnsLoadOutput {
    samples: Sample[];
    elapsedMs: number;
    throughput: number;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            host: { type: "string" },
            port: { type: "string" },
            path: { type: "string" },
            concurrency: { type: "string", default: "8" },
            total: { type: "string" },
            "until-file": { type: "string" },
            header: { type: "string", multiple: true, default: [] },
        },
        strict: true,
    });
    if (!values.host || !values.port || !values.path || (values.total === undefined) === (values["until-file"] === undefined)) {
        process.stderr.write("usage: netns-load --host H --port P --path /v2/models/<m>/infer [--concurrency C] [--header name:value] (--total N | --until-file F)\n");
        process.exit(2);
    }
    const client = new LoopbackClient(Number(values.port), Number(values.concurrency), true, values.host);
    const path = values.path;
    const headers = Object.fromEntries(values.header.map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1)]));
    const send = (i: number) => client.request({ path, headers, body: inferBody(i) });
    const concurrency = Number(values.concurrency);
    let result: LoadResult;
    if (values.total !== undefined) {
        result = await runLoad({ send, concurrency, total: Number(values.total) });
    } else {
        const stopFile = values["until-file"] as string;
        const rounds: LoadResult[] = [];
        // Bounded: a test that never writes its stop file ends after MAX_ROUNDS rounds.
        for (let round = 0; round < MAX_ROUNDS && !fs.existsSync(stopFile); round++) rounds.push(await runLoad({ send, concurrency, durationMs: ROUND_MS }));
        result = combine(rounds);
    }
    client.close();
    const output: NetnsLoadOutput = { samples: result.samples, elapsedMs: result.elapsedMs, throughput: result.throughput };
    process.stdout.write(JSON.stringify(output));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`netns-load: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
    });
}
