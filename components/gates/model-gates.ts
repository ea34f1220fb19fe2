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
import { gateResourceName, type GateKind } from "./kinds";
import type { GateSpec } from "./plan";
import { recordGate } from "./recorded";
import { COMPONENT_TYPES } from "../type-tokens";

/** The gate programs, built with the project (`npm run up` builds first); Pulumi runs in the project directory. */
export const GATE_PROGRAM = "node dist/tools/gate.js";

export interface ModelGatesArgs {
    /** The model's name: it prefixes every gate resource's name. */
    model: string;
    /** The model's config: what each gate checks against (scanner, recorded request, expected range). */
    config: ModelConfig;
    /** The gates to create (gates/plan.ts). */
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

/** A gate program as a local command of the update, re-run when its triggers or the track's image content change. */
function localGate(model: string, spec: GateSpec, image: ImageRef, program: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.local.Command {
    const create = pulumi.output(program).apply((p) => gateCommand(spec, p));
    return new command.local.Command(gateResourceName(model, spec.track, spec.kind), { create, triggers: [...spec.triggers, image.contentId] }, opts);
}

export interface LocalSmokeArgs {
    /** The model's name: the gate resource's name starts with it, and the inference is sent to it. */
    model: string;
    /** The model's config: the recorded request, the expected range, the timeout and retries. */
    config: ModelConfig;
    /** The smoke gate to create: its track, version, triggers and whether it is required. */
    spec: GateSpec;
    /** The track's image: a change of its content runs the gate again. */
    image: ImageRef;
    /** Base URL of the track's server, or of a router that reaches it when `pin` is given. */
    url: pulumi.Output<string>;
    /** The router's pin header and the track it pins to. */
    pin?: { header: string; track: TrackName };
    /** Another Open Inference Protocol server's track: the protocol's checks only (smoke --server oip). */
    server?: "oip";
}

/** The smoke gate program run from the deployer's machine, as a command of the update. */
export function localSmokeGate(args: LocalSmokeArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    const { model, config, spec } = args;
    const smoke = config.gates.smoke;
    const pin = args.pin ? ` --pin ${shellQuote(`${args.pin.header}=${args.pin.track}`)}` : "";
    const server = args.server ? ` --server ${args.server}` : "";
    const program = args.url.apply(
        (u) =>
            `${GATE_PROGRAM} smoke --url ${shellQuote(u)} --model ${shellQuote(model)} --version ${shellQuote(spec.version)} --input ${shellQuote(smokeRequest(config))}` +
            ` --expect-min ${smoke.expect.min} --expect-max ${smoke.expect.max} --timeout-ms ${smoke.timeoutSeconds * 1000} --retries ${smoke.retries}${pin}${server}`,
    );
    return localGate(model, spec, args.image, program, opts);
}

/** One gate of one track, as ModelGates creates it. */
interface GateToCreate {
    spec: GateSpec;
    args: ModelGatesArgs;
    image: ImageRef;
    parent: ModelGates;
}

const required = (spec: GateSpec) => `--required ${spec.required}`;

/** How each kind of gate becomes a resource: lint and scan run here, smoke the target's way (it knows where a track is reached). */
const GATE_RESOURCES: Readonly<Record<GateKind, (gate: GateToCreate) => pulumi.Resource>> = {
    lint: ({ spec, args, image, parent }) => localGate(args.model, spec, image, `${GATE_PROGRAM} lint --dockerfile ${shellQuote(spec.dockerfile ?? "Dockerfile")} ${required(spec)}`, { parent }),
    scan: ({ spec, args, image, parent }) =>
        localGate(
            args.model,
            spec,
            image,
            image.ref.apply((ref) => `${GATE_PROGRAM} scan --image ${shellQuote(ref)} --scanner ${args.config.gates.scan.scanner} ${required(spec)}`),
            { parent },
        ),
    smoke: ({ spec, args, parent }) => {
        const gate = args.smoke[spec.track];
        if (!gate) throw new pulumi.ResourceError(`model ${args.model}: its target cannot run the ${spec.track} track's smoke gate`, parent);
        return gate(spec, parent);
    },
};

export class ModelGates extends pulumi.ComponentResource {
    /** The gates of each track, for the router to depend on. */
    readonly byTrack: Partial<Record<TrackName, pulumi.Resource[]>> = {};

    constructor(name: string, args: ModelGatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.modelGates, name, {}, opts);
        for (const spec of args.specs) {
            const image = args.images[spec.track];
            if (!image) throw new pulumi.ResourceError(`model ${args.model}: no image for the ${spec.track} track's ${spec.kind} gate`, this);
            const gate = recordGate(GATE_RESOURCES[spec.kind]({ spec, args, image, parent: this }), args.model, spec);
            (this.byTrack[spec.track] ??= []).push(gate);
        }
        this.registerOutputs({});
    }
}
