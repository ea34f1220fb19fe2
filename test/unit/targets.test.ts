/**
 * A target is one folder and one registry line: a throw-away target, defined here as its folder
 * would define it, is parsed, deployed under mocks and checked by the policy pack without any
 * other module knowing its name.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parseConfig, type RawConfig } from "../../components/config/parse";
import { portSchema } from "../../components/config/schema";
import type { DeployedModel, ModelTarget, ModelToDeploy } from "../../components/target";
import { defineTarget } from "../../components/targets/definition";
import { registerTargets } from "../../components/targets/registry";
import { plansAnnotation } from "../../components/traffic/plan-annotation";
import { allPolicies } from "../../policies/catalog";
import { plansFromJson, stringAt } from "../../policies/lib";
import { evaluate } from "../../policies/offline";
import { policyConfigPath, readPackConfig } from "../../tools/policy";
import { findProjectDir } from "../../tools/render";
import { configIssues, prodModel } from "../fixtures";
import { runStack } from "../mock-stack";

// --- what components/targets/fake/ would hold ---

const fakeTargetSchema = z.strictObject({ type: z.literal("fake"), port: portSchema.default(9000) });
type FakeTargetConfig = z.infer<typeof fakeTargetSchema>;
const SERVER = "fake:index:Server";
const ROUTER = "fake:index:Router";

/** Resources of the fake provider; under mocks their outputs are the target's mock stand-ins. */
class FakeServer extends pulumi.CustomResource {
    declare readonly url: pulumi.Output<string>;
    constructor(name: string, props: { image?: pulumi.Input<string>; port: number }, opts: pulumi.CustomResourceOptions) {
        super(SERVER, name, { ...props, url: undefined }, opts);
    }
}

class FakeRouter extends pulumi.CustomResource {
    declare readonly endpoint: pulumi.Output<string>;
    constructor(name: string, props: { plans: string }, opts: pulumi.CustomResourceOptions) {
        super(ROUTER, name, { ...props, endpoint: undefined }, opts);
    }
}

/** Where the fake router finds a track. */
interface FakeBackend {
    url: pulumi.Output<string>;
}

class FakeTarget extends pulumi.ComponentResource implements ModelTarget<FakeBackend> {
    constructor(
        name: string,
        private readonly config: FakeTargetConfig,
    ) {
        super("modelship:fake:FakeTarget", name, {}, {});
    }

    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel<FakeBackend> {
        const tracks: DeployedModel<FakeBackend>["tracks"] = {};
        for (const track of model.plan.tracks) {
            const server = new FakeServer(`${model.name}-${track.track}`, { image: model.images[track.track]?.ref, port: this.config.port }, { parent });
            tracks[track.track] = { backend: { url: server.url }, resources: [server] };
        }
        return { plan: model.plan, tracks, smokeByDefault: false };
    }

    route(models: readonly DeployedModel<FakeBackend>[]): Record<string, pulumi.Output<string>> {
        const router = new FakeRouter("fake-router", { plans: plansAnnotation(models.map((m) => m.plan)) }, { parent: this });
        return Object.fromEntries(models.map((m) => [m.plan.model, pulumi.interpolate`${router.endpoint}/v2/models/${m.plan.model}`]));
    }
}

const fakeTarget = defineTarget({
    type: "fake",
    schema: fakeTargetSchema,
    router: () => ({ label: "the fake target's router", features: new Set(["split", "pin"]), instead: "run the model on a kubernetes target" }),
    modelKeys: [],
    artifactRule: (artifact) => (artifact.startsWith("s3://") ? undefined : { path: "artifact", value: artifact, expected: "an S3 URI: the fake servers read nothing else" }),
    create: (name, config) => new FakeTarget(name, config),
    mocks: {
        [SERVER]: (name) => ({ url: `http://${name}.fake:9000` }),
        [ROUTER]: () => ({ endpoint: "http://router.fake" }),
    },
    policy: {
        routerPlans: (type, props) => (type === ROUTER ? plansFromJson(stringAt(props, "plans")) : undefined),
        images: (type, props) => {
            const image = type === SERVER ? stringAt(props, "image") : undefined;
            return image ? [{ where: "fake server", image }] : [];
        },
    },
});

// --- the test ---

function fakeConfig(model: Record<string, unknown>): RawConfig {
    return { environment: "prod", targets: { farm: { type: "fake" } }, registry: { type: "ecr" }, models: { "fraud-scorer": model } };
}

describe("a target added as one folder and one registry line", () => {
    let unregister: () => void = () => {};
    before(() => {
        unregister = registerTargets([fakeTarget]);
    });
    after(() => unregister());

    it("parses a config that uses it, with its defaults, and refuses what its router cannot run", () => {
        const parsed = parseConfig(fakeConfig(prodModel()), "prod");
        assert.deepEqual(parsed.targets.farm, { type: "fake", port: 9000 });
        const sticky = configIssues(fakeConfig(prodModel({ strategy: { type: "abTest", stickyBy: { header: "x-user" } } })));
        assert.deepEqual(
            sticky.map((i) => [i.path, i.expected]),
            [["modelship:models.fraud-scorer.strategy.type", "abTest needs a router that keeps each key on one track, which the fake target's router is not; run the model on a kubernetes target"]],
        );
        const local = configIssues(fakeConfig(prodModel({ artifact: "model-server/models/fraud-scorer", gpu: { count: 1 } })));
        assert.deepEqual(
            local.map((i) => [i.path, i.expected]),
            [
                ["modelship:models.fraud-scorer.gpu", "nothing on the fake target; this setting is for the kubernetes target"],
                ["modelship:models.fraud-scorer.artifact", "an S3 URI: the fake servers read nothing else"],
            ],
        );
        assert.match(configIssues({ ...fakeConfig(prodModel()), targets: { farm: { type: "farm" } } })[0].expected, /^a target type: docker, kubernetes, aws-vm or fake$/);
    });

    it("deploys under mocks: its servers per track, its router in front, the endpoint from its router", async () => {
        const { resources, outputs } = await runStack(fakeConfig(prodModel()), "prod");
        assert.deepEqual(
            resources
                .filter((r) => r.type.startsWith("fake:"))
                .map((r) => [r.type, r.name, r.parent])
                .sort(),
            [
                [ROUTER, "fake-router", "modelship:fake:FakeTarget::farm"],
                [SERVER, "fraud-scorer-candidate", "modelship:model:ModelService::fraud-scorer"],
                [SERVER, "fraud-scorer-stable", "modelship:model:ModelService::fraud-scorer"],
            ],
        );
        assert.equal(outputs.models["fraud-scorer"].endpoint, "http://router.fake/v2/models/fraud-scorer");
    });

    it("is checked by the policy pack: the canary step cap reads the plan its router carries", async () => {
        const config = readPackConfig(policyConfigPath(findProjectDir(), "prod"));
        const onFake = async (steps: number[]) => {
            const { resources } = await runStack(fakeConfig(prodModel({ strategy: { type: "canary", steps, step: 1 } })), "prod");
            const found = await evaluate(
                allPolicies,
                resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs, ...(r.parent ? { parent: r.parent } : {}) })),
                config,
            );
            return found.filter((v) => v.resource?.startsWith("fake:")).map((v) => [v.policy, v.resource]);
        };
        assert.deepEqual(await onFake([5, 50, 100]), [["canary-step-cap", `${ROUTER}::fake-router`]]);
        assert.deepEqual(await onFake([5, 25, 50, 75, 100]), []);
    });
});
