import { strict as assert } from "assert";
import { hygienePolicies } from "../../../policies/hygiene";
import { findProjectDir, renderStack } from "../../../tools/render";
import { resource, violationsOf } from "../../support/policies";
import { TYPES } from "../../../components/type-tokens";

const policy = (name: string) => hygienePolicies.find((p) => p.name === name)!;
const ENV = "modelship.dev/environment";

function service(labels: Record<string, string>, props: Record<string, unknown> = {}) {
    return resource(TYPES.service, { metadata: { name: "m", labels }, spec: { type: "ClusterIP" }, ...props });
}

function deployment(env: Array<{ name: string; value?: string; valueFrom?: unknown }>, labels = { [ENV]: "prod" }) {
    return resource(TYPES.deployment, {
        metadata: { name: "m", labels },
        spec: { template: { metadata: { labels }, spec: { containers: [{ name: "model-server", image: "m:1", env }] } } },
    });
}

describe("hygiene policies", () => {
    describe("environment-label", () => {
        const check = (r: ReturnType<typeof resource>) => violationsOf(policy("environment-label"), r, { environment: "prod" });

        it("passes a Kubernetes object, a docker container and an ECR repository labelled or tagged with the stack's environment", async () => {
            assert.deepEqual(await check(service({ [ENV]: "prod" })), []);
            assert.deepEqual(await check(resource(TYPES.container, { labels: [{ label: ENV, value: "prod" }] })), []);
            assert.deepEqual(await check(resource(TYPES.ecrRepository, { tags: { "modelship:environment": "prod" } })), []);
        });

        it("refuses a missing label, another environment's label, and a pod template without it", async () => {
            assert.deepEqual(await check(service({})), [`metadata.labels lack ${ENV}; set it to "prod"`]);
            assert.deepEqual(await check(service({ [ENV]: "dev" })), ['metadata.labels say environment "dev" in the prod stack']);
            const template = resource(TYPES.deployment, { metadata: { labels: { [ENV]: "prod" } }, spec: { template: { metadata: { labels: {} }, spec: { containers: [] } } } });
            assert.deepEqual(await check(template), [`pod template labels lack ${ENV}; set it to "prod"`]);
            assert.deepEqual(await check(resource(TYPES.ecrRepository, { tags: {} })), ['tags lack modelship:environment; set it to "prod"']);
        });

        it("checks every AWS resource the prod stack tags: one tagged with another environment is refused, whatever its kind", async function () {
            this.timeout(60_000);
            const { resources } = await renderStack(findProjectDir(), "prod");
            const tagged = resources.filter((r) => r.custom && r.type.startsWith("aws:") && r.inputs.tags !== undefined);
            const unchecked: string[] = [];
            for (const r of tagged) {
                // Tags are a map on most kinds and a list of {key, value, propagateAtLaunch} on an Auto Scaling group.
                const tags = Array.isArray(r.inputs.tags)
                    ? (r.inputs.tags as Array<Record<string, unknown>>).map((t) => (t.key === "modelship:environment" ? { ...t, value: "dev" } : t))
                    : { ...(r.inputs.tags as Record<string, string>), "modelship:environment": "dev" };
                if ((await check(resource(r.type, { ...r.inputs, tags }))).length === 0) unchecked.push(r.type);
            }
            assert.ok(tagged.length > 20);
            assert.deepEqual([...new Set(unchecked)], [], "environment-label does not read these kinds' tags");
        });

        it("leaves alone resources that cannot carry a label or tag", async () => {
            assert.deepEqual(await check(resource(TYPES.ecrLifecycle, { policy: "{}" })), []);
        });
    });

    describe("no-cross-environment-references", () => {
        const check = (r: ReturnType<typeof resource>, environment = "prod") => violationsOf(policy("no-cross-environment-references"), r, { environment });

        it("takes the environments to refuse from the project's stack files: a prod stack reading the lab bucket is refused", async () => {
            const found = await check(deployment([{ name: "MODEL_ARTIFACT", value: "s3://example-models-lab/fraud-scorer/" }]));
            assert.deepEqual(found, ["spec.template.spec.containers[0].env[0].value names environment lab in the prod stack: s3://example-models-lab/fraud-scorer/"]);
        });

        it("refuses a dev bucket, a lab role and a dev image in prod", async () => {
            const found = await check(
                deployment([
                    { name: "MODEL_ARTIFACT", value: "s3://acme-models-dev/fraud-scorer/" },
                    { name: "ROLE", value: "arn:aws:iam::123456789012:role/modelship-lab-fraud" },
                ]),
            );
            assert.equal(found.length, 2);
            assert.match(found[0], /env\[0\]\.value names environment dev in the prod stack: s3:\/\/acme-models-dev/);
            assert.match(found[1], /names environment lab/);
            assert.match((await check(resource(TYPES.remoteImage, { name: "registry.example/dev/m:1" })))[0], /name names environment dev/);
        });

        it("passes the environment's own names, words that merely contain another name, and device paths", async () => {
            const clean = deployment([
                { name: "MODEL_ARTIFACT", value: "s3://acme-models-prod/fraud-scorer/" },
                { name: "NOTE", value: "device development production /dev/stdout" },
            ]);
            assert.deepEqual(await check(clean), []);
            assert.deepEqual(await check(resource(TYPES.container, { labels: [{ label: "modelship.dev/track", value: "stable" }] })), [], "label names are keys");
        });

        it("checks the resource's own name too, in any environment", async () => {
            assert.equal((await check(resource(TYPES.ecrRepository, {}, "models-prod"), "dev")).length, 1);
        });
    });

    describe("no-plaintext-secrets", () => {
        const check = (r: ReturnType<typeof resource>) => violationsOf(policy("no-plaintext-secrets"), r);

        it("refuses secret-named variables with literal values and known credential shapes anywhere", async () => {
            assert.deepEqual(await check(deployment([{ name: "DB_PASSWORD", value: "hunter2" }])), ["container model-server env DB_PASSWORD looks like a secret and is set in plain text"]);
            assert.deepEqual(await check(deployment([{ name: "SETTINGS", value: "key=AKIAIOSFODNN7EXAMPLE" }])), ["container model-server env SETTINGS holds an AWS access key id in plain text"]);
            assert.deepEqual(await check(resource(TYPES.container, { envs: ["API_TOKEN=abc123"] })), ["env API_TOKEN looks like a secret and is set in plain text"]);
            assert.deepEqual(await check(resource(TYPES.configMap, { data: { "tls.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIB" } })), ["data tls.key holds a private key in plain text"]);
        });

        it("accepts secrets by reference, empty values and ordinary settings", async () => {
            assert.deepEqual(
                await check(
                    deployment([
                        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
                        { name: "API_KEY", value: "" },
                        { name: "FEATURE_FLAGS", value: "{}" },
                    ]),
                ),
                [],
            );
            assert.deepEqual(await check(resource(TYPES.container, { envs: ["MODEL_NAME=fraud-scorer", "PORT=8080"] })), []);
        });

        it("accepts a secret-named *_FILE variable that names where a secret is mounted, and not one that holds a value", async () => {
            assert.deepEqual(await check(deployment([{ name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" }])), []);
            assert.deepEqual(await check(deployment([{ name: "DB_PASSWORD_FILE", value: "hunter2" }])), ["container model-server env DB_PASSWORD_FILE looks like a secret and is set in plain text"]);
        });
    });
});
