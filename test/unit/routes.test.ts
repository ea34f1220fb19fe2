/**
 * Header and cookie routes (`models.<name>.routes`): what the config accepts, and what each
 * router makes of them, before the weighted split and after the pins.
 */
import { strict as assert } from "assert";
import { routesSchema } from "../../components/config/routes";
import { listenerRules } from "../../components/targets/aws-vm/alb";
import { renderHttpRoute } from "../../components/traffic/httproute";
import { renderNginxConf } from "../../components/traffic/nginx";
import { planTraffic } from "../../components/traffic/plan";
import { strategySchema } from "../../components/strategies";
import { awsVmConfig, canaryModel, configIssues, dockerConfig, kubernetesConfig, modelFor, prodModel } from "../fixtures";
import { canaryPlan, route, shadowPlan } from "../support/plans";

const TENANT = { match: { header: "x-tenant", value: "internal" }, track: "candidate" } as const;
const BETA = { match: { cookie: "beta", regex: "yes|1" }, track: "candidate" } as const;
const withRoutes = (routes: unknown[], plan = canaryPlan()) => ({ ...plan, routes: routesSchema.parse(routes) });

describe("routes: the config", () => {
    it("takes a header or a cookie, and a value or a regex, for a track", () => {
        assert.deepEqual(routesSchema.parse([TENANT, BETA]), [TENANT, BETA]);
        assert.deepEqual(routesSchema.parse(undefined), []);
    });

    it("refuses both or neither key, both or neither comparison, a bad regex and an unknown track, each by name", () => {
        const issues = (route: unknown) => routesSchema.safeParse([route]).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
        assert.deepEqual(issues({ match: { header: "x-a", cookie: "b", value: "1" }, track: "candidate" }), ["0.match: exactly one of `header` or `cookie` to match on"]);
        assert.deepEqual(issues({ match: { header: "x-a" }, track: "candidate" }), ["0.match: exactly one of `value` (an exact match) or `regex`"]);
        assert.deepEqual(issues({ match: { header: "x-a", regex: "(" }, track: "candidate" }), ["0.match.regex: a valid regular expression"]);
        assert.deepEqual(issues({ match: { header: "x_a", value: "1" }, track: "candidate" }), ["0.match.header: a header name: letters, digits and -"]);
        assert.equal(issues({ match: { header: "x-a", value: "1" }, track: "canary" }).length, 1);
    });

    it("a route to the candidate is refused where the candidate answers no one (shadow) or there is none (rolling)", () => {
        const shadow = configIssues(kubernetesConfig(undefined, { m: prodModel({ strategy: { type: "shadow", mirrorPercent: 10 }, routes: [TENANT] }) }));
        assert.deepEqual(
            shadow.map((i) => [i.path, i.value]),
            [["modelship:models.m.routes.0.track", "candidate"]],
        );
        assert.match(shadow[0].expected, /^stable: under shadow the candidate only gets copies/);
        const rolling = configIssues(kubernetesConfig(undefined, { m: modelFor(prodModel({ routes: [TENANT] }), "rolling") }));
        assert.deepEqual(
            rolling.map((i) => i.path),
            ["modelship:models.m.routes.0.track"],
        );
    });

    it("the ALB has no regular expressions and reads * and ? as wildcards: refused there, accepted elsewhere", () => {
        const alb = configIssues(awsVmConfig({ m: prodModel({ routes: [BETA, { match: { header: "x-tenant", value: "team*" }, track: "candidate" }] }) }));
        assert.deepEqual(
            alb.map((i) => [i.path, i.value]),
            [
                ["modelship:models.m.routes.0.match", "cookie beta ~ yes|1"],
                ["modelship:models.m.routes.1.match", "header x-tenant = team*"],
            ],
        );
        assert.match(alb[0].expected, /no regular expressions/);
        assert.deepEqual(configIssues(kubernetesConfig(undefined, { m: prodModel({ routes: [BETA, TENANT] }) })), []);
        assert.deepEqual(configIssues(dockerConfig({ m: { ...canaryModel(), routes: [BETA, TENANT] } }), "dev"), []);
    });

    it("a kubernetes target without a router cannot route by header: refused on routes", () => {
        const found = configIssues(kubernetesConfig({ type: "none" }, { m: modelFor(prodModel({ routes: [{ ...TENANT, track: "stable" }] }), "rolling") }));
        assert.deepEqual(
            found.map((i) => i.path),
            ["modelship:models.m.routes"],
        );
    });

    it("the plan carries them in order, and none once the rollout is aborted", () => {
        const tracks = {
            stable: { version: "1.0.0", source: { image: "r/m:1" }, replicas: 2, featureFlags: {} },
            candidate: { version: "2.0.0", source: { image: "r/m:2" }, replicas: 2, featureFlags: {} },
        };
        const strategy = strategySchema.parse({ type: "canary", steps: [10, 100] });
        const routes = routesSchema.parse([TENANT, BETA]);
        assert.deepEqual(planTraffic("m", { strategy, tracks, routes }).routes, routes);
        assert.deepEqual(planTraffic("m", { strategy: strategySchema.parse({ type: "canary", steps: [10, 100], abort: true }), tracks, routes }).routes, []);
    });
});

describe("routes: nginx", () => {
    const conf = renderNginxConf({ listenPort: 8080, routes: [route(withRoutes([TENANT, BETA]))] });

    it("chains one map per route, first match first, then the split; the pin map starts the chain", () => {
        assert.match(conf, /map \$http_x_tenant \$ms_fraud_scorer_route_0 \{\n\s+"~\^internal\$" candidate;\n\s+default \$ms_fraud_scorer_route_1;\n\s+\}/);
        assert.match(conf, /map \$cookie_beta \$ms_fraud_scorer_route_1 \{\n\s+"~\^\(\?:yes\|1\)\$" candidate;\n\s+default \$ms_fraud_scorer_split;\n\s+\}/);
        assert.match(conf, /map \$http_x_modelship_track \$ms_fraud_scorer_track \{\n\s+default \$ms_fraud_scorer_route_0;/);
    });

    it("escapes a value's regex characters and nginx's quote and backslash", () => {
        const text = renderNginxConf({ listenPort: 8080, routes: [route(withRoutes([{ match: { header: "x-q", value: 'a.b"c\\d' }, track: "candidate" }]))] });
        assert.ok(
            text.includes(String.raw`"~^a\\.b\"c\\\\d$" candidate;`),
            text.split("\n").find((l) => l.includes("candidate;") && l.includes("~")),
        );
    });

    it("without routes, the pin map falls through to the split as before", () => {
        assert.match(renderNginxConf({ listenPort: 8080, routes: [route(canaryPlan())] }), /default \$ms_fraud_scorer_split;/);
    });

    it("refuses a route to a track the plan does not have", () => {
        assert.throws(
            () => renderNginxConf({ listenPort: 8080, routes: [route({ ...withRoutes([TENANT], shadowPlan()), tracks: shadowPlan().tracks.slice(0, 1) }, { stable: ["10.0.0.1:8080"] })] }),
            /route 0 sends requests to the candidate track, which the plan does not have/,
        );
    });
});

describe("routes: HTTPRoute", () => {
    const rendered = renderHttpRoute({
        name: "fraud-scorer",
        namespace: "models",
        plan: withRoutes([TENANT, BETA]),
        services: { stable: { name: "fraud-scorer-stable", port: 8080 }, candidate: { name: "fraud-scorer-candidate", port: 8080 } },
        parentRefs: [{ name: "inference", namespace: "gateway-system" }],
    });
    const headersOf = (rule: (typeof rendered.spec.rules)[number]) => rule.matches.map((m) => ("headers" in m ? m.headers : undefined));

    it("adds a rule per route after the pins and before the split, each to its track's Service", () => {
        const rules = rendered.spec.rules;
        assert.equal(rules.length, 5);
        assert.deepEqual(headersOf(rules[2])[0], [{ type: "Exact", name: "x-tenant", value: "internal" }]);
        assert.deepEqual(
            rules[2].backendRefs.map((b) => b.name),
            ["fraud-scorer-candidate"],
        );
        assert.deepEqual(headersOf(rules[4])[0], undefined, "the split rule matches paths only");
    });

    it("matches a cookie in the Cookie header by an expression anchored at both ends", () => {
        const [cookie] = headersOf(rendered.spec.rules[3])[0] ?? [];
        assert.deepEqual(cookie, { type: "RegularExpression", name: "Cookie", value: String.raw`^(?:.*;\s*)?beta=(?:yes|1)(?:;.*)?$` });
        const pattern = new RegExp(cookie.value);
        for (const header of ["beta=yes", "a=1; beta=1", "beta=1; z=2"]) assert.ok(pattern.test(header), header);
        for (const header of ["beta=no", "xbeta=1", "beta=yes1", "a=beta=1"]) assert.ok(!pattern.test(header), header);
    });
});

describe("routes: ALB listener rules", () => {
    it("a rule per route between the pins and the split, by header value or a Cookie wildcard", () => {
        const rules = listenerRules(withRoutes([TENANT, { match: { cookie: "beta", value: "1" }, track: "candidate" }]), 0, { stable: "tg-stable", candidate: "tg-candidate" });
        assert.deepEqual(
            rules.map((r) => [r.kind, r.priority]),
            [
                ["pin-stable", 101],
                ["pin-candidate", 102],
                ["route-0", 110],
                ["route-1", 111],
                ["split", 150],
            ],
        );
        assert.deepEqual(rules[2].conditions[1], { httpHeader: { httpHeaderName: "x-tenant", values: ["internal"] } });
        assert.deepEqual(rules[3].conditions[1], { httpHeader: { httpHeaderName: "Cookie", values: ["*beta=1*"] } });
        assert.deepEqual(rules[3].forward.targetGroups, [{ arn: "tg-candidate", weight: 1 }]);
        // Path values (3) and the header's (1) stay within the ALB's five condition values a rule.
        assert.ok(rules.every((r) => r.conditions.reduce((n, c) => n + (c.pathPattern?.values.length ?? 0) + (c.httpHeader?.values.length ?? 0), 0) <= 5));
    });
});
