/**
 * The gates a version passes before it gains traffic, as one list. Every per-kind table (which
 * tracks run it, how it becomes a resource, which program runs it) is a `Record<GateKind, ...>`,
 * so a new kind does not compile until each table has its row.
 */
import type { TrackName } from "../traffic/types";

export const GATE_KINDS = ["lint", "scan", "smoke"] as const;
export type GateKind = (typeof GATE_KINDS)[number];

/**
 * The logical name of a track's gate resource, whichever resource it is (a local command or a
 * Job): `<model>-gates-<track>-<kind>`. Previews, `pulumi up` output and the end-to-end tests
 * find a gate by this name.
 */
export function gateResourceName(model: string, track: TrackName, kind: GateKind): string {
    return `${model}-gates-${track}-${kind}`;
}
