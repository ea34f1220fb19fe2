import { strict as assert } from "assert";
import { workloadPolicies } from "../../../policies/workloads";
import { DIGEST } from "../../fixtures";
import { resource, violationsOf } from "../../support/policies";
import { TYPES } from "../../../components/type-tokens";

const policy = (name: string) => workloadPolicies.find((p) => p.name === name)!;
const DEPLOYMENT = TYPES.deployment;
const CONTAINER = TYPES.container;

/** A manifest fragment the tests change one field at a time, at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- written field by field by the tests, which is what they check
type Manifest = Record<string, any>;

/** A Deployment that passes every workload policy; tests break one thing at a time. */
function deployment(change: (pod: Manifest, container: Manifest) => void = () => undefined) {
    const container: Manifest = {
        name: "model-server",
        image: `registry.example/m@${DIGEST}`,
        readinessProbe: { httpGet: { path: "/v2/health/ready", port: "http" } },
        livenessProbe: { httpGet: { path: "/v2/health/live", port: "http" } },
        resources: { limits: { cpu: "1", memory: "512Mi" } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    };
    const pod: Manifest = { securityContext: { runAsNonRoot: true, runAsUser: 10001 }, containers: [container], volumes: [{ name: "tmp", emptyDir: {} }] };
    change(pod, container);
    return resource(DEPLOYMENT, { metadata: { name: "m" }, spec: { template: { spec: pod } } });
}

function dockerContainer(props: Record<string, unknown> = {}) {
    return resource(CONTAINER, { image: DIGEST, user: "10001:10001", healthcheck: { tests: ["CMD", "true"] }, ...props });
}

describe("workload policies", () => {
    it("a hardened Deployment and docker container pass every workload policy", async () => {
        for (const p of workloadPolicies) {
            assert.deepEqual(await violationsOf(p, [deployment(), dockerContainer()], { requireDigest: true, forbidPublic: true }), [], p.name);
        }
    });

    describe("image-pinned", () => {
        it("refuses `latest` and untagged images anywhere, init containers included", async () => {
            const latest = deployment((pod) => pod.containers.push({ name: "sidecar", image: "busybox:latest" }));
            assert.match((await violationsOf(policy("image-pinned"), latest))[0], /container sidecar runs busybox:latest/);
            const untagged = deployment((pod) => (pod.initContainers = [{ name: "wait", image: "busybox" }]));
            assert.match((await violationsOf(policy("image-pinned"), untagged))[0], /container wait runs busybox: `latest` \(or no tag\)/);
            assert.equal((await violationsOf(policy("image-pinned"), dockerContainer({ image: "nginx:latest" }))).length, 1);
        });

        it("refuses tags where requireDigest is set (prod), and accepts them elsewhere", async () => {
            const tagged = deployment((_, c) => (c.image = "registry.example/m:1.4.0"));
            assert.deepEqual(await violationsOf(policy("image-pinned"), tagged, { requireDigest: false }), []);
            assert.match((await violationsOf(policy("image-pinned"), tagged, { requireDigest: true }))[0], /by tag; pin it by digest/);
        });

        it("accepts an image ID, which names one image", async () => {
            assert.deepEqual(await violationsOf(policy("image-pinned"), dockerContainer({ image: DIGEST }), { requireDigest: true }), []);
        });
    });

    describe("probes-required", () => {
        it("needs readiness and liveness probes on every container but init containers", async () => {
            const found = await violationsOf(
                policy("probes-required"),
                deployment((_, c) => delete c.livenessProbe),
            );
            assert.deepEqual(found, ["container model-server has no livenessProbe"]);
            const init = deployment((pod) => (pod.initContainers = [{ name: "wait", image: "x:1" }]));
            assert.deepEqual(await violationsOf(policy("probes-required"), init), []);
        });

        it("needs a docker health check", async () => {
            assert.equal((await violationsOf(policy("probes-required"), dockerContainer({ healthcheck: undefined }))).length, 1);
            assert.equal((await violationsOf(policy("probes-required"), dockerContainer({ healthcheck: { tests: ["NONE"] } }))).length, 1);
        });
    });

    describe("resource-limits", () => {
        it("needs cpu and memory limits", async () => {
            assert.deepEqual(
                await violationsOf(
                    policy("resource-limits"),
                    deployment((_, c) => (c.resources = { limits: { cpu: "1" } })),
                ),
                ["container model-server has no memory limit"],
            );
            assert.deepEqual(
                await violationsOf(
                    policy("resource-limits"),
                    deployment((_, c) => delete c.resources),
                ),
                ["container model-server has no cpu or memory limit"],
            );
        });
    });

    describe("workload-non-root", () => {
        it("needs runAsNonRoot on the pod or the container, and never uid 0", async () => {
            assert.deepEqual(
                await violationsOf(
                    policy("workload-non-root"),
                    deployment((pod) => delete pod.securityContext.runAsNonRoot),
                ),
                ["container model-server does not set runAsNonRoot: true (pod or container securityContext)"],
            );
            const containerLevel = deployment((pod, c) => {
                delete pod.securityContext.runAsNonRoot;
                c.securityContext.runAsNonRoot = true;
            });
            assert.deepEqual(await violationsOf(policy("workload-non-root"), containerLevel), []);
            assert.deepEqual(
                await violationsOf(
                    policy("workload-non-root"),
                    deployment((_, c) => (c.securityContext.runAsUser = 0)),
                ),
                ["container model-server runs as uid 0"],
            );
        });

        it("needs a non-root user on docker containers", async () => {
            for (const user of [undefined, "root", "0", "0:0"]) {
                assert.equal((await violationsOf(policy("workload-non-root"), dockerContainer({ user }))).length, 1, String(user));
            }
        });
    });

    describe("workload-no-privileged", () => {
        it("refuses privileged containers, privilege escalation and admin capabilities", async () => {
            assert.deepEqual(
                await violationsOf(
                    policy("workload-no-privileged"),
                    deployment((_, c) => (c.securityContext.privileged = true)),
                ),
                ["container model-server is privileged"],
            );
            assert.deepEqual(
                await violationsOf(
                    policy("workload-no-privileged"),
                    deployment((_, c) => (c.securityContext.allowPrivilegeEscalation = true)),
                ),
                ["container model-server allows privilege escalation"],
            );
            assert.deepEqual(
                await violationsOf(
                    policy("workload-no-privileged"),
                    deployment((_, c) => (c.securityContext.capabilities = { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] })),
                ),
                ["container model-server adds capability SYS_ADMIN"],
            );
            assert.deepEqual(await violationsOf(policy("workload-no-privileged"), dockerContainer({ privileged: true })), ["the container is privileged"]);
        });
    });

    describe("workload-no-host-access", () => {
        it("refuses host namespaces, hostPath volumes and host ports", async () => {
            const found = await violationsOf(
                policy("workload-no-host-access"),
                deployment((pod, c) => {
                    pod.hostNetwork = true;
                    pod.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
                    c.ports = [{ containerPort: 8080, hostPort: 8080 }];
                }),
            );
            assert.deepEqual(found, ["the pod sets hostNetwork", "volume docker mounts a hostPath", "container model-server binds a hostPort"]);
        });

        it("refuses docker host networking and writable bind mounts, and accepts read-only ones", async () => {
            assert.equal((await violationsOf(policy("workload-no-host-access"), dockerContainer({ networkMode: "host" }))).length, 1);
            const writable = dockerContainer({ mounts: [{ type: "bind", source: "/srv/models", target: "/models" }] });
            assert.match((await violationsOf(policy("workload-no-host-access"), writable))[0], /bind mount of \/srv\/models is writable/);
            const readOnly = dockerContainer({ mounts: [{ type: "bind", source: "/srv/models", target: "/models", readOnly: true }] });
            assert.deepEqual(await violationsOf(policy("workload-no-host-access"), readOnly), []);
        });
    });

    describe("no-public-load-balancer", () => {
        const lb = (annotations: Record<string, string> = {}) => resource(TYPES.service, { metadata: { annotations }, spec: { type: "LoadBalancer" } });

        it("refuses a public LoadBalancer Service where forbidPublic is set (prod), unless annotated internal", async () => {
            assert.equal((await violationsOf(policy("no-public-load-balancer"), lb(), { forbidPublic: true })).length, 1);
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), lb({ "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" }), { forbidPublic: true }), []);
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), lb(), { forbidPublic: false }), []);
        });

        it("refuses an internet-facing AWS load balancer where forbidPublic is set (prod): internal false, or unset (AWS's default scheme)", async () => {
            const alb = (props: Record<string, unknown>) => resource(TYPES.loadBalancer, { loadBalancerType: "application", ...props }, "vms");
            const message =
                "the load balancer is internet-facing (internal is not true): it gets public addresses whatever its security group allows; set internal: true and reach it from inside the VPC";
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), alb({ internal: false }), { forbidPublic: true }), [message]);
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), alb({}), { forbidPublic: true }), [message]);
            assert.deepEqual(
                await violationsOf(policy("no-public-load-balancer"), resource(TYPES.albLoadBalancer, { internal: false }), { forbidPublic: true }),
                [message],
                "the legacy alb module's type",
            );
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), alb({ internal: true }), { forbidPublic: true }), []);
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), alb({ internal: false }), { forbidPublic: false }), []);
        });

        it("refuses docker ports published on every interface", async () => {
            const open = dockerContainer({ ports: [{ internal: 8080, external: 8080 }] });
            assert.match((await violationsOf(policy("no-public-load-balancer"), open, { forbidPublic: true }))[0], /published on every interface/);
            const loopback = dockerContainer({ ports: [{ internal: 8080, external: 8080, ip: "127.0.0.1" }] });
            assert.deepEqual(await violationsOf(policy("no-public-load-balancer"), loopback, { forbidPublic: true }), []);
        });
    });

    describe("autoscaler-bounded", () => {
        const autoscaler = (spec: Manifest) =>
            resource(
                TYPES.horizontalPodAutoscaler,
                { metadata: { name: "m", namespace: "models" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "m" }, ...spec } },
                "m-candidate",
            );
        const inNamespace = (d: ReturnType<typeof deployment>) => ({ ...d, props: { ...d.props, metadata: { name: "m", namespace: "models" } } });
        const CPU = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }];

        it("passes a bounded autoscaler of a Deployment with limits and a CPU request", async () => {
            const target = inNamespace(deployment((_, c) => (c.resources = { requests: { cpu: "500m" }, limits: { cpu: "1", memory: "512Mi" } })));
            assert.deepEqual(await violationsOf(policy("autoscaler-bounded"), [target, autoscaler({ minReplicas: 1, maxReplicas: 20, metrics: CPU })]), []);
        });

        it("refuses one without bounds, above the cap, or scaling to nothing", async () => {
            const target = inNamespace(deployment((_, c) => (c.resources = { requests: { cpu: "500m" }, limits: { cpu: "1", memory: "512Mi" } })));
            assert.deepEqual(await violationsOf(policy("autoscaler-bounded"), [target, autoscaler({ minReplicas: 0, maxReplicas: 500, metrics: CPU })], { maxReplicas: 50 }), [
                "HorizontalPodAutoscaler m-candidate may scale to 500 replicas; at most 50 (the policy's maxReplicas)",
                "HorizontalPodAutoscaler m-candidate has minReplicas 0; at least 1, so the track never scales to nothing under traffic",
            ]);
        });

        it("refuses one whose Deployment has no limits, no CPU request to scale on, or is not in the stack", async () => {
            const bare = inNamespace(deployment((_, c) => (c.resources = {})));
            assert.deepEqual(await violationsOf(policy("autoscaler-bounded"), [bare, autoscaler({ minReplicas: 1, maxReplicas: 4, metrics: CPU })]), [
                "HorizontalPodAutoscaler m-candidate scales Deployment m, whose container model-server has no cpu limit",
                "HorizontalPodAutoscaler m-candidate scales Deployment m, whose container model-server has no memory limit",
                "HorizontalPodAutoscaler m-candidate scales on CPU utilization, a share of the CPU request, and container model-server of m requests none",
            ]);
            assert.deepEqual(await violationsOf(policy("autoscaler-bounded"), [autoscaler({ minReplicas: 1, maxReplicas: 4, metrics: CPU })]), [
                "HorizontalPodAutoscaler m-candidate scales Deployment m, which is not in the stack: its pods' limits cannot be checked",
            ]);
        });
    });
});
