/** How the policy pack reads the kubernetes target's objects: router objects' plan annotation, pod specs, Services. */
import { arrayAt, containersOf, DANGEROUS_CAPABILITIES, isRecord, plansFromJson, podSpecOf, recordAt, stringAt, TYPES, type ContainerSpec } from "../../../policies/lib";
import { PLANS_ANNOTATION } from "../../traffic/plan-annotation";
import type { TargetPolicyReaders } from "../definition";
import { scalarText } from "../../scalar-text";

/** The annotations cloud controllers read to give a LoadBalancer Service an internal address. */
const INTERNAL_ANNOTATIONS: ReadonlyArray<[string, string]> = [
    ["service.beta.kubernetes.io/aws-load-balancer-internal", "true"],
    ["service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"],
    ["networking.gke.io/load-balancer-type", "Internal"],
    ["service.beta.kubernetes.io/azure-load-balancer-internal", "true"],
];

function privilegeProblems(c: ContainerSpec): string[] {
    const context = recordAt(c.spec, "securityContext") ?? {};
    const added = arrayAt(context, "capabilities", "add").filter((cap): cap is string => typeof cap === "string");
    return [
        ...(context.privileged === true ? [`container ${c.name} is privileged`] : []),
        ...(context.allowPrivilegeEscalation === true ? [`container ${c.name} allows privilege escalation`] : []),
        ...added.filter((cap) => DANGEROUS_CAPABILITIES.has(cap.toUpperCase())).map((cap) => `container ${c.name} adds capability ${cap}`),
    ];
}

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
        const internal = INTERNAL_ANNOTATIONS.some(([key, value]) => scalarText(annotations[key], "").toLowerCase() === value.toLowerCase());
        return internal ? [] : ["a LoadBalancer Service without an internal-scheme annotation is public; annotate it internal or route through the Gateway"];
    },
    // Every object with a pod template (or a Pod): its pod spec and containers.
    workloadFindings: {
        probes(type, props) {
            const podSpec = podSpecOf(type, props);
            // A Job runs to completion and serves nothing: there is no readiness to probe.
            if (!podSpec || type === TYPES.job) return [];
            return containersOf(podSpec)
                .filter((c) => !c.init)
                .flatMap((c) => ["readinessProbe", "livenessProbe"].filter((probe) => !recordAt(c.spec, probe)).map((probe) => `container ${c.name} has no ${probe}`));
        },
        limits(type, props) {
            const podSpec = podSpecOf(type, props);
            if (!podSpec) return [];
            return containersOf(podSpec).flatMap((c) => {
                const missing = ["cpu", "memory"].filter((r) => recordAt(c.spec, "resources", "limits")?.[r] === undefined);
                return missing.length > 0 ? [`container ${c.name} has no ${missing.join(" or ")} limit`] : [];
            });
        },
        nonRoot(type, props) {
            const podSpec = podSpecOf(type, props);
            if (!podSpec) return [];
            const pod = recordAt(podSpec, "securityContext") ?? {};
            return containersOf(podSpec).flatMap((c) => {
                const own = recordAt(c.spec, "securityContext") ?? {};
                const nonRootSet = (own.runAsNonRoot ?? pod.runAsNonRoot) === true;
                const uid = own.runAsUser ?? pod.runAsUser;
                return [...(nonRootSet ? [] : [`container ${c.name} does not set runAsNonRoot: true (pod or container securityContext)`]), ...(uid === 0 ? [`container ${c.name} runs as uid 0`] : [])];
            });
        },
        privileged(type, props) {
            const podSpec = podSpecOf(type, props);
            return podSpec ? containersOf(podSpec).flatMap(privilegeProblems) : [];
        },
        hostAccess(type, props) {
            const podSpec = podSpecOf(type, props);
            if (!podSpec) return [];
            return [
                ...["hostNetwork", "hostPID", "hostIPC"].filter((flag) => podSpec[flag] === true).map((flag) => `the pod sets ${flag}`),
                ...arrayAt(podSpec, "volumes")
                    .filter(isRecord)
                    .filter((volume) => recordAt(volume, "hostPath"))
                    .map((volume) => `volume ${stringAt(volume, "name") ?? "(unnamed)"} mounts a hostPath`),
                ...containersOf(podSpec)
                    .filter((c) => arrayAt(c.spec, "ports").some((p) => isRecord(p) && p.hostPort !== undefined))
                    .map((c) => `container ${c.name} binds a hostPort`),
            ];
        },
    },
};
