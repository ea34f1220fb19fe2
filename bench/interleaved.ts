/**
 * The benches' measurement: the same inference load against two loopback ports, after a warm-up
 * of each, in halves ordered a, b, b, a, so that whatever drifts during the run (a warming JIT, a
 * busy neighbour) weighs on both alike.
 */
import { combine, LoopbackClient, runLoad, summarize, type LatencySummary, type LoadResult } from "../test/support/load";
import { inferBody, INFER_PATH } from "../test/support/model-server";

export interface InterleavedOptions {
    requests: number;
    warmup: number;
    concurrency: number;
}

export async function interleaved<K extends string>(ports: Readonly<Record<K, number>>, [a, b]: readonly [K, K], options: InterleavedOptions): Promise<Record<K, LatencySummary>> {
    const clients = { [a]: new LoopbackClient(ports[a], options.concurrency), [b]: new LoopbackClient(ports[b], options.concurrency) } as Record<K, LoopbackClient>;
    const load = (key: K, total: number) => runLoad({ send: (i) => clients[key].request({ path: INFER_PATH, body: inferBody(i) }), concurrency: options.concurrency, total });
    try {
        await load(a, options.warmup);
        await load(b, options.warmup);
        const runs = { [a]: [], [b]: [] } as unknown as Record<K, LoadResult[]>;
        for (const key of [a, b, b, a]) runs[key].push(await load(key, options.requests / 2));
        return { [a]: summarize(combine(runs[a])), [b]: summarize(combine(runs[b])) } as Record<K, LatencySummary>;
    } finally {
        clients[a].close();
        clients[b].close();
    }
}
