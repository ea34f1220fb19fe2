/**
 * A strategy is one file plus one registry line: a throw-away strategy defined here, added to a
 * copy of the registry, is parsed, checked, planned and refused or accepted by a router like the
 * shipped ones, with no other module knowing its name.
 */
import { strict as assert } from "assert";
import { z } from "zod";
import { trackSchema } from "../../components/config/schema";
import { targetDefinition, targetSchema } from "../../components/targets/registry";
import { isTwoTrack, STRATEGIES, strategySchema, strategyUnion } from "../../components/strategies";
import { abortSchema } from "../../components/strategies/fields";
import { strategyRules } from "../../components/strategies/rules";
import { fullSize, proportional } from "../../components/strategies/sizing";
import { twoTrack } from "../../components/strategies/strategy";
import { unsupportedStrategy } from "../../components/strategies/router-fit";
import { planTraffic } from "../../components/traffic/plan";
import { trackPlan } from "../../components/traffic/types";
import { AWS_VM_TARGET, DIGEST, GATEWAY_ROUTER, NGINX_ROUTER } from "../fixtures";

/** What would be components/strategies/trickle.ts: a fixed small share on the candidate, retried on stable when it fails. */
const trickle = twoTrack({
    schema: z.strictObject({ type: z.literal("trickle"), share: z.number().int().min(1).max(10), abort: abortSchema }),
    needs: ["split", "fallback"],
    candidateAnswers: true,
    candidateMayRunStableVersion: false,
    rules: (strategy) => (strategy.share > 5 ? [{ path: "strategy.share", value: strategy.share, expected: "at most 5: a trickle is small" }] : []),
    shape: (strategy) => ({ split: { candidateWeight: strategy.share, mirrorPercent: 0 }, sizing: fullSize }),
    promote: () => ({ conclude: "trickle done" }),
});

/** A canary that also copies requests to the candidate: it needs a router that mirrors. */
const mirroredCanary = twoTrack({
    schema: z.strictObject({ type: z.literal("mirroredCanary"), abort: abortSchema }),
    needs: ["split", "mirror"],
    candidateAnswers: true,
    candidateMayRunStableVersion: false,
    shape: () => ({ split: { candidateWeight: 10, mirrorPercent: 50 }, sizing: proportional((s) => s.mirrorPercent, "stable") }),
    promote: () => ({ conclude: "mirrored canary done" }),
});

/** The one line index.ts would get. */
const registry = { ...STRATEGIES, trickle, mirroredCanary };

/** Configs as the config's `strategy` key would parse them with the extended registry. */
const parse = (raw: Record<string, unknown>) => strategyUnion(registry).parse(raw);

const tracks = {
    stable: trackSchema.parse({ version: "1.0.0", image: `registry.example/m:1.0.0@${DIGEST}`, replicas: 3 }),
    candidate: trackSchema.parse({ version: "2.0.0", image: `registry.example/m:2.0.0@${DIGEST}`, replicas: 2 }),
};

const offerOf = (raw: unknown) => {
    const config = targetSchema().parse(raw);
    return targetDefinition(config.type).router(config);
};
const ALB = offerOf(AWS_VM_TARGET);
const KUBERNETES_NGINX = offerOf({ type: "kubernetes", namespace: "models", router: NGINX_ROUTER });
const GATEWAY = offerOf({ type: "kubernetes", namespace: "models", router: GATEWAY_ROUTER });

describe("strategies: one file and one registry line each", () => {
    it("a new strategy is parsed by the union the registry builds, and named in its error", () => {
        const schema = strategyUnion(registry);
        assert.deepEqual(schema.parse({ type: "trickle", share: 3 }), { type: "trickle", share: 3, abort: false });
        const error = schema.safeParse({ type: "drip" }).error;
        assert.equal(error?.issues[0].message, "a strategy type: recreate, rolling, blueGreen, canary, abTest, shadow, trickle or mirroredCanary");
    });

    it("planTraffic runs it as a two-track strategy: its split, stable the rest, abort all on stable", () => {
        const plan = planTraffic("m", { strategy: parse({ type: "trickle", share: 3 }), tracks }, registry);
        assert.equal(plan.strategy, "trickle");
        assert.deepEqual([trackPlan(plan, "stable")?.weight, trackPlan(plan, "candidate")?.weight], [97, 3]);
        assert.deepEqual([trackPlan(plan, "stable")?.replicas, trackPlan(plan, "candidate")?.replicas], [3, 2]);
        assert.deepEqual(plan.poolUpdate, { kind: "rolling", maxSurge: "25%", maxUnavailable: 0 });
        assert.equal(plan.fallback, true);
        const aborted = planTraffic("m", { strategy: parse({ type: "trickle", share: 3, abort: true }), tracks }, registry);
        assert.deepEqual([trackPlan(aborted, "stable")?.weight, trackPlan(aborted, "candidate")?.weight], [100, 0]);
        assert.equal(aborted.aborted, true);
    });

    it("its own rules and the two-track rules run from the registry", () => {
        const issues = strategyRules({ strategy: parse({ type: "trickle", share: 7 }), tracks: { stable: tracks.stable }, tracksComplete: true }, registry);
        assert.deepEqual(issues, [
            { path: "tracks.candidate", value: undefined, expected: "a candidate track: trickle moves traffic from stable to a candidate" },
            { path: "strategy.share", value: 7, expected: "at most 5: a trickle is small" },
        ]);
    });

    it("the capability check compares its needs with what each router offers", () => {
        const trickleConfig = parse({ type: "trickle", share: 3 });
        assert.equal(unsupportedStrategy(KUBERNETES_NGINX, trickleConfig, registry), undefined);
        assert.equal(
            unsupportedStrategy(GATEWAY, trickleConfig, registry)?.expected,
            "trickle needs a router that retries a failed request on the other track, which the Gateway API HTTPRoute router is not; set router.type to gateway-api or nginx on this target",
        );
    });

    it("a strategy that needs a mirror is refused on the ALB, which splits and sticks but copies nothing", () => {
        const refused = unsupportedStrategy(ALB, parse({ type: "mirroredCanary" }), registry);
        assert.equal(refused?.path, "strategy.type");
        assert.match(refused?.expected ?? "", /^mirroredCanary needs a router that mirrors requests, which the aws-vm target's Application Load Balancer is not; /);
        assert.match(unsupportedStrategy(ALB, strategySchema.parse({ type: "shadow", mirrorPercent: 10 }))?.expected ?? "", /^shadow needs a router that mirrors requests/);
        const configs = { recreate: {}, rolling: {}, blueGreen: {}, canary: { steps: [10, 100] }, abTest: { stickyBy: { cookie: "u" } } };
        for (const [type, rest] of Object.entries(configs)) assert.equal(unsupportedStrategy(ALB, strategySchema.parse({ type, ...rest })), undefined, type);
    });

    it("isTwoTrack is whether the plan has a candidate, for every shipped strategy", () => {
        const configs = { recreate: {}, rolling: {}, blueGreen: {}, canary: { steps: [10, 100] }, abTest: { stickyBy: { cookie: "u" } }, shadow: { mirrorPercent: 10 } };
        for (const [type, rest] of Object.entries(configs)) {
            const strategy = strategyUnion(STRATEGIES).parse({ type, ...rest });
            const plan = planTraffic("m", { strategy, tracks: isTwoTrack(strategy) ? tracks : { stable: tracks.stable } });
            assert.equal(trackPlan(plan, "candidate") !== undefined, isTwoTrack(type), type);
        }
    });
});
