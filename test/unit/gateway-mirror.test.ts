/**
 * A shadow on the Gateway API router runs only where the Gateway's implementation mirrors: some
 * accept a RequestMirror route and answer 500 (Traefik), so the check is the config's, at preview.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GATEWAY_IMPLEMENTATION_NAMES, GATEWAY_IMPLEMENTATIONS } from "../../components/targets/kubernetes/gateway-implementations";
import type { RawConfig } from "../../components/config/parse";
import { findProjectDir } from "../../tools/render";
import { configIssues, kubernetesConfig, modelFor, prodModel, STRATEGIES, type KubernetesRouter } from "../fixtures";

const KEY = "targets.cluster.router.implementation";

/** The fixtures' Gateway with this implementation, or none named. */
function gateway(implementation: string | undefined): KubernetesRouter {
    return { type: "gateway-api", gateway: { name: "inference", namespace: "gateway-system" }, ...(implementation ? { implementation } : {}) };
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

    it("only shadow depends on it: the other strategies run on traefik and on an unnamed implementation", () => {
        for (const name of Object.keys(STRATEGIES)) {
            if (name === "shadow") continue;
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
        const page = fs.readFileSync(path.join(findProjectDir(), "docs", "targets.md"), "utf8");
        const start = page.indexOf("## Gateway API implementations and mirroring");
        assert.ok(start >= 0, "docs/targets.md has the section");
        const end = page.indexOf("\n#", start + 1);
        const section = page.slice(start, end >= 0 ? end : undefined);
        const rows = [...section.matchAll(/^\| `([a-z-]+)` \| ([^|]+) \| ([^|]+) \|$/gm)].slice(1).map(([, name, mirrors, report]) => [name, mirrors.trim(), report.trim()]);
        const words = { percent: "any share", all: "every request only (`mirrorPercent: 100`)", none: "no" } as const;
        assert.deepEqual(
            rows,
            GATEWAY_IMPLEMENTATION_NAMES.map((name) => [name, words[GATEWAY_IMPLEMENTATIONS[name].mirror], GATEWAY_IMPLEMENTATIONS[name].source]),
        );
    });
});
