/**
 * The name each provider would give a recorded resource, and the limit AWS, Kubernetes and Docker
 * put on it. Written from the providers' and services' documentation, not from components/naming.ts,
 * so that a test against it checks the components instead of repeating them.
 */
import type { RecordedResource } from "../../tools/mock-runtime";
import { IAM_TYPES, TYPES } from "../../components/type-tokens";

export interface NameLimit {
    max: number;
    /** What the service accepts, length aside. */
    pattern: RegExp;
    /** Where the limit comes from, for the failure message. */
    why: string;
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ALB_NAME = /^(?!internal-)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;
const IAM_NAME = /^[\w+=,.@-]+$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

const limit = (max: number, pattern: RegExp, why: string): NameLimit => ({ max, pattern, why });

/** Kubernetes: names that become DNS labels (a Service's host name, a Job's `job-name` label, a namespace) are 63; others 253. */
const KUBERNETES_BY_KIND: Record<string, NameLimit> = {
    Namespace: limit(63, DNS_1123_LABEL, "a namespace is a DNS-1123 label"),
    Service: limit(63, DNS_1035_LABEL, "a Service name is a DNS-1035 label (its host name)"),
    Deployment: limit(63, DNS_1123_LABEL, "a Deployment's pods take its name as their host name"),
    Job: limit(63, DNS_1123_LABEL, "a Job's name is its pods' job-name label value"),
};
const KUBERNETES_OBJECT = limit(253, DNS_1123_SUBDOMAIN, "a Kubernetes object name is a DNS-1123 subdomain");
export const LABEL_VALUE = limit(63, /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, "a Kubernetes label value");

interface Named {
    /** The input that carries the physical name (the first of several that is set). */
    field: string | readonly string[];
    limit: NameLimit;
}

/** Every resource type that has a physical name. The AWS limits are the API's (CreateLoadBalancer, CreateTargetGroup, CreateRole, ...). */
const NAMED: Record<string, Named> = {
    [TYPES.loadBalancer]: { field: "name", limit: limit(32, ALB_NAME, "ALB names: 32 letters, digits and hyphens") },
    [TYPES.targetGroup]: { field: "name", limit: limit(32, ALB_NAME, "target group names: 32 letters, digits and hyphens") },
    [IAM_TYPES.role]: { field: "name", limit: limit(64, IAM_NAME, "IAM role names: 64") },
    [IAM_TYPES.instanceProfile]: { field: "name", limit: limit(128, IAM_NAME, "instance profile names: 128") },
    [IAM_TYPES.rolePolicy]: { field: "name", limit: limit(128, IAM_NAME, "inline role policy names: 128") },
    [TYPES.logGroup]: { field: "name", limit: limit(512, /^[A-Za-z0-9_\-/.#]+$/, "log group names: 512") },
    [TYPES.metricAlarm]: { field: "name", limit: limit(255, PRINTABLE, "alarm names: 255") },
    [TYPES.ecrRepository]: { field: "name", limit: limit(256, /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, "ECR repository names: 256") },
    [TYPES.securityGroup]: { field: "name", limit: limit(255, /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, "security group names: 255") },
    [TYPES.launchTemplate]: { field: "name", limit: limit(128, /^[A-Za-z0-9().\-/_]+$/, "launch template names: 128") },
    [TYPES.autoscalingGroup]: { field: "name", limit: limit(255, PRINTABLE, "Auto Scaling group names: 255") },
    // A replica's alias on the network is the host name the router resolves: one DNS label's length.
    // (Its container name is the provider's, new with every container.)
    [TYPES.container]: { field: ["networksAdvanced.0.aliases.0", "name"], limit: limit(63, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a replica's alias, the host name the router resolves") },
    [TYPES.network]: { field: "name", limit: limit(253, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a Docker network name") },
    // A local volume is a directory of the engine's, named after it: one file name's length.
    [TYPES.volume]: { field: "name", limit: limit(255, /^[A-Za-z0-9][A-Za-z0-9_.-]+$/, "a Docker volume name (the engine's directory for it)") },
};

/**
 * Types the program leaves to the provider's auto-naming on purpose: a replacement (a new version,
 * or the version a failed update returns to) must never meet its predecessor's name while the
 * predecessor is still mounted. Their limits are still checked, on the provider's pattern.
 */
export const PROVIDER_NAMED = new Set<string>([TYPES.volume]);

/** Types whose resources have no name of their own (ids, references, commands). */
const UNNAMED = new Set<string>([TYPES.listener, TYPES.listenerRule, TYPES.securityGroupIngressRule, TYPES.securityGroupEgressRule, TYPES.ecrLifecycle, TYPES.image, TYPES.remoteImage, TYPES.command]);

/**
 * Without an explicit name, the aws provider and the docker one (plugins/pulumi-resource-docker's
 * auto-naming) name a resource `<logical name>-<7 hex>` (and fail when that exceeds the limit; they
 * do not truncate); the kubernetes provider `<logical name>-<8 chars>`.
 */
function autoName(resource: RecordedResource): string {
    if (resource.type.startsWith("aws:") || resource.type.startsWith("docker:")) return `${resource.name}-${"f".repeat(7)}`;
    if (resource.type.startsWith("kubernetes:")) return `${resource.name}-${"f".repeat(8)}`;
    throw new Error(`${resource.type} ${resource.name}: its provider has no auto-naming, and no name was given`);
}

function explicitValue(resource: RecordedResource, path: string): unknown {
    return path.split(".").reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], resource.inputs);
}

/** The first of the fields that is set: a replica's alias, or else the router container's name. */
function explicitName(resource: RecordedResource, field: string | readonly string[]): string | undefined {
    for (const path of typeof field === "string" ? [field] : field) {
        const value = explicitValue(resource, path);
        if (typeof value === "string") return value;
    }
    return undefined;
}

export interface PhysicalName {
    resource: string;
    name: string;
    explicit: boolean;
    limit: NameLimit;
}

/** The physical name of every named resource; throws on a type this table does not know, so a new kind cannot slip past. */
export function physicalNames(resources: readonly RecordedResource[]): PhysicalName[] {
    return resources.flatMap((resource): PhysicalName[] => {
        if (!resource.custom || UNNAMED.has(resource.type) || resource.type.startsWith("pulumi:")) return [];
        const named: Named | undefined = resource.type.startsWith("kubernetes:")
            ? { field: "metadata.name", limit: KUBERNETES_BY_KIND[String(resource.inputs.kind)] ?? KUBERNETES_OBJECT }
            : NAMED[resource.type];
        if (!named) throw new Error(`${resource.type} ${resource.name}: no name limit known for this type; add it to test/support/physical-names.ts`);
        const explicit = explicitName(resource, named.field);
        return [{ resource: `${resource.type}::${resource.name}`, name: explicit ?? autoName(resource), explicit: explicit !== undefined, limit: named.limit }];
    });
}

/** Where Kubernetes objects carry labels or label selectors (Prometheus alert labels in a rule's spec are not Kubernetes labels). */
const LABEL_PATHS = ["metadata.labels", "spec.selector.matchLabels", "spec.template.metadata.labels"];

/** Every label value of every Kubernetes object, and of every Service's selector. */
export function labelValues(resources: readonly RecordedResource[]): Array<{ resource: string; key: string; value: string }> {
    return resources
        .filter((r) => r.type.startsWith("kubernetes:") && r.custom)
        .flatMap((r) => {
            const paths = r.inputs.kind === "Service" ? [...LABEL_PATHS, "spec.selector"] : LABEL_PATHS;
            return paths.flatMap((path) => {
                const labels = explicitValue(r, path);
                return labels !== null && typeof labels === "object" ? Object.entries(labels).map(([key, value]) => ({ resource: `${r.type}::${r.name}`, key, value: String(value) })) : [];
            });
        });
}

/** Each name over its limit or refused by its service, as a line a person can act on. */
export function nameProblems(resources: readonly RecordedResource[]): string[] {
    const names = physicalNames(resources).flatMap(({ resource, name, explicit, limit }) =>
        name.length > limit.max || !limit.pattern.test(name)
            ? [`${resource}: ${explicit ? "" : "auto-"}name "${name}" (${name.length} characters) breaks ${limit.why} (max ${limit.max}, ${limit.pattern})`]
            : [],
    );
    const labels = labelValues(resources).flatMap(({ resource, key, value }) =>
        value.length > LABEL_VALUE.max || !LABEL_VALUE.pattern.test(value)
            ? [`${resource}: label ${key}="${value}" (${value.length} characters) breaks ${LABEL_VALUE.why} (max ${LABEL_VALUE.max})`]
            : [],
    );
    return [...names, ...labels];
}
