/** Small checks several targets' rules share. */
import { isPinnedByDigest } from "../config/schema";
import type { TargetIssue } from "./definition";

/** A path like `s3://bucket/prefix/`; anything without a scheme is a local path. */
export function hasUriScheme(location: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//.test(location);
}

/** A router image a target runs: pinned by digest in prod, like every image. */
export function routerImageRules(path: string, image: string, production: boolean): TargetIssue[] {
    return production && !isPinnedByDigest(image) ? [{ path, value: image, expected: "an image pinned by digest (name@sha256:...) in prod" }] : [];
}
