/**
 * Workloads: what runs must be the image that was reviewed, observable by its probes, bounded in
 * resources, and unable to act as root or reach the host.
 */
import { imageTag, isPinnedByDigest } from "../components/config/schema";
import { arrayAt, containersOf, isRecord, podSpecOf, recordAt, resourcePolicy, stringAt, TYPES, type ContainerSpec, type ModelshipPolicy, type Props } from "./lib";
import { publicExposure, workloadImages } from "./target-readers";

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

function dockerHealthcheck(props: Props): string[] {
    return arrayAt(props, "healthcheck", "tests").filter((t): t is string => typeof t === "string");
}

const probesRequired = resourcePolicy(
    {
        name: "probes-required",
        description: "Without a readiness probe traffic reaches a model that has not loaded; without a liveness probe a hung server is never restarted.",
        theme: "workloads",
    },
    (args, report) => {
        const podSpec = podSpecOf(args.type, args.props);
        // A Job runs to completion and serves nothing: there is no readiness to probe.
        if (podSpec && args.type !== TYPES.job) {
            for (const c of containersOf(podSpec).filter((c) => !c.init)) {
                for (const probe of ["readinessProbe", "livenessProbe"]) {
                    if (!recordAt(c.spec, probe)) report(`container ${c.name} has no ${probe}`);
                }
            }
        } else if (args.type === TYPES.container) {
            const tests = dockerHealthcheck(args.props);
            if (tests.length === 0 || tests[0] === "NONE") report("the container has no health check: Docker cannot tell a loaded model from a starting one");
        }
    },
);

const resourceLimits = resourcePolicy(
    {
        name: "resource-limits",
        description: "A model server without CPU and memory limits can starve its neighbours on the node; every Kubernetes container declares both.",
        theme: "workloads",
    },
    (args, report) => {
        const podSpec = podSpecOf(args.type, args.props);
        if (!podSpec) return;
        for (const c of containersOf(podSpec)) {
            const missing = ["cpu", "memory"].filter((r) => recordAt(c.spec, "resources", "limits")?.[r] === undefined);
            if (missing.length > 0) report(`container ${c.name} has no ${missing.join(" or ")} limit`);
        }
    },
);

function isRootUser(user: string | undefined): boolean {
    return user === undefined || user === "" || /^(root|0)(:.*)?$/.test(user);
}

const nonRoot = resourcePolicy(
    {
        name: "workload-non-root",
        description: "A process running as root turns any flaw in the model server into control of the container and a step towards the node.",
        theme: "workloads",
    },
    (args, report) => {
        const podSpec = podSpecOf(args.type, args.props);
        if (podSpec) {
            const pod = recordAt(podSpec, "securityContext") ?? {};
            for (const c of containersOf(podSpec)) {
                const own = recordAt(c.spec, "securityContext") ?? {};
                const nonRootSet = (own.runAsNonRoot ?? pod.runAsNonRoot) === true;
                const uid = own.runAsUser ?? pod.runAsUser;
                if (!nonRootSet) report(`container ${c.name} does not set runAsNonRoot: true (pod or container securityContext)`);
                if (uid === 0) report(`container ${c.name} runs as uid 0`);
            }
        } else if (args.type === TYPES.container && isRootUser(stringAt(args.props, "user"))) {
            report(`the container runs as ${stringAt(args.props, "user") ?? "the image's user, unchecked"}; set user to a non-root uid`);
        }
    },
);

const DANGEROUS_CAPABILITIES = new Set(["ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH"]);

function privilegeProblems(c: ContainerSpec): string[] {
    const context = recordAt(c.spec, "securityContext") ?? {};
    const added = arrayAt(context, "capabilities", "add").filter((cap): cap is string => typeof cap === "string");
    return [
        ...(context.privileged === true ? [`container ${c.name} is privileged`] : []),
        ...(context.allowPrivilegeEscalation === true ? [`container ${c.name} allows privilege escalation`] : []),
        ...added.filter((cap) => DANGEROUS_CAPABILITIES.has(cap.toUpperCase())).map((cap) => `container ${c.name} adds capability ${cap}`),
    ];
}

const noPrivileged = resourcePolicy(
    {
        name: "workload-no-privileged",
        description: "Privileged containers, privilege escalation and admin capabilities remove the isolation between a model server and its host.",
        theme: "workloads",
    },
    (args, report) => {
        const podSpec = podSpecOf(args.type, args.props);
        if (podSpec) containersOf(podSpec).flatMap(privilegeProblems).forEach((problem) => report(problem));
        else if (args.type === TYPES.container) {
            if (args.props.privileged === true) report("the container is privileged");
            const added = arrayAt(args.props, "capabilities", "adds").filter((cap): cap is string => typeof cap === "string");
            for (const cap of added.filter((c) => DANGEROUS_CAPABILITIES.has(c.toUpperCase()))) report(`the container adds capability ${cap}`);
        }
    },
);

const noHostAccess = resourcePolicy(
    {
        name: "workload-no-host-access",
        description: "Host networking, host namespaces, host ports and writable host paths let a container see or change its node.",
        theme: "workloads",
    },
    (args, report) => {
        const podSpec = podSpecOf(args.type, args.props);
        if (podSpec) {
            for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) if (podSpec[flag] === true) report(`the pod sets ${flag}`);
            for (const volume of arrayAt(podSpec, "volumes").filter(isRecord)) {
                if (recordAt(volume, "hostPath")) report(`volume ${stringAt(volume, "name") ?? "(unnamed)"} mounts a hostPath`);
            }
            for (const c of containersOf(podSpec)) {
                if (arrayAt(c.spec, "ports").some((p) => isRecord(p) && p.hostPort !== undefined)) report(`container ${c.name} binds a hostPort`);
            }
        } else if (args.type === TYPES.container) {
            for (const mode of ["networkMode", "pidMode", "ipcMode"]) if (args.props[mode] === "host") report(`the container sets ${mode}: host`);
            for (const mount of arrayAt(args.props, "mounts").filter(isRecord)) {
                if (mount.type === "bind" && mount.readOnly !== true) report(`bind mount of ${String(mount.source)} is writable; mount host files read-only`);
            }
        }
    },
);

interface ExposureConfig {
    forbidPublic: boolean;
}

const noPublicLoadBalancer = resourcePolicy(
    {
        name: "no-public-load-balancer",
        description: "Model endpoints are reached through the router and the Gateway from inside the network; an internet-facing AWS load balancer, a LoadBalancer Service without an internal scheme, or a port published on every interface faces the internet.",
        theme: "workloads",
        configSchema: { properties: { forbidPublic: { type: "boolean", default: false } } },
    },
    (args, report) => {
        if (!args.getConfig<ExposureConfig>().forbidPublic) return;
        for (const reason of publicExposure(args.type, args.props)) report(reason);
    },
);

export const workloadPolicies: ModelshipPolicy[] = [imagePinned, probesRequired, resourceLimits, nonRoot, noPrivileged, noHostAccess, noPublicLoadBalancer];
