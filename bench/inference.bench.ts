/**
 * Inference bench, from one run: the ONNX fraud-scorer (2.0.0, onnxruntime on the CPU) against the
 * JSON logistic regression (1.5.0) on the same requests: two model server processes on loopback,
 * the same load generator, concurrency and request bodies, in halves ordered JSON, ONNX, ONNX,
 * JSON so that drift weighs on both alike.
 *
 *   npx tsc -p . && node dist/bench/inference.bench.js
 *
 * It prints figures and asserts nothing about them; it exits 1 when it cannot measure (a server
 * that does not start, failed requests), after stopping everything it started.
 */
import * as os from "os";
import type { LatencySummary } from "../test/support/load";
import { startModelServer, stopAll } from "../test/support/model-server";
import { interleaved } from "./interleaved";

const REQUESTS = 4000;
const WARMUP = 2000;
const CONCURRENCY = 8;
const VERSIONS = { json: "1.5.0", onnx: "2.0.0" } as const;
async function run(): Promise<number> {
    try {
        const [json, onnx] = await Promise.all([startModelServer({ track: "stable", version: VERSIONS.json }), startModelServer({ track: "candidate", version: VERSIONS.onnx })]);
        const figures = await interleaved({ json: json.port, onnx: onnx.port }, ["json", "onnx"], { requests: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY });
        const row = (name: string, s: LatencySummary) =>
            `  ${name.padEnd(22)} ${String(s.requests).padStart(8)} ${String(s.errors).padStart(6)} ${s.p50Ms.toFixed(3).padStart(8)} ${s.p99Ms.toFixed(3).padStart(8)} ${s.throughput.toFixed(0).padStart(7)}`;
        console.log(`inference: ${REQUESTS} requests per model (interleaved halves, after ${WARMUP} warm-up each), concurrency ${CONCURRENCY}, the same bodies, loopback, ${os.cpus().length} CPUs`);
        console.log(`  ${"model".padEnd(22)} ${"requests".padStart(8)} ${"errors".padStart(6)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"req/s".padStart(7)}`);
        console.log(row(`JSON ${VERSIONS.json}`, figures.json));
        console.log(row(`ONNX ${VERSIONS.onnx}`, figures.onnx));
        console.log(
            `  ${"ONNX / JSON".padEnd(22)} ${"".padStart(8)} ${"".padStart(6)} ${`${(figures.onnx.p50Ms / figures.json.p50Ms).toFixed(2)}x`.padStart(8)} ${`${(figures.onnx.p99Ms / figures.json.p99Ms).toFixed(2)}x`.padStart(8)} ${`${(figures.onnx.throughput / figures.json.throughput).toFixed(2)}x`.padStart(7)}`,
        );
        const errors = figures.json.errors + figures.onnx.errors;
        if (errors > 0) console.error(`inference bench: ${errors} failed requests`);
        return errors === 0 ? 0 : 1;
    } finally {
        await stopAll();
    }
}

run().then(
    (code) => process.exit(code),
    (error: Error) => {
        console.error(`inference bench failed: ${error.message}`);
        process.exit(1);
    },
);
