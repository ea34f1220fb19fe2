/**
 * What the mock runtime (tools/mock-runtime.ts) and the targets' own mock stand-ins share: the
 * account and region every faked ARN names, and digests that stay the same on every machine.
 */
import { createHash } from "crypto";

export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "us-east-1";

/** A sha256 digest of the seed: the same inputs fake the same digest. */
export function mockDigest(seed: string): string {
    return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}
