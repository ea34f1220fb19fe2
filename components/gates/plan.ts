/**
 * Which gates a model's tracks must pass, and what makes each run again. Pure: the component
 * turns these into commands, and the tests check the trigger rules without Pulumi.
 *   lint  - per built image: again when its version or image changes;
 *   scan  - per image: again when its version or image changes;
 *   smoke - per track that receives requests: again when its version or image changes, and for
 *           the candidate also when its share of traffic does (each step re-checks the version
 *           gaining traffic, and nothing else).
 */
import * as path from "path";
import { isProduction } from "../config/rules";
import type { ModelConfig } from "../config/schema";
import type { TrackName, TrafficPlan } from "../traffic/types";

export type GateKind = "lint" | "scan" | "smoke";

export interface GateSpec {
    kind: GateKind;
    track: TrackName;
    version: string;
    required: boolean;
    timeoutSeconds: number;
    /** What, besides the image reference, makes the gate run again. */
    triggers: string[];
    /** lint: the Dockerfile of the build. */
    dockerfile?: string;
}

/** The smoke gate's recorded request: configured, or `smoke-request.json` beside the model's files. */
export function smokeRequest(model: ModelConfig): string {
    return model.gates.smoke.request ?? path.join(model.artifact, "smoke-request.json");
}

/**
 * @param smokeReachable whether the deployer can reach a track's own server (the docker target
 *   publishes it on loopback); the smoke gate is on by default only there.
 */
export function gatePlan(model: ModelConfig, plan: TrafficPlan, environment: string, smokeReachable: boolean): GateSpec[] {
    const gates = model.gates;
    const specs: GateSpec[] = [];
    for (const track of plan.tracks) {
        const source = model.tracks[track.track]?.source;
        const base = { track: track.track, version: track.version };
        if (gates.lint.enabled && source && "build" in source) {
            specs.push({ ...base, kind: "lint", required: gates.lint.required ?? true, timeoutSeconds: gates.lint.timeoutSeconds, triggers: [track.version], dockerfile: path.join(source.build.context, source.build.dockerfile ?? "Dockerfile") });
        }
        if (gates.scan.enabled) {
            specs.push({ ...base, kind: "scan", required: gates.scan.required ?? isProduction(environment), timeoutSeconds: gates.scan.timeoutSeconds, triggers: [track.version] });
        }
        const receives = track.weight > 0 || track.mirrorPercent > 0;
        if ((gates.smoke.enabled ?? smokeReachable) && receives) {
            const share = track.track === "candidate" ? [`weight ${track.weight}`, `mirror ${track.mirrorPercent}`] : [];
            specs.push({ ...base, kind: "smoke", required: gates.smoke.required ?? true, timeoutSeconds: gates.smoke.timeoutSeconds, triggers: [track.version, ...share] });
        }
    }
    return specs;
}
