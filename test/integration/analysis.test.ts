/**
 * The rollout analysis the way each strategy means it, on real processes: model servers on
 * loopback, the real Prometheus scraping them every second, the project's nginx router mirroring
 * for a shadow, and the analysis reading Prometheus through the CLI's client.
 *
 *   A/B     - outcome feedback replayed so that the candidate is better, worse or the same:
 *             PROMOTE, ROLLBACK (quality), HOLD; and the sample size each decision took;
 *   shadow  - a candidate with the same weights as stable, and one with corrupted weights:
 *             PROMOTE, ROLLBACK naming the agreement rate; clients only ever see stable's answer;
 *   leak    - a candidate retaining memory on every request: the default templates roll it back
 *             as an infrastructure failure on "memory", and how long that took.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { analyzeCandidate } from "../../cli/analysis";
import { PrometheusClient } from "../../cli/prometheus";
import { judgeMetrics } from "../../components/analysis/metrics-judge";
import { templatesFor } from "../../components/analysis/templates";
import type { Decision, Judgement } from "../../components/analysis/types";
import { analysisSchema } from "../../components/config/analysis";
import type { ModelConfig } from "../../components/config/schema";
import { planTraffic } from "../../components/traffic/plan";
import { predict, validateArtifact } from "../../model-server/src/model";
import { featureRows, infer, inParallel, postFeedback, SeededRandom, servedAs, shippedModel, stratifiedOutcomes, writeArtifact, type Answered } from "../support/feedback";
import { sleep } from "../support/http";
import { LoopbackClient } from "../support/load";
import { inferBody, INFER_PATH, INFER_ROUTE, MODEL, modelConfig, startModelServer, stopAll, sumMetric, type ModelServerProcess, type Strategy, type Track } from "../support/model-server";
import { NginxProcess, nginxOrSkip } from "../support/nginx";
import { PrometheusProcess, prometheusOrSkip } from "../support/prometheus";

const TRACKS: readonly Track[] = ["stable", "candidate"];
const PARALLEL = 8;

/** A model config as a stack holds it, through the real schema, with an `analysis` block. */
function analysedModel(strategy: Strategy, analysis: Record<string, unknown> = {}): ModelConfig {
    return { ...modelConfig(strategy), analysis: analysisSchema.parse(analysis) };
}

const scalarOf = async (prometheus: PrometheusProcess, promql: string): Promise<number | undefined> => {
    const value = (await prometheus.query(promql))[0]?.value[1];
    return value === undefined ? undefined : Number(value);
};

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Starts Prometheus on `targets` and waits until it has scraped every one of them. */
async function scrapeAll(prometheus: PrometheusProcess, bin: string, targets: Record<string, ModelServerProcess>): Promise<void> {
    await prometheus.start(bin, Object.fromEntries(Object.entries(targets).map(([pool, server]) => [pool, server.address])));
    const n = Object.keys(targets).length;
    await prometheus.waitUntil(async () => (await scalarOf(prometheus, 'sum(up{job="modelship"})')) === n, 20000, `all ${n} targets up`);
}

describe("rollout analysis on real model servers and Prometheus", function () {
    this.timeout(240000);
    const prometheus = new PrometheusProcess();
    const killOnExit = () => prometheus.killNow();
    let tmp = "";
    // Each block brings its own servers and Prometheus, so no scenario's series reach another's.
    const stopBlock = async () => {
        await prometheus.stop();
        await stopAll();
    };

    before(() => {
        process.once("exit", killOnExit);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-analysis-"));
    });
    after(() => {
        process.removeListener("exit", killOnExit);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("A/B test judged by replayed outcome feedback", () => {
        interface Scenario {
            model: string;
            what: string;
            /** Share of each track's answers the replayed labels make correct. */
            rates: Readonly<Record<Track, number>>;
            expect: Decision;
        }
        const SCENARIOS: readonly Scenario[] = [
            { model: "ab-better", what: "better", rates: { stable: 0.6, candidate: 0.75 }, expect: "promote" },
            { model: "ab-worse", what: "worse", rates: { stable: 0.75, candidate: 0.6 }, expect: "rollback" },
            { model: "ab-same", what: "the same", rates: { stable: 0.7, candidate: 0.7 }, expect: "hold" },
        ];
        const REQUESTS = 400;
        const BATCH = 20;
        const MIN_SAMPLES = 50;
        const model = analysedModel({ type: "abTest", stickyBy: { header: "x-user-id" } }, { abTest: { minSamples: MIN_SAMPLES, confidence: 0.95, mode: "superiority" } });
        const servers: Record<string, Record<Track, ModelServerProcess>> = {};

        before(async function () {
            const bin = prometheusOrSkip(this);
            // A model name per scenario: one Prometheus, and no scenario's feedback in another's counters.
            for (const s of SCENARIOS) {
                const start = (track: Track, version: string) => startModelServer({ track, version, env: servedAs(s.model, writeArtifact(path.join(tmp, track), s.model, shippedModel(version))) });
                const [stable, candidate] = await Promise.all([start("stable", "1.4.0"), start("candidate", "1.5.0")]);
                servers[s.model] = { stable, candidate };
            }
            await scrapeAll(prometheus, bin, Object.fromEntries(SCENARIOS.flatMap((s) => TRACKS.map((t) => [`${s.model}-${t}`, servers[s.model][t]]))));
        });
        after(stopBlock);

        SCENARIOS.forEach((s, index) => {
            const expectation = s.expect === "rollback" ? "ROLLBACK (quality)" : s.expect.toUpperCase();
            it(`a candidate ${s.what} (${percent(s.rates.candidate)} correct vs stable's ${percent(s.rates.stable)}): ${expectation}`, async () => {
                const clients = { stable: new LoopbackClient(servers[s.model].stable.port, PARALLEL), candidate: new LoopbackClient(servers[s.model].candidate.port, PARALLEL) };
                try {
                    const answers = {} as Record<Track, Answered[]>;
                    const labels = {} as Record<Track, (0 | 1)[]>;
                    for (const [t, track] of TRACKS.entries()) {
                        const rows = featureRows(REQUESTS, new SeededRandom(1600 + 10 * index + t));
                        answers[track] = await inParallel(rows, PARALLEL, (row, i) => infer(clients[track], s.model, row, `${s.model}-${track}-${i}`));
                        // The labels are chosen knowing the answers: right on exactly the track's share of them.
                        const right = stratifiedOutcomes(REQUESTS, s.rates[track], new SeededRandom(1700 + 10 * index + t));
                        labels[track] = answers[track].map((a, i) => (right[i] ? a.predicted : a.predicted === 1 ? 0 : 1));
                    }

                    // Feedback arrives in batches; the analysis judges after each, as `auto` would at each bake.
                    const looks: { n: number; judgement: Judgement }[] = [];
                    for (let n = BATCH; n <= REQUESTS; n += BATCH) {
                        for (const track of TRACKS) {
                            const ids = Array.from({ length: BATCH }, (_, k) => n - BATCH + k);
                            const statuses = await inParallel(ids, PARALLEL, (i) => postFeedback(clients[track], s.model, answers[track][i].id, labels[track][i]));
                            assert.deepEqual(new Set(statuses), new Set([200]), `feedback statuses ${statuses.join(",")}`);
                        }
                        const fed = `sum by (track) (modelship_feedback_total{model="${s.model}"})`;
                        await prometheus.waitUntil(
                            async () => {
                                const seen = await prometheus.byTrack(fed);
                                return seen.stable === n && seen.candidate === n;
                            },
                            15000,
                            `a scrape with ${n} feedback per track`,
                        );
                        const judgement = await analyzeCandidate(new PrometheusClient(`http://127.0.0.1:${prometheus.port}`), { model: s.model, namespace: "", windowSeconds: 600 }, model);
                        looks.push({ n, judgement });
                        if (judgement.decision !== "hold") break;
                    }

                    const last = looks.at(-1)!;
                    const reasons = last.judgement.reasons.join("; ");
                    console.log(
                        `measured: A/B ${s.what} candidate: ${last.judgement.decision.toUpperCase()} at ${last.n} feedback per track (judged every ${BATCH}, minSamples ${MIN_SAMPLES}): ${reasons}`,
                    );
                    assert.equal(last.judgement.decision, s.expect, reasons);
                    for (const look of looks.slice(0, -1)) assert.equal(look.judgement.decision, "hold", `at ${look.n}: ${look.judgement.reasons.join("; ")}`);
                    assert.equal(looks[0].judgement.decision, "hold", "too few samples at the first look");
                    // The decision is the A/B test's own: both servers are healthy by every template.
                    const findings = last.judgement.findings ?? [];
                    const healthy = findings.filter((f) => f.kind === "infrastructure" && f.outcome === "pass");
                    assert.equal(healthy.length, templatesFor(model.analysis).length, reasons);
                    const abFinding = findings.find((f) => f.kind === "quality");
                    assert.ok(abFinding, `a quality finding: ${JSON.stringify(findings)}`);
                    assert.equal(abFinding.outcome, { promote: "pass", rollback: "fail", hold: "inconclusive" }[s.expect], abFinding.reason);
                    assert.match(abFinding.reason, /\d+(\.\d+)?%.*\[.*\d.*\]/, "the effect size and interval in the message");
                    if (s.expect === "hold") assert.equal(last.n, REQUESTS, "the same candidate is held at every look, to the last");
                    else assert.ok(last.n >= MIN_SAMPLES && last.n < REQUESTS, `decided at ${last.n}`);
                    if (s.expect === "rollback") assert.equal(last.judgement.failedKind, "quality", "a worse model is a quality failure: a person decides");
                } finally {
                    clients.stable.close();
                    clients.candidate.close();
                }
            });
        });
    });

    describe("shadow: the nginx router mirroring every request to the candidate", () => {
        const REQUESTS = 400;
        /** How long the candidate keeps one side of a pair waiting for the other: short, so lost copies are counted within the test. */
        const PAIR_TTL_MS = 2000;
        /**
         * Clients at once through the router. Its relay drops copies beyond SHADOW_COPIES_IN_FLIGHT: on a
         * busy 2-core host up to half the copies were dropped at 8 clients, up to a fifth at 4. The
         * comparison needs minPairs of them.
         */
        const SHADOW_PARALLEL = 4;
        const strategy = { type: "shadow", mirrorPercent: 100 };
        const model = analysedModel(strategy);
        const stableArtifact = shippedModel("1.4.0");
        const stableModel = validateArtifact(stableArtifact);
        // A corrupted or mis-mapped artifact: the right numbers against the wrong features.
        const CASES = { "shadow-same": stableArtifact, "shadow-corrupt": { ...stableArtifact, weights: [...stableArtifact.weights].reverse() } };
        const nginx = new NginxProcess();
        const servers: Record<string, Record<Track, ModelServerProcess>> = {};

        before(async function () {
            const nginxBin = nginxOrSkip(this);
            const prometheusBin = prometheusOrSkip(this);
            for (const [name, candidateArtifact] of Object.entries(CASES)) {
                const artifact = (track: Track, content: typeof stableArtifact) => servedAs(name, writeArtifact(path.join(tmp, `shadow-${track}`), name, content));
                // Stable pushes its answers to the candidate, so the candidate's port comes first.
                const candidate = await startModelServer({
                    track: "candidate",
                    version: "1.4.0",
                    env: { ...artifact("candidate", candidateArtifact), MODELSHIP_SHADOW_PAIR_TTL_MS: String(PAIR_TTL_MS) },
                });
                const compare = { MODELSHIP_SHADOW_COMPARE_URL: `http://${candidate.address}` };
                const stable = await startModelServer({ track: "stable", version: "1.4.0", env: { ...artifact("stable", stableArtifact), ...compare } });
                servers[name] = { stable, candidate };
            }
            const routes = Object.keys(CASES).map((name) => ({ plan: planTraffic(name, model), backends: { stable: [servers[name].stable.address], candidate: [servers[name].candidate.address] } }));
            await nginx.start(nginxBin, routes);
            await scrapeAll(prometheus, prometheusBin, Object.fromEntries(Object.keys(CASES).flatMap((name) => TRACKS.map((t) => [`${name}-${t}`, servers[name][t]]))));
        });
        after(async () => {
            await nginx.stop();
            await stopBlock();
        });

        /** Drives REQUESTS through the router, checks every answer is stable's, then judges once the pairs are scraped. */
        async function shadowRun(name: string, seed: number): Promise<{ judgement: Judgement; pairs: number; copies: number; unpaired: string; agreement: number }> {
            const candidate = servers[name].candidate;
            const before = sumMetric(await candidate.metrics(), "modelship_requests_total", { route: INFER_ROUTE });
            const rows = featureRows(REQUESTS, new SeededRandom(seed));
            const client = new LoopbackClient(nginx.port, SHADOW_PARALLEL);
            let answers: Answered[];
            try {
                answers = await inParallel(rows, SHADOW_PARALLEL, (row) => infer(client, name, row));
            } finally {
                client.close();
            }
            // The comparison never changes an answer: each is stable's, exactly as stable's weights compute it.
            const changed = answers.filter((a, i) => a.track !== "stable" || a.probability !== predict(stableModel, [rows[i]])[0]);
            assert.equal(changed.length, 0, `answers not stable's, e.g. ${JSON.stringify(changed[0])}`);

            // Stable reports every answer in batches; each ends paired, or unpaired once PAIR_TTL_MS passes without the candidate's copy.
            const counts = async () => {
                const text = await candidate.metrics();
                const unpaired = (side: Track) => sumMetric(text, "modelship_shadow_unpaired_total", { side });
                return {
                    pairs: sumMetric(text, "modelship_shadow_pairs_total"),
                    stable: unpaired("stable"),
                    candidate: unpaired("candidate"),
                    copies: sumMetric(text, "modelship_requests_total", { route: INFER_ROUTE }) - before,
                };
            };
            let seen = await counts();
            for (const deadline = performance.now() + PAIR_TTL_MS + 15000; seen.pairs + seen.stable < REQUESTS && performance.now() < deadline; seen = await counts()) await sleep(250);
            // A copy the router did not deliver leaves exactly one of stable's reports without a partner, and nothing else.
            assert.deepEqual(
                { accounted: seen.pairs + seen.stable, unpairedStable: seen.stable, unpairedCandidate: seen.candidate },
                { accounted: REQUESTS, unpairedStable: REQUESTS - seen.copies, unpairedCandidate: 0 },
            );
            const { pairs, copies } = seen;
            const unpaired = `stable ${seen.stable}, candidate ${seen.candidate}`;
            const labels = `model="${name}",track="candidate"`;
            // Stable's answers too: judged before a scrape of them (one CI run on a loaded machine), stable had no scores and no latency to compare.
            const scraped = async () =>
                (await scalarOf(prometheus, `sum(modelship_shadow_pairs_total{${labels}})`)) === pairs &&
                (await scalarOf(prometheus, `sum(modelship_shadow_unpaired_total{${labels},side="stable"})`)) === seen.stable &&
                (await scalarOf(prometheus, `sum(modelship_prediction_score_count{model="${name}",track="stable"})`)) === REQUESTS;
            await prometheus.waitUntil(scraped, 15000, `a scrape with ${pairs} pairs and ${seen.stable} unpaired, and stable's ${REQUESTS} scores`);
            const agreement = (await scalarOf(prometheus, `sum(modelship_shadow_agreements_total{${labels}}) / sum(modelship_shadow_pairs_total{${labels}})`)) ?? NaN;
            const judgement = await analyzeCandidate(new PrometheusClient(`http://127.0.0.1:${prometheus.port}`), { model: name, namespace: "", windowSeconds: 300 }, model);
            return { judgement, pairs, copies, unpaired, agreement };
        }

        it("a candidate with stable's weights: agreement 100%, PROMOTE; clients get stable's answers", async () => {
            const { judgement, pairs, copies, unpaired, agreement } = await shadowRun("shadow-same", 1801);
            const reasons = judgement.reasons.join("; ");
            console.log(
                `measured: shadow agreement, identical candidate: ${percent(agreement)} over ${pairs} pairs (${REQUESTS} requests, ${copies} mirrored copies reached the candidate; unpaired: ${unpaired}): ${judgement.decision.toUpperCase()}: ${reasons}`,
            );
            assert.ok(pairs >= model.analysis.shadow.minPairs, `${pairs} pairs`);
            assert.equal(agreement, 1);
            assert.equal(judgement.decision, "promote", reasons);
        });

        it("a candidate with corrupted weights: ROLLBACK (quality) naming the agreement rate; clients get stable's answers", async () => {
            const { judgement, pairs, copies, unpaired, agreement } = await shadowRun("shadow-corrupt", 1802);
            const reasons = judgement.reasons.join("; ");
            console.log(
                `measured: shadow agreement, corrupted candidate: ${percent(agreement)} over ${pairs} pairs (${REQUESTS} requests, ${copies} mirrored copies reached the candidate; unpaired: ${unpaired}): ${judgement.decision.toUpperCase()}: ${reasons}`,
            );
            assert.ok(pairs >= model.analysis.shadow.minPairs, `${pairs} pairs`);
            assert.ok(agreement < model.analysis.shadow.minAgreement, `agreement ${agreement}`);
            assert.equal(judgement.decision, "rollback", reasons);
            assert.equal(judgement.failedKind, "quality");
            // The rate named in the message is the one Prometheus holds (to a point: both read the same counters, moments apart).
            const named = /agree[^%]*?(\d+(?:\.\d+)?)%/i.exec(reasons);
            assert.ok(named, `no agreement rate in: ${reasons}`);
            assert.ok(Math.abs(Number(named[1]) - 100 * agreement) <= 1, `the agreement rate ${percent(agreement)} in: ${reasons}`);
        });
    });

    describe("a candidate leaking memory, judged by the default templates", () => {
        const LEAK_BYTES_PER_REQUEST = 256 * 1024;
        /** The limit sits this far above the process's resident memory at start. */
        const HEADROOM_BYTES = 50 * 2 ** 20;
        const PACE_MS = 20;
        const GIVE_UP_MS = 60_000;
        const analysis = analysisSchema.parse({});
        const servers = {} as Record<Track, ModelServerProcess>;
        let limit = 0;
        let startRss = 0;

        before(async function () {
            const bin = prometheusOrSkip(this);
            servers.stable = await startModelServer({ track: "stable", version: "1.4.0" });
            // The same program at rest: what the candidate starts from.
            startRss = sumMetric(await servers.stable.metrics(), "process_resident_memory_bytes");
            limit = Math.round(startRss + HEADROOM_BYTES);
            const env = { MODELSHIP_MEMORY_LIMIT_BYTES: String(limit), FAULT_LEAK_BYTES_PER_REQUEST: String(LEAK_BYTES_PER_REQUEST) };
            servers.candidate = await startModelServer({ track: "candidate", version: "1.5.0", env });
            await scrapeAll(prometheus, bin, servers);
        });
        after(stopBlock);

        it(`ROLLBACK (infrastructure) on "memory" once resident memory passes 90% of the limit`, async () => {
            const client = new PrometheusClient(`http://127.0.0.1:${prometheus.port}`);
            const templates = templatesFor(analysis);
            const scope = { model: MODEL, namespace: "", window: "60s" };
            const memory = async () => (await client.readTemplates(templates, scope)).find((r) => r.template.name === "memory");
            await prometheus.waitUntil(async () => (await memory())?.candidate !== undefined, 10000, "the candidate's memory share");
            const atRest = (await memory())!;
            assert.ok(atRest.candidate! < 0.9, `at rest the candidate already uses ${percent(atRest.candidate!)} of its limit`);

            const started = performance.now();
            let stop = false;
            let sent = 0;
            let crossedAt: number | undefined;
            const inferences = new LoopbackClient(servers.candidate.port, 1);
            const leak = (async () => {
                for (; !stop && performance.now() - started < GIVE_UP_MS; await sleep(PACE_MS)) {
                    const reply = await inferences.request({ path: INFER_PATH, body: inferBody(sent) });
                    assert.equal(reply.status, 200, reply.body);
                    sent++;
                }
            })();
            // The server's own view, for how much of the time was the leak and how much the detection.
            const watch = (async () => {
                for (; !stop && crossedAt === undefined; await sleep(200)) {
                    if (sumMetric(await servers.candidate.metrics(), "process_resident_memory_bytes") >= 0.9 * limit) crossedAt = performance.now();
                }
            })();
            let judgement: Judgement | undefined;
            let judgedAt = 0;
            let looks = 0;
            try {
                while (performance.now() - started < GIVE_UP_MS) {
                    const [readings, requests] = await Promise.all([client.readTemplates(templates, scope), client.requests(MODEL, "candidate", scope.window)]);
                    judgement = judgeMetrics(readings, requests);
                    judgedAt = performance.now();
                    looks++;
                    if (judgement.decision === "rollback") break;
                    await sleep(250);
                }
            } finally {
                stop = true;
                await Promise.all([leak, watch]);
                inferences.close();
            }
            assert.ok(judgement);
            const reasons = judgement.reasons.join("; ");
            const since = (t: number | undefined) => (t === undefined ? "n/a" : `${((judgedAt - t) / 1000).toFixed(2)} s`);
            console.log(
                `measured: leak of ${LEAK_BYTES_PER_REQUEST / 1024} KiB per request, limit ${(limit / 2 ** 20).toFixed(1)} MiB (start ${(startRss / 2 ** 20).toFixed(1)} MiB + ${HEADROOM_BYTES / 2 ** 20} MiB): ` +
                    `${judgement.decision.toUpperCase()} ${since(started)} after the first leaking request (${since(crossedAt)} after the server's own RSS passed 90%), ${sent} requests, ${looks} judgements: ${reasons}`,
            );
            assert.equal(judgement.decision, "rollback", reasons);
            assert.equal(judgement.failedKind, "infrastructure");
            const failed = judgement.findings?.filter((f) => f.outcome === "fail").map((f) => f.name);
            assert.deepEqual(failed, ["memory"], reasons);
            assert.match(reasons, /^memory: candidate \d+(\.\d+)?% over 90%/);
        });
    });
});
