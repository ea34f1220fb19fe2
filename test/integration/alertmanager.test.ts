/**
 * Rollout notifications through a real Alertmanager: notify() posts an event to its v2 alerts API,
 * Alertmanager routes it to a webhook receiver on loopback, and the receiver gets the labels a
 * team's routes match on and the judgement's numbers. Measures the time from notify() to the
 * receiver.
 */
import { strict as assert } from "assert";
import { notify, type RolloutEvent } from "../../cli/notify";
import { AlertmanagerProcess, alertmanagerOrSkip, type AlertmanagerWebhook } from "../support/alertmanager";
import { StandInServer } from "../support/stand-in-http";

const PAUSED: RolloutEvent = {
    event: "paused",
    stack: "integration",
    environment: "staging",
    model: "fraud-detector",
    track: "candidate",
    version: "1.4.0",
    severity: "warning",
    summary: "paused fraud-detector 1.4.0 for a person: ab-test inconclusive",
    judgement: {
        decision: "rollback",
        reasons: ["ab-test: candidate 91.2% vs stable 92.0% correct, difference -0.8% (95% interval -2.1%..0.5%) over 1200/1180 samples"],
        findings: [{ name: "ab-test", kind: "quality", outcome: "fail", reason: "significantly worse", values: { pCandidate: 0.912, pStable: 0.92, low: -0.021, high: 0.005 } }],
        failedKind: "quality",
    },
    at: new Date(),
};

/** How long a delivery may take: group_wait is 0s, so anything near this is a failure. */
const DELIVERY_TIMEOUT_MS = 15000;

describe("notifications through a real Alertmanager to a loopback receiver", function () {
    this.timeout(60000);
    const alertmanager = new AlertmanagerProcess();
    const receiver = new StandInServer({ status: 200 });
    let bin = "";

    before(async function () {
        bin = alertmanagerOrSkip(this);
        await receiver.start();
        await alertmanager.start(bin, `${receiver.url}/alerts`);
    });
    after(async () => {
        await alertmanager.stop();
        await receiver.stop();
    });

    it("delivers a paused event with model, track, environment, severity and event labels and the numbers", async () => {
        const event = { ...PAUSED, at: new Date() };
        const started = Date.now();
        const [result] = await notify({ alertmanager: alertmanager.url }, event);
        assert.equal(result.ok, true, `${result.error ?? ""}\n${alertmanager.output}`);
        assert.equal(result.status, 200);

        const [delivered] = await receiver.waitFor(1, DELIVERY_TIMEOUT_MS);
        const latencyMs = delivered.at - started;
        console.log(`measured: notification latency, notify() to the receiver through Alertmanager: ${latencyMs} ms (the POST to Alertmanager ${result.ms} ms)`);

        assert.equal(delivered.path, "/alerts");
        const payload = JSON.parse(delivered.text) as AlertmanagerWebhook;
        assert.equal(payload.status, "firing");
        assert.equal(payload.receiver, "loopback");
        assert.equal(payload.alerts.length, 1);
        const [alert] = payload.alerts;
        assert.deepEqual(alert.labels, {
            alertname: "ModelshipRollout",
            event: "paused",
            model: "fraud-detector",
            track: "candidate",
            environment: "staging",
            severity: "warning",
            stack: "integration",
            version: "1.4.0",
        });
        assert.equal(alert.annotations.summary, event.summary);
        assert.match(alert.annotations.description, /decision: rollback \(quality\)/);
        assert.match(alert.annotations.description, /difference -0\.8% \(95% interval -2\.1%\.\.0\.5%\) over 1200\/1180 samples/);
        assert.match(alert.annotations.description, /ab-test \[quality\] fail: pCandidate=0\.912, pStable=0\.92, low=-0\.021, high=0\.005/);
        assert.equal(Date.parse(alert.startsAt), event.at.getTime());
        // The receiver's payload shows no end for a firing alert; the API shows the one posted, so the event resolves by itself.
        const [held] = (await alertmanager.alerts()).filter((a) => a.labels.event === "paused");
        assert.equal(Date.parse(held.startsAt), event.at.getTime());
        assert.equal(Date.parse(held.endsAt) - Date.parse(held.startsAt), 5 * 60 * 1000);
        assert.ok(latencyMs < DELIVERY_TIMEOUT_MS);
    });

    it("a second event of another kind is its own alert, delivered separately, and both are listed by the API", async () => {
        const before = receiver.received.length;
        const event: RolloutEvent = {
            ...PAUSED,
            event: "rolled-back",
            severity: "critical",
            summary: "rolled back fraud-detector 1.4.0: error rate 7.2% over 1%",
            judgement: undefined,
            at: new Date(),
        };
        const started = Date.now();
        const [result] = await notify({ alertmanager: alertmanager.url }, event);
        assert.equal(result.ok, true, result.error);
        const delivered = (await receiver.waitFor(before + 1, DELIVERY_TIMEOUT_MS))[before];
        console.log(`measured: notification latency, second event: ${delivered.at - started} ms`);
        const payload = JSON.parse(delivered.text) as AlertmanagerWebhook;
        assert.deepEqual(
            payload.alerts.map((a) => [a.labels.event, a.labels.severity, a.annotations.summary]),
            [["rolled-back", "critical", event.summary]],
        );
        const listed = await alertmanager.alerts();
        assert.deepEqual(listed.map((a) => a.labels.event).sort(), ["paused", "rolled-back"]);
    });
});
