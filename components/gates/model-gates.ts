/**
 * The gates of one model as local commands (@pulumi/command) that run during `pulumi up`, before
 * the router: the router objects depend on the gates of every track they send requests to, so a
 * version that fails a required gate never gains traffic.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "../config/schema";
import type { TrackName } from "../traffic/types";
import { smokeRequest, type GateSpec } from "./plan";

/** The gate programs, built with the project (`npm run up` builds first); Pulumi runs in the project directory. */
export const GATE_PROGRAM = "node dist/tools/gate.js";

export interface ModelGatesArgs {
    model: string;
    config: ModelConfig;
    specs: readonly GateSpec[];
    /** The image each track runs: its change re-runs the track's gates. */
    images: Partial<Record<TrackName, pulumi.Output<string>>>;
    /** Each track's own server, reachable from the deployer (smoke). */
    smokeUrls: Partial<Record<TrackName, pulumi.Output<string>>>;
}

function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An advisory gate reports its failure and lets the update go on. */
function enforce(spec: GateSpec, program: string): string {
    const bounded = `timeout ${spec.timeoutSeconds + 10} ${program}`;
    return spec.required ? bounded : `${bounded} || echo ${shellQuote(`${spec.kind} gate of ${spec.track} ${spec.version} failed; advisory here, the update goes on`)}`;
}

export class ModelGates extends pulumi.ComponentResource {
    /** The gate commands of each track, for the router to depend on. */
    readonly byTrack: Partial<Record<TrackName, command.local.Command[]>> = {};

    constructor(name: string, args: ModelGatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("modelship:gates:ModelGates", name, {}, opts);
        for (const spec of args.specs) {
            const image = args.images[spec.track];
            if (!image) throw new Error(`model ${args.model}: no image for the ${spec.track} track's ${spec.kind} gate`);
            const program = this.program(spec, args, image);
            const gate = new command.local.Command(
                `${name}-${spec.track}-${spec.kind}`,
                { create: pulumi.output(program).apply((p) => enforce(spec, p)), triggers: [...spec.triggers, image] },
                { parent: this },
            );
            (this.byTrack[spec.track] ??= []).push(gate);
        }
        this.registerOutputs({});
    }

    private program(spec: GateSpec, args: ModelGatesArgs, image: pulumi.Output<string>): pulumi.Input<string> {
        const required = `--required ${spec.required}`;
        switch (spec.kind) {
            case "lint":
                return `${GATE_PROGRAM} lint --dockerfile ${shellQuote(spec.dockerfile ?? "Dockerfile")} ${required}`;
            case "scan":
                return image.apply((ref) => `${GATE_PROGRAM} scan --image ${shellQuote(ref)} --scanner ${args.config.gates.scan.scanner} ${required}`);
            case "smoke": {
                const url = args.smokeUrls[spec.track];
                if (!url) throw new Error(`model ${args.model}: the target gives no address for the ${spec.track} track's smoke gate`);
                const smoke = args.config.gates.smoke;
                return url.apply(
                    (u) =>
                        `${GATE_PROGRAM} smoke --url ${shellQuote(u)} --model ${shellQuote(args.model)} --version ${shellQuote(spec.version)} --input ${shellQuote(smokeRequest(args.config))}` +
                        ` --expect-min ${smoke.expect.min} --expect-max ${smoke.expect.max} --timeout-ms ${smoke.timeoutSeconds * 1000} --retries ${smoke.retries}`,
                );
            }
        }
    }
}
