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
import type { TrackName, TrackPlan, TrafficPlan } from "../traffic/types";
import { GATE_KINDS, type GateKind } from "./kinds";

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

interface TrackGates {
    model: ModelConfig;
    track: TrackPlan;
    environment: string;
    smokeReachable: boolean;
}

type Base = Pick<GateSpec, "track" | "version">;

/**
 * Per kind: the gate a track runs, or undefined when it runs none. The defaults of what the
 * config leaves out (`required`, smoke's `enabled`) are decided here, and only here.
 */
const GATE_RULES: Readonly<Record<GateKind, (t: TrackGates, base: Base) => GateSpec | undefined>> = {
    lint: ({ model, track }, base) => {
        const source = track.source;
        if (!model.gates.lint.enabled || !("build" in source)) return undefined;
        return {
            ...base,
            kind: "lint",
            required: model.gates.lint.required ?? true,
            timeoutSeconds: model.gates.lint.timeoutSeconds,
            triggers: [track.version],
            dockerfile: path.join(source.build.context, source.build.dockerfile ?? "Dockerfile"),
        };
    },
    scan: ({ model, track, environment }, base) => {
        if (!model.gates.scan.enabled) return undefined;
        return { ...base, kind: "scan", required: model.gates.scan.required ?? isProduction(environment), timeoutSeconds: model.gates.scan.timeoutSeconds, triggers: [track.version] };
    },
    smoke: ({ model, track, smokeReachable }, base) => {
        const receives = track.weight > 0 || track.mirrorPercent > 0;
        if (!(model.gates.smoke.enabled ?? smokeReachable) || !receives) return undefined;
        const share = track.track === "candidate" ? [`weight ${track.weight}`, `mirror ${track.mirrorPercent}`] : [];
        return { ...base, kind: "smoke", required: model.gates.smoke.required ?? true, timeoutSeconds: model.gates.smoke.timeoutSeconds, triggers: [track.version, ...share] };
    },
};

/**
 * @param smokeReachable whether the deployer can reach a track's own server (the docker target
 *   publishes it on loopback); the smoke gate is on by default only there.
 */
export function gatePlan(model: ModelConfig, plan: TrafficPlan, environment: string, smokeReachable: boolean): GateSpec[] {
    return plan.tracks.flatMap((track) =>
        GATE_KINDS.flatMap((kind) => {
            const spec = GATE_RULES[kind]({ model, track, environment, smokeReachable }, { track: track.track, version: track.version });
            return spec ? [spec] : [];
        }),
    );
}
