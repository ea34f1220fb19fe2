/**
 * docs/strategies.md's table of what each target supports is the config checks' own answer: each
 * cell is derived here from parsing a model with that feature on that target.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { RawConfig } from "../../components/config/parse";
import { findProjectDir } from "../../tools/render";
import { AWS_VM_TARGET, canaryModel, configIssues, DIGEST, GATEWAY_ROUTER, NGINX_ROUTER, OTHER_DIGEST, prodModel, type KubernetesRouter, type RawModel } from "../fixtures";

const COLUMNS: Array<[string, (model: RawModel) => RawConfig]> = [
    [
        "docker",
        (m) => ({ environment: "dev", targets: { local: { type: "docker", port: 8080, routerImage: "nginx:1.27-bookworm" } }, registry: { type: "local" }, models: { m: { ...canaryModel(), ...m } } }),
    ],
    ...([NGINX_ROUTER, { ...GATEWAY_ROUTER, implementation: "traefik", channel: "standard" }, { type: "none" }] as KubernetesRouter[]).map((router): [string, (model: RawModel) => RawConfig] => [
        router.type,
        (m) => ({ environment: "prod", targets: { cluster: { type: "kubernetes", namespace: "models", router } }, registry: { type: "ecr" }, models: { m: { ...prodModel(), ...m } } }),
    ]),
    ["aws-vm", (m) => ({ environment: "prod", targets: { vms: AWS_VM_TARGET }, registry: { type: "ecr" }, models: { m: { ...prodModel(), ...m } } })],
];

const oneTrack = (m: RawModel): RawModel => ({ ...m, tracks: { stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${DIGEST}` } } });
const ROWS: Array<[string, RawModel, (m: RawModel) => RawModel]> = [
    ["`recreate`", { strategy: { type: "recreate" } }, oneTrack],
    ["`rolling`", { strategy: { type: "rolling" } }, oneTrack],
    ["`blueGreen`", { strategy: { type: "blueGreen" } }, (m) => m],
    ["`blueGreen` with `steps`", { strategy: { type: "blueGreen", steps: [25, 50, 100], preview: { requests: 50 } } }, (m) => m],
    ["`blueGreen` with `steps` and `stickyBy`", { strategy: { type: "blueGreen", steps: [25, 50, 100], stickyBy: { cookie: "user" } } }, (m) => m],
    ["`canary`", { strategy: { type: "canary", steps: [10, 100] } }, (m) => m],
    ["`canary` with `stickyBy`", { strategy: { type: "canary", steps: [10, 100], stickyBy: { header: "x-user-id" } } }, (m) => m],
    ["`abTest`", { strategy: { type: "abTest", stickyBy: { header: "x-user-id" } } }, (m) => m],
    ["`shadow`", { strategy: { type: "shadow", mirrorPercent: 10 } }, (m) => m],
    ["`routes`", { strategy: { type: "rolling" }, routes: [{ match: { header: "x-tenant", value: "internal" }, track: "stable" }] }, oneTrack],
    [
        "`autoscaling`",
        { strategy: { type: "rolling" }, tracks: { stable: { version: "1.4.0", image: `registry.example/fraud-scorer@${OTHER_DIGEST}`, autoscaling: { min: 1, max: 4, targetCPU: 60 } } } },
        (m) => m,
    ],
];

describe("docs/strategies.md: what each target supports", () => {
    it("each cell says yes where the config is accepted and not no, as parsing finds it", () => {
        const page = fs.readFileSync(path.join(findProjectDir(), "docs", "strategies.md"), "utf8");
        const start = page.indexOf("## What each target supports");
        assert.ok(start >= 0);
        const section = page.slice(start, page.indexOf("\n#", start + 1));
        const table = new Map([...section.matchAll(/^\| (`[^|]+) \|(.+)\|$/gm)].map(([, row, cells]) => [row.trim(), cells.split("|").map((c) => c.trim())]));
        for (const [row, model, shape] of ROWS) {
            const cells = table.get(row);
            assert.ok(cells, `the table has a row ${row}`);
            COLUMNS.forEach(([column, config], i) => {
                const raw = config(shape(model));
                const issues = configIssues(raw, raw.environment as string);
                const accepted = issues.length === 0;
                // The gateway-api column is rendered with an implementation that neither mirrors nor keeps sessions: "where ..." means refused there.
                assert.equal(accepted, cells[i].startsWith("yes"), `${row} on ${column}: the table says "${cells[i]}", parsing found ${JSON.stringify(issues.map((x) => x.expected))}`);
            });
        }
    });
});
