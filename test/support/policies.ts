/**
 * Runs one policy the way the pack runs it, on resources given as type, name and inputs, and
 * returns its messages: the pattern of pulumi-policy-aws's tests, over the offline runner.
 */
import type { ModelshipPolicy } from "../../policies/lib";
import { evaluate, type OfflineResource } from "../../policies/offline";

export function resource(type: string, props: Record<string, unknown>, name = "subject"): OfflineResource {
    return { type, name, props };
}

/** The messages `policy` reports for `resources`, with its config properties set as given. */
export async function violationsOf(policy: ModelshipPolicy, resources: OfflineResource | readonly OfflineResource[], properties: Record<string, unknown> = {}): Promise<string[]> {
    const list = Array.isArray(resources) ? resources : [resources as OfflineResource];
    const found = await evaluate([policy], list, { [policy.name]: { enforcementLevel: "mandatory", ...properties } });
    return found.map((v) => v.message);
}
