import { strict as assert } from "assert";
import fc from "fast-check";
import { modelSchema, type ModelConfig } from "../../components/config/schema";
import { canaryWeight } from "../../components/strategies/canary";
import { planTraffic } from "../../components/traffic/plan";
import { trackPlan, type TrafficPlan } from "../../components/traffic/types";

function model(strategy: Record<string, unknown>, replicas: { stable: number; candidate?: number }, flags: Record<string, string> = {}): ModelConfig {
    return modelSchema.parse({
        artifact: "models/m",
        tracks: {
            stable: { version: "1.0.0", image: "m:1.0.0", replicas: replicas.stable },
            ...(replicas.candidate !== undefined ? { candidate: { version: "2.0.0", image: "m:2.0.0", replicas: replicas.candidate, featureFlags: flags } } : {}),
        },
        strategy,
    });
}

function weights(plan: TrafficPlan): [number, number] {
    return [trackPlan(plan, "stable")?.weight ?? 0, trackPlan(plan, "candidate")?.weight ?? 0];
}

/** The invariants of design.md that hold for every plan of every strategy. */
function assertInvariants(plan: TrafficPlan): void {
    const live = plan.tracks.map((t) => t.weight);
    assert.ok(
        live.every((w) => Number.isInteger(w) && w >= 0 && w <= 100),
        `weights ${live.join(",")}`,
    );
    assert.equal(
        live.reduce((a, b) => a + b, 0),
        100,
    );
    assert.ok(plan.tracks.every((t) => Number.isInteger(t.mirrorPercent) && t.mirrorPercent >= 0 && t.mirrorPercent <= 100));
    assert.ok(plan.tracks.every((t) => Number.isInteger(t.replicas) && t.replicas >= 1));
    assert.equal(plan.tracks[0].track, "stable");
    assert.equal(trackPlan(plan, "stable")?.mirrorPercent, 0, "stable is never a mirror target");
    if (plan.aborted) {
        assert.deepEqual(weights(plan), [100, 0], "abort sends all live traffic to stable");
        assert.ok(
            plan.tracks.every((t) => t.mirrorPercent === 0),
            "abort stops the mirror",
        );
    }
    if (plan.strategy === "shadow") assert.equal(trackPlan(plan, "candidate")?.weight, 0, "shadow never gives the candidate live traffic");
}

const replicas = fc.integer({ min: 1, max: 50 });
const steps = fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }).map((s) => [...s].sort((a, b) => a - b));
const canary = fc.record({ steps, abort: fc.boolean(), stepSeed: fc.nat() }).map(({ steps: s, abort, stepSeed }) => ({ type: "canary", steps: s, step: stepSeed % s.length, abort }));
const twoTrackStrategy = fc.oneof(
    canary,
    fc.record({ type: fc.constant("blueGreen"), active: fc.constantFrom("stable", "candidate"), abort: fc.boolean() }),
    fc.record({ type: fc.constant("abTest"), candidateWeight: fc.integer({ min: 1, max: 99 }), stickyBy: fc.constantFrom({ header: "x-user-id" }, { cookie: "uid" }), abort: fc.boolean() }),
    fc.record({ type: fc.constant("shadow"), mirrorPercent: fc.integer({ min: 1, max: 100 }), abort: fc.boolean() }),
);

describe("traffic plans", () => {
    describe("invariants (property-based)", () => {
        it("hold for every two-track strategy, size and abort state", () => {
            fc.assert(
                fc.property(twoTrackStrategy, replicas, replicas, (strategy, stable, candidate) => {
                    assertInvariants(planTraffic("m", model(strategy, { stable, candidate })));
                }),
                { numRuns: 500 },
            );
        });

        it("hold for the single-pool strategies", () => {
            fc.assert(
                fc.property(fc.constantFrom({ type: "recreate" }, { type: "rolling", maxSurge: 1, maxUnavailable: 0 }), replicas, (strategy, stable) => {
                    const plan = planTraffic("m", model(strategy, { stable }));
                    assertInvariants(plan);
                    assert.equal(plan.tracks.length, 1);
                    assert.equal(plan.tracks[0].replicas, stable);
                }),
            );
        });

        it("a canary gives the candidate exactly the step's weight, and stable the rest", () => {
            fc.assert(
                fc.property(canary, replicas, replicas, (strategy, stable, candidate) => {
                    const plan = planTraffic("m", model(strategy, { stable, candidate }));
                    const expected = strategy.abort ? 0 : strategy.steps[strategy.step];
                    assert.deepEqual(weights(plan), [100 - expected, expected]);
                    assert.deepEqual(plan.step, { index: strategy.step, count: strategy.steps.length, steps: strategy.steps, setWeight: strategy.steps[strategy.step] });
                }),
            );
        });

        it("a canary candidate scales with its weight: at least one replica, its full size at 100, never shrinking as steps advance", () => {
            fc.assert(
                fc.property(steps, replicas, replicas, (s, stable, candidate) => {
                    const sizes = s.map((_, step) => trackPlan(planTraffic("m", model({ type: "canary", steps: s, step }, { stable, candidate })), "candidate")!.replicas);
                    assert.ok(
                        sizes.every((n) => n >= 1 && n <= candidate),
                        `sizes ${sizes.join(",")}`,
                    );
                    assert.ok(
                        sizes.every((n, i) => i === 0 || n >= sizes[i - 1]),
                        `sizes ${sizes.join(",")}`,
                    );
                    if (s[s.length - 1] === 100) assert.equal(sizes[sizes.length - 1], candidate);
                    const stableSizes = s.map((_, step) => trackPlan(planTraffic("m", model({ type: "canary", steps: s, step }, { stable, candidate })), "stable")!.replicas);
                    assert.ok(
                        stableSizes.every((n) => n === stable),
                        "stable keeps its full size until the candidate is promoted",
                    );
                }),
            );
        });

        it("a shadow candidate is sized for the mirrored share of stable's load", () => {
            fc.assert(
                fc.property(fc.integer({ min: 1, max: 100 }), replicas, (mirrorPercent, stable) => {
                    const plan = planTraffic("m", model({ type: "shadow", mirrorPercent }, { stable, candidate: 1 }));
                    const candidate = trackPlan(plan, "candidate")!;
                    assert.equal(candidate.mirrorPercent, mirrorPercent);
                    assert.equal(candidate.replicas, Math.max(1, Math.ceil((stable * mirrorPercent) / 100)));
                }),
            );
        });
    });

    describe("each strategy", () => {
        it("recreate: one pool, replaced by stopping the old version first", () => {
            const plan = planTraffic("m", model({ type: "recreate" }, { stable: 3 }));
            assert.deepEqual(plan.poolUpdate, { kind: "recreate" });
            assert.deepEqual(weights(plan), [100, 0]);
        });

        it("rolling: one pool, replaced in batches of maxSurge/maxUnavailable", () => {
            const plan = planTraffic("m", model({ type: "rolling", maxSurge: 2, maxUnavailable: "10%" }, { stable: 6 }));
            assert.deepEqual(plan.poolUpdate, { kind: "rolling", maxSurge: 2, maxUnavailable: "10%" });
            assert.equal(plan.tracks.length, 1);
        });

        it("blueGreen: 100/0 before the switch, 0/100 after, both pools at full size; abort flips back", () => {
            const before = planTraffic("m", model({ type: "blueGreen", active: "stable" }, { stable: 3, candidate: 3 }));
            const after = planTraffic("m", model({ type: "blueGreen", active: "candidate" }, { stable: 3, candidate: 3 }));
            const aborted = planTraffic("m", model({ type: "blueGreen", active: "candidate", abort: true }, { stable: 3, candidate: 3 }));
            assert.deepEqual(weights(before), [100, 0]);
            assert.deepEqual(weights(after), [0, 100]);
            assert.deepEqual(weights(aborted), [100, 0]);
            for (const plan of [before, after, aborted])
                assert.deepEqual(
                    plan.tracks.map((t) => t.replicas),
                    [3, 3],
                    "the idle pool stays warm",
                );
        });

        it("canary: 5% of a 4-replica candidate runs one replica, 50% runs two", () => {
            const at = (step: number) => planTraffic("m", model({ type: "canary", steps: [5, 50, 100], step }, { stable: 4, candidate: 4 }));
            assert.equal(trackPlan(at(0), "candidate")?.replicas, 1);
            assert.equal(trackPlan(at(1), "candidate")?.replicas, 2);
            assert.equal(trackPlan(at(2), "candidate")?.replicas, 4);
        });

        it("canary abort: all live traffic on stable, the candidate kept warm at one replica for inspection", () => {
            const plan = planTraffic("m", model({ type: "canary", steps: [5, 50, 100], step: 2, abort: true }, { stable: 4, candidate: 4 }));
            assert.deepEqual(weights(plan), [100, 0]);
            assert.equal(trackPlan(plan, "candidate")?.replicas, 1);
            assert.equal(plan.aborted, true);
        });

        it("abTest: the configured split, sticky by the key, equal pools, per-track feature flags", () => {
            const plan = planTraffic("m", model({ type: "abTest", candidateWeight: 30, stickyBy: { header: "x-user-id" } }, { stable: 2, candidate: 5 }, { boost: "on" }));
            assert.deepEqual(weights(plan), [70, 30]);
            assert.deepEqual(plan.sticky, { header: "x-user-id" });
            assert.deepEqual(
                plan.tracks.map((t) => t.replicas),
                [5, 5],
            );
            assert.deepEqual(trackPlan(plan, "candidate")?.featureFlags, { boost: "on" });
            assert.deepEqual(trackPlan(plan, "stable")?.featureFlags, {});
        });

        it("shadow: stable answers everything, the candidate gets a copy; abort removes the mirror", () => {
            const plan = planTraffic("m", model({ type: "shadow", mirrorPercent: 25 }, { stable: 4, candidate: 4 }));
            assert.deepEqual(weights(plan), [100, 0]);
            assert.equal(trackPlan(plan, "candidate")?.mirrorPercent, 25);
            const aborted = planTraffic("m", model({ type: "shadow", mirrorPercent: 25, abort: true }, { stable: 4, candidate: 4 }));
            assert.equal(trackPlan(aborted, "candidate")?.mirrorPercent, 0);
        });

        it("every plan names the header that pins a request to a track", () => {
            assert.equal(planTraffic("m", model({ type: "recreate" }, { stable: 1 })).pinHeader, "x-modelship-track");
        });
    });

    describe("fallback onto the other track", () => {
        it("is on for a canary and off for an abTest unless the config says otherwise", () => {
            const sticky = { header: "x-user" };
            assert.equal(planTraffic("m", model({ type: "canary", steps: [10, 100] }, { stable: 2, candidate: 2 })).fallback, true);
            assert.equal(planTraffic("m", model({ type: "canary", steps: [10, 100], fallback: false }, { stable: 2, candidate: 2 })).fallback, false);
            assert.equal(planTraffic("m", model({ type: "abTest", stickyBy: sticky }, { stable: 2, candidate: 2 })).fallback, false);
            assert.equal(planTraffic("m", model({ type: "abTest", stickyBy: sticky, fallback: true }, { stable: 2, candidate: 2 })).fallback, true);
        });

        it("is refused where the strategy has no two live tracks to choose between", () => {
            assert.throws(() => model({ type: "shadow", mirrorPercent: 10, fallback: false }, { stable: 2, candidate: 1 }));
            assert.throws(() => model({ type: "rolling", fallback: true }, { stable: 2 }));
        });
    });

    describe("canaryWeight", () => {
        it("is an error outside the steps list", () => {
            assert.equal(canaryWeight([5, 50], 1), 50);
            assert.throws(() => canaryWeight([5, 50], 2), /outside the steps list \(0\.\.1\)/);
            assert.throws(() => canaryWeight([5, 50], -1), RangeError);
            assert.throws(() => canaryWeight([5, 50], 0.5), RangeError);
        });
    });
});
