/**
 * Every kind of target modelship can deploy to, one line each. Config, the stack, the mock
 * runtime, `npm run up` and the policy pack loop over this list; a target's folder holds
 * everything else about it (definition.ts says what).
 */
import { z } from "zod";
import { awsVmTarget } from "./aws-vm";
import type { RegisteredTarget } from "./definition";
import { dockerTarget } from "./docker";
import { kubernetesTarget } from "./kubernetes";

// Read when asked, not at load: a target's own modules may load this one before they finish loading.
const builtIn = () => [dockerTarget, kubernetesTarget, awsVmTarget] as const;

/** The config of any built-in target; narrow it by `type`. */
export type TargetConfig = z.output<ReturnType<typeof builtIn>[number]["schema"]>;

let added: readonly RegisteredTarget[] = [];

/** The registered targets, in the order their checks and messages run. */
export function targets(): readonly RegisteredTarget[] {
    return [...builtIn(), ...added];
}

/** The definition of a target type; the config schema admits no other. */
export function targetDefinition(type: string): RegisteredTarget {
    const found = targets().find((t) => t.type === type);
    if (!found)
        throw new Error(
            `no target type ${JSON.stringify(type)} is registered (${targets()
                .map((t) => t.type)
                .join(", ")})`,
        );
    return found;
}

/** Tests: registers more targets after the built-in ones, until the returned function is called. */
export function registerTargets(extra: readonly RegisteredTarget[]): () => void {
    const before = added;
    added = [...before, ...extra];
    return () => {
        added = before;
    };
}

/** "a, b or c" */
function listed(names: readonly string[]): string {
    return names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

/**
 * One target config: whichever registered target its `type` names. Typed as a built-in target's
 * config: a target registered by a test is handled through its own definition only.
 */
export function targetSchema(): z.ZodType<TargetConfig> {
    const [first, ...rest] = targets().map((t) => t.schema);
    if (!first) throw new Error("no target is registered");
    return z.discriminatedUnion("type", [first, ...rest], { error: `a target type: ${listed(targets().map((t) => t.type))}` }) as z.ZodType<unknown> as z.ZodType<TargetConfig>;
}
