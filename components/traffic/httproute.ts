/**
 * TrafficPlan -> Gateway API HTTPRoute, one per model, all attached to one shared Gateway.
 * A rule per track serves requests pinned by header; the default rule splits by weight and
 * mirrors. Gateway API ranks rules with more header matches first, so pins win.
 */
import { plansAnnotation, PLANS_ANNOTATION } from "./plan-annotation";
import { escapeRegex, valuePattern, type RouteMatch } from "../config/routes";
import type { TrackName, TrafficPlan } from "./types";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";
export const TRACK_RESPONSE_HEADER = "X-Modelship-Track";

export interface ServiceRef {
    name: string;
    port: number;
}

export interface ParentRef {
    name: string;
    namespace: string;
    sectionName?: string;
}

export interface HttpRouteOptions {
    name: string;
    namespace: string;
    plan: TrafficPlan;
    services: Partial<Record<TrackName, ServiceRef>>;
    parentRefs: readonly ParentRef[];
    hostnames?: readonly string[];
    labels?: Readonly<Record<string, string>>;
}

type HeaderMatch = { type: "Exact" | "RegularExpression"; name: string; value: string };
interface HttpRouteMatch {
    path: { type: "PathPrefix" | "Exact"; value: string };
    headers?: HeaderMatch[];
}

/** The Open Inference Protocol paths of one model, plus its legacy v1 predict path. */
export function modelMatches(model: string, headers?: HeaderMatch[]): HttpRouteMatch[] {
    const withHeaders = headers ? { headers } : {};
    return [
        { path: { type: "PathPrefix", value: `/v2/models/${model}` }, ...withHeaders },
        { path: { type: "Exact", value: `/v1/models/${model}:predict` }, ...withHeaders },
    ];
}

function trackHeaderFilter(track: TrackName) {
    return { type: "ResponseHeaderModifier", responseHeaderModifier: { set: [{ name: TRACK_RESPONSE_HEADER, value: track }] } };
}

function serviceFor(options: HttpRouteOptions, track: TrackName): ServiceRef {
    const service = options.services[track];
    if (!service) throw new Error(`HTTPRoute ${options.name}: no Service given for the ${track} track of ${options.plan.model}`);
    return service;
}

export function renderHttpRoute(options: HttpRouteOptions) {
    const { plan } = options;
    if (options.parentRefs.length === 0) throw new Error(`HTTPRoute ${options.name}: at least one parentRef (Gateway) is needed`);
    const pinRules = plan.tracks.map((t) => ({
        matches: modelMatches(plan.model, [{ type: "Exact", name: plan.pinHeader, value: t.track }]),
        backendRefs: [{ ...serviceFor(options, t.track), weight: 1, filters: [trackHeaderFilter(t.track)] }],
    }));
    // Same rank as a pin (one header match each): Gateway API then keeps list order, so pins win.
    const routeRules = plan.routes.map((route) => ({
        matches: modelMatches(plan.model, [routeHeaderMatch(route.match)]),
        backendRefs: [{ ...serviceFor(options, route.track), weight: 1, filters: [trackHeaderFilter(route.track)] }],
    }));
    const mirrors = plan.tracks
        .filter((t) => t.mirrorPercent > 0)
        .map((t) => ({
            type: "RequestMirror",
            requestMirror: { backendRef: serviceFor(options, t.track), ...(t.mirrorPercent < 100 ? { percent: t.mirrorPercent } : {}) },
        }));
    const splitRule = {
        matches: modelMatches(plan.model),
        ...(mirrors.length > 0 ? { filters: mirrors } : {}),
        // Weight 0 stays listed: a reviewer sees "candidate 10 -> 0" rather than a vanished backend.
        backendRefs: plan.tracks.map((t) => ({ ...serviceFor(options, t.track), weight: t.weight, filters: [trackHeaderFilter(t.track)] })),
        ...(plan.sticky ? { sessionPersistence: stickySession(plan.sticky) } : {}),
    };
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: options.name, namespace: options.namespace, labels: { ...(options.labels ?? {}) }, annotations: { [PLANS_ANNOTATION]: plansAnnotation([plan]) } },
        spec: {
            parentRefs: options.parentRefs.map((p) => ({ group: "gateway.networking.k8s.io", kind: "Gateway", ...p })),
            ...(options.hostnames && options.hostnames.length > 0 ? { hostnames: [...options.hostnames] } : {}),
            rules: [...pinRules, ...routeRules, splitRule],
        },
    };
}

/**
 * A header route matches its header; a cookie route matches the Cookie header by a regular
 * expression over its one cookie. RegularExpression header matches are implementation-specific in
 * Gateway API (RE2's full match on Envoy-based Gateways, a search elsewhere), so every pattern is
 * anchored at both ends and means the same to both.
 */
function routeHeaderMatch(match: RouteMatch): HeaderMatch {
    const value = valuePattern(match);
    if (match.header !== undefined) {
        return match.value !== undefined ? { type: "Exact", name: match.header, value: match.value } : { type: "RegularExpression", name: match.header, value: `^${value}$` };
    }
    return { type: "RegularExpression", name: "Cookie", value: `^(?:.*;\\s*)?${escapeRegex(match.cookie ?? "")}=${value}(?:;.*)?$` };
}

function stickySession(key: NonNullable<TrafficPlan["sticky"]>) {
    return "header" in key ? { type: "Header", sessionName: key.header } : { type: "Cookie", sessionName: key.cookie };
}

export type HttpRoute = ReturnType<typeof renderHttpRoute>;
