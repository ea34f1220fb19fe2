import { strict as assert } from "assert";
import { ALERT_DURATION_MS, formatNotifyResult, notify, toAlert, type PostableAlert, type RolloutEvent } from "../../../cli/notify";
import { freePort } from "../../support/http";
import { standInServers } from "../../support/stand-in-http";

const AT = new Date("2026-12-02T21:00:00.000Z");

const ROLLED_BACK: RolloutEvent = {
    event: "rolled-back",
    stack: "prod",
    environment: "production",
    model: "fraud-detector",
    track: "candidate",
    version: "1.4.0",
    severity: "critical",
    summary: "rolled back fraud-detector 1.4.0: error rate 7.2% over 1%",
    judgement: {
        decision: "rollback",
        reasons: ["error-rate: candidate 7.2% over 1% (stable 0.2%)"],
        findings: [
            { name: "error-rate", kind: "infrastructure", outcome: "fail", reason: "candidate 7.2% over 1%", values: { candidate: 0.072, stable: 0.002, max: 0.01 } },
            { name: "p95-latency", kind: "infrastructure", outcome: "pass", reason: "p95 81 ms within 250 ms", values: { candidate: 0.081 } },
        ],
        failedKind: "infrastructure",
    },
    at: AT,
};

describe("notify: rollout events to Alertmanager and a webhook", () => {
    const standIn = standInServers();

    it("makes one postable alert with the routing labels, the numbers in the annotations, and an end 5 minutes on", () => {
        const alert = toAlert(ROLLED_BACK);
        assert.deepEqual(alert.labels, {
            alertname: "ModelshipRollout",
            event: "rolled-back",
            model: "fraud-detector",
            track: "candidate",
            environment: "production",
            severity: "critical",
            stack: "prod",
            version: "1.4.0",
        });
        assert.equal(alert.annotations.summary, ROLLED_BACK.summary);
        assert.equal(alert.annotations.decision, "rollback");
        const description = alert.annotations.description.split("\n");
        assert.deepEqual(description, [
            ROLLED_BACK.summary,
            "decision: rollback (infrastructure)",
            "- error-rate: candidate 7.2% over 1% (stable 0.2%)",
            "error-rate [infrastructure] fail: candidate=0.072, stable=0.002, max=0.01",
            "p95-latency [infrastructure] pass: candidate=0.081",
        ]);
        assert.equal(alert.startsAt, "2026-12-02T21:00:00.000Z");
        assert.equal(Date.parse(alert.endsAt) - Date.parse(alert.startsAt), ALERT_DURATION_MS);
        assert.equal(ALERT_DURATION_MS, 300_000);
    });

    it("an event without a judgement carries its summary alone", () => {
        const alert = toAlert({ ...ROLLED_BACK, event: "step-applied", severity: "info", summary: "canary 25%", judgement: undefined });
        assert.equal(alert.annotations.description, "canary 25%");
        assert.equal(alert.annotations.decision, undefined);
        assert.equal(alert.labels.event, "step-applied");
    });

    it("posts the alert array to {alertmanager}/api/v2/alerts and the event to the webhook, reporting each", async () => {
        const alertmanager = await standIn({ status: 200, body: "" });
        const webhook = await standIn({ status: 204 });
        const results = await notify({ alertmanager: `${alertmanager.url}/`, webhook: `${webhook.url}/hooks/rollouts?team=ml` }, ROLLED_BACK);
        assert.equal(results.length, 2);
        const [am, hook] = results;
        assert.deepEqual({ ...am, ms: 0 }, { destination: "alertmanager", url: `${alertmanager.url}/api/v2/alerts`, ok: true, status: 200, ms: 0 });
        assert.deepEqual({ ...hook, ms: 0 }, { destination: "webhook", url: `${webhook.url}/hooks/rollouts?team=ml`, ok: true, status: 204, ms: 0 });
        assert.ok(am.ms >= 0 && am.ms < 5000, `ms ${am.ms}`);

        const [posted] = alertmanager.received;
        assert.equal(posted.method, "POST");
        assert.equal(posted.path, "/api/v2/alerts");
        const alerts = JSON.parse(posted.text) as PostableAlert[];
        assert.deepEqual(alerts, [toAlert(ROLLED_BACK)]);

        const [event] = webhook.received;
        assert.equal(event.path, "/hooks/rollouts?team=ml");
        const sent = JSON.parse(event.text) as Record<string, unknown>;
        assert.equal(sent.event, "rolled-back");
        assert.equal(sent.at, "2026-12-02T21:00:00.000Z");
        assert.deepEqual(sent.judgement, ROLLED_BACK.judgement);
        assert.match(formatNotifyResult(am), /^notified alertmanager \(http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts\): 200 in \d+ ms$/);
    });

    it("keeps an Alertmanager's path prefix", async () => {
        const alertmanager = await standIn();
        await notify({ alertmanager: `${alertmanager.url}/alertmanager` }, ROLLED_BACK);
        assert.equal(alertmanager.received[0].path, "/alertmanager/api/v2/alerts");
    });

    it("sends nothing and reports nothing when no destination is configured", async () => {
        assert.deepEqual(await notify({}, ROLLED_BACK), []);
    });

    it("reports a 500 with the start of the answer, and still delivers to the other destination", async () => {
        const body = `{"error":"storage full"}${"x".repeat(500)}`;
        const alertmanager = await standIn({ status: 500, body });
        const webhook = await standIn({ status: 200 });
        const [am, hook] = await notify({ alertmanager: alertmanager.url, webhook: webhook.url }, ROLLED_BACK);
        assert.equal(am.ok, false);
        assert.equal(am.status, 500);
        assert.equal(am.error, `answered 500: ${body.slice(0, 200)}`);
        assert.match(formatNotifyResult(am), /^notifying alertmanager .* failed after \d+ ms: answered 500: \{"error":"storage full"\}/);
        assert.equal(hook.ok, true);
        assert.equal(webhook.received.length, 1);
    });

    it("reports an unreachable destination without throwing", async () => {
        const closed = await freePort();
        const [result] = await notify({ webhook: `http://127.0.0.1:${closed}/events` }, ROLLED_BACK);
        assert.equal(result.ok, false);
        assert.equal(result.status, undefined);
        assert.match(result.error ?? "", /ECONNREFUSED/);
    });

    it("reports an event it cannot encode (an invalid date) instead of throwing, sending nothing", async () => {
        const alertmanager = await standIn();
        const [result] = await notify({ alertmanager: alertmanager.url }, { ...ROLLED_BACK, at: new Date(Number.NaN) });
        assert.equal(result.ok, false);
        assert.match(result.error ?? "", /Invalid time value/);
        assert.equal(alertmanager.received.length, 0);
    });

    it("gives up on a destination slower than the timeout, within a bounded time", async () => {
        const slow = await standIn({ status: 200, delayMs: 3000 });
        const started = Date.now();
        const [result] = await notify({ alertmanager: slow.url }, ROLLED_BACK, { timeoutMs: 300 });
        const took = Date.now() - started;
        assert.equal(result.ok, false);
        assert.match(result.error ?? "", /no answer within 0\.3 s/);
        assert.ok(took < 2000, `took ${took} ms`);
        assert.ok(result.ms >= 250, `ms ${result.ms}`);
    });
});
