/** The kubernetes target: models as Deployments in a namespace, behind Gateway API HTTPRoutes, an nginx router, or none. */
import { ROUTER_FEATURES, type RouterOffer } from "../../traffic/features";
import { defineTarget } from "../definition";
import { kubernetesArtifactRule, kubernetesOtherServerRule, kubernetesTargetRules, kubernetesTargetSchema, kubernetesTargetsRules, type KubernetesTargetConfig } from "./config";
import { stickyKeyOf } from "../../strategies";
import { unsupportedMirror, unsupportedSession } from "./gateway-implementations";
import { kubernetesPolicyReaders } from "./policy";
import { KubernetesTarget } from "./target";

const ON_KUBERNETES = "set router.type to gateway-api or nginx on this target";

const ROUTERS: Record<KubernetesTargetConfig["router"]["type"], RouterOffer> = {
    nginx: { label: "the kubernetes nginx router", features: new Set(ROUTER_FEATURES), instead: ON_KUBERNETES },
    // Whether the Gateway mirrors or keeps sessions depends on its implementation and channel: strategyFit below.
    "gateway-api": { label: "the Gateway API HTTPRoute router", features: new Set(["split", "sticky", "mirror", "pin"]), instead: ON_KUBERNETES },
    none: { label: "a kubernetes target without a router", features: new Set(), instead: ON_KUBERNETES },
};

export const kubernetesTarget = defineTarget({
    type: "kubernetes",
    schema: kubernetesTargetSchema,
    targetRules: kubernetesTargetRules,
    targetsRules: kubernetesTargetsRules,
    router: (config) => ROUTERS[config.router.type],
    strategyFit: (strategy, config, targetName) => {
        if (strategy.type === "shadow") return unsupportedMirror(config, targetName, strategy.mirrorPercent);
        const sticky = stickyKeyOf(strategy);
        return sticky ? unsupportedSession(config, targetName, sticky) : undefined;
    },
    autoscalingFit: () => undefined,
    smokeRequestFor: "the in-cluster smoke Job",
    modelKeys: ["gpu", "dependsOn", "serviceAccountRoleArn"],
    artifactRule: kubernetesArtifactRule,
    otherServerRule: kubernetesOtherServerRule,
    create: (name, config, context) => new KubernetesTarget(name, { config, environment: context.environment, registry: context.registry }),
    mocks: {},
    policy: kubernetesPolicyReaders,
});
