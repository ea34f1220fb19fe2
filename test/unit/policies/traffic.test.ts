import { strict as assert } from "assert";
import { plansAnnotation, PLANS_ANNOTATION } from "../../../components/traffic/plan-annotation";
import { renderHttpRoute } from "../../../components/traffic/httproute";
import { renderNginxConf } from "../../../components/traffic/nginx";
import type { TrafficPlan } from "../../../components/traffic/types";
import { trafficPolicies } from "../../../policies/traffic";
import { canaryPlan, plan, shadowPlan, track } from "../../support/plans";
import { resource, violationsOf } from "../../support/policies";

const policy = (name: string) => trafficPolicies.find((p) => p.name === name)!;
const SERVICES = { stable: { name: "m-stable", port: 80 }, candidate: { name: "m-candidate", port: 80 } };

function httpRoute(p: TrafficPlan) {
    const route = renderHttpRoute({ name: p.model, namespace: "models", plan: p, services: SERVICES, parentRefs: [{ name: "gw", namespace: "gw" }] });
    return resource("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", JSON.parse(JSON.stringify(route)) as Record<string, unknown>, p.model);
}

function nginxConfigMap(plans: TrafficPlan[], conf = renderNginxConf({ listenPort: 8080, routes: plans.map((p) => ({ plan: p, backends: { stable: ["s:80"], candidate: ["c:80"] } })) })) {
    return resource("kubernetes:core/v1:ConfigMap", { metadata: { annotations: { [PLANS_ANNOTATION]: plansAnnotation(plans) } }, data: { "nginx.conf": conf } });
}

function withSteps(steps: number[], index = 0): TrafficPlan {
    return { ...canaryPlan("fraud-scorer", steps[index]), step: { index, count: steps.length, steps, setWeight: steps[index] } };
}

describe("traffic policies", () => {
    describe("traffic-weights-valid", () => {
        it("passes what the renderers produce for a canary and a shadow", async () => {
            for (const p of [canaryPlan(), shadowPlan()]) {
                assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), [httpRoute(p), nginxConfigMap([p])]), [], p.strategy);
            }
        });

        it("refuses plans whose weights do not add up, an abort that keeps traffic on the candidate, a shadow with live candidate traffic", async () => {
            const bad = plan("m", "canary", [track("stable", "1", 80), track("candidate", "2", 30)]);
            assert.match((await violationsOf(policy("traffic-weights-valid"), nginxConfigMap([bad], "")))[0], /m: weights .* do not sum to 100/);
            const abort = plan("m", "canary", [track("stable", "1", 90), track("candidate", "2", 10)], { aborted: true });
            assert.match((await violationsOf(policy("traffic-weights-valid"), nginxConfigMap([abort], "")))[0], /aborted rollout must send all live traffic to stable/);
            const leaky = plan("m", "shadow", [track("stable", "1", 90), track("candidate", "2", 10, 20)]);
            assert.ok((await violationsOf(policy("traffic-weights-valid"), nginxConfigMap([leaky], ""))).some((m) => /shadow candidate must get no live traffic/.test(m)));
        });

        it("refuses an HTTPRoute split that does not add up to 100, and a broken nginx split", async () => {
            const route = httpRoute(canaryPlan());
            const rules = (route.props.spec as { rules: Array<{ backendRefs: Array<{ weight: number }> }> }).rules;
            rules[rules.length - 1].backendRefs[1].weight = 50;
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), route), ["rule 2: the split's weights [90,50] do not sum to 100"]);
            const conf = 'split_clients "$request_id" $ms_m_split {\n    70% stable;\n    40% candidate;\n}';
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), nginxConfigMap([canaryPlan()], conf)), ["split $ms_m_split hands out 110%"]);
        });

        it("refuses an unreadable plan annotation", async () => {
            const broken = resource("kubernetes:core/v1:ConfigMap", { metadata: { annotations: { [PLANS_ANNOTATION]: "{not json" } }, data: {} });
            assert.match((await violationsOf(policy("traffic-weights-valid"), broken))[0], /is not a JSON list of plans/);
        });
    });

    describe("canary-step-cap", () => {
        it("refuses steps that add more than the environment's cap, naming them", async () => {
            const found = await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([5, 10, 25, 50, 100])), { maxStepPoints: 25 });
            assert.deepEqual(found, ["fraud-scorer: canary steps 50 -> 100 add more than 25 points; add intermediate steps"]);
        });

        it("passes steps within the cap, and any steps where the cap is 100", async () => {
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([5, 10, 25, 50, 75, 100])), { maxStepPoints: 25 }), []);
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([50, 100])), { maxStepPoints: 100 }), []);
        });

        it("counts the first step from 0", async () => {
            assert.equal((await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([30, 60, 100])), { maxStepPoints: 25 })).length, 1);
        });
    });

    describe("shadow-needs-mirror", () => {
        it("passes a shadow on routers that mirror", async () => {
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), [httpRoute(shadowPlan()), nginxConfigMap([shadowPlan()])]), []);
        });

        it("refuses a shadow plan on a router object that does not mirror", async () => {
            const route = httpRoute(shadowPlan());
            const rules = (route.props.spec as { rules: Array<{ filters?: unknown }> }).rules;
            for (const rule of rules) delete rule.filters;
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), route), ["fraud-scorer: the plan mirrors to the candidate but this router does not mirror its requests"]);
            const withoutMirror = nginxConfigMap([shadowPlan()], renderNginxConf({ listenPort: 8080, routes: [{ plan: canaryPlan(), backends: { stable: ["s:80"], candidate: ["c:80"] } }] }));
            assert.equal((await violationsOf(policy("shadow-needs-mirror"), withoutMirror)).length, 1);
        });

        it("does not ask an aborted shadow to mirror", async () => {
            const aborted = plan("fraud-scorer", "shadow", [track("stable", "1", 100), track("candidate", "2", 0, 0)], { aborted: true });
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), nginxConfigMap([aborted], "")), []);
        });
    });
});
