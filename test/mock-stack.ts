/** Runs the stack program under Pulumi mocks with a raw config, as `pulumi up` would with a stack file. */
import type { RawConfig } from "../components/config/parse";
import { loadConfig } from "../components/config/load";
import { deployModelship, type StackOutputs } from "../components/stack";
import { runUnderMocks, type MockRun, type RecordedResource } from "../tools/mock-runtime";

export function configMap(raw: RawConfig): Record<string, string> {
    return Object.fromEntries(
        Object.entries(raw)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [`modelship:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );
}

export function runStack(raw: RawConfig, stack: string, record?: RecordedResource[]): Promise<MockRun<StackOutputs>> {
    return runUnderMocks({ project: "modelship", stack, config: configMap(raw), ...(record ? { record } : {}) }, () => deployModelship(loadConfig()));
}

export function ofType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
    return resources.filter((r) => r.type === type);
}

export function named(resources: readonly RecordedResource[], type: string, name: string): RecordedResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have: ${resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found;
}

/** Reads a nested input such as spec.template.spec.containers. */
export function at<T = unknown>(resource: RecordedResource, path: string): T {
    return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], resource.inputs) as T;
}

/** The type tokens the tests look resources up by: the one table the components and the policies use. */
export { TYPES as T } from "../components/type-tokens";
