/**
 * The container image a track runs: built from a context (base image passed as the BASE_IMAGE
 * build arg, so the Dockerfile pins it) and pushed to the model's repository, or a prebuilt
 * reference used as it is.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { imageTag } from "./naming";
import type { BuildConfig, ImageSource } from "./config/schema";
import type { RepositoryRef } from "./registry";
import type { TrackName } from "./traffic/types";

export interface ModelImageArgs {
    model: string;
    track: TrackName;
    version: string;
    source: ImageSource;
    repository: RepositoryRef;
}

/** Build args every model image receives, so its labels name the model and version. */
export function buildArgs(model: string, version: string, build: BuildConfig): Record<string, string> {
    return {
        ...build.args,
        MODEL_NAME: model,
        MODEL_VERSION: version,
        ...(build.baseImage ? { BASE_IMAGE: build.baseImage } : {}),
    };
}

export class ModelImage extends pulumi.ComponentResource {
    /** The reference targets run: by digest once pushed, by tag while it stays in the local engine. */
    readonly ref: pulumi.Output<string>;
    /** True when `ref` names an image that was built here (the local engine already has it). */
    readonly builtLocally: boolean;

    constructor(name: string, args: ModelImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("modelship:image:ModelImage", name, {}, opts);
        if ("image" in args.source) {
            this.ref = pulumi.output(args.source.image);
            this.builtLocally = false;
        } else {
            const build = args.source.build;
            const image = new docker.Image(
                name,
                {
                    imageName: pulumi.interpolate`${args.repository.url}:${imageTag(args.version)}`,
                    build: {
                        // Relative to the project directory, where Pulumi runs the program: the
                        // rendered plan then reads the same on every machine.
                        context: build.context,
                        dockerfile: path.join(build.context, build.dockerfile ?? "Dockerfile"),
                        args: buildArgs(args.model, args.version, build),
                        ...(build.platform ? { platform: build.platform } : {}),
                    },
                    skipPush: !args.repository.push,
                    ...(args.repository.credentials
                        ? { registry: args.repository.credentials.apply((c) => ({ server: c.address, username: c.username, password: c.password })) }
                        : {}),
                },
                { parent: this },
            );
            this.ref = args.repository.push ? image.repoDigest : image.imageName;
            this.builtLocally = true;
        }
        this.registerOutputs({ ref: this.ref });
    }
}
