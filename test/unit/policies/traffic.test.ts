import { strict as assert } from "assert";
import { plansAnnotation, PLANS_ANNOTATION, PLANS_ENVIRONMENT } from "../../../components/traffic/plan-annotation";
import { renderHttpRoute } from "../../../components/traffic/httproute";
import { renderNginxConf } from "../../../components/traffic/nginx";
import { splitRule } from "../../../components/targets/aws-vm/alb";
import type { TrafficPlan } from "../../../components/traffic/types";
import { trafficPolicies } from "../../../policies/traffic";
import { abortedCanaryPlan, abTestPlan, canaryPlan, plan, shadowPlan, track } from "../../support/plans";
import { resource, violationsOf } from "../../support/policies";
import { evaluate } from "../../../policies/offline";
import { findProjectDir, renderFiles } from "../../../tools/render";
import { readStackFiles } from "../../../tools/project-files";
import { TYPES } from "../../../components/type-tokens";

const policy = (name: string) => trafficPolicies.find((p) => p.name === name)!;
const SERVICES = { stable: { name: "m-stable", port: 80 }, candidate: { name: "m-candidate", port: 80 } };

function httpRoute(p: TrafficPlan) {
    const route = renderHttpRoute({ name: p.model, namespace: "models", plan: p, services: SERVICES, parentRefs: [{ name: "gw", namespace: "gw" }] });
    return resource(TYPES.httpRoute, JSON.parse(JSON.stringify(route)) as Record<string, unknown>, p.model);
}

const renderConf = (plans: TrafficPlan[]) => renderNginxConf({ listenPort: 8080, routes: plans.map((p) => ({ plan: p, backends: { stable: ["s:80"], candidate: ["c:80"] } })) });

function nginxConfigMap(plans: TrafficPlan[], conf = renderConf(plans)) {
    return resource(TYPES.configMap, { metadata: { annotations: { [PLANS_ANNOTATION]: plansAnnotation(plans) } }, data: { "nginx.conf": conf } });
}

/** The command that writes the docker router's config (its stdin) into the container, as the docker target registers it. */
function dockerReload(plans: TrafficPlan[], conf = renderConf(plans)) {
    return resource(TYPES.command, { create: "set -eu", stdin: conf, triggers: ["hash", "router-id"], environment: { [PLANS_ENVIRONMENT]: plansAnnotation(plans) } }, "router-reload");
}

/** The two objects that carry an nginx router's config and plans. */
const NGINX_CARRIERS = [
    ["the Kubernetes nginx router's ConfigMap", nginxConfigMap],
    ["the docker router's reload command", dockerReload],
] as const;

/** The listener rule that splits the plan's traffic on the aws-vm target, as the target registers it. */
function listenerRule(p: TrafficPlan) {
    const split = splitRule(p, 0, { stable: "arn:stable", candidate: "arn:candidate" });
    return resource(
        TYPES.listenerRule,
        { priority: split.priority, conditions: split.conditions, actions: [{ type: "forward", forward: split.forward }], tags: { "modelship:environment": "prod", ...split.tags } },
        `${p.model}-split`,
    );
}

function forwardOf(rule: ReturnType<typeof listenerRule>) {
    return (rule.props.actions as Array<{ forward: { targetGroups: Array<{ weight: number }> } }>)[0].forward;
}

function withSteps(steps: number[], index = 0): TrafficPlan {
    return { ...canaryPlan("fraud-scorer", steps[index]), step: { index, count: steps.length, steps, setWeight: steps[index] } };
}

describe("traffic policies", () => {
    describe("traffic-weights-valid", () => {
        it("passes what the renderers produce for a canary and a shadow", async () => {
            for (const p of [canaryPlan(), shadowPlan()]) {
                assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), [httpRoute(p), nginxConfigMap([p]), dockerReload([p])]), [], p.strategy);
            }
        });

        for (const [carrier, make] of NGINX_CARRIERS) {
            it(`refuses plans whose weights do not add up, an abort that keeps traffic on the candidate, a shadow with live candidate traffic: on ${carrier}`, async () => {
                const bad = plan("m", "canary", [track("stable", "1", 80), track("candidate", "2", 30)]);
                assert.match((await violationsOf(policy("traffic-weights-valid"), make([bad], "")))[0], /m: weights .* do not sum to 100/);
                const abort = plan("m", "canary", [track("stable", "1", 90), track("candidate", "2", 10)], { aborted: true });
                assert.match((await violationsOf(policy("traffic-weights-valid"), make([abort], "")))[0], /aborted rollout must send all live traffic to stable/);
                const leaky = plan("m", "shadow", [track("stable", "1", 90), track("candidate", "2", 10, 20)]);
                assert.ok((await violationsOf(policy("traffic-weights-valid"), make([leaky], ""))).some((m) => /shadow candidate must get no live traffic/.test(m)));
            });

            it(`refuses a broken nginx split on ${carrier}`, async () => {
                const conf = 'split_clients "$request_id" $ms_m_split {\n    70% stable;\n    40% candidate;\n}';
                assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), make([canaryPlan()], conf)), ["split $ms_m_split hands out 110%"]);
            });
        }

        it("reads no plan and no config from a command that is not the docker router's reload (a gate)", async () => {
            const conf = 'split_clients "$request_id" $ms_m_split {\n    70% stable;\n    40% candidate;\n}';
            const gate = resource(TYPES.command, { create: "node dist/tools/gate.js smoke", stdin: conf, environment: { OTHER: "[]" } }, "m-gates-candidate-smoke");
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), gate), []);
        });

        it("refuses an HTTPRoute split that does not add up to 100", async () => {
            const route = httpRoute(canaryPlan());
            const rules = (route.props.spec as { rules: Array<{ backendRefs: Array<{ weight: number }> }> }).rules;
            rules[rules.length - 1].backendRefs[1].weight = 50;
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), route), ["rule 2: the split's weights [90,50] do not sum to 100"]);
        });

        it("on a load balancer's listener rule: passes the plan's weights, refuses a forward that does not add up and an abort that keeps the candidate", async () => {
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), [listenerRule(canaryPlan()), listenerRule(abTestPlan({ header: "x-user" })), listenerRule(abortedCanaryPlan())]), []);
            const rule = listenerRule(canaryPlan());
            forwardOf(rule).targetGroups[1].weight = 50;
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), rule), ['fraud-scorer: weights {"stable":90,"candidate":50} do not sum to 100']);
            const aborted = listenerRule(abortedCanaryPlan());
            forwardOf(aborted).targetGroups.forEach((g, i) => (g.weight = i === 0 ? 90 : 10));
            assert.match((await violationsOf(policy("traffic-weights-valid"), aborted))[0], /aborted rollout must send all live traffic to stable/);
        });

        it("refuses unreadable plan tags on a listener rule, and reads nothing into a pin rule", async () => {
            const rule = listenerRule(canaryPlan());
            (rule.props.tags as Record<string, string>)["modelship:traffic-tracks"] = "stable";
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), rule), [
                'the listener rule\'s plan tags are unreadable: modelship:traffic-tracks names 1 tracks but the rule forwards to 2 target groups; modelship:traffic-mirror "0 0" is not a share per track',
            ]);
            const pin = resource(TYPES.listenerRule, { actions: [{ type: "forward", forward: { targetGroups: [{ arn: "arn:stable", weight: 1 }] } }], tags: { "modelship:model": "fraud-scorer" } });
            assert.deepEqual(await violationsOf(policy("traffic-weights-valid"), pin), []);
        });

        it("refuses unreadable plans in an annotation and in the docker router reload's environment", async () => {
            const broken = resource(TYPES.configMap, { metadata: { annotations: { [PLANS_ANNOTATION]: "{not json" } }, data: {} });
            assert.match((await violationsOf(policy("traffic-weights-valid"), broken))[0], /is not a JSON list of plans/);
            const reload = dockerReload([canaryPlan()]);
            (reload.props.environment as Record<string, string>)[PLANS_ENVIRONMENT] = "{not json";
            assert.match((await violationsOf(policy("traffic-weights-valid"), reload))[0], /is not a JSON list of plans/);
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

        it("reads the steps of a load balancer's listener rule as it does an HTTPRoute's", async () => {
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), listenerRule(withSteps([5, 10, 25, 50, 100])), { maxStepPoints: 25 }), [
                "fraud-scorer: canary steps 50 -> 100 add more than 25 points; add intermediate steps",
            ]);
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), listenerRule(withSteps([5, 10, 25, 50, 75, 100])), { maxStepPoints: 25 }), []);
        });

        it("reads the steps from the docker router reload's environment", async () => {
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), dockerReload([withSteps([5, 10, 25, 50, 100])]), { maxStepPoints: 25 }), [
                "fraud-scorer: canary steps 50 -> 100 add more than 25 points; add intermediate steps",
            ]);
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), dockerReload([withSteps([5, 10, 25, 50, 75, 100])]), { maxStepPoints: 25 }), []);
        });

        it("counts the first step from 0", async () => {
            assert.equal((await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([30, 60, 100])), { maxStepPoints: 25 })).length, 1);
        });

        it("leaves a gradual blue-green's steps alone: they move traffic between two full pools, as a one-switch blue-green does at once", async () => {
            const blueGreen: TrafficPlan = { ...withSteps([10, 100]), strategy: "blueGreen" };
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), [httpRoute(blueGreen), dockerReload([blueGreen])], { maxStepPoints: 25 }), []);
        });

        it("counts the jump to 100 that concludes a canary whose steps end below it (allowFinalStepBelow100)", async () => {
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), httpRoute(withSteps([10, 20, 30])), { maxStepPoints: 25 }), [
                "fraud-scorer: canary steps 30 -> 100 (the promote that concludes) add more than 25 points; add intermediate steps",
            ]);
            assert.deepEqual(await violationsOf(policy("canary-step-cap"), listenerRule(withSteps([25, 50, 75])), { maxStepPoints: 25 }), []);
        });
    });

    describe("shadow-needs-mirror", () => {
        it("passes a shadow on routers that mirror", async () => {
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), [httpRoute(shadowPlan()), nginxConfigMap([shadowPlan()]), dockerReload([shadowPlan()])]), []);
        });

        it("refuses a shadow plan on a router object that does not mirror", async () => {
            const route = httpRoute(shadowPlan());
            const rules = (route.props.spec as { rules: Array<{ filters?: unknown }> }).rules;
            for (const rule of rules) delete rule.filters;
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), route), ["fraud-scorer: the plan mirrors to the candidate but this router does not mirror its requests"]);
            for (const [carrier, make] of NGINX_CARRIERS) {
                assert.deepEqual(
                    await violationsOf(policy("shadow-needs-mirror"), make([shadowPlan()], renderConf([canaryPlan()]))),
                    ["fraud-scorer: the plan mirrors to the candidate but this router does not mirror its requests"],
                    carrier,
                );
            }
        });

        it("refuses a shadow plan on a load balancer's listener rule, which cannot mirror", async () => {
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), listenerRule(shadowPlan())), [
                "fraud-scorer: the plan mirrors to the candidate but this router does not mirror its requests",
            ]);
        });

        it("does not ask an aborted shadow to mirror", async () => {
            const aborted = plan("fraud-scorer", "shadow", [track("stable", "1", 100), track("candidate", "2", 0, 0)], { aborted: true });
            assert.deepEqual(await violationsOf(policy("shadow-needs-mirror"), nginxConfigMap([aborted], "")), []);
        });
    });
});

describe("traffic policies on every target", () => {
    const projectDir = findProjectDir();

    /**
     * The stack rendered with every model that runs two versions made a canary of steps [5, 100],
     * and what canary-step-cap (25 points) says about it: `<resource type>: <message>`.
     */
    async function jumpingCanaries(stack: string) {
        const files = readStackFiles(projectDir, stack);
        const models = JSON.parse(files.config["modelship:models"]) as Record<string, { tracks: Record<string, { version: string } | undefined>; strategy: unknown }>;
        const canaries = Object.entries(models)
            .filter(([, m]) => m.tracks.candidate !== undefined && m.tracks.candidate.version !== m.tracks.stable?.version)
            .map(([name]) => name);
        for (const name of canaries) models[name].strategy = { type: "canary", steps: [5, 100], step: 0 };
        const render = await renderFiles(projectDir, { ...files, config: { ...files.config, "modelship:models": JSON.stringify(models) } });
        const resources = render.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
        const found = await evaluate([policy("canary-step-cap")], resources, { "canary-step-cap": { enforcementLevel: "mandatory", maxStepPoints: 25 } });
        return { canaries, found: found.map((v) => `${v.resource?.split("::")[0]}: ${v.message}`).sort() };
    }

    const jump = (model: string) => `${model}: canary steps 5 -> 100 add more than 25 points; add intermediate steps`;

    it("canary-step-cap refuses a 95-point step on the command that reloads the docker router (dev)", async () => {
        const { canaries, found } = await jumpingCanaries("dev");
        assert.deepEqual(canaries, ["fraud-scorer"]);
        assert.deepEqual(found, [`command:local:Command: ${jump("fraud-scorer")}`]);
    });

    it("canary-step-cap refuses it on the Gateway API HTTPRoute and on the Kubernetes nginx router's ConfigMap (lab)", async () => {
        const { found } = await jumpingCanaries("lab");
        assert.deepEqual(found, [`kubernetes:core/v1:ConfigMap: ${jump("churn-predictor")}`, `kubernetes:gateway.networking.k8s.io/v1:HTTPRoute: ${jump("fraud-scorer")}`]);
    });

    it("canary-step-cap refuses it on the HTTPRoutes and on the aws-vm target's listener rule (prod)", async () => {
        const { canaries, found } = await jumpingCanaries("prod");
        assert.deepEqual(canaries, ["fraud-scorer", "churn-predictor", "price-estimator"]);
        assert.deepEqual(found, [
            `aws:lb/listenerRule:ListenerRule: ${jump("price-estimator")}`,
            `kubernetes:gateway.networking.k8s.io/v1:HTTPRoute: ${jump("churn-predictor")}`,
            `kubernetes:gateway.networking.k8s.io/v1:HTTPRoute: ${jump("fraud-scorer")}`,
        ]);
    });
});

describe("route-not-catch-all", () => {
    const routed = (regex: string, track: "stable" | "candidate" = "candidate"): TrafficPlan => ({ ...canaryPlan(), routes: [{ match: { header: "x-tenant", regex }, track }] });

    for (const [carrier, make] of [...NGINX_CARRIERS, ["an HTTPRoute", (plans: TrafficPlan[]) => httpRoute(plans[0])] as const]) {
        it(`refuses a route to the candidate whose regex matches any value, read from the plans on ${carrier}`, async () => {
            for (const regex of [".*", ".+", "[^/]*", "(?:beta|.*)"]) {
                assert.deepEqual(await violationsOf(policy("route-not-catch-all"), make([routed(regex)])), [
                    `fraud-scorer: the route on header x-tenant ~ ${regex} sends any value to the candidate; match the chosen users' values (value, or a narrower regex)`,
                ]);
            }
        });
    }

    it("passes narrow regexes, exact values, and any route to stable", async () => {
        for (const p of [routed("beta|internal"), routed("[0-9]+"), routed(".*", "stable"), { ...canaryPlan(), routes: [{ match: { cookie: "beta", value: "1" }, track: "candidate" as const }] }]) {
            assert.deepEqual(await violationsOf(policy("route-not-catch-all"), [httpRoute(p), dockerReload([p])]), [], JSON.stringify(p.routes));
        }
    });
});
