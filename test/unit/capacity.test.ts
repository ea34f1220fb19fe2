/**
 * Capacity that follows the weights: each autoscaled track's bounds for a split, as properties
 * over every strategy's sizing, weight and declared bounds.
 */
import { strict as assert } from "assert";
import fc from "fast-check";
import { strategySchema } from "../../components/strategies";
import { equalSize, fullSize, proportional } from "../../components/strategies/sizing";
import { capacityFor, type Bounds } from "../../components/traffic/capacity";
import { planTraffic } from "../../components/traffic/plan";
import { trackSchema } from "../../components/config/schema";
import { autoscalingSchema } from "../../components/config/autoscaling";
import { deploymentObject, horizontalPodAutoscalerObject } from "../../components/targets/kubernetes/workload";
import { trackPlan } from "../../components/traffic/types";

const bounds = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 })).map(([min, extra]): Bounds => ({ min, max: min + extra }));
const SIZINGS = { canary: proportional((s) => s.candidateWeight, "candidate"), shadow: proportional((s) => s.mirrorPercent, "candidate"), blueGreen: fullSize, abTest: equalSize };
const input = fc.record({
    stable: bounds,
    candidate: bounds,
    weight: fc.integer({ min: 0, max: 100 }),
    sizing: fc.constantFrom(...(Object.keys(SIZINGS) as Array<keyof typeof SIZINGS>)),
    dynamicStableScale: fc.boolean(),
    aborted: fc.boolean(),
});
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

function run(i: Input, weight = i.weight) {
    const split = i.aborted ? { candidateWeight: 0, mirrorPercent: 0 } : i.sizing === "shadow" ? { candidateWeight: 0, mirrorPercent: weight } : { candidateWeight: weight, mirrorPercent: 0 };
    return capacityFor({ full: { stable: i.stable, candidate: i.candidate }, split, sizing: SIZINGS[i.sizing], dynamicStableScale: i.dynamicStableScale, aborted: i.aborted });
}

describe("capacity: autoscaled bounds that follow the weights (fast-check)", () => {
    it("never below one replica or the track's share of its floor, never above its max, min never above max", () => {
        fc.assert(
            fc.property(input, (i) => {
                const out = run(i);
                for (const track of ["stable", "candidate"] as const) {
                    assert.ok(out[track].min >= 1 && out[track].min <= out[track].max, JSON.stringify(out));
                    // An A/B test runs both tracks at the larger declared size, so that they are compared at the same capacity.
                    const ceiling = i.sizing === "abTest" ? Math.max(i.stable.max, i.candidate.max) : i[track].max;
                    assert.ok(out[track].max <= ceiling, `${track} above its max: ${JSON.stringify(out)}`);
                }
                if (i.aborted) return;
                const share = i.sizing === "canary" || i.sizing === "shadow" ? i.weight : 100;
                assert.ok(out.candidate.min >= Math.ceil((i.candidate.min * share) / 100), `candidate under its share: ${JSON.stringify(out)}`);
                const stableShare = i.dynamicStableScale && i.sizing !== "shadow" ? 100 - (i.sizing === "canary" || i.sizing === "abTest" || i.sizing === "blueGreen" ? i.weight : 0) : 100;
                assert.ok(out.stable.min >= Math.max(1, Math.ceil((i.stable.min * stableShare) / 100)), `stable under its share: ${JSON.stringify(out)}`);
            }),
        );
    });

    it("on abort, stable has its full bounds back and the candidate stays warm at its smallest", () => {
        fc.assert(
            fc.property(input, (i) => {
                const out = run({ ...i, aborted: true });
                assert.deepEqual(out.stable, i.sizing === "abTest" ? { min: Math.max(i.stable.min, i.candidate.min), max: Math.max(i.stable.max, i.candidate.max) } : i.stable);
                if (i.sizing === "canary" || i.sizing === "shadow") assert.deepEqual(out.candidate, { min: 1, max: 1 });
            }),
        );
    });

    it("a canary's higher weight never lowers the candidate's bounds, nor (dynamic stable scale) raises stable's", () => {
        fc.assert(
            fc.property(input, fc.integer({ min: 0, max: 100 }), (i, other) => {
                const canary = { ...i, sizing: "canary" as const, aborted: false };
                const [low, high] = [Math.min(i.weight, other), Math.max(i.weight, other)];
                const [a, b] = [run(canary, low), run(canary, high)];
                assert.ok(b.candidate.min >= a.candidate.min && b.candidate.max >= a.candidate.max, `${low} -> ${high}: ${JSON.stringify([a, b])}`);
                if (i.dynamicStableScale) assert.ok(b.stable.min <= a.stable.min && b.stable.max <= a.stable.max, `${low} -> ${high}: ${JSON.stringify([a, b])}`);
                else assert.deepEqual(b.stable, a.stable);
            }),
        );
    });

    const autoscaled = {
        stable: trackSchema.parse({ version: "1.4.0", image: "r/m:1.4.0", autoscaling: { min: 4, max: 20, targetCPU: 70 } }),
        candidate: trackSchema.parse({ version: "1.5.0", image: "r/m:1.5.0", autoscaling: { min: 4, max: 20, targetCPU: 70 } }),
    };

    it("a canary of 4..20 replicas per track, step by step: the bounds each step plans", () => {
        const tracks = autoscaled;
        const steps = [10, 25, 50, 100];
        const perStep = (dynamicStableScale: boolean, abort = false) =>
            steps.map((_, step) => {
                const plan = planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps, step, dynamicStableScale, abort }), tracks });
                return plan.tracks.map((t) => `${t.track} ${t.autoscaling?.min ?? "?"}..${t.autoscaling?.max ?? "?"}`).join(", ");
            });
        assert.deepEqual(perStep(false), ["stable 4..20, candidate 1..2", "stable 4..20, candidate 1..5", "stable 4..20, candidate 2..10", "stable 4..20, candidate 4..20"]);
        assert.deepEqual(perStep(true), ["stable 4..18, candidate 1..2", "stable 3..15, candidate 1..5", "stable 2..10, candidate 2..10", "stable 1..1, candidate 4..20"]);
        assert.deepEqual(
            perStep(true, true),
            Array.from({ length: 4 }, () => "stable 4..20, candidate 1..1"),
        );
        console.log(`      measured: canary 4..20 per track, bounds per step: ${perStep(false).join(" | ")}; with dynamicStableScale: ${perStep(true).join(" | ")}`);
    });

    it("scaleDownDelaySeconds: stable keeps the previous step's bounds through each step, and shrinks in the next update", () => {
        const steps = [10, 25, 50, 100];
        const perStep = steps.map((_, step) => {
            const plan = planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps, step, dynamicStableScale: true, scaleDownDelaySeconds: 300 }), tracks: autoscaled });
            return plan.tracks.map((t) => `${t.track} ${t.autoscaling?.min ?? "?"}..${t.autoscaling?.max ?? "?"}`).join(", ");
        });
        // Each stable bound is the one the step before planned without the delay (4..20 before the first step).
        assert.deepEqual(perStep, ["stable 4..20, candidate 1..2", "stable 4..18, candidate 1..5", "stable 3..15, candidate 2..10", "stable 2..10, candidate 4..20"]);
    });

    it("kept warm, stable's bounds are the larger of the step's and the previous step's, for any weights", () => {
        fc.assert(
            fc.property(bounds, bounds, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (stable, candidate, a, b) => {
                const [previous, current] = [Math.min(a, b), Math.max(a, b)];
                const at = (weight: number, prior?: number) =>
                    capacityFor({
                        full: { stable, candidate },
                        split: { candidateWeight: weight, mirrorPercent: 0 },
                        sizing: SIZINGS.canary,
                        dynamicStableScale: true,
                        aborted: false,
                        ...(prior !== undefined ? { previous: { candidateWeight: prior, mirrorPercent: 0 } } : {}),
                    });
                const warm = at(current, previous);
                assert.deepEqual(warm.stable, at(previous).stable);
                assert.deepEqual(warm.candidate, at(current).candidate);
            }),
        );
    });

    it("on abort of a canary whose stable had shrunk, the route waits for stable's full floor: the Deployment asks for it and the provider awaits it", () => {
        const plan = (abort: boolean) =>
            planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps: [10, 25, 50, 100], step: 2, dynamicStableScale: true, abort }), tracks: autoscaled });
        const stableReplicas = (abort: boolean) => {
            const track = trackPlan(plan(abort), "stable") ?? assert.fail("stable");
            const config = { port: 8080, resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }, dependsOn: [], artifact: "s3://m/", tracks: autoscaled };
            const spec = deploymentObject({
                environment: "prod",
                namespace: "models",
                model: "m",
                config: config as never,
                track,
                poolUpdate: plan(abort).poolUpdate,
                image: "r/m@sha256:abc",
                serviceAccountName: "m",
                artifactStore: {},
            }).spec as { replicas?: number };
            return [track.readyBeforeRoute, spec.replicas];
        };
        assert.deepEqual(stableReplicas(true), [4, 4]);
        // Mid-rollout the HorizontalPodAutoscaler owns the count: the Deployment leaves it out.
        assert.deepEqual(stableReplicas(false), [undefined, undefined]);
        assert.equal(
            planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps: [10, 100], step: 0, abort: true }), tracks: autoscaled }).tracks[0].readyBeforeRoute,
            undefined,
            "stable never shrank",
        );
    });
});

describe("capacity on Kubernetes: a HorizontalPodAutoscaler per autoscaled track", () => {
    const tracks = {
        stable: trackSchema.parse({ version: "1.4.0", image: "r/m:1.4.0", replicas: 3 }),
        candidate: trackSchema.parse({ version: "1.5.0", image: "r/m:1.5.0", autoscaling: { min: 4, max: 20, targetConcurrency: 8 } }),
    };
    const plan = planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps: [10, 25, 50, 100], step: 1 }), tracks });
    const args = (track: "stable" | "candidate") => ({ environment: "prod", namespace: "models", model: "m", track: plan.tracks.find((t) => t.track === track) ?? assert.fail(track) });

    it("scales the candidate on requests in flight within its bounds for the step, and leaves its Deployment's replicas to it", () => {
        assert.deepEqual(horizontalPodAutoscalerObject(args("candidate"))?.spec, {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "m-candidate" },
            minReplicas: 1,
            maxReplicas: 5,
            metrics: [{ type: "Pods", pods: { metric: { name: "modelship_requests_in_flight" }, target: { type: "AverageValue", averageValue: "8" } } }],
        });
    });

    it("a track of fixed size has no autoscaler, and its replicas stay the plan's", () => {
        assert.equal(horizontalPodAutoscalerObject(args("stable")), undefined);
        assert.equal(trackPlan(plan, "stable")?.replicas, 3);
    });

    it("refuses bounds the wrong way round and none or two metrics to scale on, by name", () => {
        const issues = (autoscaling: unknown) => autoscalingSchema.safeParse(autoscaling).error?.issues.map((i) => i.message) ?? [];
        assert.deepEqual(issues({ min: 5, max: 2, targetCPU: 70 }), ["min no greater than max"]);
        assert.deepEqual(issues({ min: 1, max: 2 }), ["exactly one of targetCPU, targetConcurrency or metric: what the track scales on"]);
        assert.deepEqual(issues({ min: 1, max: 2, targetCPU: 70, targetConcurrency: 4 }), ["exactly one of targetCPU, targetConcurrency or metric: what the track scales on"]);
    });
});
