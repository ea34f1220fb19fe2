/**
 * A shadow on the Gateway API router runs only where the Gateway's implementation mirrors: some
 * accept a RequestMirror route and answer 500 (Traefik), so the check is the config's, at preview.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GATEWAY_IMPLEMENTATION_NAMES, GATEWAY_IMPLEMENTATIONS, SESSION_PERSISTENCE_SOURCES } from "../../components/targets/kubernetes/gateway-implementations";
import type { RawConfig } from "../../components/config/parse";
import { findProjectDir } from "../../tools/render";
import { configIssues, kubernetesConfig, modelFor, prodModel, STRATEGIES, type KubernetesRouter } from "../fixtures";

const KEY = "targets.cluster.router.implementation";

/** The rows of the table of implementations in a section of docs/targets.md: name and two columns, the header row left out. */
function implementationRows(heading: string): string[][] {
    const page = fs.readFileSync(path.join(findProjectDir(), "docs", "targets.md"), "utf8");
    const start = page.indexOf(heading);
    assert.ok(start >= 0, `docs/targets.md has the section ${heading}`);
    const end = page.indexOf("\n#", start + 1);
    const section = page.slice(start, end >= 0 ? end : undefined);
    return [...section.matchAll(/^\| `([a-z-]+)` \| ([^|]+) \| ([^|]+) \|$/gm)].slice(1).map(([, name, first, second]) => [name, first.trim(), second.trim()]);
}

/** The fixtures' Gateway with this implementation, or none named, on the experimental channel unless told. */
function gateway(implementation: string | undefined, channel: "standard" | "experimental" = "experimental"): KubernetesRouter {
    return { type: "gateway-api", gateway: { name: "inference", namespace: "gateway-system" }, channel, ...(implementation ? { implementation } : {}) };
}

function shadowOn(implementation: string | undefined, mirrorPercent = 20, strategy: Record<string, unknown> = { type: "shadow", mirrorPercent }): RawConfig {
    return kubernetesConfig(gateway(implementation), { "fraud-scorer": prodModel({ strategy }) });
}

describe("shadow on the Gateway API router: the Gateway's implementation must mirror", () => {
    it("traefik: refused at preview, naming the key, its value and the implementations that mirror", () => {
        const found = configIssues(shadowOn("traefik"));
        assert.deepEqual(
            found.map((i) => [i.path, i.value]),
            [["modelship:models.fraud-scorer.strategy.type", "shadow"]],
        );
        assert.match(found[0].expected, new RegExp(`${KEY} is traefik, which does not implement HTTPRoute RequestMirror`));
        assert.match(found[0].expected, /one of istio, envoy-gateway, nginx-gateway-fabric, cilium, gke \(any share\); contour, kgateway \(mirrorPercent 100 only\)/);
        assert.match(found[0].expected, /router\.type nginx/);
    });

    it("no implementation named: refused, since the Gateway may accept the route and fail its requests", () => {
        const found = configIssues(shadowOn(undefined));
        assert.deepEqual(
            found.map((i) => i.path),
            ["modelship:models.fraud-scorer.strategy.type"],
        );
        assert.match(found[0].expected, new RegExp(`${KEY} is not set`));
    });

    it("every implementation without mirroring is refused, every one with it accepts any share", () => {
        for (const name of GATEWAY_IMPLEMENTATION_NAMES) {
            const mirror = GATEWAY_IMPLEMENTATIONS[name].mirror;
            const found = configIssues(shadowOn(name, 20));
            if (mirror === "percent") assert.deepEqual(found, [], name);
            else assert.equal(found.length, 1, `${name}: ${JSON.stringify(found)}`);
        }
        assert.deepEqual(
            GATEWAY_IMPLEMENTATION_NAMES.filter((n) => GATEWAY_IMPLEMENTATIONS[n].mirror === "none"),
            ["traefik", "kong", "aws-load-balancer-controller"],
        );
    });

    it("an implementation that mirrors every request or none (contour): mirrorPercent 100 runs, a share is refused on mirrorPercent", () => {
        assert.deepEqual(configIssues(shadowOn("contour", 100)), []);
        const found = configIssues(shadowOn("contour", 20));
        assert.deepEqual(
            found.map((i) => [i.path, i.value]),
            [["modelship:models.fraud-scorer.strategy.mirrorPercent", 20]],
        );
        assert.match(found[0].expected, new RegExp(`^100: ${KEY} is contour, whose RequestMirror copies every request or none`));
        assert.match(found[0].expected, /one of istio, envoy-gateway, nginx-gateway-fabric, cilium, gke, or run it with router\.type nginx/);
    });

    it("only shadow and the sticky strategies depend on it: the others run on traefik and on an unnamed implementation", () => {
        for (const name of Object.keys(STRATEGIES)) {
            if (name === "shadow" || name === "abTest") continue;
            const model = modelFor(prodModel(), name);
            for (const implementation of ["traefik", undefined]) {
                const raw = kubernetesConfig(gateway(implementation), { m: model });
                assert.deepEqual(configIssues(raw), [], `${name} on ${implementation ?? "no implementation"}`);
            }
        }
    });

    it("an implementation the table does not know is refused, listing the known ones", () => {
        const found = configIssues(shadowOn("haproxy"));
        assert.deepEqual(
            found.map((i) => [i.path, i.value]),
            [[`modelship:${KEY}`, "haproxy"]],
        );
        assert.match(found[0].expected, /a Gateway API implementation: istio, envoy-gateway, .*, aws-load-balancer-controller/);
    });

    it("the targets page's table of implementations is the one the check reads", () => {
        const rows = implementationRows("## Gateway API implementations and mirroring");
        const words = { percent: "any share", all: "every request only (`mirrorPercent: 100`)", none: "no" } as const;
        assert.deepEqual(
            rows,
            GATEWAY_IMPLEMENTATION_NAMES.map((name) => [name, words[GATEWAY_IMPLEMENTATIONS[name].mirror], GATEWAY_IMPLEMENTATIONS[name].source]),
        );
    });
});

describe("sticky strategies on the Gateway API router: the HTTPRoute's sessionPersistence must be honoured", () => {
    const stickyCanary = (stickyBy: Record<string, string>) => ({ type: "canary", steps: [10, 25, 50, 100], stickyBy });
    const on = (router: KubernetesRouter, strategy: Record<string, unknown>) => configIssues(kubernetesConfig(router, { "fraud-scorer": prodModel({ strategy }) }));

    it("runs where the implementation keeps the key's kind of session, on the experimental channel", () => {
        for (const name of GATEWAY_IMPLEMENTATION_NAMES) {
            const sessions: readonly string[] = GATEWAY_IMPLEMENTATIONS[name].sessionPersistence;
            for (const [stickyBy, type] of [
                [{ header: "x-user-id" }, "Header"],
                [{ cookie: "user" }, "Cookie"],
            ] as const) {
                const found = on(gateway(name), stickyCanary(stickyBy));
                assert.equal(found.length === 0, sessions.includes(type), `${name}, ${type}: ${JSON.stringify(found)}`);
                if (found.length > 0) {
                    assert.deepEqual([found[0].path, found[0].value], ["modelship:models.fraud-scorer.strategy.stickyBy", stickyBy]);
                    assert.match(found[0].expected, new RegExp(`${KEY} is ${name}, which is not known to honour ${type} session persistence; set it to one that does \\(`));
                    assert.match(found[0].expected, /router\.type nginx/);
                }
            }
        }
        assert.deepEqual(on(gateway("nginx-gateway-fabric"), stickyCanary({ cookie: "user" })), []);
    });

    it("the standard channel has no sessionPersistence: refused, naming the channel key", () => {
        const found = on(gateway("envoy-gateway", "standard"), { type: "abTest", stickyBy: { header: "x-user-id" } });
        assert.deepEqual(
            found.map((i) => i.path),
            ["modelship:models.fraud-scorer.strategy.stickyBy"],
        );
        assert.match(found[0].expected, /only Gateway API's experimental channel has, and targets\.cluster\.router\.channel is standard; install the experimental CRDs and set it to experimental/);
    });

    it("no implementation named: refused, listing those that keep sessions", () => {
        const found = on(gateway(undefined), stickyCanary({ header: "x-user-id" }));
        assert.match(found[0].expected, new RegExp(`${KEY} is not set, so whether the Gateway honours session persistence is unknown; set it to one that does \\(envoy-gateway, kgateway\\)`));
    });

    it("a canary without stickyBy needs none of it", () => {
        assert.deepEqual(on(gateway("traefik", "standard"), { type: "canary", steps: [10, 25, 50, 100] }), []);
    });

    it("the targets page's session persistence table is the one the check reads", () => {
        const rows = implementationRows("## Stickiness on each router");
        assert.deepEqual(
            rows,
            GATEWAY_IMPLEMENTATION_NAMES.map((name) => [name, GATEWAY_IMPLEMENTATIONS[name].sessionPersistence.join(", ") || "none known", SESSION_PERSISTENCE_SOURCES[name] ?? "–"]),
        );
    });
});
