import { strict as assert } from "assert";
import { ConfigError, parseConfig } from "../src/config";

const base = { MODEL_NAME: "fraud-scorer", MODEL_VERSION: "1.4.0", MODEL_TRACK: "stable", MODEL_ARTIFACT: "/models/fraud-scorer" };

function problems(env: Record<string, string>): readonly string[] {
    try {
        parseConfig(env);
    } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems;
    }
    return assert.fail("expected a ConfigError");
}

describe("env parsing", () => {
    it("applies the defaults", () => {
        const config = parseConfig(base);
        assert.equal(config.port, 8080);
        assert.equal(config.host, "0.0.0.0");
        assert.deepEqual(config.featureFlags, {});
        assert.deepEqual(config.faults, { errorRate: 0, latencyMs: 0, slowStartMs: 0, failOnceAt: 0, leakBytesPerRequest: 0 });
        assert.equal(config.shutdownTimeoutMs, 10_000);
        assert.equal(config.memoryLimitBytes, undefined);
        assert.equal(config.decisionThreshold, 0.5);
        assert.deepEqual(config.rewardBuckets, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
        assert.deepEqual(config.shadow, { pairTtlMs: 30_000 });
    });

    it("reads every variable", () => {
        const config = parseConfig({
            ...base,
            MODEL_TRACK: "candidate",
            PORT: "9000",
            HOST: "127.0.0.1",
            FEATURE_FLAGS: '{"calibratedScores":"true"}',
            MODELSHIP_ENVIRONMENT: "prod",
            FAULT_ERROR_RATE: "0.25",
            FAULT_LATENCY_MS: "150",
            FAULT_SLOW_START_MS: "2000",
            FAULT_FAIL_ONCE_AT: "7",
            SHUTDOWN_TIMEOUT_MS: "3000",
            FAULT_LEAK_BYTES_PER_REQUEST: "1048576",
            MODELSHIP_MEMORY_LIMIT_BYTES: "536870912",
            MODELSHIP_DECISION_THRESHOLD: "0.7",
            MODELSHIP_REWARD_BUCKETS: "-1, 0, 2.5,10",
            MODELSHIP_SHADOW_COMPARE_URL: "http://fraud-scorer-candidate:8080/",
            MODELSHIP_SHADOW_PAIR_TTL_MS: "5000",
        });
        assert.equal(config.track, "candidate");
        assert.equal(config.port, 9000);
        assert.equal(config.host, "127.0.0.1");
        assert.deepEqual(config.featureFlags, { calibratedScores: "true" });
        assert.equal(config.environment, "prod");
        assert.deepEqual(config.faults, { errorRate: 0.25, latencyMs: 150, slowStartMs: 2000, failOnceAt: 7, leakBytesPerRequest: 1_048_576 });
        assert.equal(config.shutdownTimeoutMs, 3000);
        assert.equal(config.memoryLimitBytes, 536_870_912);
        assert.equal(config.decisionThreshold, 0.7);
        assert.deepEqual(config.rewardBuckets, [-1, 0, 2.5, 10]);
        assert.deepEqual(config.shadow, { compareUrl: "http://fraud-scorer-candidate:8080", pairTtlMs: 5000 });
    });

    it("lists every invalid value at once", () => {
        const found = problems({
            MODEL_VERSION: "1.4.0/../x",
            MODEL_TRACK: "canary",
            PORT: "80a",
            FEATURE_FLAGS: '{"a": 1}',
            FAULT_ERROR_RATE: "1.5",
            FAULT_LATENCY_MS: "-5",
        });
        assert.deepEqual(found, [
            "MODEL_NAME is required",
            `MODEL_VERSION="1.4.0/../x": expected letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)`,
            'MODEL_TRACK="canary": expected one of stable, candidate',
            "MODEL_ARTIFACT is required",
            'PORT="80a": expected an integer from 0 to 65535',
            "FEATURE_FLAGS.a is 1: expected a string",
            'FAULT_ERROR_RATE="1.5": expected a number from 0 to 1',
            'FAULT_LATENCY_MS="-5": expected an integer from 0 to 600000',
        ]);
    });

    it("rejects FEATURE_FLAGS that are not a JSON object", () => {
        assert.match(problems({ ...base, FEATURE_FLAGS: "calibratedScores=true" })[0]!, /FEATURE_FLAGS is not valid JSON/);
        assert.match(problems({ ...base, FEATURE_FLAGS: '["a"]' })[0]!, /expected a JSON object of string values/);
        assert.match(problems({ ...base, PORT: "70000" })[0]!, /PORT="70000"/);
        assert.match(problems({ ...base, FAULT_ERROR_RATE: "abc" })[0]!, /FAULT_ERROR_RATE="abc"/);
        assert.match(problems({ ...base, SHUTDOWN_TIMEOUT_MS: "0" })[0]!, /SHUTDOWN_TIMEOUT_MS="0"/);
    });

    it("names each invalid analysis variable and what it expects", () => {
        assert.deepEqual(
            problems({
                ...base,
                MODELSHIP_MEMORY_LIMIT_BYTES: "512Mi",
                MODELSHIP_DECISION_THRESHOLD: "1.5",
                MODELSHIP_REWARD_BUCKETS: "0,1,0.5",
                MODELSHIP_SHADOW_COMPARE_URL: "candidate:8080",
                MODELSHIP_SHADOW_PAIR_TTL_MS: "0",
                FAULT_LEAK_BYTES_PER_REQUEST: "1e6",
            }),
            [
                'FAULT_LEAK_BYTES_PER_REQUEST="1e6": expected an integer from 0 to 67108864',
                'MODELSHIP_MEMORY_LIMIT_BYTES="512Mi": expected an integer from 1 to 9007199254740991',
                'MODELSHIP_DECISION_THRESHOLD="1.5": expected a number from 0 to 1',
                'MODELSHIP_REWARD_BUCKETS="0,1,0.5": expected comma-separated numbers in ascending order, e.g. 0,0.5,1',
                'MODELSHIP_SHADOW_COMPARE_URL="candidate:8080": expected an http:// or https:// URL without query or fragment, e.g. http://candidate:8080',
                'MODELSHIP_SHADOW_PAIR_TTL_MS="0": expected an integer from 1 to 600000',
            ],
        );
        assert.match(problems({ ...base, MODELSHIP_REWARD_BUCKETS: "0,,1" })[0]!, /MODELSHIP_REWARD_BUCKETS="0,,1"/);
        assert.match(problems({ ...base, MODELSHIP_SHADOW_COMPARE_URL: "http://c:8080/?x=1" })[0]!, /without query/);
    });
});
