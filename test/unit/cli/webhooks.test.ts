import { strict as assert } from "assert";
import { callWebhooks, type WebhookPayload, type WebhookRequest } from "../../../cli/webhooks";
import { webhookSchema, type WebhookConfig } from "../../../components/config/analysis";
import { freePort } from "../../support/http";
import { standInServers } from "../../support/stand-in-http";

const PAYLOAD: WebhookPayload = { model: "fraud-detector", stack: "prod", environment: "production", version: "1.4.0", step: "canary 25%" };

function hook(fields: { name: string; url: string } & Partial<Omit<WebhookConfig, "name" | "url">>): WebhookConfig {
    return webhookSchema.parse({ when: "pre-step", ...fields });
}

describe("webhooks: called before each step and during the bake", () => {
    const standIn = standInServers();

    it('no hooks of that kind is no objection: promote, "no webhooks", nothing called', async () => {
        const bakeOnly = await standIn();
        const judgement = await callWebhooks([hook({ name: "load-test", url: bakeOnly.url, when: "bake" })], "pre-step", PAYLOAD);
        assert.deepEqual(judgement, { decision: "promote", reasons: ["no webhooks"], findings: [] });
        assert.equal(bakeOnly.received.length, 0);
        assert.deepEqual(await callWebhooks([], "bake", PAYLOAD), { decision: "promote", reasons: ["no webhooks"], findings: [] });
    });

    it("posts {name, when, model, stack, environment, version, step, metadata} to each hook of that kind; all 2xx promote", async () => {
        const confirm = await standIn({ status: 200, body: '{"approved":true}' });
        const audit = await standIn({ status: 202 });
        const hooks = [
            hook({ name: "confirm", url: `${confirm.url}/gate`, metadata: { ticket: "CHG-42" } }),
            hook({ name: "audit", url: audit.url }),
            hook({ name: "load-test", url: `http://127.0.0.1:${await freePort()}`, when: "bake" }),
        ];
        const judgement = await callWebhooks(hooks, "pre-step", PAYLOAD);
        assert.equal(judgement.decision, "promote");
        assert.equal(judgement.failedKind, undefined);
        assert.deepEqual(
            judgement.findings?.map((f) => [f.name, f.kind, f.outcome, f.values?.status]),
            [
                ["confirm", "infrastructure", "pass", 200],
                ["audit", "infrastructure", "pass", 202],
            ],
        );
        assert.match(judgement.reasons[0], /^webhook confirm \(pre-step\) answered 200 in \d+ ms: \{"approved":true\}$/);
        assert.match(judgement.reasons[1], /^webhook audit \(pre-step\) answered 202 in \d+ ms$/);

        const [request] = confirm.received;
        assert.equal(request.method, "POST");
        assert.equal(request.path, "/gate");
        const expected: WebhookRequest = { name: "confirm", when: "pre-step", ...PAYLOAD, metadata: { ticket: "CHG-42" } };
        assert.deepEqual(JSON.parse(request.text), expected);
        assert.deepEqual(JSON.parse(audit.received[0].text), { ...expected, name: "audit", metadata: {} });
    });

    it("a 500 holds, with the start of the hook's answer in the reason; never promotes", async () => {
        const veto = await standIn({ status: 500, body: `{"veto":"change freeze until Monday"}\n${"y".repeat(400)}` });
        const ok = await standIn({ status: 200 });
        const judgement = await callWebhooks([hook({ name: "ok", url: ok.url }), hook({ name: "freeze", url: veto.url })], "pre-step", PAYLOAD);
        assert.equal(judgement.decision, "hold");
        assert.equal(judgement.failedKind, undefined);
        const freeze = judgement.findings?.find((f) => f.name === "freeze");
        assert.equal(freeze?.outcome, "fail");
        assert.equal(freeze?.kind, "infrastructure");
        assert.equal(freeze?.values?.status, 500);
        const body = `{"veto":"change freeze until Monday"} ${"y".repeat(400)}`.slice(0, 200);
        assert.match(judgement.reasons[1], /^webhook freeze \(pre-step\) answered 500 in \d+ ms: /);
        assert.ok(judgement.reasons[1].endsWith(`${body}; onFailure hold`), judgement.reasons[1]);
    });

    it("a failing hook whose onFailure is rollback rolls back, of kind infrastructure", async () => {
        const failing = await standIn({ status: 503, body: "load test: p99 2.1 s over 500 ms" });
        const holding = await standIn({ status: 500 });
        const judgement = await callWebhooks(
            [hook({ name: "load-test", url: failing.url, when: "bake", onFailure: "rollback" }), hook({ name: "smoke", url: holding.url, when: "bake" })],
            "bake",
            PAYLOAD,
        );
        assert.equal(judgement.decision, "rollback");
        assert.equal(judgement.failedKind, "infrastructure");
        assert.match(judgement.reasons[0], /^webhook load-test \(bake\) answered 503 in \d+ ms: load test: p99 2\.1 s over 500 ms; onFailure rollback$/);
        assert.equal(JSON.parse(failing.received[0].text).when, "bake");
    });

    it("an unreachable hook holds, naming the URL and the error", async () => {
        const url = `http://127.0.0.1:${await freePort()}/confirm`;
        const judgement = await callWebhooks([hook({ name: "confirm", url })], "pre-step", PAYLOAD);
        assert.equal(judgement.decision, "hold");
        assert.equal(judgement.findings?.[0].outcome, "fail");
        assert.match(
            judgement.reasons[0],
            new RegExp(`^webhook confirm \\(pre-step\\) failed after \\d+ ms \\(${url.replace(/[.]/g, "\\.")} unreachable or too slow\\): .*ECONNREFUSED.*; onFailure hold$`),
        );
    });

    it("a hook slower than its timeoutSeconds fails within a bounded time (rollback where configured)", async () => {
        const slow = await standIn({ status: 200, delayMs: 4000 });
        const started = Date.now();
        const judgement = await callWebhooks([hook({ name: "slow", url: slow.url, timeoutSeconds: 1, onFailure: "rollback" })], "pre-step", PAYLOAD);
        const took = Date.now() - started;
        assert.equal(judgement.decision, "rollback");
        assert.equal(judgement.failedKind, "infrastructure");
        assert.match(judgement.reasons[0], /no answer within 1\.0 s/);
        assert.ok(took >= 900 && took < 3000, `took ${took} ms`);
    });
});
