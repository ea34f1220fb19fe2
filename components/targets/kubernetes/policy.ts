/** How the policy pack reads the kubernetes target's objects: router objects' plan annotation, pod specs, Services. */
import { containersOf, plansFromJson, podSpecOf, recordAt, stringAt, TYPES } from "../../../policies/lib";
import { PLANS_ANNOTATION } from "../../traffic/plan-annotation";
import type { TargetPolicyReaders } from "../definition";

/** The annotations cloud controllers read to give a LoadBalancer Service an internal address. */
const INTERNAL_ANNOTATIONS: ReadonlyArray<[string, string]> = [
    ["service.beta.kubernetes.io/aws-load-balancer-internal", "true"],
    ["service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"],
    ["networking.gke.io/load-balancer-type", "Internal"],
    ["service.beta.kubernetes.io/azure-load-balancer-internal", "true"],
];

export const kubernetesPolicyReaders: TargetPolicyReaders = {
    // A Gateway API HTTPRoute, or the nginx router's ConfigMap.
    routerPlans(type, props) {
        if (type !== TYPES.httpRoute && type !== TYPES.configMap) return undefined;
        const annotations = recordAt(props, "metadata", "annotations");
        return annotations && PLANS_ANNOTATION in annotations ? plansFromJson(stringAt(annotations, PLANS_ANNOTATION)) : undefined;
    },
    routerNginxConf(type, props) {
        return type === TYPES.configMap ? stringAt(props, "data", "nginx.conf") : undefined;
    },
    images(type, props) {
        const podSpec = podSpecOf(type, props);
        return podSpec ? containersOf(podSpec).flatMap((c) => (c.image ? [{ where: `container ${c.name}`, image: c.image }] : [])) : [];
    },
    publicExposure(type, props) {
        if (type !== TYPES.service || stringAt(props, "spec", "type") !== "LoadBalancer") return [];
        const annotations = recordAt(props, "metadata", "annotations") ?? {};
        const internal = INTERNAL_ANNOTATIONS.some(([key, value]) => String(annotations[key] ?? "").toLowerCase() === value.toLowerCase());
        return internal ? [] : ["a LoadBalancer Service without an internal-scheme annotation is public; annotate it internal or route through the Gateway"];
    },
};
