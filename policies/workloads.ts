/**
 * Workloads: what runs must be the image that was reviewed, observable by its probes, bounded in
 * resources, and unable to act as root or reach the host.
 */
import { imageTag, isPinnedByDigest } from "../components/config/schema";
import { resourcePolicy, type ModelshipPolicy } from "./lib";
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

export const workloadPolicies: ModelshipPolicy[] = [imagePinned, probesRequired, resourceLimits, nonRoot, noPrivileged, noHostAccess, noPublicLoadBalancer];
