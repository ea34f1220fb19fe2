import { strict as assert } from "assert";
import { renderHttpRoute, TRACK_RESPONSE_HEADER, type HttpRouteOptions } from "../../components/traffic/httproute";
import type { TrackPlan, TrafficPlan } from "../../components/traffic/types";

function track(name: "stable" | "candidate", weight: number, mirrorPercent = 0): TrackPlan {
    return { track: name, version: name === "stable" ? "1.0.0" : "2.0.0", source: { image: "registry.example/model:1" }, weight, mirrorPercent, replicas: 1, featureFlags: {} };
}

function plan(tracks: TrackPlan[], extra: Partial<TrafficPlan> = {}): TrafficPlan {
    return { model: "fraud-scorer", strategy: "canary", tracks, poolUpdate: { kind: "recreate" }, aborted: false, pinHeader: "x-modelship-track", fallback: true, routes: [], ...extra };
}

function options(p: TrafficPlan, overrides: Partial<HttpRouteOptions> = {}): HttpRouteOptions {
    return {
        name: "fraud-scorer",
        namespace: "models",
        plan: p,
        services: { stable: { name: "fraud-scorer-stable", port: 80 }, candidate: { name: "fraud-scorer-candidate", port: 80 } },
        parentRefs: [{ name: "inference", namespace: "gateway-system" }],
        ...overrides,
    };
}

type Rule = {
    matches: Array<{ path: { type: string; value: string }; headers?: Array<{ name: string; value: string }> }>;
    backendRefs: Array<{ name: string; weight: number; filters: Array<{ responseHeaderModifier: { set: Array<{ name: string; value: string }> } }> }>;
    filters?: Array<{ type: string; requestMirror: { backendRef: { name: string }; percent?: number } }>;
    sessionPersistence?: { type: string; sessionName: string };
};

function rules(p: TrafficPlan, overrides: Partial<HttpRouteOptions> = {}): Rule[] {
    return renderHttpRoute(options(p, overrides)).spec.rules as unknown as Rule[];
}

describe("HTTPRoute renderer", () => {
    it("is a gateway.networking.k8s.io/v1 HTTPRoute attached to the shared Gateway", () => {
        const route = renderHttpRoute(options(plan([track("stable", 90), track("candidate", 10)]), { hostnames: ["models.example.com"], labels: { env: "prod" } }));
        assert.equal(route.apiVersion, "gateway.networking.k8s.io/v1");
        assert.equal(route.kind, "HTTPRoute");
        const { annotations, ...metadata } = route.metadata;
        assert.deepEqual(metadata, { name: "fraud-scorer", namespace: "models", labels: { env: "prod" } });
        const [summary] = JSON.parse(annotations["modelship.dev/traffic-plans"]) as Array<{ model: string; weights: Record<string, number> }>;
        assert.deepEqual([summary.model, summary.weights], ["fraud-scorer", { stable: 90, candidate: 10 }], "the plan rides along for reviewers and policies");
        assert.deepEqual(route.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "inference", namespace: "gateway-system" }]);
        assert.deepEqual(route.spec.hostnames, ["models.example.com"]);
    });

    it("splits by the plan's weights in the last (default) rule, keeping 0-weight backends listed", () => {
        const split = rules(plan([track("stable", 100), track("candidate", 0)])).at(-1)!;
        assert.deepEqual(
            split.backendRefs.map((b) => [b.name, b.weight]),
            [
                ["fraud-scorer-stable", 100],
                ["fraud-scorer-candidate", 0],
            ],
        );
        assert.equal(
            split.matches.every((m) => m.headers === undefined),
            true,
        );
    });

    it("matches the model's Open Inference Protocol prefix and its legacy v1 predict path", () => {
        const split = rules(plan([track("stable", 100)])).at(-1)!;
        assert.deepEqual(
            split.matches.map((m) => m.path),
            [
                { type: "PathPrefix", value: "/v2/models/fraud-scorer" },
                { type: "Exact", value: "/v1/models/fraud-scorer:predict" },
            ],
        );
    });

    it("a rule per track pins requests carrying the pin header, ahead of the split", () => {
        const all = rules(plan([track("stable", 90), track("candidate", 10)]));
        assert.equal(all.length, 3);
        for (const [i, name] of (["stable", "candidate"] as const).entries()) {
            const pin = all[i];
            assert.ok(pin.matches.every((m) => m.headers?.[0].name === "x-modelship-track" && m.headers[0].value === name));
            assert.deepEqual(
                pin.backendRefs.map((b) => b.name),
                [`fraud-scorer-${name}`],
            );
        }
    });

    it("names the answering track in a response header on every backend", () => {
        for (const rule of rules(plan([track("stable", 50), track("candidate", 50)]))) {
            for (const backend of rule.backendRefs) {
                const set = backend.filters[0].responseHeaderModifier.set[0];
                assert.equal(set.name, TRACK_RESPONSE_HEADER);
                assert.equal(backend.name, `fraud-scorer-${set.value}`);
            }
        }
    });

    it("mirrors a share of requests to a shadow candidate with a RequestMirror filter", () => {
        const split = rules(plan([track("stable", 100), track("candidate", 0, 15)], { strategy: "shadow" })).at(-1)!;
        assert.deepEqual(split.filters, [{ type: "RequestMirror", requestMirror: { backendRef: { name: "fraud-scorer-candidate", port: 80 }, percent: 15 } }]);
        const all = rules(plan([track("stable", 100), track("candidate", 0, 100)], { strategy: "shadow" })).at(-1)!;
        assert.equal(all.filters?.[0].requestMirror.percent, undefined, "100% is the filter's default");
        assert.equal(rules(plan([track("stable", 90), track("candidate", 10)])).at(-1)!.filters, undefined);
    });

    it("keeps an A/B test sticky with session persistence on the header or cookie key", () => {
        const byHeader = rules(plan([track("stable", 50), track("candidate", 50)], { sticky: { header: "x-user-id" } })).at(-1)!;
        assert.deepEqual(byHeader.sessionPersistence, { type: "Header", sessionName: "x-user-id" });
        const byCookie = rules(plan([track("stable", 50), track("candidate", 50)], { sticky: { cookie: "uid" } })).at(-1)!;
        assert.deepEqual(byCookie.sessionPersistence, { type: "Cookie", sessionName: "uid" });
    });

    it("refuses a track without a Service and a route without a Gateway", () => {
        assert.throws(
            () => renderHttpRoute(options(plan([track("stable", 90), track("candidate", 10)]), { services: { stable: { name: "s", port: 80 } } })),
            /no Service given for the candidate track/,
        );
        assert.throws(() => renderHttpRoute(options(plan([track("stable", 100)]), { parentRefs: [] })), /at least one parentRef/);
    });
});
