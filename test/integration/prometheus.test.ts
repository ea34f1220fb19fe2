/**
 * The real Prometheus scraping two real model servers: the queries a rollout analysis runs
 * (error rate and p95 latency per track) give the figures the fault knobs put in. The candidate
 * fails half its inferences and adds 50 ms to each; stable is healthy.
 */
import { strict as assert } from "assert";
import { judgeMetrics } from "../../components/analysis/metrics-judge";
import { defaultTemplates, templatesFor } from "../../components/analysis/templates";
import { PrometheusClient } from "../../cli/prometheus";
import { countBy, LoopbackClient, runLoad, type LoadResult } from "../support/load";
import { inferBody, INFER_PATH, INFER_ROUTE, startModelServer, stopAll, type ModelServerProcess, type Track } from "../support/model-server";
import { PrometheusProcess, prometheusOrSkip } from "../support/prometheus";
import { analysisSchema } from "../../components/config/analysis";

const CANDIDATE_FAULTS = { errorRate: 0.5, latencyMs: 50 };
const LOAD_MS = 6000;
/** Long enough to cover the whole load run, which starts a few seconds after Prometheus. */
const WINDOW = "1m";
const INFER = `route="${INFER_ROUTE}"`;

/** The model server exports its inference error series at 0 from the start, so a healthy track's rate is 0, not absent. */
const ERROR_RATE = `sum by (track) (rate(modelship_request_errors_total{${INFER}}[${WINDOW}])) / sum by (track) (rate(modelship_requests_total{${INFER}}[${WINDOW}]))`;
const P95 = `histogram_quantile(0.95, sum by (le, track) (rate(modelship_request_duration_seconds_bucket{${INFER}}[${WINDOW}])))`;
const SERVED = `sum by (track) (modelship_requests_total{${INFER}})`;

describe("Prometheus scraping real model servers (candidate: 50% errors, +50 ms)", function () {
    this.timeout(90000);
    const prometheus = new PrometheusProcess();
    const servers: Partial<Record<Track, ModelServerProcess>> = {};
    const clients: LoopbackClient[] = [];
    const loads: Partial<Record<Track, LoadResult>> = {};

    // An interrupted run must not leave Prometheus scraping on a loopback port.
    const killOnExit = () => prometheus.killNow();
    process.once("exit", killOnExit);

    before(async function () {
        const bin = prometheusOrSkip(this);
        [servers.stable, servers.candidate] = await Promise.all([
            startModelServer({ track: "stable", version: "1.4.0" }),
            startModelServer({ track: "candidate", version: "1.5.0", faults: CANDIDATE_FAULTS }),
        ]);
        await prometheus.start(bin, { stable: servers.stable.address, candidate: servers.candidate.address });
        await prometheus.waitUntil(async () => (await prometheus.query('sum(up{job="modelship"})'))[0]?.value[1] === "2", 20000, "both targets up");

        // Stable is paced by a single worker so it does not crowd out the candidate's requests on this host.
        const drive = (server: ModelServerProcess, concurrency: number) => {
            const client = new LoopbackClient(server.port, concurrency);
            clients.push(client);
            return runLoad({ send: (i) => client.request({ path: INFER_PATH, body: inferBody(i) }), concurrency, durationMs: LOAD_MS, total: 5000 });
        };
        [loads.stable, loads.candidate] = await Promise.all([drive(servers.stable, 1), drive(servers.candidate, 8)]);

        // Done once Prometheus's latest scrape holds every request the clients sent.
        const sent = { stable: loads.stable.samples.length, candidate: loads.candidate.samples.length };
        await prometheus.waitUntil(
            async () => {
                const served = await prometheus.byTrack(SERVED);
                return served.stable === sent.stable && served.candidate === sent.candidate;
            },
            15000,
            `a scrape with every request (${JSON.stringify(sent)})`,
        );
    });

    after(async () => {
        clients.forEach((c) => c.close());
        await prometheus.stop();
        await stopAll();
        process.removeListener("exit", killOnExit);
    });

    it("the clients saw the injected faults (the ground truth for the queries)", () => {
        assert.ok(loads.stable && loads.candidate);
        assert.deepEqual(
            countBy(loads.stable.samples, (s) => String(s.status)),
            { "200": loads.stable.samples.length },
        );
        const codes = countBy(loads.candidate.samples, (s) => String(s.status));
        assert.deepEqual(Object.keys(codes).sort(), ["200", "500"], JSON.stringify(codes));
    });

    it("error rate per track: ~0 for stable, ~0.5 for the candidate", async () => {
        const rates = await prometheus.byTrack(ERROR_RATE);
        const n = loads.candidate?.samples.length ?? 0;
        // Four binomial standard deviations, plus room for rate()'s extrapolation at the window's edges.
        const tolerance = 4 * Math.sqrt(0.25 / n) + 0.02;
        console.log(`measured: prometheus error rate: stable ${rates.stable?.toFixed(4)}, candidate ${rates.candidate?.toFixed(4)} (expected 0.5 ± ${tolerance.toFixed(3)}, ${n} candidate requests)`);
        assert.equal(rates.stable, 0, `stable error rate ${rates.stable}`);
        assert.ok(rates.candidate !== undefined && Math.abs(rates.candidate - 0.5) <= tolerance, `candidate error rate ${rates.candidate}`);
    });

    it("the rollout analysis over this Prometheus: roll back the candidate, with the numbers; hold a model it has no data for", async () => {
        const client = new PrometheusClient(`http://127.0.0.1:${prometheus.port}`);
        const analysis = analysisSchema.parse({ maxErrorRate: 0.01, maxP95LatencyMs: 250, bakeSeconds: 60, onFailure: "rollback" });
        const scope = { model: "fraud-scorer", namespace: "", window: "60s" };
        const [readings, requests] = await Promise.all([client.readTemplates(templatesFor(analysis), scope), client.requests("fraud-scorer", "candidate", "60s")]);
        const verdict = judgeMetrics(readings, requests);
        console.log(`measured: analysis of the candidate: ${verdict.decision}: ${verdict.reasons.join("; ")}`);
        assert.equal(verdict.decision, "rollback", verdict.reasons.join("; "));
        assert.equal(verdict.failedKind, "infrastructure");
        assert.match(verdict.reasons[0], /^error rate: candidate (4\d|5\d)(\.\d+)?% over 1% \(stable 0%\)$/);
        // Every default template has data from the real servers: the process metrics included.
        for (const reading of readings) assert.ok(reading.stable !== undefined && reading.candidate !== undefined, `${reading.template.name}: ${JSON.stringify(reading)}`);
        const swapped = readings.map((r) => ({ template: r.template, candidate: r.stable, stable: r.candidate }));
        const asCandidate = judgeMetrics(swapped, await client.requests("fraud-scorer", "stable", "60s"));
        assert.equal(asCandidate.decision, "promote", `stable alone, judged as a candidate, passes: ${asCandidate.reasons.join("; ")}`);
        const absent = await client.readTemplates(defaultTemplates(analysis), { ...scope, model: "no-such-model" });
        assert.equal(judgeMetrics(absent, await client.requests("no-such-model", "candidate", "60s")).decision, "hold");
    });

    it("p95 latency per track: the candidate at least 50 ms, stable well below", async () => {
        const p95 = await prometheus.byTrack(P95);
        console.log(`measured: prometheus p95 latency: stable ${((p95.stable ?? NaN) * 1000).toFixed(1)} ms, candidate ${((p95.candidate ?? NaN) * 1000).toFixed(1)} ms`);
        assert.ok(p95.candidate !== undefined && p95.candidate >= 0.05, `candidate p95 ${p95.candidate} s`);
        assert.ok(p95.stable !== undefined && p95.stable < 0.025 && p95.stable < p95.candidate / 2, `stable p95 ${p95.stable} s`);
    });
});
