/**
 * Config hygiene: the environment mix-up (a dev bucket, image or role reaching prod; a resource
 * that does not say which environment it belongs to) and secrets in plain text.
 */
import { IAM_TYPES, S3_TYPES } from "../components/type-tokens";
import {
    arrayAt,
    containersOf,
    ENVIRONMENT_CONFIG,
    ENVIRONMENT_LABEL,
    ENVIRONMENT_TAG,
    isRecord,
    listEntry,
    podSpecOf,
    projectEnvironments,
    recordAt,
    resourcePolicy,
    stringAt,
    TYPES,
    type EnvironmentConfig,
    type ModelshipPolicy,
    type Props,
} from "./lib";
import type { PackConfig } from "./offline";

/** AWS resource types that take tags; others (attachments, lifecycle policies...) cannot carry one. */
const TAGGABLE_AWS_TYPES = new Set<string>([
    TYPES.ecrRepository,
    S3_TYPES.bucket,
    S3_TYPES.bucketV2,
    IAM_TYPES.role,
    IAM_TYPES.policy,
    IAM_TYPES.user,
    IAM_TYPES.instanceProfile,
    IAM_TYPES.openIdConnectProvider,
    TYPES.kmsKey,
    TYPES.logGroup,
    TYPES.metricAlarm,
    TYPES.launchTemplate,
    TYPES.securityGroup,
    TYPES.loadBalancer,
    TYPES.targetGroup,
    TYPES.listener,
    TYPES.listenerRule,
]);

/** An Auto Scaling group's tags are a list of {key, value, propagateAtLaunch}, not a map. */
const AUTOSCALING_GROUP = TYPES.autoscalingGroup;

function listTag(props: Props, key: string): string | undefined {
    const entry = listEntry(props, "tags", "key", key);
    return entry && stringAt(entry, "value");
}

function dockerLabel(props: Props, name: string): string | undefined {
    const entry = listEntry(props, "labels", "label", name);
    return entry && stringAt(entry, "value");
}

/** Where a resource says its environment, and what it says; undefined when it cannot carry one. */
function declaredEnvironments(type: string, props: Props): Array<{ where: string; value: string | undefined }> | undefined {
    if (type.startsWith("kubernetes:") && !type.startsWith("pulumi:providers:") && recordAt(props, "metadata")) {
        const found = [{ where: "metadata.labels", value: stringAt(props, "metadata", "labels", ENVIRONMENT_LABEL) }];
        if (podSpecOf(type, props)) found.push({ where: "pod template labels", value: stringAt(props, "spec", "template", "metadata", "labels", ENVIRONMENT_LABEL) });
        return found;
    }
    if (type === TYPES.container || type === TYPES.network) return [{ where: "labels", value: dockerLabel(props, ENVIRONMENT_LABEL) }];
    if (TAGGABLE_AWS_TYPES.has(type)) return [{ where: "tags", value: stringAt(props, "tags", ENVIRONMENT_TAG) }];
    if (type === AUTOSCALING_GROUP) return [{ where: "tags", value: listTag(props, ENVIRONMENT_TAG) }];
    return undefined;
}

const environmentLabel = resourcePolicy(
    {
        name: "environment-label",
        description: `Every resource says which environment it belongs to (label ${ENVIRONMENT_LABEL}, tag ${ENVIRONMENT_TAG}), and it is this stack's: a resource copied from another environment's config shows up here.`,
        theme: "hygiene",
        configSchema: ENVIRONMENT_CONFIG,
    },
    (args, report) => {
        const { environment } = args.getConfig<EnvironmentConfig>();
        for (const { where, value } of declaredEnvironments(args.type, args.props) ?? []) {
            if (value === undefined) report(`${where} lack ${args.type.startsWith("aws:") ? ENVIRONMENT_TAG : ENVIRONMENT_LABEL}; set it to "${environment}"`);
            else if (value !== environment) report(`${where} say environment "${value}" in the ${environment} stack`);
        }
    },
);

interface CrossEnvironmentConfig extends EnvironmentConfig {
    /** Set only by the offline runner for the project it checks; otherwise the pack's project's stacks. */
    environments?: string[];
}

const CROSS_ENVIRONMENT = "no-cross-environment-references";

/** Device paths, not environment names. */
const DEVICE_PATHS = /\/dev\/(stdout|stderr|stdin|null|shm|fd\/\d+)\b/g;

/** Every string value under a resource's inputs, with its path; keys are names, not values. */
function stringValues(value: unknown, path: string, out: Array<{ path: string; value: string }>): void {
    if (typeof value === "string") out.push({ path, value });
    else if (Array.isArray(value)) value.forEach((item, i) => stringValues(item, `${path}[${i}]`, out));
    else if (isRecord(value)) {
        // Docker labels are {label, value} pairs: the label is a key.
        if (typeof value.label === "string" && "value" in value) return stringValues(value.value, `${path}.${value.label}`, out);
        for (const [key, item] of Object.entries(value)) stringValues(item, path ? `${path}.${key}` : key, out);
    }
}

function namesEnvironment(value: string, environment: string): boolean {
    return new RegExp(`(^|[^a-z0-9])${environment}([^a-z0-9]|$)`, "i").test(value.replace(DEVICE_PATHS, ""));
}

const noCrossEnvironment = resourcePolicy(
    {
        name: CROSS_ENVIRONMENT,
        description:
            "A name, image, bucket or ARN that names another environment (a dev bucket in prod, a lab role) is the classic config mix-up: the stack would read, write or run the wrong environment's things. The other environments are the project's other stack files.",
        theme: "hygiene",
        configSchema: {
            properties: { ...ENVIRONMENT_CONFIG.properties, environments: { type: "array", items: { type: "string", minLength: 1 } } },
            required: ["environment"],
        },
    },
    (args, report) => {
        const { environment, environments = projectEnvironments() } = args.getConfig<CrossEnvironmentConfig>();
        const others = environments.filter((e) => e !== environment);
        const values: Array<{ path: string; value: string }> = [{ path: "name", value: args.name }];
        stringValues(args.props, "", values);
        for (const { path, value } of values) {
            const named = others.filter((other) => namesEnvironment(value, other));
            if (named.length > 0) report(`${path} names environment ${named.join(", ")} in the ${environment} stack: ${value.length > 120 ? `${value.slice(0, 117)}...` : value}`);
        }
    },
);

const SECRET_NAME = /(^|_)(SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIALS?)(_|$)/i;
/** Shapes of well-known credentials, whatever the variable is called. */
const SECRET_VALUES: ReadonlyArray<[RegExp, string]> = [
    [/\bA(KIA|SIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
    [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, "a Slack token"],
    [/\bsk_live_[A-Za-z0-9]{16,}\b/, "a Stripe live key"],
    [/\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/, "a JSON web token"],
];

/** What is wrong with a plain-text setting, or undefined when it does not look secret. */
function secretProblem(key: string, value: string): string | undefined {
    const shape = SECRET_VALUES.find(([pattern]) => pattern.test(value));
    if (shape) return `holds ${shape[1]} in plain text`;
    // `<NAME>_FILE=/path` says where a secret is mounted (AWS_WEB_IDENTITY_TOKEN_FILE, Docker's
    // *_FILE convention), not what it is; any other value of such a name is still checked.
    if (/_FILE$/i.test(key) && value.startsWith("/")) return undefined;
    if (SECRET_NAME.test(key) && value.trim() !== "") return "looks like a secret and is set in plain text";
    return undefined;
}

interface Setting {
    /** Where it is, for the message: `container model-server env API_TOKEN`. */
    where: string;
    key: string;
    value: string;
}

/** Environment variables and config entries a resource hands to a process in plain text. */
function plainSettings(type: string, props: Props): Setting[] {
    const podSpec = podSpecOf(type, props);
    if (podSpec) {
        return containersOf(podSpec).flatMap((c) =>
            arrayAt(c.spec, "env")
                .filter(isRecord)
                .flatMap((e) => (typeof e.value === "string" ? [{ where: `container ${c.name} env ${String(e.name)}`, key: String(e.name), value: e.value }] : [])),
        );
    }
    if (type === TYPES.container) {
        return arrayAt(props, "envs")
            .filter((e): e is string => typeof e === "string" && e.includes("="))
            .map((e) => {
                const key = e.slice(0, e.indexOf("="));
                return { where: `env ${key}`, key, value: e.slice(e.indexOf("=") + 1) };
            });
    }
    if (type === TYPES.configMap) {
        return Object.entries(recordAt(props, "data") ?? {}).flatMap(([key, value]) => (typeof value === "string" ? [{ where: `data ${key}`, key, value }] : []));
    }
    return [];
}

const noPlaintextSecrets = resourcePolicy(
    {
        name: "no-plaintext-secrets",
        description: "Secrets in container env or a ConfigMap are stored and shown in plain text (state, previews, `kubectl describe`); use a Secret reference or Pulumi secret config instead.",
        theme: "hygiene",
    },
    (args, report) => {
        for (const setting of plainSettings(args.type, args.props)) {
            const problem = secretProblem(setting.key, setting.value);
            if (problem) report(`${setting.where} ${problem}`);
        }
    },
);

/**
 * A pack config for checking another project than the one holding the pack (`npm run policy --
 * --project <dir>`): the environments to refuse are that project's stack files.
 */
export function withProjectEnvironments(config: PackConfig, projectDir: string): PackConfig {
    const own = config[CROSS_ENVIRONMENT];
    const settings = typeof own === "string" ? { enforcementLevel: own } : own !== null && typeof own === "object" ? own : {};
    return { ...config, [CROSS_ENVIRONMENT]: { ...settings, environments: projectEnvironments(projectDir) } };
}

export const hygienePolicies: ModelshipPolicy[] = [environmentLabel, noCrossEnvironment, noPlaintextSecrets];
