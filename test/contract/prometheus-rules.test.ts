import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify as toYaml } from "yaml";
import { modelSchema } from "../../components/config/schema";
import { alertRuleGroups, rulesFile, type RuleGroup } from "../../components/monitoring";
import { findProjectDir, renderStack } from "../../tools/render";
import { PROMTOOL, toolOrSkip } from "../support/tools";
import { TYPES } from "../../components/type-tokens";

const analysis = modelSchema.shape.analysis.parse({ maxErrorRate: 0.01, maxP95LatencyMs: 250 });

/** Prometheus's own rule unit test: one input series set, the alerts expected at one time. */
function ruleTest(groups: readonly RuleGroup[], series: Array<{ series: string; values: string }>, expected: Array<{ alertname: string; labels: Record<string, string> }>) {
    return {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
            {
                interval: "1m",
                input_series: series,
                alert_rule_test: [...new Set(groups.flatMap((g) => g.rules.map((r) => r.alert)))].map((alertname) => ({
                    eval_time: "15m",
                    alertname,
                    // promtool compares annotations too: the expected ones are the rule's own.
                    exp_alerts: expected
                        .filter((e) => e.alertname === alertname)
                        .map((e) => ({ exp_labels: e.labels, exp_annotations: groups.flatMap((g) => g.rules).find((r) => r.alert === alertname && r.labels.track === e.labels.track)?.annotations })),
                })),
            },
        ],
    };
}

describe("alert rules under promtool", function () {
    this.timeout(60_000);
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const tempDir = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-rules-"));
        dirs.push(dir);
        return dir;
    };

    it("every PrometheusRule of the prod stack passes `promtool check rules`", async function () {
        const promtool = toolOrSkip(this, PROMTOOL);
        const prod = await renderStack(findProjectDir(), "prod");
        const rules = prod.resources.filter((r) => r.type === TYPES.prometheusRule);
        assert.ok(rules.length >= 3, `${rules.length} PrometheusRules`);
        const dir = tempDir();
        let checked = 0;
        for (const rule of rules) {
            const file = path.join(dir, `${rule.name}.yaml`);
            fs.writeFileSync(file, toYaml((rule.inputs as { spec: unknown }).spec));
            const result = spawnSync(promtool, ["check", "rules", file], { encoding: "utf8" });
            assert.equal(result.status, 0, `${rule.name}: ${result.stdout}${result.stderr}`);
            checked += Number(/SUCCESS: (\d+) rules found/.exec(result.stdout)?.[1] ?? 0);
        }
        console.log(`measured: promtool: ${checked} alert rules of ${rules.length} PrometheusRules checked`);
    });

    it("fires the error-rate alert for the failing track only, and the latency alert for the slow one (promtool test rules)", function () {
        const promtool = toolOrSkip(this, PROMTOOL);
        const groups = alertRuleGroups("prod", "fraud-scorer", ["stable", "candidate"], analysis);
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, "rules.yaml"), rulesFile(groups));
        const route = 'route="/v2/models/:name/infer"';
        const id = (track: string) => `model="fraud-scorer",track="${track}",${route}`;
        // 10 requests a second on each track; the candidate fails 5% of them and answers in 0.5-1 s.
        const series = [
            { series: `modelship_requests_total{${id("stable")}}`, values: "0+600x20" },
            { series: `modelship_request_errors_total{${id("stable")}}`, values: "0+0x20" },
            { series: `modelship_requests_total{${id("candidate")}}`, values: "0+600x20" },
            { series: `modelship_request_errors_total{${id("candidate")}}`, values: "0+30x20" },
            ...["0.1", "0.25", "0.5", "1", "+Inf"].flatMap((le) => [
                { series: `modelship_request_duration_seconds_bucket{${id("stable")},le="${le}"}`, values: "0+600x20" },
                { series: `modelship_request_duration_seconds_bucket{${id("candidate")},le="${le}"}`, values: Number(le) >= 1 || le === "+Inf" ? "0+600x20" : "0+0x20" },
            ]),
        ];
        const labels = (track: string) => ({ severity: track === "stable" ? "page" : "ticket", model: "fraud-scorer", track, environment: "prod" });
        const test = ruleTest(groups, series, [
            { alertname: "ModelshipHighErrorRate", labels: labels("candidate") },
            { alertname: "ModelshipHighLatencyP95", labels: labels("candidate") },
        ]);
        fs.writeFileSync(path.join(dir, "test.yaml"), toYaml(test));
        const result = spawnSync(promtool, ["test", "rules", "test.yaml"], { encoding: "utf8", cwd: dir });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
        assert.match(result.stdout, /SUCCESS/);
    });

    it("promtool would notice a wrong expectation (the rule test really evaluates)", function () {
        const promtool = toolOrSkip(this, PROMTOOL);
        const groups = alertRuleGroups("prod", "fraud-scorer", ["stable"], analysis);
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, "rules.yaml"), rulesFile(groups));
        const healthy = [
            { series: 'modelship_requests_total{model="fraud-scorer",track="stable",route="/v2/models/:name/infer"}', values: "0+600x20" },
            { series: 'modelship_request_errors_total{model="fraud-scorer",track="stable",route="/v2/models/:name/infer"}', values: "0+0x20" },
        ];
        const wrong = ruleTest(groups, healthy, [{ alertname: "ModelshipHighErrorRate", labels: { severity: "page", model: "fraud-scorer", track: "stable", environment: "prod" } }]);
        fs.writeFileSync(path.join(dir, "test.yaml"), toYaml(wrong));
        assert.notEqual(spawnSync(promtool, ["test", "rules", "test.yaml"], { encoding: "utf8", cwd: dir }).status, 0);
    });
});
