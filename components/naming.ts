/**
 * Names and labels shared by every target, so a resource can be traced back to its model, track
 * and environment whichever target runs it; and the one function every physical name comes from,
 * which knows each kind's limit and shortens with a stable hash.
 */
import { createHash } from "crypto";
import type { TrackName } from "./traffic/types";

interface NameRule {
    max: number;
    /** What the service accepts, length aside. */
    pattern: RegExp;
    /** Characters the kind refuses, replaced by '-' before a name is shortened. */
    refused: RegExp;
}

const rule = (max: number, pattern: RegExp, refused: RegExp): NameRule => ({ max, pattern, refused });
const HYPHENATED = rule(32, /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/, /[^-A-Za-z0-9]/g);
const IAM = /[^\w+=,.@-]/g;
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * Each kind of physical name, its service's limit and alphabet. AWS refuses an over-long name (the
 * provider's auto-name, `<logical name>-<7 hex>`, does not truncate), and ALB and target group names
 * are unique per account and region; Kubernetes names that become DNS labels (a Service's host name,
 * a Deployment's pods' host names, a Job's `job-name` label, a namespace) are 63.
 */
export const NAME_RULES = {
    "aws-load-balancer": HYPHENATED,
    "aws-target-group": HYPHENATED,
    "aws-iam-role": rule(64, /^[\w+=,.@-]+$/, IAM),
    "aws-instance-profile": rule(128, /^[\w+=,.@-]+$/, IAM),
    "aws-iam-role-policy": rule(128, /^[\w+=,.@-]+$/, IAM),
    "aws-security-group": rule(255, /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, /[^A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g),
    "aws-launch-template": rule(128, /^[A-Za-z0-9().\-/_]+$/, /[^A-Za-z0-9().\-/_]/g),
    "aws-autoscaling-group": rule(255, PRINTABLE, /[^\x20-\x7e]/g),
    "aws-metric-alarm": rule(255, PRINTABLE, /[^\x20-\x7e]/g),
    "aws-log-group": rule(512, /^[A-Za-z0-9_\-/.#]+$/, /[^A-Za-z0-9_\-/.#]/g),
    /** ECR's limit; local and external registries get the same repository path. */
    "image-repository": rule(256, /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, /[^a-z0-9._/-]/g),
    /** Namespace, Service (a DNS-1035 label: it starts with a letter), Deployment, Job. */
    "kubernetes-dns-label": rule(63, /^[a-z]([-a-z0-9]*[a-z0-9])?$/, /[^-a-z0-9]/g),
    /** Every other object: a DNS-1123 subdomain. */
    "kubernetes-object": rule(253, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, /[^-.a-z0-9]/g),
    "kubernetes-label-value": rule(63, /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, /[^-A-Za-z0-9_.]/g),
    /** Also the container's alias on its network, the host name the router resolves: one DNS label's length. */
    "docker-container": rule(63, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, /[^A-Za-z0-9_.-]/g),
    "docker-network": rule(253, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, /[^A-Za-z0-9_.-]/g),
    /** An image tag; a version's build metadata ('+') is not one. */
    "image-tag": rule(128, /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, /[^A-Za-z0-9_.-]/g),
} as const satisfies Record<string, NameRule>;

export type NameKind = keyof typeof NAME_RULES;

/** Hex characters of the hash that keeps a shortened name unique: 32 bits, plenty for a stack's names. */
export const NAME_HASH_LENGTH = 8;

export interface NameOptions {
    /** Joins the parts; `-` unless the kind is a path (log groups, repositories). */
    separator?: string;
    /**
     * Inputs that replace the resource when they change. Their hash is always appended, so the
     * replacement gets a new name and can be created before the old one is deleted (a fixed name
     * would collide with itself).
     */
    uniqueBy?: ReadonlyArray<string | number | boolean>;
}

/**
 * The physical name of a resource of `kind` from its parts, e.g. `prod`, `fraud-scorer`, `stable`:
 * the parts joined when that fits the kind, otherwise (or with `uniqueBy`) as much of them as fits
 * and a hash of all of them, so the name is the same on every run and differs for different parts.
 * Parts should be stable per model and track, never per version: a new name replaces the resource.
 */
export function physicalName(kind: NameKind, parts: readonly string[], options: NameOptions = {}): string {
    const { max, pattern, refused } = NAME_RULES[kind];
    const joined = parts.join(options.separator ?? "-");
    if (options.uniqueBy === undefined && joined.length <= max && pattern.test(joined)) return joined;
    const hash = createHash("sha256")
        .update(JSON.stringify([parts, options.uniqueBy ?? []]))
        .digest("hex")
        .slice(0, NAME_HASH_LENGTH);
    const head = joined
        .replace(refused, "-")
        // Runs of separators ("a--b", "a.-b") are what some kinds (ECR) refuse; one is enough.
        .replace(/([^A-Za-z0-9])[^A-Za-z0-9]+/g, "$1")
        .slice(0, max - NAME_HASH_LENGTH - 1)
        .replace(/[^A-Za-z0-9]+$/, "");
    const name = head.length > 0 ? `${head}-${hash}` : hash;
    if (!pattern.test(name)) throw new Error(`cannot make a ${kind} name from ${JSON.stringify(parts)}: "${name}" is not one`);
    return name;
}

/** A Kubernetes label value: the value itself where it is one (at most 63 of `A-Za-z0-9-_.`), else shortened by physicalName. */
export function labelValue(value: string): string {
    return physicalName("kubernetes-label-value", [value]);
}

export const LABEL = {
    name: "app.kubernetes.io/name",
    version: "app.kubernetes.io/version",
    component: "app.kubernetes.io/component",
    partOf: "app.kubernetes.io/part-of",
    managedBy: "app.kubernetes.io/managed-by",
    track: "modelship.dev/track",
    environment: "modelship.dev/environment",
    /** The content of the image a container runs (its build digest): a rebuild under the same tag changes it. */
    imageContent: "modelship.dev/image-content",
} as const;

export const PRODUCT = "modelship";

/** Labels every resource carries; policies check the environment label against the stack. */
export function environmentLabels(environment: string): Record<string, string> {
    return { [LABEL.partOf]: PRODUCT, [LABEL.managedBy]: PRODUCT, [LABEL.environment]: environment };
}

/** Selects the pods of one track of one model; stable across versions so a rollout keeps its pods. */
export function trackSelector(model: string, track: TrackName): Record<string, string> {
    return { [LABEL.name]: model, [LABEL.track]: track };
}

/**
 * The labels of what serves a track whatever its version (its Service, its disruption budget): a new
 * version must not touch them, or every rollout updates a Service whose traffic it does not change.
 */
export function poolLabels(environment: string, model: string, track: TrackName): Record<string, string> {
    return { ...environmentLabels(environment), ...trackSelector(model, track), [LABEL.component]: "model-server" };
}

export function trackLabels(environment: string, model: string, track: TrackName, version: string): Record<string, string> {
    return { ...poolLabels(environment, model, track), [LABEL.version]: labelValue(version) };
}

/** `fraud-scorer-candidate`: the Deployment, Service and PodDisruptionBudget of one track, and the stem of its other names. */
export function trackName(model: string, track: TrackName): string {
    return physicalName("kubernetes-dns-label", [model, track]);
}

/** The tag a version's image is pushed with: the version itself where it is a tag, else shortened by physicalName. */
export function imageTag(version: string): string {
    return physicalName("image-tag", [version]);
}

/** A repository per model, `modelship/<model>`, in whichever registry. */
/** The role a model's pods assume (IRSA): one per model, named so across targets and tools. */
export function podRoleLogicalName(model: string): string {
    return `${model}-pods`;
}

/** An IAM role's own name: roles are account-wide, so it says the product and environment. */
export function iamRoleName(environment: string, logicalName: string): string {
    return physicalName("aws-iam-role", [PRODUCT, environment, logicalName]);
}

export function repositoryName(model: string): string {
    return physicalName("image-repository", [PRODUCT, model], { separator: "/" });
}

/** AWS tag keys: the same facts as the labels, in the key style AWS consoles show. */
export const AWS_TAG = {
    environment: "modelship:environment",
    managedBy: "modelship:managed-by",
    model: "modelship:model",
} as const;

export function awsTags(environment: string, model?: string): Record<string, string> {
    return { [AWS_TAG.environment]: environment, [AWS_TAG.managedBy]: PRODUCT, ...(model ? { [AWS_TAG.model]: model } : {}) };
}
