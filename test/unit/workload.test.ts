import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as net from "net";
import { modelSchema } from "../../components/config/schema";
import { routerDeploymentObject } from "../../components/targets/kubernetes/router";
import { SHADOW_COPIES_IN_FLIGHT } from "../../components/traffic/nginx";
import { MAX_ARTIFACT_BYTES, MAX_BODY_BYTES } from "../../model-server/src/limits";
import { deploymentObject, podDisruptionBudgetObject, serviceObject, waitForDependenciesScript, type TrackWorkloadArgs } from "../../components/targets/kubernetes/workload";
import { STS_AUDIENCE } from "../../components/iam";
import { planTraffic } from "../../components/traffic/plan";

function runNode(script: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, output });
        });
    });
}

function listen(): Promise<net.Server> {
    return new Promise((resolve) => {
        const server = net.createServer((socket) => socket.end());
        server.listen(0, "127.0.0.1", () => resolve(server));
    });
}

const rawModel = {
    artifact: "s3://models/fraud-scorer/",
    tracks: { stable: { version: "1.4.0", image: "r/m:1.4.0", replicas: 3 } },
    strategy: { type: "rolling", maxSurge: 1, maxUnavailable: 0 },
};
const model = modelSchema.parse(rawModel);
const plan = planTraffic("fraud-scorer", model);
/** fraud-scorer's stable Deployment in prod, with any argument replaced. */
const deploymentWith = (overrides: Partial<TrackWorkloadArgs> = {}) =>
    deploymentObject({
        environment: "prod",
        namespace: "models",
        model: "fraud-scorer",
        config: model,
        track: plan.tracks[0],
        poolUpdate: plan.poolUpdate,
        image: "r/m@sha256:abc",
        serviceAccountName: "fraud-scorer",
        artifactStore: {},
        ...overrides,
    });
const deployment = deploymentWith();
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

describe("kubernetes workload objects", () => {
    it("a track's Service and disruption budget outlive its versions: a new version changes neither (on a real node, each such Service update held the update for the provider's 10-minute wait)", () => {
        const candidate = planTraffic(
            "fraud-scorer",
            modelSchema.parse({ ...rawModel, tracks: { ...rawModel.tracks, candidate: { version: "1.5.0", image: "r/m:1.5.0" } }, strategy: { type: "canary", steps: [10, 100] } }),
        ).tracks[1];
        const args = { environment: "prod", namespace: "models", model: "fraud-scorer" };
        for (const object of [serviceObject, podDisruptionBudgetObject]) {
            assert.deepEqual(object({ ...args, track: candidate }), object({ ...args, track: { ...candidate, version: "1.6.0" } }), object.name);
        }
        assert.notEqual(
            deploymentWith({ track: candidate }).metadata.labels["app.kubernetes.io/version"],
            deploymentWith({ track: { ...candidate, version: "1.6.0" } }).metadata.labels["app.kubernetes.io/version"],
            "the Deployment names its version",
        );
    });

    it("each track's pods prefer nodes without the other track's pods of the model, and still schedule on one node", () => {
        const terms = (d: ReturnType<typeof deploymentWith>) => d.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
        assert.deepEqual(terms(deployment), [
            {
                weight: 100,
                podAffinityTerm: { labelSelector: { matchLabels: { "app.kubernetes.io/name": "fraud-scorer", "modelship.dev/track": "candidate" } }, topologyKey: "kubernetes.io/hostname" },
            },
        ]);
        assert.deepEqual(terms(deploymentWith({ track: { ...plan.tracks[0], track: "candidate" } }))[0].podAffinityTerm.labelSelector.matchLabels["modelship.dev/track"], "stable");
        assert.equal("requiredDuringSchedulingIgnoredDuringExecution" in deployment.spec.template.spec.affinity.podAntiAffinity, false);
    });

    it("Kubernetes gives up on a rollout when the update does: its progress deadline is the model's readyTimeoutSeconds", () => {
        assert.equal(deployment.spec.progressDeadlineSeconds, 600, "the default");
        const quick = modelSchema.parse({ ...rawModel, readyTimeoutSeconds: 45 });
        assert.equal(deploymentWith({ config: quick }).spec.progressDeadlineSeconds, 45);
    });

    it("probes the model server: startup and readiness on ready, liveness on live", () => {
        assert.equal(container.startupProbe.httpGet.path, "/v2/health/ready");
        assert.equal(container.readinessProbe.httpGet.path, "/v2/health/ready");
        assert.equal(container.livenessProbe.httpGet.path, "/v2/health/live");
        assert.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 300, "a slow model load has five minutes");
    });

    it("runs non-root, read-only, without privileges or capabilities", () => {
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.ok(pod.securityContext.runAsUser > 0);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
        assert.deepEqual(
            container.volumeMounts,
            [
                { name: "tmp", mountPath: "/tmp" },
                { name: "model", mountPath: "/models", readOnly: true },
            ],
            "a writable /tmp on a read-only root, and the fetched artifact read-only",
        );
    });

    it("requests and limits resources; the rolling update uses the configured batch", () => {
        assert.deepEqual(container.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        assert.deepEqual(deployment.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        assert.equal(deployment.spec.replicas, 3);
    });

    it("tells the server its own memory limit from the pod's, for the analysis' memory template", () => {
        const limit = container.env.find((e) => e.name === "MODELSHIP_MEMORY_LIMIT_BYTES");
        assert.deepEqual(limit, { name: "MODELSHIP_MEMORY_LIMIT_BYTES", valueFrom: { resourceFieldRef: { containerName: "model-server", resource: "limits.memory" } } });
    });

    it("tells the server its model, version, track and artifact", () => {
        const env = Object.fromEntries(container.env.map((e) => [e.name, "value" in e ? e.value : undefined]));
        assert.equal(env.MODEL_NAME, "fraud-scorer");
        assert.equal(env.MODEL_VERSION, "1.4.0");
        assert.equal(env.MODEL_TRACK, "stable");
        assert.equal(env.MODEL_ARTIFACT, "/models/fraud-scorer", "the server reads what the initializer wrote, not the registry");
        assert.equal(env.FEATURE_FLAGS, "{}");
    });

    it("an init container of the track's own image fetches the track's version from the registry into the volume the server reads", () => {
        assert.equal(pod.initContainers.length, 1, "no dependencies: only the artifact initializer");
        const init = pod.initContainers[0];
        assert.equal(init.name, "fetch-artifact");
        assert.equal(init.image, "r/m@sha256:abc", "the track's own image: no other image to trust");
        assert.deepEqual(init.command, ["node", "dist/src/fetch-artifact.js", "--source", "s3://models/fraud-scorer/", "--version", "1.4.0", "--dest", "/models/fraud-scorer"]);
        assert.deepEqual(init.volumeMounts, [{ name: "model", mountPath: "/models" }], "the initializer alone writes the volume");
        assert.equal(init.securityContext.readOnlyRootFilesystem, true);
        assert.equal(init.securityContext.runAsNonRoot, true);
        assert.ok(init.resources.limits.memory, "bounded like every container");
        for (const c of [init, container]) assert.equal(c.terminationMessagePolicy, "FallbackToLogsOnError", `${c.name}: why it failed shows in the pod's status`);
        const volume = pod.volumes.find((v) => v.name === "model");
        // 2 x (16 MiB model.json + 1 GiB listed file): an ONNX model or another server's largest file, each beside its temporary copy.
        assert.equal(MAX_ARTIFACT_BYTES, 16 * 1024 * 1024);
        assert.deepEqual(volume?.emptyDir, { sizeLimit: "2080Mi" }, "room for the largest model.json and listed file, each with its temporary copy");
    });

    it("the candidate's initializer fetches the candidate's version", () => {
        const canary = modelSchema.parse({
            artifact: "s3://models/fraud-scorer/",
            tracks: { stable: { version: "1.4.0", image: "r/m:1.4.0" }, candidate: { version: "1.5.0", image: "r/m:1.5.0" } },
            strategy: { type: "canary", steps: [10] },
        });
        const canaryPlan = planTraffic("fraud-scorer", canary);
        const candidate = canaryPlan.tracks.find((t) => t.track === "candidate")!;
        const spec = deploymentObject({
            environment: "prod",
            namespace: "models",
            model: "fraud-scorer",
            config: canary,
            track: candidate,
            poolUpdate: canaryPlan.poolUpdate,
            image: "r/m@sha256:def",
            serviceAccountName: "fraud-scorer",
            artifactStore: {},
        }).spec.template.spec;
        const command = spec.initContainers[0].command;
        assert.equal(command[command.indexOf("--version") + 1], "1.5.0");
        const version = spec.containers[0].env.find((e) => e.name === "MODEL_VERSION");
        assert.ok(version && "value" in version);
        assert.equal(version.value, "1.5.0");
    });

    describe("how the fetch-artifact init container reaches the store", () => {
        const ROLE = "arn:aws:iam::123456789012:role/modelship-prod-fraud-scorer-pods";
        const STORE = { endpoint: "http://10.0.0.5:9000", stsEndpoint: "http://10.0.0.5:9000", region: "eu-west-1" };
        const withDeps = modelSchema.parse({ ...rawModel, dependsOn: [{ name: "cache", host: "cache.data", port: 6379 }] });
        const podOf = (overrides: Partial<TrackWorkloadArgs>) => {
            const object = deploymentWith(overrides);
            return { annotations: object.spec.template.metadata.annotations as Record<string, string>, spec: object.spec.template.spec };
        };
        const envOf = (c: { env?: Array<{ name: string; value?: string }> }) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
        const AWS_KEYS = /^AWS_/;

        it("the store's endpoints and region reach the initializer as the SDK's variables, and no other container", () => {
            const { spec } = podOf({ artifactStore: STORE, config: withDeps });
            const fetch = spec.initContainers.find((c) => c.name === "fetch-artifact")!;
            assert.deepEqual(envOf(fetch), { AWS_ENDPOINT_URL_S3: "http://10.0.0.5:9000", AWS_ENDPOINT_URL_STS: "http://10.0.0.5:9000", AWS_REGION: "eu-west-1" });
            for (const other of [...spec.initContainers.filter((c) => c.name !== "fetch-artifact"), ...spec.containers]) {
                assert.deepEqual(
                    Object.keys(envOf(other)).filter((k) => AWS_KEYS.test(k)),
                    [],
                    `${other.name} never reads S3`,
                );
            }
        });

        it("without a store setting or a role the initializer gets no AWS variable (the SDK's defaults) and the pod no token", () => {
            const { spec, annotations } = podOf({});
            assert.equal(spec.initContainers[0].env, undefined);
            assert.deepEqual(
                spec.volumes.map((v) => v.name),
                ["tmp", "model"],
            );
            assert.equal(annotations["eks.amazonaws.com/skip-containers"], undefined);
        });

        it("with a role, the pod carries its own web identity: a projected STS-audience token of bounded life, mounted into the initializer alone, which names the role and the token file", () => {
            const { spec } = podOf({ roleArn: ROLE, artifactStore: STORE, config: withDeps });
            const tokenVolumes = spec.volumes.filter((v) => v.projected !== undefined);
            assert.equal(tokenVolumes.length, 1);
            const volume = tokenVolumes[0];
            assert.equal(volume.name, "aws-iam-token", "the pod identity webhook's own name: it adds no second volume");
            const token = volume.projected!.sources[0].serviceAccountToken;
            assert.equal(token.audience, STS_AUDIENCE);
            assert.ok(token.expirationSeconds >= 600 && token.expirationSeconds <= 3600, `expirationSeconds ${token.expirationSeconds} within [600, 3600]`);
            const fetch = spec.initContainers.find((c) => c.name === "fetch-artifact")!;
            const mount = (fetch.volumeMounts ?? []).find((m) => m.name === "aws-iam-token") as { mountPath: string; readOnly?: boolean } | undefined;
            assert.ok(mount, "the initializer mounts the token");
            assert.equal(mount.readOnly, true);
            const env = envOf(fetch);
            assert.equal(env.AWS_ROLE_ARN, ROLE);
            assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, `${mount.mountPath}/${token.path}`);
            assert.equal(env.AWS_ENDPOINT_URL_STS, "http://10.0.0.5:9000", "the exchange goes to the configured STS");
            for (const other of [...spec.initContainers.filter((c) => c.name !== "fetch-artifact"), ...spec.containers]) {
                const mounts = ((other as { volumeMounts?: Array<{ name: string }> }).volumeMounts ?? []).map((m) => m.name);
                assert.ok(!mounts.includes("aws-iam-token"), `${other.name} does not mount the token`);
                assert.deepEqual(
                    Object.keys(envOf(other)).filter((k) => AWS_KEYS.test(k)),
                    [],
                    `${other.name} gets no AWS variable`,
                );
            }
            assert.equal(spec.automountServiceAccountToken, false, "no Kubernetes API token either");
        });

        it("with a role, the pod tells EKS's pod identity webhook to leave every other container alone", () => {
            assert.equal(podOf({ roleArn: ROLE }).annotations["eks.amazonaws.com/skip-containers"], "model-server");
            assert.equal(podOf({ roleArn: ROLE, config: withDeps }).annotations["eks.amazonaws.com/skip-containers"], "wait-for-dependencies,model-server");
        });
    });

    it("the nginx router rolls its pods when its config changes, and only then", () => {
        const args = { environment: "prod", namespace: "models", image: "nginx@sha256:abc", replicas: 2 };
        const hash = (conf: string) => routerDeploymentObject({ ...args, nginxConf: conf }).spec.template.metadata.annotations["modelship.dev/config-sha256"];
        assert.equal(hash("a"), hash("a"));
        assert.notEqual(hash("a"), hash("b"));
    });

    it("a retiring nginx router pod keeps accepting while the Service forgets it, then drains gracefully, within its grace period", () => {
        const spec = routerDeploymentObject({ environment: "prod", namespace: "models", image: "nginx@sha256:abc", replicas: 2, nginxConf: "" }).spec.template.spec;
        const hook = spec.containers[0].lifecycle?.preStop.exec.command ?? [];
        assert.deepEqual(hook.slice(0, 2), ["/bin/sh", "-c"]);
        const [delay, quit, wait] = hook[2].split("; ");
        assert.equal(delay, "sleep 5");
        assert.equal(quit, "nginx -s quit", "SIGQUIT's graceful shutdown, not SIGTERM's fast one");
        // The upstream read (30 s) after proxy_next_upstream_timeout (5 s), after the delay.
        assert.ok(spec.terminationGracePeriodSeconds >= 5 + 30 + 5, `grace ${spec.terminationGracePeriodSeconds} s`);
        assert.equal(wait, `sleep ${spec.terminationGracePeriodSeconds}`, "the hook outlives nginx, so the kubelet's SIGTERM never cuts the drain short");
    });

    it("the nginx router's /tmp emptyDir holds what nginx buffers there: 64 client bodies and the mirrored copies in flight, each at the model server's limit", () => {
        const deployment = routerDeploymentObject({ environment: "prod", namespace: "models", image: "nginx@sha256:abc", replicas: 2, nginxConf: "" });
        const tmp = deployment.spec.template.spec.volumes.find((v) => v.name === "tmp");
        assert.deepEqual(tmp?.emptyDir, { sizeLimit: `${((64 + SHADOW_COPIES_IN_FLIGHT) * MAX_BODY_BYTES) / (1024 * 1024)}Mi` });
        assert.ok(deployment.spec.template.spec.containers[0].volumeMounts.some((m) => m.name === "tmp" && m.mountPath === "/tmp"));
    });

    describe("the wait-for-dependencies init script, run with node", () => {
        let server: net.Server;
        before(async () => {
            server = await listen();
        });
        after(() => server.close());

        it("exits 0 once every dependency accepts connections", async () => {
            const port = (server.address() as net.AddressInfo).port;
            const result = await runNode(waitForDependenciesScript([{ name: "cache", host: "127.0.0.1", port }], 5), 10_000);
            assert.equal(result.code, 0, result.output);
            assert.match(result.output, /dependency cache is reachable/);
        });

        it("exits 1 naming the dependency that stays unreachable", async () => {
            const closed = await listen();
            const port = (closed.address() as net.AddressInfo).port;
            await new Promise((r) => closed.close(r));
            const result = await runNode(waitForDependenciesScript([{ name: "feature-store", host: "127.0.0.1", port }], 1), 15_000);
            assert.equal(result.code, 1);
            assert.match(result.output, new RegExp(`dependency feature-store at 127\\.0\\.0\\.1:${port} is unreachable after 1s`));
        });
    });
});
