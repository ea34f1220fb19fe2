/** A component's invariant failure is a ResourceError, so the engine reports it against the resource that found it. */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { modelRole } from "../../components/model-role";
import { ContainerRegistry } from "../../components/registry";
import { runUnderMocks } from "../../tools/mock-runtime";
import { GATEWAY_ROUTER, kubernetesConfig, prodModel } from "../fixtures";
import { runStack } from "../mock-stack";

const MOCKS = { project: "modelship", stack: "test", config: {} };

function localRegistry(): ContainerRegistry {
    return new ContainerRegistry("registry", { config: { type: "local" }, environment: "test", models: ["fraud-scorer"] });
}

function resourceError(message: RegExp): (error: unknown) => boolean {
    return (error) => pulumi.ResourceError.isInstance(error) && message.test(error.message);
}

describe("invariant failures inside components", () => {
    it("the registry asked for a model it has no repository for: a ResourceError, message unchanged", async () => {
        await runUnderMocks(MOCKS, () => {
            const registry = localRegistry();
            assert.throws(() => registry.repository("churn-predictor"), resourceError(/^no repository declared for model churn-predictor$/));
        });
    });

    it("a model role over a registry that is not ECR: a ResourceError against the role's parent, message unchanged", async () => {
        await runUnderMocks(MOCKS, () => {
            const registry = localRegistry();
            const args = {
                name: "fraud-scorer-pods",
                environment: "test",
                model: "fraud-scorer",
                artifact: "s3://artifacts/fraud-scorer/",
                repository: registry.repository("fraud-scorer"),
                trust: { Version: "2012-10-17" as const, Statement: [] },
            };
            assert.throws(() => modelRole(args, registry), resourceError(/^model fraud-scorer: its role pulls images with IAM, which needs an ECR repository; the registry is not ECR$/));
        });
    });

    it("a smoke gate whose recorded request is missing: a ResourceError against the target, naming the file", async () => {
        const raw = kubernetesConfig(GATEWAY_ROUTER, {
            "fraud-scorer": prodModel({ gates: { smoke: { request: "model-server/models/fraud-scorer/no-such-request.json" } } }),
        });
        await assert.rejects(runStack(raw, "prod"), resourceError(/^model fraud-scorer: the smoke gate's recorded request model-server\/models\/fraud-scorer\/no-such-request\.json does not exist$/));
    });
});
