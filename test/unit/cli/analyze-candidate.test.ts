/**
 * The analysis of a candidate, the way each strategy means it, against a stand-in Prometheus
 * answering recorded series: the metric templates for every strategy, outcome feedback on an A/B
 * test, the answer comparison on a shadow; inconclusive and no-data cases hold.
 */
import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { analyzeCandidate } from "../../../cli/analysis";
import { PrometheusClient } from "../../../cli/prometheus";
import { parseConfig } from "../../../components/config/parse";
import type { ModelConfig } from "../../../components/config/schema";
import { canaryModel, dockerConfig, modelFor } from "../../fixtures";

type Track = "stable" | "candidate";
type PerTrack = Partial<Record<Track, number>>;

/** What Prometheus holds for one scenario, per track; absent: no series. */
interface Recorded {
    requests?: PerTrack;
    errorRate?: PerTrack;
    p95Seconds?: PerTrack;
    memory?: PerTrack;
    restarts?: PerTrack;
    lag?: PerTrack;
    available?: PerTrack;
    feedback?: Partial<Record<Track, { correct: number; incorrect: number }>>;
    shadow?: { pairs: number; agreements: number; unpaired: { stable: number; candidate: number } };
    /** Non-cumulative counts over the score buckets 0, 0.05, ..., 1, +Inf. */
    scores?: Partial<Record<Track, number[]>>;
}

const HEALTHY: Recorded = {
    requests: { stable: 5400, candidate: 600 },
    errorRate: { stable: 0.001, candidate: 0.002 },
    p95Seconds: { stable: 0.03, candidate: 0.035 },
    memory: { stable: 0.3, candidate: 0.32 },
    restarts: { stable: 0, candidate: 0 },
    lag: { stable: 0.003, candidate: 0.004 },
    available: { stable: 2, candidate: 1 },
};

const SCORE_BOUNDS = [...Array.from({ length: 21 }, (_, i) => String(Math.round(i * 5) / 100)), "+Inf"];

/** The value(s) a query asks for, read from the recording by what the query names. */
function answer(recorded: Recorded, query: string): Array<{ metric: Record<string, string>; value: [number, string] }> {
    const track = (/track="(stable|candidate)"/.exec(query)?.[1] ?? "") as Track;
    const one = (table: PerTrack | undefined) => (table?.[track] === undefined ? [] : [{ metric: {}, value: [0, String(table[track])] as [number, string] }]);
    if (query.includes("modelship_prediction_score_bucket")) {
        let cumulative = 0;
        return (recorded.scores?.[track] ?? []).map((count, i) => ({ metric: { le: SCORE_BOUNDS[i] }, value: [0, String((cumulative += count))] }));
    }
    if (query.includes("modelship_feedback_total")) {
        const outcome = /outcome="(correct|incorrect)"/.exec(query)?.[1] as "correct" | "incorrect";
        return one(recorded.feedback?.[track] ? { [track]: recorded.feedback[track][outcome] } : undefined);
    }
    if (query.includes("modelship_shadow_pairs_total")) return one(recorded.shadow ? { candidate: recorded.shadow.pairs } : undefined);
    if (query.includes("modelship_shadow_agreements_total")) return one(recorded.shadow ? { candidate: recorded.shadow.agreements } : undefined);
    if (query.includes("modelship_shadow_unpaired_total")) {
        const side = /side="(stable|candidate)"/.exec(query)?.[1] as Track;
        return one(recorded.shadow ? { candidate: recorded.shadow.unpaired[side] } : undefined);
    }
    if (query.includes("modelship_request_errors_total")) return one(recorded.errorRate);
    if (query.includes("histogram_quantile(0.95")) return one(recorded.p95Seconds);
    if (query.includes("increase(modelship_requests_total")) return one(recorded.requests);
    if (query.includes("process_resident_memory_bytes")) return one(recorded.memory);
    if (query.includes("process_start_time_seconds")) return one(recorded.restarts);
    if (query.includes("nodejs_eventloop_lag_p99_seconds")) return one(recorded.lag);
    if (query.includes("modelship_model_ready")) return one(recorded.available ?? { [track]: 0 });
    throw new Error(`the recording has no answer for ${query}`);
}

function modelOf(strategy: string): ModelConfig {
    return parseConfig(dockerConfig({ "fraud-scorer": modelFor(canaryModel(), strategy) }), "dev").models["fraud-scorer"];
}

describe("analyzing a candidate the way its strategy means, on recorded series", () => {
    let server: http.Server;
    let recorded: Recorded = HEALTHY;
    let client: PrometheusClient;

    before(async () => {
        server = http.createServer((req, res) => {
            const query = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
            let body: string;
            try {
                body = JSON.stringify({ status: "success", data: { resultType: "vector", result: answer(recorded, query) } });
            } catch (error) {
                body = JSON.stringify({ status: "error", error: (error as Error).message });
            }
            res.writeHead(200, { "content-type": "application/json" }).end(body);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        client = new PrometheusClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const analyze = (strategy: string, recording: Recorded) => {
        recorded = recording;
        return analyzeCandidate(client, { model: "fraud-scorer", namespace: "", windowSeconds: 300 }, modelOf(strategy));
    };

    it("canary and blue-green: promote on healthy templates, roll back an infrastructure failure, hold on no data", async () => {
        for (const strategy of ["canary", "blueGreen"]) {
            const healthy = await analyze(strategy, HEALTHY);
            assert.equal(healthy.decision, "promote", `${strategy}: ${healthy.reasons.join("; ")}`);
            const leaking = await analyze(strategy, { ...HEALTHY, memory: { stable: 0.3, candidate: 0.95 } });
            assert.equal(leaking.decision, "rollback");
            assert.equal(leaking.failedKind, "infrastructure");
            assert.equal(leaking.reasons[0], "memory: candidate 95% over 90% (stable 30%)");
            const silent = await analyze(strategy, { ...HEALTHY, requests: { stable: 5400 } });
            assert.equal(silent.decision, "hold");
            assert.match(silent.reasons[0], /no data/);
        }
    });

    it("A/B test: better promotes, worse rolls back as quality, the same holds, too few holds, each with the numbers", async () => {
        const ab = (candidate: { correct: number; incorrect: number }, stable = { correct: 550, incorrect: 450 }) => analyze("abTest", { ...HEALTHY, feedback: { stable, candidate } });
        const better = await ab({ correct: 640, incorrect: 360 });
        assert.equal(better.decision, "promote", better.reasons.join("; "));
        assert.ok(
            better.reasons.some((r) => /^A\/B: candidate 64(\.0)?% correct \(n=1000\) vs stable 55(\.0)?% \(n=1000\)/.test(r)),
            better.reasons.join("; "),
        );
        const worse = await ab({ correct: 470, incorrect: 530 });
        assert.equal(worse.decision, "rollback");
        assert.equal(worse.failedKind, "quality");
        assert.match(worse.reasons.join("; "), /significantly worse/);
        const same = await ab({ correct: 552, incorrect: 448 });
        assert.equal(same.decision, "hold");
        const few = await ab({ correct: 90, incorrect: 10 });
        assert.equal(few.decision, "hold");
        assert.match(few.reasons.join("; "), /100/);
        const none = await analyze("abTest", HEALTHY);
        assert.equal(none.decision, "hold", "no feedback is never a promote");
    });

    it("A/B test: an infrastructure failure rolls back as infrastructure even when the candidate wins on quality", async () => {
        const verdict = await analyze("abTest", {
            ...HEALTHY,
            errorRate: { stable: 0.001, candidate: 0.2 },
            feedback: { stable: { correct: 550, incorrect: 450 }, candidate: { correct: 640, incorrect: 360 } },
        });
        assert.equal(verdict.decision, "rollback");
        assert.equal(verdict.failedKind, "infrastructure");
    });

    it("shadow: identical answers promote, disagreeing answers roll back as quality with the agreement rate, too few pairs hold", async () => {
        const scores = [0, 2, 5, 10, 20, 40, 60, 80, 90, 80, 60, 50, 40, 30, 20, 10, 5, 3, 2, 1, 0, 0];
        const shifted = [...scores].reverse();
        const identical = await analyze("shadow", { ...HEALTHY, shadow: { pairs: 400, agreements: 400, unpaired: { stable: 3, candidate: 1 } }, scores: { stable: scores, candidate: scores } });
        assert.equal(identical.decision, "promote", identical.reasons.join("; "));
        assert.match(identical.reasons.join("; "), /100(\.0)?%/);
        const corrupted = await analyze("shadow", { ...HEALTHY, shadow: { pairs: 400, agreements: 212, unpaired: { stable: 3, candidate: 1 } }, scores: { stable: scores, candidate: shifted } });
        assert.equal(corrupted.decision, "rollback");
        assert.equal(corrupted.failedKind, "quality");
        assert.match(corrupted.reasons.join("; "), /53(\.0)?%/);
        const few = await analyze("shadow", { ...HEALTHY, shadow: { pairs: 40, agreements: 40, unpaired: { stable: 0, candidate: 0 } }, scores: { stable: scores, candidate: scores } });
        assert.equal(few.decision, "hold");
    });
});
