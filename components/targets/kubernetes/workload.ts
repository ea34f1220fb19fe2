/**
 * Pure builders for the Kubernetes objects of one track: Deployment, Service and
 * PodDisruptionBudget. Kept apart from the component so they are tested as plain objects.
 */
import type { DependencyConfig, GpuConfig, ModelConfig } from "../../config/schema";
import type { ArtifactStoreConfig } from "./config";
import { MAX_LISTED_FILE_BYTES } from "../../../model-server/src/files-manifest";
import { MAX_ARTIFACT_BYTES } from "../../../model-server/src/limits";
import { IN_FLIGHT_METRIC } from "../../../model-server/src/metric-names";
import { trackArtifact } from "../../config/model-registry";
import { readinessPath, trackMetrics, trackPort, type ServerConfig } from "../../config/server";
import { fetchArtifactCommand, LIVE_PATH, MEMORY_LIMIT_ENV, MODEL_MOUNT_DIR, modelServerEnv, READY_PATH } from "../../model-server-env";
import { poolLabels, trackLabels, trackName, trackSelector } from "../../naming";
import { TRACK_NAMES, type PoolUpdate, type TrackAutoscaling, type TrackName, type TrackPlan } from "../../traffic/types";
import { artifactAccess, type ArtifactAccess, type EnvVar } from "./artifact-access";

export const SERVICE_PORT = 80;
/** The uid the model-server image runs as; the pod refuses to start as root whatever the image says. */
export const RUN_AS_USER = 10001;
export const DEPENDENCY_WAIT_SECONDS = 300;
/**
 * The artifact volume holds one version's files: model.json and the largest file a manifest may
 * list (an ONNX model, another server's file), each beside its temporary copy while it is written.
 * A limit, not a reservation: the node's disk holds what is written.
 */
export const ARTIFACT_VOLUME_SIZE = `${(2 * (MAX_ARTIFACT_BYTES + MAX_LISTED_FILE_BYTES)) / (1024 * 1024)}Mi`;

export interface TrackWorkloadArgs {
    /** The stack's environment: a label, and the server's MODELSHIP_ENVIRONMENT. */
    environment: string;
    /** The namespace the track runs in: the target's own. */
    namespace: string;
    /** The model's name: the Deployment's and Service's names start with it. */
    model: string;
    /** The model's config: port, resources, GPU, dependencies, artifact and readiness timeout. */
    config: ModelConfig;
    /** The track's plan: version, replicas and feature flags. */
    track: TrackPlan;
    /** How the track's own pool is replaced when its version changes (the Deployment strategy). */
    poolUpdate: PoolUpdate;
    /** The image reference the pods run (by digest where it was built or pinned). */
    image: string;
    /**
     * modelship's model-server image, for a track whose image is another server: its fetch-artifact
     * and dependency wait run as that pod's init containers (the track's own image has neither).
     */
    modelServerImage?: string;
    /** The model's service account: the pods' identity, and the web identity the artifact is read with. */
    serviceAccountName: string;
    /** How the fetch-artifact init container reaches the store; `{}` for AWS's own. */
    artifactStore: ArtifactStoreConfig;
    /** The role the pods' web identity assumes to read the artifact; none: the environment's credentials. */
    roleArn?: string;
    /** Stable during a shadow rollout: the candidate's Service, where the servers send their answers for comparison. */
    shadowCompareUrl?: string;
}

interface VolumeMount {
    name: string;
    mountPath: string;
    readOnly?: boolean;
}

/** The init containers' shape, so that a reader may look for env and mounts on any of them. */
export interface InitContainer {
    name: string;
    image: string;
    command: string[];
    env?: EnvVar[];
    terminationMessagePolicy?: "FallbackToLogsOnError";
    securityContext: typeof restrictedContainerSecurityContext;
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    volumeMounts?: VolumeMount[];
}

export interface PodVolume {
    name: string;
    emptyDir?: { sizeLimit: string };
    projected?: ArtifactAccess["volumes"][number]["projected"];
}

export const FETCH_ARTIFACT_CONTAINER = "fetch-artifact";
export const MODEL_SERVER_CONTAINER = "model-server";
export const WAIT_FOR_DEPENDENCIES_CONTAINER = "wait-for-dependencies";

export const restrictedContainerSecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
};

export function podSecurityContext(uid: number) {
    return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

export function deploymentStrategy(update: PoolUpdate) {
    return update.kind === "recreate" ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxSurge: update.maxSurge, maxUnavailable: update.maxUnavailable } };
}

function httpProbe(path: string, periodSeconds: number, failureThreshold: number) {
    return { httpGet: { path, port: "http" }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

/** A Node.js one-liner (the model image has Node.js) that waits until every dependency accepts TCP connections. */
export function waitForDependenciesScript(deps: readonly DependencyConfig[], timeoutSeconds: number): string {
    const targets = JSON.stringify(deps.map((d) => ({ name: d.name, host: d.host, port: d.port })));
    return [
        `const net=require("net");const deps=${targets};const deadline=Date.now()+${timeoutSeconds * 1000};`,
        `const reach=(d)=>new Promise((ok)=>{const s=net.connect(d.port,d.host);s.setTimeout(2000);`,
        `s.on("connect",()=>{s.destroy();ok(true)});s.on("error",()=>ok(false));s.on("timeout",()=>{s.destroy();ok(false)})});`,
        `(async()=>{for(const d of deps){while(!(await reach(d))){`,
        `if(Date.now()>deadline){console.error("dependency "+d.name+" at "+d.host+":"+d.port+" is unreachable after ${timeoutSeconds}s");process.exit(1)}`,
        `console.log("waiting for "+d.name+" at "+d.host+":"+d.port);await new Promise((r)=>setTimeout(r,2000))}`,
        `console.log("dependency "+d.name+" is reachable")}})();`,
    ].join("");
}

function resources(config: ModelConfig) {
    const gpu: Record<string, string> = config.gpu ? { [config.gpu.resourceName]: String(config.gpu.count) } : {};
    return { requests: { ...config.resources.requests, ...gpu }, limits: { ...config.resources.limits, ...gpu } };
}

function gpuScheduling(gpu: GpuConfig | undefined) {
    if (!gpu) return {};
    return {
        ...(Object.keys(gpu.nodeSelector).length > 0 ? { nodeSelector: gpu.nodeSelector } : {}),
        tolerations: gpu.tolerations,
    };
}

/**
 * The two tracks of a model prefer different nodes, so that losing one node never takes out the
 * version traffic would move back to. Preferred, not required: a cluster of one node still runs both.
 */
function apartFromOtherTrack(model: string, track: TrackName) {
    const others = TRACK_NAMES.filter((t) => t !== track);
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: others.map((other) => ({
                weight: 100,
                podAffinityTerm: { labelSelector: { matchLabels: trackSelector(model, other) }, topologyKey: "kubernetes.io/hostname" },
            })),
        },
    };
}

/** The ports a track's server listens on: `http` for the protocol, `metrics` where it scrapes elsewhere. */
function serverPorts(port: number, metricsPort: number) {
    return [{ name: "http", containerPort: port }, ...(metricsPort !== port ? [{ name: "metrics", containerPort: metricsPort }] : [])];
}

/** modelship's own server: its settings, its probes, and the version its init container fetched. */
function modelServerContainer(args: TrackWorkloadArgs, artifactDir: string) {
    const { config, track, model } = args;
    const env = modelServerEnv({
        model,
        environment: args.environment,
        artifact: artifactDir,
        port: config.port,
        track,
        ...(args.shadowCompareUrl !== undefined ? { shadowCompareUrl: args.shadowCompareUrl } : {}),
    });
    return {
        name: MODEL_SERVER_CONTAINER,
        image: args.image,
        // A server that exits at start (a bad setting) leaves its last log lines as the reason.
        terminationMessagePolicy: "FallbackToLogsOnError" as const,
        ports: serverPorts(config.port, config.port),
        env: [
            ...Object.entries(env).map(([envName, value]) => ({ name: envName, value })),
            // The pod's own limit, however it was set (the model's resources or a LimitRange).
            { name: MEMORY_LIMIT_ENV, valueFrom: { resourceFieldRef: { containerName: MODEL_SERVER_CONTAINER, resource: "limits.memory" } } },
        ],
        // Startup allows a slow model load (up to 5 minutes) before liveness can restart the pod.
        startupProbe: httpProbe(READY_PATH, 5, 60),
        readinessProbe: httpProbe(READY_PATH, 5, 3),
        livenessProbe: httpProbe(LIVE_PATH, 10, 3),
        resources: resources(config),
        securityContext: restrictedContainerSecurityContext,
        volumeMounts: [
            { name: "tmp", mountPath: "/tmp" },
            { name: "model", mountPath: MODEL_MOUNT_DIR, readOnly: true },
        ],
    };
}

/**
 * Another Open Inference Protocol server: its own command and environment only, probed on its
 * readiness and liveness paths, reading the version's files (fetched and verified against the
 * version's manifest) at `<modelsDir>/<model>/<version>`.
 */
function otherServerContainer(args: TrackWorkloadArgs, server: ServerConfig) {
    const { config, model } = args;
    const port = trackPort(config.port, server);
    const ready = readinessPath(model, server);
    return {
        name: MODEL_SERVER_CONTAINER,
        image: args.image,
        terminationMessagePolicy: "FallbackToLogsOnError" as const,
        ...(server.args.length > 0 ? { args: server.args } : {}),
        ports: serverPorts(port, trackMetrics(config.port, server).port),
        env: Object.entries(server.env).map(([envName, value]) => ({ name: envName, value })),
        startupProbe: httpProbe(ready, 5, 60),
        readinessProbe: httpProbe(ready, 5, 3),
        livenessProbe: httpProbe(server.livenessPath, 10, 3),
        resources: resources(config),
        securityContext: restrictedContainerSecurityContext,
        volumeMounts: [
            { name: "tmp", mountPath: "/tmp" },
            // The init container wrote <model>/<version>/ into the volume: the server sees <modelsDir>/<model>/<version>/.
            { name: "model", mountPath: server.modelsDir, readOnly: true },
        ],
    };
}

export function deploymentObject(args: TrackWorkloadArgs) {
    const { config, track, model } = args;
    const name = trackName(model, track.track);
    const labels = trackLabels(args.environment, model, track.track, track.version);
    // The server reads the artifact the initializer wrote: nothing in a pod reads config.artifact itself.
    const artifactDir = `${MODEL_MOUNT_DIR}/${model}`;
    const otherServer = config.tracks[track.track]?.server;
    // Another server's image has no fetch-artifact and no Node.js: modelship's image runs the init containers.
    const initImage = otherServer ? args.modelServerImage : args.image;
    if (initImage === undefined) throw new Error(`model ${model}: the ${track.track} track runs another server, and the target names no modelServerImage to fetch its files with`);
    const metrics = trackMetrics(config.port, otherServer);
    const access = artifactAccess({
        store: args.artifactStore,
        ...(args.roleArn !== undefined ? { roleArn: args.roleArn } : {}),
        otherContainers: [...(config.dependsOn.length > 0 ? [WAIT_FOR_DEPENDENCIES_CONTAINER] : []), MODEL_SERVER_CONTAINER],
    });
    const initContainers: InitContainer[] = [
        {
            // First: a missing, forbidden or corrupt artifact fails the pod before anything else waits.
            name: FETCH_ARTIFACT_CONTAINER,
            image: initImage,
            command: fetchArtifactCommand({ location: trackArtifact(config, track.track), version: track.version, dest: artifactDir }),
            // Its one line on stderr becomes the pod's status message: why the pod is stuck, in `kubectl get pod -o yaml` and in events.
            terminationMessagePolicy: "FallbackToLogsOnError",
            ...(access.env.length > 0 ? { env: access.env } : {}),
            securityContext: restrictedContainerSecurityContext,
            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            volumeMounts: [{ name: "model", mountPath: MODEL_MOUNT_DIR }, ...access.volumeMounts],
        },
        ...(config.dependsOn.length > 0
            ? [
                  {
                      name: WAIT_FOR_DEPENDENCIES_CONTAINER,
                      image: initImage,
                      command: ["node", "-e", waitForDependenciesScript(config.dependsOn, DEPENDENCY_WAIT_SECONDS)],
                      securityContext: restrictedContainerSecurityContext,
                      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                  },
              ]
            : []),
    ];
    return {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
            // An autoscaled track's replicas are its HorizontalPodAutoscaler's: an update that set them would undo its scaling,
            // except where the route must wait for them (the Deployment's await is then on that many ready pods).
            ...(track.autoscaling ? (track.readyBeforeRoute !== undefined ? { replicas: track.readyBeforeRoute } : {}) : { replicas: track.replicas }),
            selector: { matchLabels: trackSelector(model, track.track) },
            strategy: deploymentStrategy(args.poolUpdate),
            // Kubernetes itself calls the rollout failed (ProgressDeadlineExceeded) when the update's own wait gives up,
            // so `kubectl rollout status` agrees with the update, and the provider stops waiting at the same moment.
            progressDeadlineSeconds: config.readyTimeoutSeconds,
            template: {
                metadata: {
                    labels,
                    // Where the server's metrics are (another server's may have a port and path of their own): Prometheus's pod
                    // discovery and the ServiceMonitor's relabelings (monitoring.ts) read these, so the Service never changes with the server.
                    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(metrics.port), "prometheus.io/path": metrics.path, ...access.podAnnotations },
                },
                spec: {
                    serviceAccountName: args.serviceAccountName,
                    // The pod's only token is the STS-audience one its fetch-artifact container mounts; nothing here calls the Kubernetes API.
                    automountServiceAccountToken: false,
                    securityContext: podSecurityContext(RUN_AS_USER),
                    affinity: apartFromOtherTrack(model, track.track),
                    initContainers,
                    containers: [otherServer ? otherServerContainer(args, otherServer) : modelServerContainer(args, artifactDir)],
                    volumes: <PodVolume[]>[{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }, { name: "model", emptyDir: { sizeLimit: ARTIFACT_VOLUME_SIZE } }, ...access.volumes],
                    terminationGracePeriodSeconds: 30,
                    ...gpuScheduling(config.gpu),
                },
            },
        },
    };
}

export function serviceObject(args: Pick<TrackWorkloadArgs, "environment" | "namespace" | "model" | "track">) {
    const { model, track } = args;
    return {
        metadata: { name: trackName(model, track.track), namespace: args.namespace, labels: poolLabels(args.environment, model, track.track) },
        spec: {
            type: "ClusterIP",
            selector: trackSelector(model, track.track),
            ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
        },
    };
}

/** Always present, whatever the replica count, so a canary step that scales a track changes only its replicas. */
export function podDisruptionBudgetObject(args: Pick<TrackWorkloadArgs, "environment" | "namespace" | "model" | "track">) {
    const { model, track } = args;
    return {
        metadata: { name: trackName(model, track.track), namespace: args.namespace, labels: poolLabels(args.environment, model, track.track) },
        spec: { maxUnavailable: 1, selector: { matchLabels: trackSelector(model, track.track) } },
    };
}

/** The metric a track scales on, as autoscaling/v2 writes it. */
function hpaMetric(on: TrackAutoscaling["on"]) {
    if ("cpuPercent" in on) return { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: on.cpuPercent } } };
    const [name, value] = "concurrency" in on ? [IN_FLIGHT_METRIC, on.concurrency] : [on.metric, on.target];
    return { type: "Pods", pods: { metric: { name }, target: { type: "AverageValue", averageValue: String(value) } } };
}

/**
 * An autoscaled track's HorizontalPodAutoscaler, with the bounds of this plan's split: a canary
 * step raises the candidate's `minReplicas` with its weight, so the controller scales it up at
 * once. Undefined for a track of fixed size.
 */
export function horizontalPodAutoscalerObject(args: Pick<TrackWorkloadArgs, "environment" | "namespace" | "model" | "track">) {
    const { model, track } = args;
    if (!track.autoscaling) return undefined;
    const name = trackName(model, track.track);
    return {
        metadata: { name, namespace: args.namespace, labels: poolLabels(args.environment, model, track.track) },
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: track.autoscaling.min,
            maxReplicas: track.autoscaling.max,
            metrics: [hpaMetric(track.autoscaling.on)],
        },
    };
}

export function serviceHost(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.cluster.local`;
}
