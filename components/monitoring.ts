/**
 * What watches a model: the PromQL for each track's error rate and p95 latency, the alert rules
 * built from the model's `analysis` thresholds, and the Kubernetes objects that carry them
 * (ServiceMonitor and PrometheusRule with the Prometheus Operator; a rules ConfigMap without).
 * Pure: the rollout analysis and the alerts read the same queries.
 */
import { stringify as toYaml } from "yaml";
import type { AnalysisConfig } from "./config/schema";
import { environmentLabels, LABEL, physicalName } from "./naming";
import type { TrackName } from "./traffic/types";

/** The model server's inference route labels (its metrics never carry raw paths). */
export const INFERENCE_ROUTES = ["/v2/models/:name/infer", "/v2/models/:name/versions/:version/infer", "/v1/models/:name:predict"];
export const ALERT_WINDOW = "5m";
/** How long a threshold must be crossed before an alert fires: one bad scrape is not an incident. */
export const ALERT_FOR = "2m";

function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
}

function selector(model: string, track: string): string {
    return `model="${model}",track="${track}",route=~"${INFERENCE_ROUTES.map(escapeRegex).join("|")}"`;
}

/** Share of the track's inferences answered with a 5xx over the window. */
export function errorRateQuery(model: string, track: string, window = ALERT_WINDOW): string {
    return `sum(rate(modelship_request_errors_total{${selector(model, track)}}[${window}])) / sum(rate(modelship_requests_total{${selector(model, track)}}[${window}]))`;
}

/** Inference requests the track served over the window. */
export function requestsQuery(model: string, track: string, window = ALERT_WINDOW): string {
    return `sum(increase(modelship_requests_total{${selector(model, track)}}[${window}]))`;
}

/** Inference requests the track has served since its servers started, as Prometheus last scraped them. */
export function requestsServedQuery(model: string, track: string): string {
    return `sum(modelship_requests_total{${selector(model, track)}})`;
}

/** The track's 95th percentile inference latency in seconds over the window. */
export function p95LatencyQuery(model: string, track: string, window = ALERT_WINDOW): string {
    return `histogram_quantile(0.95, sum by (le) (rate(modelship_request_duration_seconds_bucket{${selector(model, track)}}[${window}])))`;
}

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

export interface RuleGroup {
    name: string;
    rules: AlertRule[];
}

export function alertRuleGroups(environment: string, model: string, tracks: readonly TrackName[], analysis: AnalysisConfig): RuleGroup[] {
    const rules = tracks.flatMap((track): AlertRule[] => {
        const labels = { severity: track === "stable" ? "page" : "ticket", model, track, environment };
        return [
            {
                alert: "ModelshipHighErrorRate",
                expr: `${errorRateQuery(model, track)} > ${analysis.maxErrorRate}`,
                for: ALERT_FOR,
                labels,
                annotations: {
                    summary: `${model} ${track}: error rate above ${analysis.maxErrorRate * 100}%`,
                    description: `More than ${analysis.maxErrorRate * 100}% of ${model}'s ${track} inferences failed over ${ALERT_WINDOW}; roll back or abort the rollout.`,
                },
            },
            {
                alert: "ModelshipHighLatencyP95",
                expr: `${p95LatencyQuery(model, track)} > ${analysis.maxP95LatencyMs / 1000}`,
                for: ALERT_FOR,
                labels,
                annotations: {
                    summary: `${model} ${track}: p95 latency above ${analysis.maxP95LatencyMs} ms`,
                    description: `The 95th percentile of ${model}'s ${track} inference latency exceeded ${analysis.maxP95LatencyMs} ms over ${ALERT_WINDOW}.`,
                },
            },
        ];
    });
    return [{ name: `modelship-${model}`, rules }];
}

/** A Prometheus rules file, for a Prometheus without the Operator (and for promtool). */
export function rulesFile(groups: readonly RuleGroup[]): string {
    return toYaml({ groups });
}

interface MonitoringObjectArgs {
    /** The stack's environment, in the objects' labels. */
    environment: string;
    /** The Kubernetes namespace the objects are created in (the model's workloads'). */
    namespace: string;
    /** The model the rules watch: it names the objects and labels them. */
    model: string;
    /** The alert rule groups the objects carry. */
    groups: readonly RuleGroup[];
}

function monitoringLabels(environment: string, model: string): Record<string, string> {
    return { ...environmentLabels(environment), [LABEL.name]: model, [LABEL.component]: "monitoring" };
}

export function prometheusRuleObject(args: MonitoringObjectArgs) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: physicalName("kubernetes-object", [args.model, "alerts"]), namespace: args.namespace, labels: monitoringLabels(args.environment, args.model) },
        spec: { groups: args.groups.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r })) })) },
    };
}

/** Scrapes every track's Service of the model (they share the model's name label). */
export function serviceMonitorObject(args: Omit<MonitoringObjectArgs, "groups">) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: args.model, namespace: args.namespace, labels: monitoringLabels(args.environment, args.model) },
        spec: {
            selector: { matchLabels: { [LABEL.name]: args.model, [LABEL.component]: "model-server" } },
            // Each pod says where its server's metrics are (prometheus.io/port and /path: another server's may differ from
            // modelship's): the scrape goes there rather than to the Service's port, which stays the same whatever the server.
            endpoints: [
                {
                    port: "http",
                    path: "/metrics",
                    interval: "15s",
                    relabelings: [
                        { sourceLabels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", targetLabel: "__metrics_path__", action: "replace" },
                        {
                            sourceLabels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                            regex: "(.+?)(?::\\d+)?;(\\d+)",
                            replacement: "$1:$2",
                            targetLabel: "__address__",
                            action: "replace",
                        },
                    ],
                },
            ],
        },
    };
}

/** Without the Operator: the rules as a file in a ConfigMap, labelled for a rules sidecar to pick up. */
export function rulesConfigMapObject(args: MonitoringObjectArgs) {
    return {
        metadata: {
            name: physicalName("kubernetes-object", [args.model, "alert-rules"]),
            namespace: args.namespace,
            labels: { ...monitoringLabels(args.environment, args.model), "modelship.dev/prometheus-rules": "true" },
        },
        data: { [`${args.model}.rules.yaml`]: rulesFile(args.groups) },
    };
}
