/** Traffic plans written out as the strategies would produce them, for renderer and router tests. */
import type { ModelRoute } from "../../components/traffic/nginx";
import type { StickyKey, TrackName, TrackPlan, TrafficPlan } from "../../components/traffic/types";
// ---------------------------------------------------------------------------------------------
// Plans, written out as the strategies would produce them.

export function track(name: TrackName, version: string, weight: number, mirrorPercent = 0): TrackPlan {
    return { track: name, version, source: { image: `registry.example/model:${version}` }, weight, mirrorPercent, replicas: name === "stable" ? 3 : 1, featureFlags: {} };
}

export function plan(model: string, strategy: TrafficPlan["strategy"], tracks: TrackPlan[], extra: Partial<TrafficPlan> = {}): TrafficPlan {
    return {
        model,
        strategy,
        tracks,
        poolUpdate: { kind: "rolling", maxSurge: "25%", maxUnavailable: 0 },
        aborted: false,
        pinHeader: "x-modelship-track",
        fallback: strategy !== "abTest",
        routes: [],
        ...extra,
    };
}

export function canaryPlan(model = "fraud-scorer", candidateWeight = 10): TrafficPlan {
    return plan(model, "canary", [track("stable", "1.4.0", 100 - candidateWeight), track("candidate", "1.5.0", candidateWeight)], {
        step: { index: 1, count: 5, steps: [5, candidateWeight, 50, 75, 100], setWeight: candidateWeight },
    });
}

export function abortedCanaryPlan(): TrafficPlan {
    return plan("fraud-scorer", "canary", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0)], { aborted: true });
}

export function blueGreenPreviewPlan(): TrafficPlan {
    return plan("fraud-scorer", "blueGreen", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0)]);
}

export function abTestPlan(sticky: StickyKey): TrafficPlan {
    return plan("fraud-scorer", "abTest", [track("stable", "1.4.0", 50), track("candidate", "1.5.0", 50)], { sticky });
}

export function shadowPlan(mirrorPercent = 20, model = "fraud-scorer"): TrafficPlan {
    return plan(model, "shadow", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0, mirrorPercent)]);
}

export function singleTrackPlan(model = "fraud-scorer"): TrafficPlan {
    return plan(model, "rolling", [track("stable", "1.4.0", 100)]);
}

export const STABLE = ["10.0.0.1:8080", "10.0.0.2:8080"];
export const CANDIDATE = ["10.0.1.1:8080"];

export function route(p: TrafficPlan, backends: ModelRoute["backends"] = { stable: STABLE, candidate: CANDIDATE }): ModelRoute {
    return { plan: p, backends };
}
