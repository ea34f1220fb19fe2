/**
 * Router bench, from one run: the nginx router's overhead against calling the model server
 * directly (same load generator, concurrency and request count), and how fast a blue-green
 * switch and its rollback take effect under continuous load, with the requests lost on the way.
 *
 *   npx tsc -p . && node dist/bench/router.bench.js
 *
 * It prints figures and asserts nothing about them: timings depend on the machine. It exits 1
 * when it cannot measure (no nginx, no model-server build, failed requests in the overhead runs,
 * a switch that never settled), after stopping everything it started.
 */
import * as os from "os";
import { countBy, failed, LoopbackClient, type LatencySummary } from "../test/support/load";
import { blueGreenUnderLoad, routeFor, startModelServer, stopAll, VERSIONS, type ModelServerProcess, type SwitchFigures, type Track } from "../test/support/model-server";
import { interleaved } from "./interleaved";
import { findNginx, NginxProcess } from "../test/support/nginx";

const REQUESTS = 3000;
/** Per path; the model server sees both, so it is equally warm (JIT, sockets) for either measurement. */
const WARMUP = 2000;
const CONCURRENCY = 16;
const SWITCH_PHASE_MS = 3000;
const SWITCH_CONCURRENCY = 8;

function pad(cells: readonly string[], widths: readonly number[]): string {
    return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
}

function overheadTable(direct: LatencySummary, router: LatencySummary): string[] {
    const widths = [16, 9, 7, 9, 9, 10];
    const row = (name: string, s: LatencySummary) => pad([name, String(s.requests), String(s.errors), s.p50Ms.toFixed(3), s.p99Ms.toFixed(3), s.throughput.toFixed(0)], widths);
    return [
        pad(["target", "requests", "errors", "p50 ms", "p99 ms", "req/s"], widths),
        row("direct", direct),
        row("through nginx", router),
        pad(
            ["nginx / direct", "", "", `${(router.p50Ms / direct.p50Ms).toFixed(2)}x`, `${(router.p99Ms / direct.p99Ms).toFixed(2)}x`, `${(router.throughput / direct.throughput).toFixed(2)}x`],
            widths,
        ),
    ];
}

function switchLines(f: SwitchFigures): string[] {
    const ms = (value: number | undefined) => (value === undefined ? "never settled" : `${value.toFixed(0)} ms`);
    return [
        `blue-green switch (stable -> candidate): ${ms(f.switchMs)} until all answers came from candidate; lost ${f.lostDuringSwitch} (${f.retriedDuringSwitch} without client retry)`,
        `rollback (abort -> stable):              ${ms(f.rollbackMs)} until all answers came from stable; lost ${f.lostDuringRollback} (${f.retriedDuringRollback} without client retry)`,
        `  of which the \`nginx -s reload\` call itself (synchronous: no request starts meanwhile): ${f.switchReloadMs.toFixed(0)} ms and ${f.rollbackReloadMs.toFixed(0)} ms`,
        `  ${f.load.samples.length} requests at concurrency ${SWITCH_CONCURRENCY} over ${(f.load.elapsedMs / 1000).toFixed(1)} s. "Without client retry": requests whose connection a`,
        `  retiring nginx worker closed before answering; the load client sent them again on a new connection, as a client that retries closed connections would.`,
        ...Object.entries(countBy(f.load.samples.filter(failed), (s) => s.error ?? `HTTP ${s.status}`)).map(([why, n]) => `  lost: ${n} x ${why}`),
    ];
}

async function run(): Promise<number> {
    const bin = findNginx();
    if (!bin) throw new Error("no nginx binary (/usr/sbin/nginx or on PATH): apt-get install nginx-light");
    const nginx = new NginxProcess();
    let switchClient: LoopbackClient | undefined;
    try {
        const [stable, candidate] = await Promise.all([startModelServer({ track: "stable", version: VERSIONS.stable }), startModelServer({ track: "candidate", version: VERSIONS.candidate })]);
        const servers: Record<Track, ModelServerProcess> = { stable, candidate };
        await nginx.start(bin, [routeFor({ type: "blueGreen", active: "stable" }, servers)]);

        const { direct, nginx: router } = await interleaved({ direct: stable.port, nginx: nginx.port }, ["direct", "nginx"], { requests: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY });
        console.log(
            `router overhead: ${REQUESTS} inference requests per path (interleaved halves, after ${WARMUP} warm-up each), concurrency ${CONCURRENCY}, model server ${VERSIONS.stable}, loopback, ${os.cpus().length} CPUs`,
        );
        overheadTable(direct, router).forEach((line) => console.log(`  ${line}`));

        switchClient = new LoopbackClient(nginx.port, SWITCH_CONCURRENCY);
        const figures = await blueGreenUnderLoad(nginx, servers, switchClient, SWITCH_PHASE_MS, SWITCH_CONCURRENCY);
        console.log("");
        switchLines(figures).forEach((line) => console.log(line));

        const problems = [
            ...(direct.errors + router.errors > 0 ? [`${direct.errors + router.errors} failed requests in the overhead runs`] : []),
            ...(figures.switchMs === undefined || figures.rollbackMs === undefined ? ["the switch or the rollback never settled"] : []),
        ];
        problems.forEach((p) => console.error(`router bench: ${p}`));
        return problems.length === 0 ? 0 : 1;
    } finally {
        switchClient?.close();
        await nginx.stop();
        await stopAll();
    }
}

run().then(
    (code) => process.exit(code),
    (error: Error) => {
        console.error(`router bench failed: ${error.message}`);
        process.exit(1);
    },
);
