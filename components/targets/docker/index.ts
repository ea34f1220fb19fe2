/** The docker target: models as containers on the local Docker engine behind an nginx router container. */
import { spawnSync } from "child_process";
import { ROUTER_FEATURES, type RouterOffer } from "../../traffic/features";
import { defineTarget, RUN_ELSEWHERE } from "../definition";
import { mockDigest } from "../mocks";
import { dockerArtifactRule, dockerOtherServerRule, dockerTargetRules, dockerTargetSchema, dockerTargetsRules } from "./config";
import { dockerPolicyReaders } from "./policy";
import { DockerTarget } from "./target";
import { scalarText } from "../../scalar-text";
import { TYPES } from "../../type-tokens";

/** Why `npm run up` cannot reach the local Docker engine, or undefined when it can. */
function dockerMissing(env: NodeJS.ProcessEnv): string | undefined {
    const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { env, encoding: "utf8" });
    if (info.error) return "The docker CLI is not on PATH: the dev stack runs its models on the local Docker engine. Install Docker and run this again.";
    if (info.status !== 0) {
        return `The Docker engine is not reachable (docker info: ${(info.stderr || "").trim().split("\n")[0] || `exit ${info.status}`}). Start it (dockerd, or Docker Desktop) and run this again.`;
    }
    return undefined;
}

const NGINX_ROUTER: RouterOffer = { label: "the docker target's nginx router", features: new Set(ROUTER_FEATURES), instead: RUN_ELSEWHERE };

export const dockerTarget = defineTarget({
    type: "docker",
    schema: dockerTargetSchema,
    targetRules: dockerTargetRules,
    targetsRules: dockerTargetsRules,
    router: () => NGINX_ROUTER,
    // The gate program reaches each track's own published port and reads the artifact's recorded request.
    modelKeys: [],
    otherServerRule: dockerOtherServerRule,
    artifactRule: dockerArtifactRule,
    create: (name, config, context) => new DockerTarget(name, { config, environment: context.environment }),
    mocks: {
        [TYPES.remoteImage]: (_, inputs) => ({ imageId: mockDigest(String(inputs.name)), repoDigest: String(inputs.name) }),
        // Named by the provider when the program names none: the resource's name and a suffix.
        [TYPES.volume]: (name, inputs) => ({ name: scalarText(inputs.name, `${name}-${mockDigest(name).slice(-7)}`) }),
        [TYPES.network]: (name) => ({ id: `${name}-network-id` }),
    },
    prerequisites: dockerMissing,
    policy: dockerPolicyReaders,
});
