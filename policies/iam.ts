/**
 * IAM policies: no wildcard actions, no `Resource: "*"` outside the one exception list of
 * components/iam.ts, no AWS-managed admin policies, trust scoped to a principal (and for IRSA to
 * one service account), no inline user policies.
 */
import { asList, parsePolicyDocument, type PolicyDocument, type PolicyStatement, RESOURCE_WILDCARD_EXCEPTIONS, STS_AUDIENCE } from "../components/iam";
import { IAM_TYPES } from "../components/type-tokens";
import { arrayAt, isRecord, recordAt, resourcePolicy, stringAt, type ModelshipPolicy, type Props } from "./lib";

/** Verbs after which a partial wildcard can only expand to read actions. */
export const READ_VERBS = ["Get", "List", "Describe", "BatchGet", "Head"] as const;

const WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity";
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[^:*?\s]+:[^:*?\s]+$/;

interface LocatedDocument {
    /** Where the document sits in the resource's inputs, e.g. `policy` or `inlinePolicies[reader]`. */
    where: string;
    document: PolicyDocument;
}

interface LocatedStatement {
    where: string;
    label: string;
    statement: PolicyStatement;
}

/** The permission documents a resource carries (identity policies; trust documents are not). */
export function permissionDocumentsOf(type: string, props: Props): LocatedDocument[] {
    const found: LocatedDocument[] = [];
    const add = (where: string, value: unknown) => {
        const document = parsePolicyDocument(value);
        if (document) found.push({ where, document });
    };
    switch (type) {
        case IAM_TYPES.policy:
        case IAM_TYPES.rolePolicy:
        case IAM_TYPES.userPolicy:
        case IAM_TYPES.groupPolicy:
            add("policy", props.policy);
            break;
        case IAM_TYPES.role:
            arrayAt(props, "inlinePolicies").forEach((inline, index) => {
                if (isRecord(inline)) add(`inlinePolicies[${stringAt(inline, "name") ?? index}]`, inline.policy);
            });
            break;
    }
    return found;
}

function statementsOf(documents: readonly LocatedDocument[]): LocatedStatement[] {
    return documents.flatMap(({ where, document }) =>
        document.Statement.flatMap((statement, index) =>
            isRecord(statement) ? [{ where, label: typeof statement.Sid === "string" && statement.Sid !== "" ? `"${statement.Sid}"` : `#${index}`, statement }] : [],
        ),
    );
}

function isAllow(statement: PolicyStatement): boolean {
    return statement.Effect !== "Deny";
}

function strings(value: unknown): string[] {
    return asList(value as string | string[] | undefined).filter((item): item is string => typeof item === "string");
}

function hasWildcard(text: string): boolean {
    return /[*?]/.test(text);
}

/** Why an action pattern is too broad for an Allow statement, or undefined when it is fine. */
export function wildcardActionProblem(action: string): string | undefined {
    if (!hasWildcard(action)) return undefined;
    if (action === "*") return `Action "*" grants every action of every service`;
    const colon = action.indexOf(":");
    const service = colon >= 0 ? action.slice(0, colon) : "";
    const name = colon >= 0 ? action.slice(colon + 1) : action;
    if (hasWildcard(service)) return `"${action}" wildcards the service, so it grants actions of services nobody reviewed`;
    if (name === "*") return `"${action}" grants every action of ${service}, writes and deletes included`;
    const prefix = name.slice(0, name.search(/[*?]/));
    if (READ_VERBS.some((verb) => prefix.toLowerCase().startsWith(verb.toLowerCase()))) return undefined;
    return `"${action}" can expand to write actions (a partial wildcard is allowed only after a read verb: ${READ_VERBS.join(", ")})`;
}

/** Whether an IAM action pattern (with `*` and `?`) covers `action`; IAM matches actions case-insensitively. */
function actionCovers(pattern: string, action: string): boolean {
    const source = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${source}$`, "i").test(action);
}

const EXCEPTION_KEYS = new Map(Object.keys(RESOURCE_WILDCARD_EXCEPTIONS).map((action) => [action.toLowerCase(), action]));

const ADMIN_MANAGED_POLICIES = new Set([
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "job-function/SystemAdministrator",
    "job-function/NetworkAdministrator",
    "job-function/DatabaseAdministrator",
]);

/** Why a policy ARN is an AWS-managed admin or full-access policy (in any partition), or undefined. */
export function adminManagedPolicyProblem(arn: string): string | undefined {
    const match = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(arn);
    if (!match) return undefined;
    const path = match[1];
    if (ADMIN_MANAGED_POLICIES.has(path)) return `${arn} is an AWS-managed administrator/power-user policy`;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (name.endsWith("FullAccess")) return `${arn} is an AWS-managed FullAccess policy, which grants every action of its service(s) on every resource`;
    return undefined;
}

const wildcardActions = resourcePolicy(
    {
        name: "iam-no-wildcard-actions",
        description:
            "Allow statements must name the actions they grant: `*`, `svc:*`, NotAction and partial wildcards that can expand to write actions grant more than the workload needs, including actions AWS adds later.",
        theme: "iam",
    },
    (args, report) => {
        for (const { where, label, statement } of statementsOf(permissionDocumentsOf(args.type, args.props))) {
            if (!isAllow(statement)) continue;
            if (statement.NotAction !== undefined) {
                report(
                    `${where} statement ${label} allows NotAction ${JSON.stringify(statement.NotAction)}, which grants every other action, present and future: list the actions the workload needs in Action instead.`,
                );
            }
            for (const action of strings(statement.Action)) {
                const problem = wildcardActionProblem(action);
                if (problem) report(`${where} statement ${label}: ${problem}; list the specific actions the workload needs (e.g. s3:GetObject), or use a read-only wildcard such as s3:Get*.`);
            }
        }
    },
);

const wildcardResources = resourcePolicy(
    {
        name: "iam-no-wildcard-resources",
        description: `Allow statements must be scoped to resource ARNs; only the actions AWS cannot scope (RESOURCE_WILDCARD_EXCEPTIONS in components/iam.ts) may use Resource "*".`,
        theme: "iam",
    },
    (args, report) => {
        for (const { where, label, statement } of statementsOf(permissionDocumentsOf(args.type, args.props))) {
            if (!isAllow(statement)) continue;
            const notResource = statement.NotResource !== undefined;
            if (!notResource && !strings(statement.Resource).includes("*")) continue;
            const offending = strings(statement.Action).filter((action) => !EXCEPTION_KEYS.has(action.toLowerCase()));
            if (statement.NotAction !== undefined) offending.push(`NotAction ${JSON.stringify(statement.NotAction)}`);
            if (offending.length === 0) continue;
            const scope = notResource ? `NotResource ${JSON.stringify(statement.NotResource)} (every other resource)` : `Resource "*"`;
            report(
                `${where} statement ${label} grants ${offending.join(", ")} on ${scope}: scope them to the ARNs they act on; only ${[...EXCEPTION_KEYS.values()].join(", ")} may use "*" (RESOURCE_WILDCARD_EXCEPTIONS in components/iam.ts).`,
            );
        }
    },
);

const adminManagedPolicies = resourcePolicy(
    {
        name: "iam-no-admin-managed-policies",
        description: "AWS-managed administrator, power-user and FullAccess policies grant whole services on every resource; identities get customer-managed policies with only what they need.",
        theme: "iam",
    },
    (args, report) => {
        const arns: { where: string; arn: string }[] = [];
        switch (args.type) {
            case IAM_TYPES.rolePolicyAttachment:
            case IAM_TYPES.userPolicyAttachment:
            case IAM_TYPES.groupPolicyAttachment:
            case IAM_TYPES.policyAttachment: {
                const arn = stringAt(args.props, "policyArn");
                if (arn) arns.push({ where: "policyArn", arn });
                break;
            }
            case IAM_TYPES.role:
                for (const arn of arrayAt(args.props, "managedPolicyArns")) if (typeof arn === "string") arns.push({ where: "managedPolicyArns", arn });
                break;
        }
        for (const { where, arn } of arns) {
            const problem = adminManagedPolicyProblem(arn);
            if (problem) report(`${where}: ${problem}; attach a customer-managed policy with only the actions and ARNs this identity needs.`);
        }
    },
);

/** The condition values for `key` (matched case-insensitively, as IAM does) under `operator`. */
function conditionValues(statement: PolicyStatement, operator: string, key: string): string[] | undefined {
    const block = recordAt(statement, "Condition", operator);
    if (!block) return undefined;
    const found = Object.keys(block).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    return found === undefined ? undefined : strings(block[found]);
}

function webIdentityProblems(statement: PolicyStatement, provider: string): string[] {
    const host = provider.slice(provider.indexOf("oidc-provider/") + "oidc-provider/".length);
    const subKey = `${host}:sub`;
    const audKey = `${host}:aud`;
    const problems: string[] = [];
    const subject = conditionValues(statement, "StringEquals", subKey);
    if (subject === undefined || subject.length === 0) {
        const like = conditionValues(statement, "StringLike", subKey);
        problems.push(
            like !== undefined && like.length > 0
                ? `${subKey} is matched with StringLike ${JSON.stringify(like)}, so any matching service account can assume the role: pin it with StringEquals to exactly system:serviceaccount:<namespace>:<name>`
                : `no StringEquals condition on ${subKey}, so any service account of the cluster can assume the role: pin it to exactly system:serviceaccount:<namespace>:<name>`,
        );
    } else {
        const loose = subject.filter((value) => !SERVICE_ACCOUNT_SUBJECT.test(value));
        if (loose.length > 0) problems.push(`${subKey} is ${JSON.stringify(loose)}: pin it to exactly system:serviceaccount:<namespace>:<name>, without wildcards`);
    }
    const audience = conditionValues(statement, "StringEquals", audKey);
    if (audience === undefined || audience.length === 0 || audience.some((value) => value !== STS_AUDIENCE)) {
        problems.push(
            audience === undefined || audience.length === 0
                ? `no StringEquals condition on ${audKey}: pin it to ${STS_AUDIENCE} so tokens minted for other audiences cannot be exchanged`
                : `${audKey} is ${JSON.stringify(audience)}: pin it to ${STS_AUDIENCE} only`,
        );
    }
    return problems;
}

const trustScoped = resourcePolicy(
    {
        name: "iam-trust-scoped",
        description: "A role's trust policy decides who can become it: it must name its principals, and an IRSA trust must pin one service account (sub) and the STS audience (aud).",
        theme: "iam",
    },
    (args, report) => {
        if (args.type !== IAM_TYPES.role) return;
        const document = parsePolicyDocument(args.props.assumeRolePolicy);
        if (!document) return;
        for (const { label, statement } of statementsOf([{ where: "assumeRolePolicy", document }])) {
            if (!isAllow(statement)) continue;
            const at = `assumeRolePolicy statement ${label}`;
            const principal: unknown = statement.Principal;
            if (principal === "*") {
                report(`${at} has Principal "*", so anyone can assume the role: name the service, account role or OIDC provider that may assume it.`);
                continue;
            }
            if (statement.NotPrincipal !== undefined) {
                report(`${at} allows NotPrincipal, i.e. every principal but the listed ones: name the principals that may assume the role in Principal instead.`);
            }
            if (!isRecord(principal)) continue;
            if (strings(principal.AWS).includes("*")) {
                report(`${at} has Principal {AWS: "*"}, so any AWS account can assume the role: name the account or role ARNs that may assume it.`);
            }
            const webIdentity = strings(statement.Action).some((action) => actionCovers(action, WEB_IDENTITY));
            if (!webIdentity) continue;
            for (const provider of strings(principal.Federated).filter((arn) => arn.includes("oidc-provider/"))) {
                for (const problem of webIdentityProblems(statement, provider)) report(`${at} (${WEB_IDENTITY} from ${provider}): ${problem}.`);
            }
        }
    },
);

const noInlineUserPolicies = resourcePolicy(
    {
        name: "iam-no-inline-user-policies",
        description: "Permissions belong to roles (or groups), not to individual users, so they can be reviewed, reused and revoked in one place.",
        theme: "iam",
    },
    (args, report) => {
        if (args.type !== IAM_TYPES.userPolicy) return;
        const user = stringAt(args.props, "user");
        report(`an inline policy is attached to the IAM user${user ? ` ${user}` : ""}: grant the permissions through a role the workload assumes (or a group) with a managed policy instead.`);
    },
);

export const iamPolicies: ModelshipPolicy[] = [wildcardActions, wildcardResources, adminManagedPolicies, trustScoped, noInlineUserPolicies];
