/**
 * The container image a track runs: built by BuildKit (`@pulumi/docker-build`) from a context,
 * with the base image passed as the BASE_IMAGE build arg so the Dockerfile pins it, and either
 * loaded into the local engine or pushed to the model's repository; or a prebuilt reference used
 * as it is.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { imageTag } from "./naming";
import type { BuildConfig, ImageSource } from "./config/schema";
import type { RepositoryRef } from "./registry";
import type { TrackName } from "./traffic/types";
import { COMPONENT_TYPES } from "./type-tokens";

export interface ModelImageArgs {
    /** The model's name: a build arg and label of the image, and part of its tag. */
    model: string;
    /** The track this image runs on (stable or candidate). */
    track: TrackName;
    /** The model version the image serves: its tag, and a build arg and label. */
    version: string;
    /** A prebuilt image reference, used as given, or a build (context, Dockerfile, args, base image). */
    source: ImageSource;
    /** Where a built image is pushed, or that it stays in the local engine. */
    repository: RepositoryRef;
    /**
     * The versions of this model the stack builds (every track's): once pushed, their images carry
     * an inline build cache, so a new candidate reuses the unchanged layers of the stable's image.
     */
    builtVersions: readonly string[];
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

/** An image as targets and gates use it: what to run, and what changes whenever its content does. */
export interface ImageRef {
    /** What a target runs: `<tag>@<digest>` once pushed, the tag while the image stays in the local engine, a prebuilt reference as given. */
    readonly ref: pulumi.Output<string>;
    /**
     * Changes whenever the image's content does: the build's digest, or the reference itself where
     * that names the content (pushed, prebuilt). A rebuild under the same version and tag changes
     * it, so the containers are replaced and the gates run again.
     */
    readonly contentId: pulumi.Output<string>;
}

export class ModelImage extends pulumi.ComponentResource implements ImageRef {
    readonly ref: pulumi.Output<string>;
    readonly contentId: pulumi.Output<string>;
    /** True when `ref` names an image that was built here (the local engine already has it). */
    readonly builtLocally: boolean;

    constructor(name: string, args: ModelImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.modelImage, name, {}, opts);
        if ("image" in args.source) {
            this.ref = pulumi.output(args.source.image);
            this.contentId = this.ref;
            this.builtLocally = false;
        } else {
            const build = args.source.build;
            const tagOf = (version: string) => pulumi.interpolate`${args.repository.url}:${imageTag(version)}`;
            const tag = tagOf(args.version);
            const cacheVersions = [args.version, ...args.builtVersions.filter((v) => v !== args.version)];
            const pushed = args.repository.push;
            const credentials = args.repository.credentials;
            const image = new dockerBuild.Image(
                name,
                {
                    tags: [tag],
                    // Relative to the project directory, where Pulumi runs the program: the
                    // rendered plan then reads the same on every machine.
                    context: { location: build.context },
                    dockerfile: { location: path.join(build.context, build.dockerfile ?? "Dockerfile") },
                    buildArgs: buildArgs(args.model, args.version, build),
                    ...(build.platform ? { platforms: [build.platform] } : {}),
                    push: pushed,
                    // Not pushed: the docker exporter (`--load`) puts the image, tagged, into the
                    // local engine. Its digest is the manifest's, which the engine cannot run an
                    // image by (classic image store), so targets run the tag.
                    ...(pushed ? {} : { load: true }),
                    ...(credentials ? { registries: [{ address: credentials.address, username: credentials.username, password: credentials.password }] } : {}),
                    // Pushed: the cache travels inline with the image, and a build on another
                    // machine (CI) reads it back from this version's image and the model's other
                    // built versions'. Local builds have the builder's own cache.
                    ...(pushed ? { cacheTo: [{ inline: {} }], cacheFrom: cacheVersions.map((v) => ({ registry: { ref: tagOf(v) } })) } : {}),
                },
                { parent: this },
            );
            // Locally the tag, but as an output of the build: whatever runs it waits for the build.
            this.ref = pushed ? pulumi.interpolate`${tag}@${image.digest}` : pulumi.all([tag, image.digest]).apply(([built]) => built);
            this.contentId = image.digest;
            this.builtLocally = true;
        }
        this.registerOutputs({ ref: this.ref, contentId: this.contentId });
    }
}
