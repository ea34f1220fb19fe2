/**
 * Workloads: what runs must be the image that was reviewed, observable by its probes, bounded in
 * resources, and unable to act as root or reach the host.
 */
import { imageTag, isPinnedByDigest } from "../components/config/schema";
import type { PolicyResource } from "@pulumi/policy";
import { TYPES } from "../components/type-tokens";
import { arrayAt, containersOf, podSpecOf, recordAt, resourcePolicy, stackPolicy, stringAt, type ModelshipPolicy } from "./lib";
import type { WorkloadCheck } from "../components/targets/definition";
import { publicExposure, workloadFindings, workloadImages } from "./target-readers";

/** An image ID (`sha256:...`) names exactly one image, like a digest reference. */
function isImageId(image: string): boolean {
    return /^sha256:[a-f0-9]{64}$/.test(image);
}

interface ImageConfig {
    requireDigest: boolean;
}

const imagePinned = resourcePolicy(
    {
        name: "image-pinned",
        description: "A tag can be moved to another image after review; a digest cannot. `latest` (or no tag) is never allowed, and where requireDigest is set (prod) every image is pinned by digest.",
        theme: "workloads",
        configSchema: { properties: { requireDigest: { type: "boolean", default: false } } },
    },
    (args, report) => {
        const { requireDigest } = args.getConfig<ImageConfig>();
        for (const { where, image } of workloadImages(args.type, args.props)) {
            if (isImageId(image) || isPinnedByDigest(image)) continue;
            const tag = imageTag(image);
            if (tag === undefined || tag === "latest") report(`${where} runs ${image}: \`latest\` (or no tag) changes under the same name; use a version tag or a digest`);
            else if (requireDigest) report(`${where} runs ${image} by tag; pin it by digest (name@sha256:...) so what was reviewed is what runs`);
        }
    },
);

/** A policy that reports what each target finds wrong with its own workload objects for one check. */
function findingsPolicy(check: WorkloadCheck, name: string, description: string): ModelshipPolicy {
    return resourcePolicy({ name, description, theme: "workloads" }, (args, report) => {
        for (const finding of workloadFindings(check, args.type, args.props)) report(finding);
    });
}

const probesRequired = findingsPolicy("probes", "probes-required", "Without a readiness probe traffic reaches a model that has not loaded; without a liveness probe a hung server is never restarted.");

const resourceLimits = findingsPolicy("limits", "resource-limits", "A model server without CPU and memory limits can starve its neighbours on the node; every Kubernetes container declares both.");

const nonRoot = findingsPolicy("nonRoot", "workload-non-root", "A process running as root turns any flaw in the model server into control of the container and a step towards the node.");

const noPrivileged = findingsPolicy(
    "privileged",
    "workload-no-privileged",
    "Privileged containers, privilege escalation and admin capabilities remove the isolation between a model server and its host.",
);

const noHostAccess = findingsPolicy("hostAccess", "workload-no-host-access", "Host networking, host namespaces, host ports and writable host paths let a container see or change its node.");

interface ExposureConfig {
    forbidPublic: boolean;
}

const noPublicLoadBalancer = resourcePolicy(
    {
        name: "no-public-load-balancer",
        description:
            "Model endpoints are reached through the router and the Gateway from inside the network; an internet-facing AWS load balancer, a LoadBalancer Service without an internal scheme, or a port published on every interface faces the internet.",
        theme: "workloads",
        configSchema: { properties: { forbidPublic: { type: "boolean", default: false } } },
    },
    (args, report) => {
        if (!args.getConfig<ExposureConfig>().forbidPublic) return;
        for (const reason of publicExposure(args.type, args.props)) report(reason);
    },
);

interface AutoscalerConfig {
    maxReplicas: number;
}

/**
 * What an autoscaler's Deployment needs for its scaling to be bounded and meaningful: CPU and
 * memory limits on every container (an autoscaled track multiplies whatever one pod may take),
 * and a CPU request where it scales on CPU utilization (a percentage of the request).
 */
function unboundedTarget(hpa: PolicyResource, resources: readonly PolicyResource[]): string[] {
    const name = stringAt(hpa.props, "spec", "scaleTargetRef", "name");
    const namespace = stringAt(hpa.props, "metadata", "namespace");
    const target = resources.find((r) => r.type === TYPES.deployment && stringAt(r.props, "metadata", "name") === name && stringAt(r.props, "metadata", "namespace") === namespace);
    const podSpec = target && podSpecOf(target.type, target.props);
    if (!podSpec) return [`scales Deployment ${name ?? "?"}, which is not in the stack: its pods' limits cannot be checked`];
    const onCpu = arrayAt(hpa.props, "spec", "metrics").some((m) => stringAt(m, "resource", "name") === "cpu");
    return containersOf(podSpec).flatMap((c) => [
        ...["cpu", "memory"].filter((r) => recordAt(c.spec, "resources", "limits")?.[r] === undefined).map((r) => `scales Deployment ${name ?? "?"}, whose container ${c.name} has no ${r} limit`),
        ...(onCpu && !c.init && recordAt(c.spec, "resources", "requests")?.cpu === undefined
            ? [`scales on CPU utilization, a share of the CPU request, and container ${c.name} of ${name ?? "?"} requests none`]
            : []),
    ]);
}

const autoscalerBounded = stackPolicy(
    {
        name: "autoscaler-bounded",
        description:
            "An autoscaled track multiplies what one pod may take: every HorizontalPodAutoscaler has at least one replica, at most maxReplicas, and scales a Deployment of the stack whose containers all have CPU and memory limits.",
        theme: "workloads",
        configSchema: { properties: { maxReplicas: { type: "integer", default: 100, minimum: 1 } } },
    },
    (args, report) => {
        const { maxReplicas } = args.getConfig<AutoscalerConfig>();
        for (const hpa of args.resources.filter((r) => r.type === TYPES.horizontalPodAutoscaler)) {
            const count = (key: string) => {
                const value = recordAt(hpa.props, "spec")?.[key];
                return typeof value === "number" ? value : undefined;
            };
            const [min, max] = [count("minReplicas"), count("maxReplicas")];
            if (max === undefined || max > maxReplicas)
                report(`HorizontalPodAutoscaler ${hpa.name} may scale to ${max ?? "no limit of"} replicas; at most ${maxReplicas} (the policy's maxReplicas)`, hpa.urn);
            if (min === undefined || min < 1) report(`HorizontalPodAutoscaler ${hpa.name} has minReplicas ${min ?? "unset"}; at least 1, so the track never scales to nothing under traffic`, hpa.urn);
            for (const finding of unboundedTarget(hpa, args.resources)) report(`HorizontalPodAutoscaler ${hpa.name} ${finding}`, hpa.urn);
        }
    },
);

export const workloadPolicies: ModelshipPolicy[] = [imagePinned, probesRequired, resourceLimits, nonRoot, noPrivileged, noHostAccess, noPublicLoadBalancer, autoscalerBounded];
