/** Small checks several targets' rules share. */
import { isPinnedByDigest } from "../config/schema";
import type { TargetIssue } from "./definition";

/** A path like `s3://bucket/prefix/`; anything without a scheme is a local path. */
export function hasUriScheme(location: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//.test(location);
}

/** What the targets that cannot yet fetch a registry-pinned version say of a models:/ artifact. */
export const REGISTRY_ON_DOCKER_ONLY =
    "the store the versions live in (s3://bucket/models/name/): a model pinned from a registry (models:/...) deploys on the docker target only, for now; the model role's least-privilege read is written for one store prefix";

/** An image a target runs of its own accord (a router, modelship's server image for fetches and smoke Jobs): pinned by digest in prod, like every image. */
export function pinnedImageRules(path: string, image: string, production: boolean): TargetIssue[] {
    return production && !isPinnedByDigest(image) ? [{ path, value: image, expected: "an image pinned by digest (name@sha256:...) in prod" }] : [];
}
