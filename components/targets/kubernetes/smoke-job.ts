/**
 * The smoke gate inside a cluster: a Job that runs the smoke program shipped in the track's own
 * image (model-server/src/smoke/, the same program as `node dist/tools/gate.js smoke`) against the
 * track's Service: readiness, the recorded inference (version and output range), the legacy
 * route's deprecation headers and Link, and the X-Model-Version header. The provider waits for
 * the Job, so a failed smoke test stops the update before the router changes.
 */
import { createHash } from "crypto";
import { smokeArgv } from "../../../model-server/src/smoke/settings";
import type { GateSpec } from "../../gates/plan";
import { environmentLabels, LABEL, labelValue, physicalName, trackName } from "../../naming";
import { podSecurityContext, restrictedContainerSecurityContext, RUN_AS_USER } from "./workload";

/**
 * The smoke program in the model-server image (model-server/Dockerfile compiles
 * model-server/src/smoke/main.ts there), relative to the image's working directory.
 */
export const SMOKE_PROGRAM = "dist/src/smoke/main.js";

export interface SmokeCheck {
    url: string;
    model: string;
    version: string;
    /** The recorded Open Inference Protocol request, as JSON text: it travels in the Job's command. */
    request: string;
    min: number;
    max: number;
    timeoutMs: number;
    /** Another Open Inference Protocol server: the protocol's checks only (no v1 route, no X-Model-Version). */
    server?: "oip";
}

/**
 * The Job container's command. Requests are not retried inside one run (`--retries=0`): the
 * Job's backoffLimit runs the whole check again, in a new pod.
 */
export function smokeCommand(check: SmokeCheck): string[] {
    const { url, model, version, request, min, max, timeoutMs, server } = check;
    return ["node", SMOKE_PROGRAM, ...smokeArgv({ url, model, version, input: request, min: String(min), max: String(max), timeout: String(timeoutMs), retries: "0", ...(server ? { server } : {}) })];
}

export interface SmokeJobArgs {
    /** The stack's environment, as a label on the Job. */
    environment: string;
    /** The namespace of the track's Service, where the Job runs. */
    namespace: string;
    /** The smoke gate this Job is: its track, version and whether it is required. */
    spec: GateSpec;
    /** The model's name, for the Job's name and labels. */
    model: string;
    /** The track's own image: it ships the smoke program the Job runs. */
    image: string;
    /** What the smoke program checks: the Service URL, the recorded request and the expected range. */
    check: SmokeCheck;
    /** How many times a failed check runs again in a new pod (the Job's backoffLimit). */
    retries: number;
    /** How long the whole Job may run (activeDeadlineSeconds) before it counts as failed. */
    timeoutSeconds: number;
    /** What re-runs the gate: a change makes a new Job (Jobs are immutable). */
    triggers: readonly string[];
}

export function smokeJobName(model: string, spec: GateSpec, triggers: readonly string[], image: string): string {
    const hash = createHash("sha256")
        .update(JSON.stringify([...triggers, image]))
        .digest("hex")
        .slice(0, 8);
    return physicalName("kubernetes-dns-label", [trackName(model, spec.track), "smoke", hash]);
}

export function smokeJobObject(args: SmokeJobArgs) {
    const labels = {
        ...environmentLabels(args.environment),
        [LABEL.name]: args.model,
        [LABEL.track]: args.spec.track,
        [LABEL.version]: labelValue(args.spec.version),
        [LABEL.component]: "smoke-gate",
    };
    return {
        metadata: { name: smokeJobName(args.model, args.spec, args.triggers, args.image), namespace: args.namespace, labels },
        spec: {
            backoffLimit: args.retries,
            activeDeadlineSeconds: args.timeoutSeconds,
            ttlSecondsAfterFinished: 3600,
            template: {
                metadata: { labels },
                spec: {
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    securityContext: podSecurityContext(RUN_AS_USER),
                    containers: [
                        {
                            name: "smoke",
                            image: args.image,
                            command: smokeCommand(args.check),
                            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                            securityContext: restrictedContainerSecurityContext,
                        },
                    ],
                },
            },
        },
    };
}
