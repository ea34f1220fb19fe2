/**
 * Runs the stack program in-process under `pulumi.runtime.setMocks`, recording every resource it
 * registers. Providers never run: cloud-computed outputs get deterministic stand-ins, so a render
 * reads the same on every machine. Used by `npm run render` and by the unit tests.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordedGate, type RecordedGate } from "../components/gates/recorded";
import { MOCK_ACCOUNT, MOCK_REGION, mockDigest } from "../components/targets/mocks";
import { targets } from "../components/targets/registry";
import { scalarText } from "../components/scalar-text";
import { IAM_TYPES, TYPES } from "../components/type-tokens";

export interface RecordedResource {
    type: string;
    name: string;
    /** False for component resources. */
    custom: boolean;
    /** `type::name` of the parent resource; undefined for children of the stack itself. */
    parent?: string;
    /** `type::name` of each resource named in its dependsOn option. */
    dependsOn?: string[];
    inputs: Record<string, unknown>;
}

/** A gate resource and the spec it was created from. */
export interface RecordedGateResource extends RecordedGate {
    /** `type::name` of the resource. */
    resource: string;
}

export interface MockRun<T> {
    resources: RecordedResource[];
    /** The gates the program created, in the order it created them. */
    gates: RecordedGateResource[];
    /** What the program returned, with every Output resolved. */
    outputs: pulumi.Unwrap<T>;
}

export interface MockRunOptions {
    project: string;
    stack: string;
    /** Full keys (`modelship:target`) to the strings Pulumi would pass: JSON for structured values. */
    config: Readonly<Record<string, string>>;
    /** Filled as resources register, so a caller still sees them when the program throws. */
    record?: RecordedResource[];
}

/** The marker Pulumi puts on a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_PLACEHOLDER = "[secret]";

/** Replaces secret values so that nothing secret-shaped reaches a render file. */
export function redactSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactSecrets);
    if (value !== null && typeof value === "object") {
        if (SECRET_SIG in value) return SECRET_PLACEHOLDER;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
    }
    return value;
}

/**
 * A docker-build Image's outputs: a digest once the image went anywhere (pushed, or loaded into the
 * engine, where it is the manifest's), derived from everything that changes what is built; and
 * `ref`, the first tag, with the digest appended when the tag names its registry (as the provider
 * does: `docker.io/x:1` does, `x:1` does not).
 */
function builtImage(inputs: Record<string, unknown>): Record<string, unknown> {
    const tags = Array.isArray(inputs.tags) ? inputs.tags.map(String) : [];
    const exported = inputs.push === true || inputs.load === true || (Array.isArray(inputs.exports) && inputs.exports.length > 0);
    const built = JSON.stringify([tags, inputs.context, inputs.dockerfile, inputs.buildArgs, inputs.platforms, inputs.target]);
    const digest = exported ? mockDigest(built) : "";
    const ref = tags[0] ?? "";
    const namesRegistry = /^([^/]*[.:][^/]*|localhost)\//.test(ref);
    return { digest, ref: digest && namesRegistry ? `${ref}@${digest}` : ref, contextHash: mockDigest(JSON.stringify(inputs.context)) };
}

/** Outputs a real provider would compute, for the resource types the program reads outputs of: the shared ones here, each target's in its folder. */
function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case TYPES.image:
            return builtImage(inputs);
        case TYPES.ecrRepository:
            return {
                registryId: MOCK_ACCOUNT,
                arn: `arn:aws:ecr:${MOCK_REGION}:${MOCK_ACCOUNT}:repository/${String(inputs.name)}`,
                repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/${String(inputs.name)}`,
            };
        case IAM_TYPES.role:
        case IAM_TYPES.instanceProfile:
            return { arn: `arn:aws:iam::${MOCK_ACCOUNT}:${type === IAM_TYPES.role ? "role" : "instance-profile"}/${scalarText(inputs.name, name)}`, name: scalarText(inputs.name, name) };
        default:
            // A target's own provider resources: its folder says what a real provider would compute.
            return (
                targets()
                    .find((t) => type in t.mocks)
                    ?.mocks[type](name, inputs) ?? {}
            );
    }
}

function mockCall(token: string): Record<string, unknown> {
    if (token === "aws:index/getCallerIdentity:getCallerIdentity") return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/render`, userId: "render", id: MOCK_ACCOUNT };
    if (token === "aws:index/getRegion:getRegion") return { name: MOCK_REGION, region: MOCK_REGION, id: MOCK_REGION, endpoint: `ec2.${MOCK_REGION}.amazonaws.com`, description: "mock" };
    if (token === "aws:index/getPartition:getPartition") return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws", reverseDnsPrefix: "com.amazonaws" };
    if (token === "aws:ecr/getAuthorizationToken:getAuthorizationToken") {
        return { proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com`, userName: "AWS", password: "mock-token", authorizationToken: "mock" };
    }
    throw new Error(`the mock runtime has no answer for the call ${token}`);
}

/** The engine-side queue of pending registrations; `@internal` in the SDK, so reached by name. */
async function waitForPendingRegistrations(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- waitForRPCs is not in the module's declarations
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
    if (typeof settings.waitForRPCs === "function") await settings.waitForRPCs();
}

function resourceKey(type: string, name: string): string {
    return `${type}::${name}`;
}

export async function runUnderMocks<T>(options: MockRunOptions, program: () => T): Promise<MockRun<T>> {
    const resources: RecordedResource[] = options.record ?? [];
    // Mocks are not told a resource's parent; a stack transformation sees it and records it here.
    const keys = new WeakMap<pulumi.Resource, string>();
    const created: pulumi.Resource[] = [];
    const parents = new Map<string, string>();
    const dependencies = new Map<string, string[]>();
    // The engine refuses two resources with one URN (parent types, type, name); mocks do not, so it is checked here.
    const qualifiedTypes = new WeakMap<pulumi.Resource, string>();
    const urns = new Set<string>();
    const duplicates: string[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = (args.inputs ?? {}) as Record<string, unknown>;
                const parent = parents.get(resourceKey(args.type, args.name));
                const dependsOn = dependencies.get(resourceKey(args.type, args.name));
                resources.push({
                    type: args.type,
                    name: args.name,
                    custom: args.custom !== false,
                    ...(parent ? { parent } : {}),
                    ...(dependsOn && dependsOn.length > 0 ? { dependsOn } : {}),
                    inputs: redactSecrets(inputs) as Record<string, unknown>,
                });
                return { id: `${args.name}-id`, state: { ...inputs, ...computedState(args.type, args.name, inputs) } };
            },
            call(args) {
                return mockCall(args.token);
            },
        },
        options.project,
        options.stack,
        false,
    );
    pulumi.runtime.setAllConfig({ ...options.config });
    const outputs = (await pulumi.runtime.runInPulumiStack(() => {
        pulumi.runtime.registerStackTransformation((args) => {
            const key = resourceKey(args.type, args.name);
            keys.set(args.resource, key);
            created.push(args.resource);
            const parentType = args.opts.parent ? qualifiedTypes.get(args.opts.parent) : undefined;
            const qualified = parentType ? `${parentType}$${args.type}` : args.type;
            qualifiedTypes.set(args.resource, qualified);
            const urn = `urn:pulumi:${options.stack}::${options.project}::${qualified}::${args.name}`;
            if (urns.has(urn)) duplicates.push(urn);
            urns.add(urn);
            const parent = args.opts.parent ? keys.get(args.opts.parent) : undefined;
            if (parent && !parent.startsWith("pulumi:pulumi:Stack::")) parents.set(key, parent);
            // The program passes plain arrays of resources; other shapes are not recorded.
            const declared = Array.isArray(args.opts.dependsOn) ? args.opts.dependsOn : [];
            dependencies.set(
                key,
                declared
                    .flatMap((d) => {
                        const known = d instanceof pulumi.Resource ? keys.get(d) : undefined;
                        return known ? [known] : [];
                    })
                    .sort(),
            );
            return undefined;
        });
        return Promise.resolve(program());
    })) as pulumi.Unwrap<T>;
    await waitForPendingRegistrations();
    if (duplicates.length > 0) throw new Error(`duplicate resource URNs (the engine refuses them; give the resources unique names): ${duplicates.join(", ")}`);
    const gates = created.flatMap((resource) => {
        const gate = recordedGate(resource);
        return gate ? [{ resource: keys.get(resource) ?? "", ...gate }] : [];
    });
    return { resources, gates, outputs: redactSecrets(outputs) as pulumi.Unwrap<T> };
}
