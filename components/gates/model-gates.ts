/**
 * The gates of one model as local commands (@pulumi/command) that run during `pulumi up`, before
 * the router: the router objects depend on the gates of every track they send requests to, so a
 * version that fails a required gate never gains traffic.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "../config/schema";
import type { ImageRef } from "../image";
import type { SmokeGate } from "../target";
import { smokeRequest } from "./plan";
import type { TrackName } from "../traffic/types";
import { shellQuote } from "../shell";
import type { GateSpec } from "./plan";

/** The gate programs, built with the project (`npm run up` builds first); Pulumi runs in the project directory. */
export const GATE_PROGRAM = "node dist/tools/gate.js";

export interface ModelGatesArgs {
    model: string;
    config: ModelConfig;
    specs: readonly GateSpec[];
    /** The image each track runs: a change of its content re-runs the track's gates. */
    images: Partial<Record<TrackName, ImageRef>>;
    /** Each track's smoke gate, as its target's deployModel made it; a track without one cannot be smoke-tested. */
    smoke: Partial<Record<TrackName, SmokeGate>>;
}

/** The shell command of a local gate: bounded in time; an advisory gate reports its failure and lets the update go on. */
export function gateCommand(spec: GateSpec, program: string): string {
    const bounded = `timeout ${spec.timeoutSeconds + 10} ${program}`;
    return spec.required ? bounded : `${bounded} || echo ${shellQuote(`${spec.kind} gate of ${spec.track} ${spec.version} failed; advisory here, the update goes on`)}`;
}

export interface LocalSmokeArgs {
    model: string;
    config: ModelConfig;
    spec: GateSpec;
    image: ImageRef;
    /** Base URL of the track's server, or of a router that reaches it when `pin` is given. */
    url: pulumi.Output<string>;
    /** The router's pin header and the track it pins to. */
    pin?: { header: string; track: TrackName };
}

/** The smoke gate program run from the deployer's machine, as a command of the update. */
export function localSmokeGate(args: LocalSmokeArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    const { model, config, spec } = args;
    const smoke = config.gates.smoke;
    const pin = args.pin ? ` --pin ${shellQuote(`${args.pin.header}=${args.pin.track}`)}` : "";
    const program = args.url.apply(
        (u) =>
            `${GATE_PROGRAM} smoke --url ${shellQuote(u)} --model ${shellQuote(model)} --version ${shellQuote(spec.version)} --input ${shellQuote(smokeRequest(config))}` +
            ` --expect-min ${smoke.expect.min} --expect-max ${smoke.expect.max} --timeout-ms ${smoke.timeoutSeconds * 1000} --retries ${smoke.retries}${pin}`,
    );
    return new command.local.Command(`${model}-gates-${spec.track}-smoke`, { create: program.apply((p) => gateCommand(spec, p)), triggers: [...spec.triggers, args.image.contentId] }, opts);
}

export class ModelGates extends pulumi.ComponentResource {
    /** The gates of each track, for the router to depend on. */
    readonly byTrack: Partial<Record<TrackName, pulumi.Resource[]>> = {};

    constructor(name: string, args: ModelGatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("modelship:gates:ModelGates", name, {}, opts);
        for (const spec of args.specs) {
            const image = args.images[spec.track];
            if (!image) throw new Error(`model ${args.model}: no image for the ${spec.track} track's ${spec.kind} gate`);
            const gate = spec.kind === "smoke" ? this.smoke(spec, args) : this.local(name, spec, args, image);
            (this.byTrack[spec.track] ??= []).push(gate);
        }
        this.registerOutputs({});
    }

    private smoke(spec: GateSpec, args: ModelGatesArgs): pulumi.Resource {
        const gate = args.smoke[spec.track];
        if (!gate) throw new Error(`model ${args.model}: its target cannot run the ${spec.track} track's smoke gate`);
        return gate(spec, this);
    }

    private local(name: string, spec: GateSpec, args: ModelGatesArgs, image: ImageRef): command.local.Command {
        const required = `--required ${spec.required}`;
        const program =
            spec.kind === "lint"
                ? pulumi.output(`${GATE_PROGRAM} lint --dockerfile ${shellQuote(spec.dockerfile ?? "Dockerfile")} ${required}`)
                : image.ref.apply((ref) => `${GATE_PROGRAM} scan --image ${shellQuote(ref)} --scanner ${args.config.gates.scan.scanner} ${required}`);
        return new command.local.Command(`${name}-${spec.track}-${spec.kind}`, { create: program.apply((p) => gateCommand(spec, p)), triggers: [...spec.triggers, image.contentId] }, { parent: this });
    }
}
