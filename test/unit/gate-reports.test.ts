import { strict as assert } from "assert";
import { parseHadolintJson, parseTrivyReport } from "../../components/gates/reports";

describe("gate reports: fields of an unexpected type", () => {
    it("a trivy finding whose fields are objects is reported with their JSON, not [object Object]", () => {
        const report = JSON.stringify({
            SchemaVersion: 2,
            ArtifactName: "img",
            Results: [{ Target: "app", Vulnerabilities: [{ VulnerabilityID: "CVE-1", Severity: "HIGH", Title: { text: "overflow" }, PkgName: ["lib"], InstalledVersion: 1 }] }],
        });
        const [finding] = parseTrivyReport(report);
        assert.equal(finding.title, '{"text":"overflow"}');
        assert.equal(finding.pkg, '["lib"]');
        assert.equal(finding.installed, "1");
    });

    it("a hadolint finding whose message is an object is reported with its JSON", () => {
        const [finding] = parseHadolintJson(JSON.stringify([{ code: "DL3000", level: "warning", line: 3, message: { why: "x" } }]));
        assert.equal(finding.message, '{"why":"x"}');
        assert.equal(finding.code, "DL3000");
    });
});
