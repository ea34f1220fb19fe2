/** One error for every mistake in a stack's config, so a user fixes them all in one pass. */

export interface ConfigIssue {
    /** Full key path, e.g. `modelship:models.fraud-scorer.strategy.step`. */
    path: string;
    /** The value found there; undefined when the key is missing. */
    value: unknown;
    /** What was expected, in words. */
    expected: string;
}

const MAX_VALUE_CHARS = 80;

export function describeValue(value: unknown): string {
    if (value === undefined) return "(missing)";
    const json = JSON.stringify(value);
    return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS - 3)}...` : json;
}

export function formatIssue(issue: ConfigIssue): string {
    return `  - ${issue.path}: got ${describeValue(issue.value)}; expected ${issue.expected}`;
}

export class ConfigError extends Error {
    readonly issues: readonly ConfigIssue[];
    readonly stackName: string;

    constructor(stackName: string, issues: readonly ConfigIssue[]) {
        const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
        super([`modelship config for stack "${stackName}" has ${count}; nothing was deployed:`, ...issues.map(formatIssue)].join("\n"));
        this.name = "ConfigError";
        this.issues = issues;
        this.stackName = stackName;
    }
}
