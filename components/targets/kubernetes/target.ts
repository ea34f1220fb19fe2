/**
 * The Kubernetes target: a namespace, per model a ServiceAccount (IRSA-annotated on EKS), per track
 * a Deployment, Service and PodDisruptionBudget, and a router: Gateway API HTTPRoutes, the nginx
 * router, or none (one pool per model, reached through its stable Service).
 */
import * as k8s from "@pulumi/kubernetes";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import type { KubernetesTargetConfig } from "./config";
import { alertRuleGroups, prometheusRuleObject, rulesConfigMapObject, serviceMonitorObject } from "../../monitoring";
import { gateResourceName } from "../../gates/kinds";
import { smokeRequest } from "../../gates/plan";
import { irsaTrustPolicy } from "../../iam";
import { modelRole } from "../../model-role";
import { environmentLabels, podRoleLogicalName, trackName } from "../../naming";
import type { ContainerRegistry } from "../../registry";
import { routeDependencies, nginxRoutes, type DeployedModel, type DeployedTrack, type ModelToDeploy, type ModelTarget, type SmokeGate } from "../../target";
import { renderHttpRoute } from "../../traffic/httproute";
import { renderNginxConf } from "../../traffic/nginx";
import type { TrackPlan } from "../../traffic/types";
import { COMPONENT_TYPES } from "../../type-tokens";
import { smokeJobObject } from "./smoke-job";
import { ROUTER_CONTAINER_PORT, ROUTER_NAME, routerConfigMapObject, routerDeploymentObject, routerServiceObject } from "./router";
import { deploymentObject, horizontalPodAutoscalerObject, podDisruptionBudgetObject, serviceHost, serviceObject, SERVICE_PORT } from "./workload";
import { comparesWithCandidate } from "../../model-server-env";

export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

export interface KubernetesTargetArgs {
    /** The target's entry under `targets`. */
    config: KubernetesTargetConfig;
    /** The stack's environment: in every label, and in the names of the roles IRSA creates. */
    environment: string;
    /** Each model's repository, which the role made for its pods (IRSA) may pull from. */
    registry: ContainerRegistry;
}

/** Where the router finds one track: its Service, by address (nginx) and by name (HTTPRoute). */
export interface KubernetesBackend {
    addresses: readonly string[];
    service: { name: string; port: number };
}

export class KubernetesTarget extends pulumi.ComponentResource implements ModelTarget<KubernetesBackend> {
    readonly namespace: pulumi.Output<string>;
    private readonly args: KubernetesTargetArgs;
    /** Prefixes the names of the target's own children: URNs carry the parent's type, not its name, so two targets would collide. */
    private readonly targetName: string;
    private readonly namespaceResource?: k8s.core.v1.Namespace;

    constructor(name: string, args: KubernetesTargetArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.kubernetesTarget, name, {}, opts);
        this.args = args;
        this.targetName = name;
        if (args.config.createNamespace) {
            this.namespaceResource = new k8s.core.v1.Namespace(
                `${name}-namespace`,
                { metadata: { name: args.config.namespace, labels: { ...environmentLabels(args.environment), "pod-security.kubernetes.io/enforce": "restricted" } } },
                { parent: this },
            );
            this.namespace = this.namespaceResource.metadata.name;
        } else {
            this.namespace = pulumi.output(args.config.namespace);
        }
    }

    /** Children wait for the namespace when this stack creates it. */
    private childOptions(parent: pulumi.Resource, dependsOn: readonly pulumi.Resource[] = []): pulumi.CustomResourceOptions {
        return { parent, dependsOn: [...(this.namespaceResource ? [this.namespaceResource] : []), ...dependsOn] };
    }

    /**
     * The role the model's pods assume: the configured one, or (with IRSA set up) one made for
     * this model alone, trusted only by its service account and allowed only its own artifacts,
     * image, log group and metric namespace.
     */
    private podRole(model: ModelToDeploy, parent: pulumi.Resource): pulumi.Input<string> | undefined {
        const { environment, config } = this.args;
        if (model.config.serviceAccountRoleArn !== undefined || !config.irsa) return model.config.serviceAccountRoleArn;
        const trust = irsaTrustPolicy({ oidcProviderArn: config.irsa.oidcProviderArn, namespace: config.namespace, serviceAccount: model.name });
        const role = modelRole(
            { name: podRoleLogicalName(model.name), environment, model: model.name, artifact: model.config.artifact, repository: this.args.registry.repository(model.name), trust },
            parent,
        );
        return role.arn;
    }

    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel<KubernetesBackend> {
        const { environment, config } = this.args;
        const roleArn = this.podRole(model, parent);
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            model.name,
            {
                metadata: {
                    name: model.name,
                    namespace: config.namespace,
                    labels: { ...environmentLabels(environment), "app.kubernetes.io/name": model.name },
                    ...(roleArn ? { annotations: { [IRSA_ANNOTATION]: roleArn } } : {}),
                },
                automountServiceAccountToken: false,
            },
            this.childOptions(parent),
        );
        const tracks: DeployedModel<KubernetesBackend>["tracks"] = {};
        for (const track of model.plan.tracks) {
            tracks[track.track] = this.deployTrack(model, track, serviceAccount, roleArn, parent);
        }
        this.monitor(model, parent);
        // The Job needs a recorded request in the project: the artifact is in the model registry.
        return { plan: model.plan, tracks, smokeByDefault: model.config.gates.smoke.request !== undefined };
    }

    /** The track's smoke gate: a Job in the cluster against the track's own Service, once its Deployment rolled out. */
    private smokeJob(model: ModelToDeploy, track: TrackPlan, workloads: readonly pulumi.Resource[]): SmokeGate {
        return (spec, parent) => {
            const { environment, config } = this.args;
            // The track's own image ships the smoke program; another server's does not, and modelship's image runs its check.
            const otherServer = model.config.tracks[track.track]?.server !== undefined;
            const image = otherServer ? (config.modelServerImage !== undefined ? pulumi.output(config.modelServerImage) : undefined) : model.images[track.track]?.ref;
            if (!image) throw new pulumi.ResourceError(`model ${model.name}: no image to run the ${track.track} track's smoke gate with`, this);
            const smoke = model.config.gates.smoke;
            const requestFile = smokeRequest(model.config);
            if (!fs.existsSync(requestFile)) throw new pulumi.ResourceError(`model ${model.name}: the smoke gate's recorded request ${requestFile} does not exist`, this);
            const job = image.apply((ref) =>
                smokeJobObject({
                    environment,
                    namespace: config.namespace,
                    spec,
                    model: model.name,
                    image: ref,
                    retries: smoke.retries,
                    timeoutSeconds: smoke.timeoutSeconds,
                    triggers: spec.triggers,
                    check: {
                        url: `http://${serviceHost(trackName(model.name, spec.track), config.namespace)}:${SERVICE_PORT}`,
                        model: model.name,
                        version: spec.version,
                        request: fs.readFileSync(requestFile, "utf8"),
                        min: smoke.expect.min,
                        max: smoke.expect.max,
                        timeoutMs: smoke.timeoutSeconds * 1000,
                        ...(otherServer ? { server: "oip" as const } : {}),
                    },
                }),
            );
            // An advisory gate is not waited for: its failure shows in the cluster, not in the update.
            const metadata = spec.required ? job.metadata : job.metadata.apply((m) => ({ ...m, annotations: { "pulumi.com/skipAwait": "true" } }));
            // After the track's Deployment has rolled out: its Service then reaches only the version under test.
            return new k8s.batch.v1.Job(gateResourceName(model.name, spec.track, spec.kind), { metadata, spec: job.spec }, this.childOptions(parent, workloads));
        };
    }

    /** Alerts per track from the model's analysis thresholds; scraping through a ServiceMonitor where the Operator runs. */
    private monitor(model: ModelToDeploy, parent: pulumi.Resource): void {
        const { environment, config } = this.args;
        const args = {
            environment,
            namespace: config.namespace,
            model: model.name,
            groups: alertRuleGroups(
                environment,
                model.name,
                model.plan.tracks.map((t) => t.track),
                model.config.analysis,
            ),
        };
        const options = this.childOptions(parent);
        if (config.monitoring.prometheusOperator) {
            const rule = prometheusRuleObject(args);
            new k8s.apiextensions.CustomResource(`${model.name}-alerts`, { apiVersion: rule.apiVersion, kind: rule.kind, metadata: rule.metadata, spec: rule.spec }, options);
            const monitor = serviceMonitorObject(args);
            new k8s.apiextensions.CustomResource(`${model.name}-scrape`, { apiVersion: monitor.apiVersion, kind: monitor.kind, metadata: monitor.metadata, spec: monitor.spec }, options);
        } else {
            new k8s.core.v1.ConfigMap(`${model.name}-alert-rules`, rulesConfigMapObject(args), options);
        }
    }

    private deployTrack(
        model: ModelToDeploy,
        track: TrackPlan,
        serviceAccount: k8s.core.v1.ServiceAccount,
        roleArn: pulumi.Input<string> | undefined,
        parent: pulumi.Resource,
    ): DeployedTrack<KubernetesBackend> {
        const { environment, config } = this.args;
        const image = model.images[track.track];
        if (!image) throw new pulumi.ResourceError(`model ${model.name}: no image for the ${track.track} track`, this);
        const name = trackName(model.name, track.track);
        const common = { environment, namespace: config.namespace, model: model.name, track };
        const options = this.childOptions(parent);
        const deployment = pulumi.all([image.ref, roleArn]).apply(([ref, arn]) =>
            deploymentObject({
                ...common,
                config: model.config,
                poolUpdate: model.plan.poolUpdate,
                image: ref,
                serviceAccountName: model.name,
                artifactStore: config.artifactStore,
                ...(config.modelServerImage !== undefined ? { modelServerImage: config.modelServerImage } : {}),
                ...(arn !== undefined ? { roleArn: arn } : {}),
                ...(comparesWithCandidate(model.plan, track) ? { shadowCompareUrl: `http://${serviceHost(trackName(model.name, "candidate"), config.namespace)}:${SERVICE_PORT}` } : {}),
            }),
        );
        // The provider waits for the rollout; a version that never becomes ready fails the update here, before the route.
        const ready = `${model.config.readyTimeoutSeconds}s`;
        const workload = new k8s.apps.v1.Deployment(
            name,
            { metadata: deployment.metadata, spec: deployment.spec },
            { ...this.childOptions(parent, [serviceAccount]), customTimeouts: { create: ready, update: ready } },
        );
        const service = new k8s.core.v1.Service(name, serviceObject(common), options);
        new k8s.policy.v1.PodDisruptionBudget(name, podDisruptionBudgetObject(common), options);
        const autoscaler = horizontalPodAutoscalerObject(common);
        if (autoscaler) new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, autoscaler, this.childOptions(parent, [workload]));
        const resources = [workload, service];
        return {
            backend: { addresses: [`${serviceHost(name, config.namespace)}:${SERVICE_PORT}`], service: { name, port: SERVICE_PORT } },
            resources,
            smoke: this.smokeJob(model, track, resources),
        };
    }

    route(models: readonly DeployedModel<KubernetesBackend>[]): Record<string, pulumi.Output<string>> {
        const router = this.args.config.router;
        let endpoints: Record<string, pulumi.Output<string>>;
        switch (router.type) {
            case "gateway-api":
                endpoints = this.gatewayRoutes(models, router);
                break;
            case "nginx":
                endpoints = this.nginxRouter(models, router);
                break;
            case "none":
                // One pool per model: clients use the stable Service directly.
                endpoints = Object.fromEntries(
                    models.map((m) => [m.plan.model, pulumi.output(`http://${serviceHost(trackName(m.plan.model, "stable"), this.args.config.namespace)}/v2/models/${m.plan.model}`)]),
                );
                break;
        }
        this.registerOutputs({ namespace: this.namespace, endpoints });
        return endpoints;
    }

    private gatewayRoutes(models: readonly DeployedModel<KubernetesBackend>[], router: Extract<KubernetesTargetConfig["router"], { type: "gateway-api" }>) {
        const { environment, config } = this.args;
        const host = router.hostnames[0] ?? `${router.gateway.name}.${router.gateway.namespace}`;
        return Object.fromEntries(
            models.map((m) => {
                const services = Object.fromEntries(Object.entries(m.tracks).map(([track, deployed]) => [track, deployed.backend.service]));
                const route = renderHttpRoute({
                    name: m.plan.model,
                    namespace: config.namespace,
                    plan: m.plan,
                    services,
                    parentRefs: [router.gateway],
                    hostnames: router.hostnames,
                    labels: { ...environmentLabels(environment), "app.kubernetes.io/name": m.plan.model },
                });
                new k8s.apiextensions.CustomResource(
                    `${m.plan.model}-route`,
                    { apiVersion: route.apiVersion, kind: route.kind, metadata: route.metadata, spec: route.spec },
                    { parent: this, dependsOn: routeDependencies([m]) },
                );
                return [m.plan.model, pulumi.output(`http://${host}/v2/models/${m.plan.model}`)];
            }),
        );
    }

    private nginxRouter(models: readonly DeployedModel<KubernetesBackend>[], router: Extract<KubernetesTargetConfig["router"], { type: "nginx" }>) {
        const { environment, config } = this.args;
        const args = {
            environment,
            namespace: config.namespace,
            image: router.image,
            replicas: router.replicas,
            nginxConf: renderNginxConf({ listenPort: ROUTER_CONTAINER_PORT, routes: nginxRoutes(models) }),
            plans: models.map((m) => m.plan),
        };
        const options = this.childOptions(this, routeDependencies(models));
        const name = `${this.targetName}-${ROUTER_NAME}`;
        const configMap = new k8s.core.v1.ConfigMap(`${name}-config`, routerConfigMapObject(args), options);
        new k8s.apps.v1.Deployment(name, routerDeploymentObject(args), this.childOptions(this, [...routeDependencies(models), configMap]));
        new k8s.core.v1.Service(name, routerServiceObject(args), options);
        const host = serviceHost(ROUTER_NAME, config.namespace);
        return Object.fromEntries(models.map((m) => [m.plan.model, pulumi.output(`http://${host}/v2/models/${m.plan.model}`)]));
    }
}
