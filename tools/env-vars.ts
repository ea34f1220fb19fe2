/**
 * Every environment variable the commands and the tests set or read, each named once: a renamed
 * variable changes here, and a search for a name finds what it does. The variables the program
 * hands to its containers (the model server's, the docker router's) stay with the components that
 * set them: they are those containers' contract, not the commands'.
 */

/** Read by the project's commands. */
export const COMMAND_ENV = {
    /** `modelship analyze|auto`: the Prometheus to ask when --prometheus is not given. */
    prometheusUrl: "MODELSHIP_PROMETHEUS_URL",
    /** Set by `npm run`: the folder it was called from, against which a path the user typed is resolved. */
    initCwd: "INIT_CWD",
} as const;

/** The Pulumi CLI's own variables that the commands and the tests' engine runs set or read. */
export const PULUMI_ENV = {
    /** The state backend; `npm run up` uses a project-local file backend without it. */
    backendUrl: "PULUMI_BACKEND_URL",
    configPassphrase: "PULUMI_CONFIG_PASSPHRASE",
    configPassphraseFile: "PULUMI_CONFIG_PASSPHRASE_FILE",
    skipUpdateCheck: "PULUMI_SKIP_UPDATE_CHECK",
    /** The engine's plugins and credentials folder: a throwaway one per test run. */
    home: "PULUMI_HOME",
    disableAutomaticPluginAcquisition: "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
    nodejsTranspileOnly: "PULUMI_NODEJS_TRANSPILE_ONLY",
} as const;

/**
 * What the test suites read. A test that needs an outside tool skips without it, unless CI sets
 * its MODELSHIP_REQUIRE_* variable to 1: then the missing tool is a failure.
 */
export const TEST_ENV = {
    requireEngine: "MODELSHIP_REQUIRE_ENGINE",
    requireGo: "MODELSHIP_REQUIRE_GO",
    requireDocker: "MODELSHIP_REQUIRE_DOCKER",
    requireTraefik: "MODELSHIP_REQUIRE_TRAEFIK",
    requireHadolint: "MODELSHIP_REQUIRE_HADOLINT",
    requireTrivy: "MODELSHIP_REQUIRE_TRIVY",
    requireActionlint: "MODELSHIP_REQUIRE_ACTIONLINT",
    requireNginx: "MODELSHIP_REQUIRE_NGINX",
    requirePrometheus: "MODELSHIP_REQUIRE_PROMETHEUS",
    requireAlertmanager: "MODELSHIP_REQUIRE_ALERTMANAGER",
    /** 1: an end-to-end test leaves its cluster up, to look at after a failure. */
    keepCluster: "MODELSHIP_KEEP_CLUSTER",
    /** Where the contract tests keep the schemas and CRDs they fetched. */
    contractCache: "MODELSHIP_CONTRACT_CACHE",
    /** The scripts' cache (toolchain/bin under it), /var/cache/modelship otherwise. */
    cache: "MODELSHIP_CACHE",
    /** The built toolchain's bin folder, when it is not under the cache. */
    toolchainBin: "MODELSHIP_TOOLCHAIN_BIN",
    /** scripts/s3-store.sh: the folder the test artifact store keeps its state in. */
    s3State: "MODELSHIP_S3_STATE",
} as const;

/** Whether a MODELSHIP_REQUIRE_* variable (or any on/off test switch) is on. */
export function isOn(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
    return env[name] === "1";
}
