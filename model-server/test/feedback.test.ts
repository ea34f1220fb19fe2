/** Request ids on every answer, and outcome feedback by request id: the body checks, the store's bounds, the real process. */
import { strict as assert } from "assert";
import { Registry } from "prom-client";
import { FeedbackStore, parseFeedback } from "../src/feedback";
import { ProtocolError } from "../src/protocol";
import { request, sample, startServer, stopAll, waitForStatus, type Running } from "./support/process";

const INFER = "/v2/models/fraud-scorer/infer";
const FEEDBACK = "/v2/models/fraud-scorer/feedback";
/** sigmoid(2.75) = 0.94 (class 1 at 0.5, class 0 at 0.95) for the 1.4.0 weights. */
const ROW_A = [1, 0.5, 0, 2];
/** sigmoid(-0.3) = 0.43: class 0. */
const ROW_B = [0, 0, 0, 0];
const tensor = (rows: number[][], extra: Record<string, unknown> = {}) => ({ ...extra, inputs: [{ name: "features", shape: [rows.length, 4], datatype: "FP32", data: rows.flat() }] });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function rejects(fn: () => unknown, status: number, message: RegExp): void {
    assert.throws(fn, (error: unknown) => error instanceof ProtocolError && error.status === status && message.test(error.message));
}

describe("feedback bodies", () => {
    it("reads a label, labels or a reward", () => {
        assert.deepEqual(parseFeedback({ id: "r1", label: 1 }), { id: "r1", labels: [1], single: true });
        assert.deepEqual(parseFeedback({ id: "r1", labels: [0, 1] }), { id: "r1", labels: [0, 1], single: false });
        assert.deepEqual(parseFeedback({ id: "r1", reward: -2.5 }), { id: "r1", reward: -2.5 });
    });

    const bad: [string, unknown, RegExp][] = [
        ["an array", [1], /must be a JSON object \{"id", and one of "label", "labels" or "reward"\}/],
        ["no id", { label: 1 }, /^id is missing: expected the request id of an answered inference/],
        ["a numeric id", { id: 7, label: 1 }, /^id is 7: expected the request id/],
        ["no outcome", { id: "r1" }, /^no outcome: expected exactly one of "label" \(0 or 1\), "labels" \(one 0 or 1 per row\) or "reward" \(a number\)/],
        ["two outcomes", { id: "r1", label: 1, reward: 1 }, /^label and reward together: expected exactly one of/],
        ["a label of 2", { id: "r1", label: 2 }, /^label is 2: expected 0 or 1/],
        ["a label as a string", { id: "r1", label: "1" }, /^label is "1": expected 0 or 1/],
        ["empty labels", { id: "r1", labels: [] }, /^labels is \[\]: expected an array with one 0 or 1 per row/],
        ["a bad label in labels", { id: "r1", labels: [0, true] }, /^labels\[1\] is true: expected 0 or 1/],
        ["a reward that is not a number", { id: "r1", reward: "high" }, /^reward is "high": expected a finite number/],
        ["an unknown field", { id: "r1", lable: 1 }, /^unknown field "lable": expected "id" and one of "label", "labels" or "reward"/],
    ];
    for (const [what, body, message] of bad) it(`answers 400 to ${what}, naming the field and what it expects`, () => rejects(() => parseFeedback(body), 400, message));
});

describe("the feedback store's bounds", () => {
    let clock = 0;
    const store = (maxEntries = 10) => {
        const registry = new Registry();
        return { registry, feedback: new FeedbackStore(registry, [0, 1], { maxEntries, ttlMs: 3_600_000, now: () => clock }) };
    };
    const unmatched = async (registry: Registry) => Number(/^modelship_feedback_unmatched_total (\S+)$/m.exec(await registry.metrics())![1]);

    it("forgets an answer after an hour: its feedback is a 404, counted unmatched", async () => {
        const { registry, feedback } = store();
        clock = 0;
        feedback.remember("r1", [1]);
        feedback.remember("r2", [1]);
        clock = 3_599_999;
        assert.deepEqual(feedback.record({ id: "r1", labels: [1], single: true }), { id: "r1", outcome: "correct" });
        clock = 3_600_000;
        rejects(() => feedback.record({ id: "r2", labels: [1], single: true }), 404, /no answer with id "r2"/);
        assert.equal(await unmatched(registry), 1);
    });

    it("remembers at most maxRows rows over all answers, the newest", () => {
        const registry = new Registry();
        const feedback = new FeedbackStore(registry, [0, 1], { maxRows: 5, now: () => clock });
        feedback.remember("three", [1, 0, 1]);
        feedback.remember("two", [1, 1]);
        assert.equal(feedback.record({ id: "three", labels: [1, 0, 1], single: false }).outcome, "correct");
        feedback.remember("one", [0]);
        rejects(() => feedback.record({ id: "three", reward: 1 }), 404, /no answer with id "three"/);
        assert.deepEqual(feedback.record({ id: "two", labels: [1, 0], single: false }), { id: "two", outcome: "incorrect", rows: { correct: 1, incorrect: 1 } });
    });

    it("remembers at most maxEntries answers, the newest", async () => {
        const { registry, feedback } = store(2);
        for (const id of ["r1", "r2", "r3"]) feedback.remember(id, [0]);
        rejects(() => feedback.record({ id: "r1", reward: 1 }), 404, /no answer with id "r1"/);
        assert.equal(feedback.record({ id: "r3", reward: 1 }).outcome, "reward");
        assert.equal(await unmatched(registry), 1);
    });
});

describe("model server process: request ids and outcome feedback", function () {
    let server: Running;
    before(async () => {
        server = await startServer({ MODELSHIP_REWARD_BUCKETS: "0,0.5,1" });
        await waitForStatus(server.base, "/v2/health/ready", 200);
    });
    after(stopAll);

    const identity = { model: "fraud-scorer", version: "1.4.0", track: "stable" };
    const scrape = async (base = server.base) => (await request(base, "GET", "/metrics")).text;
    const feedbackCounts = async (base = server.base) => {
        const text = await scrape(base);
        return { correct: sample(text, "modelship_feedback_total", { ...identity, outcome: "correct" }), incorrect: sample(text, "modelship_feedback_total", { ...identity, outcome: "incorrect" }) };
    };

    it("answers with the X-Request-Id header's id, else the body's id, else a generated one, in the body and the header", async () => {
        const both = await request(server.base, "POST", INFER, tensor([ROW_A], { id: "body-1" }), { "x-request-id": "router-1" });
        assert.equal(both.status, 200, both.text);
        assert.deepEqual([both.body.id, both.headers["x-request-id"]], ["router-1", "router-1"]);
        const body = await request(server.base, "POST", INFER, tensor([ROW_A], { id: "body-2" }));
        assert.deepEqual([body.body.id, body.headers["x-request-id"]], ["body-2", "body-2"]);
        const none = await request(server.base, "POST", INFER, tensor([ROW_A]));
        assert.match(none.body.id, UUID);
        assert.equal(none.headers["x-request-id"], none.body.id);
        const other = await request(server.base, "POST", INFER, tensor([ROW_A]));
        assert.notEqual(other.body.id, none.body.id, "each generated id is new");
        const v1 = await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [ROW_A] }, { "x-request-id": "router-v1" });
        assert.equal(v1.headers["x-request-id"], "router-v1", "v1 answers carry the id in the header");
        const refused = await request(server.base, "POST", INFER, tensor([ROW_A]), { "x-request-id": "x".repeat(257) });
        assert.equal(refused.status, 400);
        assert.match(refused.body.error, /X-Request-Id header is 257 characters long: expected at most 256/);
    });

    it("counts labels against the classes answered at the decision threshold, row by row", async () => {
        const before = await feedbackCounts();
        assert.deepEqual(before, { correct: 0, incorrect: 0 }, "both outcomes exist from the start");
        await request(server.base, "POST", INFER, tensor([ROW_A]), { "x-request-id": "one-row" });
        const right = await request(server.base, "POST", FEEDBACK, { id: "one-row", label: 1 });
        assert.deepEqual([right.status, right.body], [200, { id: "one-row", outcome: "correct" }]);

        const answered = await request(server.base, "POST", INFER, tensor([ROW_A, ROW_B]));
        const mixed = await request(server.base, "POST", FEEDBACK, { id: answered.body.id, labels: [1, 1] });
        assert.deepEqual([mixed.status, mixed.body], [200, { id: answered.body.id, outcome: "incorrect", rows: { correct: 1, incorrect: 1 } }]);

        await request(server.base, "POST", "/v1/models/fraud-scorer:predict", { instances: [ROW_B] }, { "x-request-id": "v1-row" });
        const wrong = await request(server.base, "POST", FEEDBACK, { id: "v1-row", label: 1 });
        assert.deepEqual(wrong.body, { id: "v1-row", outcome: "incorrect" }, "a v1 answer takes feedback by its X-Request-Id");
        assert.deepEqual(await feedbackCounts(), { correct: 2, incorrect: 2 });
    });

    it("puts rewards in modelship_feedback_reward with MODELSHIP_REWARD_BUCKETS", async () => {
        for (const [id, reward] of [
            ["rw-1", 0.25],
            ["rw-2", 0.75],
            ["rw-3", 3],
        ] as const) {
            await request(server.base, "POST", INFER, tensor([ROW_A]), { "x-request-id": id });
            const answer = await request(server.base, "POST", FEEDBACK, { id, reward });
            assert.deepEqual([answer.status, answer.body], [200, { id, outcome: "reward" }]);
        }
        const text = await scrape();
        assert.deepEqual(
            ["0", "0.5", "1", "+Inf"].map((le) => sample(text, "modelship_feedback_reward_bucket", { ...identity, le })),
            [0, 1, 2, 3],
        );
        assert.equal(sample(text, "modelship_feedback_reward_sum", identity), 4);
    });

    it("answers 404 to an unknown id (counted unmatched), 409 to a second feedback, 400 to labels that do not fit the answer", async () => {
        const unmatched = async () => sample(await scrape(), "modelship_feedback_unmatched_total", identity);
        assert.equal(await unmatched(), 0);
        const unknown = await request(server.base, "POST", FEEDBACK, { id: "never-answered", label: 1 });
        assert.equal(unknown.status, 404);
        assert.match(unknown.body.error, /no answer with id "never-answered"/);
        assert.equal(await unmatched(), 1);

        await request(server.base, "POST", INFER, tensor([ROW_A, ROW_B]), { "x-request-id": "twice" });
        const single = await request(server.base, "POST", FEEDBACK, { id: "twice", label: 1 });
        assert.equal(single.status, 400);
        assert.match(single.body.error, /label is for a one-row answer, and this answer has 2 rows: send "labels"/);
        const short = await request(server.base, "POST", FEEDBACK, { id: "twice", labels: [1] });
        assert.match(short.body.error, /labels has 1 values, and the answer has 2 rows/);
        assert.equal((await request(server.base, "POST", FEEDBACK, { id: "twice", labels: [1, 0] })).status, 200, "a refused feedback leaves the answer open");
        const again = await request(server.base, "POST", FEEDBACK, { id: "twice", reward: 1 });
        assert.equal(again.status, 409);
        assert.match(again.body.error, /already has feedback/);

        const malformed = await request(server.base, "POST", FEEDBACK, { id: "twice", label: "yes" });
        assert.deepEqual([malformed.status, malformed.body], [400, { error: 'label is "yes": expected 0 or 1' }]);
        const otherModel = await request(server.base, "POST", "/v2/models/ranker/feedback", { id: "twice", label: 1 });
        assert.equal(otherModel.status, 404);
        assert.match(otherModel.body.error, /model "ranker" not found/);
        assert.equal((await request(server.base, "GET", FEEDBACK)).status, 405);
        assert.equal(await unmatched(), 1, "only well-formed feedback for this model counts as unmatched");
    });

    it("labels feedback requests with their route template, outside the inference routes' error series", async () => {
        const text = await scrape();
        const route = "/v2/models/:name/feedback";
        assert.ok(sample(text, "modelship_requests_total", { ...identity, route, code: "200" })! >= 6);
        assert.ok(sample(text, "modelship_requests_total", { ...identity, route, code: "404" })! >= 2);
        assert.ok(sample(text, "modelship_requests_total", { ...identity, route, code: "409" })! >= 1);
        assert.equal(sample(text, "modelship_request_errors_total", { ...identity, route }), undefined, "no error series: feedback is not an inference route");
        assert.doesNotMatch(text, /route="\/v2\/models\/fraud-scorer/);
    });

    it("classifies at MODELSHIP_DECISION_THRESHOLD", async () => {
        const strict = await startServer({ MODELSHIP_DECISION_THRESHOLD: "0.95" });
        await waitForStatus(strict.base, "/v2/health/ready", 200);
        await request(strict.base, "POST", INFER, tensor([ROW_A]), { "x-request-id": "a" });
        const answer = await request(strict.base, "POST", FEEDBACK, { id: "a", label: 1 });
        assert.deepEqual(answer.body, { id: "a", outcome: "incorrect" }, "0.94 is class 0 at a threshold of 0.95");
        assert.deepEqual(await feedbackCounts(strict.base), { correct: 0, incorrect: 1 });
    });
});
