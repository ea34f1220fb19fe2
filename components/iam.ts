/**
 * IAM policy documents as data, and the one list of AWS actions that may (must) use
 * `Resource: "*"`. Components build their documents with these types; the policy pack checks
 * every document against the same list, so an exception cannot be granted in one place only.
 */

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Principal?: "*" | Record<string, string | string[]>;
    NotPrincipal?: Record<string, string | string[]>;
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * Actions that AWS does not scope to a resource: they are only ever granted on `*`. Each entry
 * says why, so a reviewer can tell an exception from a shortcut.
 */
export const RESOURCE_WILDCARD_EXCEPTIONS: Readonly<Record<string, string>> = {
    "ecr:GetAuthorizationToken": "the registry login token is account-wide; pulls are then scoped by the repository actions",
    "cloudwatch:PutMetricData": "metric data has no resource ARN; scope it with the cloudwatch:namespace condition",
    "sts:GetCallerIdentity": "identity lookup has no resource",
    "ec2:DescribeInstances": "EC2 Describe actions do not support resource-level permissions",
    "ec2:DescribeTags": "EC2 Describe actions do not support resource-level permissions",
};

export function asList(value: string | string[] | undefined): string[] {
    if (value === undefined) return [];
    return Array.isArray(value) ? value : [value];
}

/** A document from a resource input: an object, or the JSON string most AWS resources take. */
export function parsePolicyDocument(value: unknown): PolicyDocument | undefined {
    const parsed = typeof value === "string" ? safeJson(value) : value;
    if (parsed === null || typeof parsed !== "object") return undefined;
    const statement = (parsed as { Statement?: unknown }).Statement;
    if (statement === undefined) return undefined;
    return { Version: "2012-10-17", Statement: (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[] };
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}
