/** The docker target's config, and the rules it and the models on it must meet. */
import { isRegistryReference } from "../../config/model-registry";
import { z } from "zod";
import { imageRefSchema, portSchema } from "../../config/schema";
import { locateArtifact } from "../../../model-server/src/model";
import { pinnedImageRules } from "../checks";
import type { ModelPartsView, TargetIssue } from "../definition";

export const dockerTargetSchema = z.strictObject({
    type: z.literal("docker"),
    /** Published on 127.0.0.1 only: the dev router is not meant to face a network. */
    port: portSchema.default(8080),
    routerImage: imageRefSchema,
});

export type DockerTargetConfig = z.infer<typeof dockerTargetSchema>;

export function dockerTargetRules(config: DockerTargetConfig, context: { production: boolean }): TargetIssue[] {
    return pinnedImageRules("routerImage", config.routerImage, context.production);
}

/** One local Docker engine can host one docker target: it creates the network and router under fixed names. */
export function dockerTargetsRules(targets: ReadonlyArray<[string, DockerTargetConfig]>): TargetIssue[] {
    return targets.slice(1).map(([name]) => ({ path: `targets.${name}.type`, value: "docker", expected: `one docker target per stack; ${targets[0][0]} is already one` }));
}

export function dockerArtifactRule(artifact: string): TargetIssue | undefined {
    if (isRegistryReference(artifact)) return undefined;
    return locateArtifact(artifact).kind === "path"
        ? undefined
        : { path: "artifact", value: artifact, expected: "a local path or file:// URL: the docker target mounts the model files from this machine" };
}

/** Another server's track mounts the version's directory from this machine as it is. */
export function dockerOtherServerRule(model: ModelPartsView): string | undefined {
    const { artifact } = model;
    if (artifact === undefined || (!isRegistryReference(artifact) && locateArtifact(artifact).kind === "path")) return undefined;
    return `a model whose artifact is a directory on this machine: another server's track mounts <artifact>/<version> as it is (${artifact} is not one)`;
}
