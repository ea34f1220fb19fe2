/**
 * Pure builders for the nginx router on Kubernetes: a ConfigMap with the generated nginx.conf,
 * a Deployment that rolls when the config changes, and a Service in front of it.
 */
import { createHash } from "crypto";
import { environmentLabels, LABEL } from "../../naming";
import { LONGEST_LIVE_REQUEST_SECONDS, RUN_DIR_BYTES } from "../../traffic/nginx";
import { plansAnnotation, PLANS_ANNOTATION } from "../../traffic/plan-annotation";
import type { TrafficPlan } from "../../traffic/types";
import { podSecurityContext, restrictedContainerSecurityContext, SERVICE_PORT } from "./workload";

export const ROUTER_NAME = "modelship-router";
export const ROUTER_CONTAINER_PORT = 8080;
/** The uid of the nginx user in the usual nginx images. */
const NGINX_UID = 101;
export const CONFIG_HASH_ANNOTATION = "modelship.dev/config-sha256";
const MEBIBYTE = 1024 * 1024;
/**
 * How long a retiring router pod keeps accepting connections before it drains: the time for
 * kube-proxy (and whatever balances in front) to take it out of the Service. Without it, a
 * rolled router refused the connections still sent to it (1,101 of 38,929 requests on a real node).
 */
export const ROUTER_DRAIN_DELAY_SECONDS = 5;
/** Room for the delay, then every request in flight (`nginx -s quit` waits for them), then exit. */
export const ROUTER_TERMINATION_GRACE_SECONDS = ROUTER_DRAIN_DELAY_SECONDS + LONGEST_LIVE_REQUEST_SECONDS + 5;

export interface NginxRouterArgs {
    /** The stack's environment, as a label on every router object. */
    environment: string;
    /** The namespace the router runs in: the target's own. */
    namespace: string;
    /** The nginx image the router runs. */
    image: string;
    /** How many router pods run behind the router Service. */
    replicas: number;
    /** The rendered nginx.conf (traffic/nginx.ts); its hash rolls the pods when it changes. */
    nginxConf: string;
    /** The plans the config was rendered from, shown as an annotation (see plan-annotation.ts). */
    plans: readonly TrafficPlan[];
}

function routerLabels(environment: string) {
    return { ...environmentLabels(environment), [LABEL.name]: ROUTER_NAME, [LABEL.component]: "router" };
}

const routerSelector = { [LABEL.name]: ROUTER_NAME };

export function routerConfigMapObject(args: NginxRouterArgs) {
    return {
        metadata: { name: ROUTER_NAME, namespace: args.namespace, labels: routerLabels(args.environment), annotations: { [PLANS_ANNOTATION]: plansAnnotation(args.plans) } },
        data: { "nginx.conf": args.nginxConf },
    };
}

export function routerDeploymentObject(args: Omit<NginxRouterArgs, "plans">) {
    const probe = (periodSeconds: number) => ({ httpGet: { path: "/healthz", port: "http" }, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 });
    return {
        metadata: { name: ROUTER_NAME, namespace: args.namespace, labels: routerLabels(args.environment) },
        spec: {
            replicas: args.replicas,
            selector: { matchLabels: routerSelector },
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            template: {
                // nginx reads its config once; a changed hash rolls the pods onto the new weights.
                metadata: { labels: routerLabels(args.environment), annotations: { [CONFIG_HASH_ANNOTATION]: createHash("sha256").update(args.nginxConf).digest("hex") } },
                spec: {
                    automountServiceAccountToken: false,
                    securityContext: podSecurityContext(NGINX_UID),
                    containers: [
                        {
                            name: "nginx",
                            image: args.image,
                            ports: [{ name: "http", containerPort: ROUTER_CONTAINER_PORT }],
                            readinessProbe: probe(5),
                            livenessProbe: probe(10),
                            resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
                            securityContext: restrictedContainerSecurityContext,
                            // SIGTERM is nginx's fast shutdown, which drops requests in flight; SIGQUIT (`nginx -s quit`) finishes them.
                            // The hook's last sleep outlives nginx, so the kubelet's SIGTERM never comes while requests remain.
                            lifecycle: {
                                preStop: { exec: { command: ["/bin/sh", "-c", `sleep ${ROUTER_DRAIN_DELAY_SECONDS}; nginx -s quit; sleep ${ROUTER_TERMINATION_GRACE_SECONDS}`] } },
                            },
                            volumeMounts: [
                                { name: "config", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf", readOnly: true },
                                { name: "tmp", mountPath: "/tmp" },
                            ],
                        },
                    ],
                    terminationGracePeriodSeconds: ROUTER_TERMINATION_GRACE_SECONDS,
                    volumes: [
                        { name: "config", configMap: { name: ROUTER_NAME } },
                        // Request bodies are buffered here (see RUN_DIR_BYTES); a full emptyDir gets the pod evicted.
                        { name: "tmp", emptyDir: { sizeLimit: `${Math.ceil(RUN_DIR_BYTES / MEBIBYTE)}Mi` } },
                    ],
                },
            },
        },
    };
}

export function routerServiceObject(args: Pick<NginxRouterArgs, "environment" | "namespace">) {
    return {
        metadata: { name: ROUTER_NAME, namespace: args.namespace, labels: routerLabels(args.environment) },
        spec: { type: "ClusterIP", selector: routerSelector, ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }] },
    };
}
