import { strict as assert } from "assert";
import { previewSummary } from "../../../cli/preview-markdown";
import type { ModelStatus } from "../../../cli/status";
import { previewChanges } from "../../../cli/preview-summary";
import { IAM_TYPES, TYPES } from "../../../components/type-tokens";

const canary = (step: number, weight: number, replicas: number): ModelStatus => ({
    strategy: "canary",
    step: { index: step, count: 5, steps: [10, 25, 50, 75, 100], setWeight: weight },
    aborted: false,
    versions: { stable: "1.4.0", candidate: "1.5.0" },
    weights: { stable: 100 - weight, candidate: weight },
    mirrorPercent: { stable: 0, candidate: 0 },
    replicas: { stable: 4, candidate: replicas },
});

describe("preview summary (markdown for a pull request)", () => {
    it("shows each track's weight and replicas before -> after, the IAM changes and the resource counts", () => {
        const text = previewSummary({
            stack: "prod",
            before: { "fraud-scorer": canary(0, 10, 1) },
            after: { "fraud-scorer": canary(1, 25, 1) },
            changes: [
                { op: "update", type: TYPES.httpRoute, name: "fraud-scorer-route" },
                { op: "update", type: IAM_TYPES.rolePolicy, name: "fraud-scorer-runtime" },
            ],
            violations: [],
        });
        assert.match(text, /^### modelship preview: stack `prod`$/m);
        assert.match(text, /^\| \*\*fraud-scorer\*\* \| canary 1\/5 → \*\*canary 2\/5\*\* \|/m);
        assert.match(text, /^\| \| stable \| 1\.4\.0 \| 90% → \*\*75%\*\* \| 0% \| 4 \|$/m);
        assert.match(text, /^\| \| candidate \| 1\.5\.0 \| 10% → \*\*25%\*\* \| 0% \| 1 \|$/m);
        assert.match(text, /^\*\*IAM\*\*: update `RolePolicy` fraud-scorer-runtime$/m);
        assert.match(text, /^\*\*Resources\*\*: 2 update$/m);
        assert.match(text, /^\*\*Policies\*\*: no violations$/m);
    });

    it("a first update has no before; a concluded rollout loses its candidate; mandatory violations say the update is blocked", () => {
        const concluded: ModelStatus = { ...canary(0, 0, 0), strategy: "rolling", versions: { stable: "1.5.0" }, weights: { stable: 100 }, mirrorPercent: { stable: 0 }, replicas: { stable: 4 } };
        delete concluded.step;
        const first = previewSummary({ stack: "lab", after: { "fraud-scorer": canary(0, 10, 1) }, changes: [], violations: [] });
        assert.match(first, /^\| \| candidate \| – → \*\*1\.5\.0\*\* \| – → \*\*10%\*\* \|/m);
        const text = previewSummary({
            stack: "prod",
            before: { "fraud-scorer": canary(4, 100, 4) },
            after: { "fraud-scorer": concluded },
            changes: [],
            violations: [
                { policy: "canary-step-cap", level: "mandatory", resource: "HTTPRoute::fraud-scorer-route", message: "fraud-scorer: canary steps 10 -> 100 add more than 25 points" },
                { policy: "resource-limits", level: "advisory", message: "x" },
            ],
        });
        assert.match(text, /^\| \| stable \| 1\.4\.0 → \*\*1\.5\.0\*\* \| 0% → \*\*100%\*\* \|/m);
        assert.match(text, /^\| \| candidate \| 1\.5\.0 → \*\*–\*\* \| 100% → \*\*–\*\* \|/m);
        assert.match(text, /^\*\*Policies\*\*: 2 violations, 1 mandatory \(this update is blocked\)$/m);
        assert.match(text, /^- ❌ `canary-step-cap` \(HTTPRoute::fraud-scorer-route\) fraud-scorer: canary steps 10 -> 100/m);
        assert.match(text, /^\*\*IAM\*\*: no change$/m);
    });

    it("reads the changes out of `pulumi preview --json`", () => {
        const json = JSON.stringify({
            steps: [
                { op: "same", urn: "urn:pulumi:prod::modelship::pulumi:pulumi:Stack::modelship-prod" },
                { op: "update", urn: "urn:pulumi:prod::modelship::modelship:kubernetes:KubernetesTarget$kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::fraud-scorer-route" },
                { op: "replace", urn: "urn:pulumi:prod::modelship::modelship:model:ModelService$modelship:gates:ModelGates$kubernetes:batch/v1:Job::fraud-scorer-gates-candidate-smoke" },
            ],
        });
        assert.deepEqual(previewChanges(json), [
            { op: "update", type: TYPES.httpRoute, name: "fraud-scorer-route" },
            { op: "replace", type: TYPES.job, name: "fraud-scorer-gates-candidate-smoke" },
        ]);
    });
});
