/**
 * What a pod's `fetch-artifact` init container needs to read the model's artifact, and only it:
 * the store's endpoints and region, and, where the model has a role, a web identity of its own (a
 * projected service account token and the role to exchange it for). The model server never reads
 * S3, so it gets none of this.
 *
 * The pod spec carries the web identity itself rather than leaving it to EKS's pod identity
 * webhook (github.com/aws/amazon-eks-pod-identity-webhook), so the AWS SDK's default chain assumes
 * the role on any cluster whose service account issuer AWS (or an STS-compatible store) trusts.
 * Where the webhook does run (the ServiceAccount keeps its `eks.amazonaws.com/role-arn`
 * annotation), it leaves this pod as it is: it adds no volume when one named `aws-iam-token`
 * exists, no AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE to a container that has either, and no
 * mount to a container that mounts that volume; and it skips the containers the pod's
 * `eks.amazonaws.com/skip-containers` annotation lists, which names every other container here.
 * Without that annotation the webhook would mount the token into the model server too.
 */
import type { ArtifactStoreConfig } from "./config";
import { STS_AUDIENCE } from "../../iam";

/** The webhook's own volume name: with it present, the webhook adds no second token volume. */
export const WEB_IDENTITY_VOLUME = "aws-iam-token";
/** The webhook's mount path, so that any SDK or tool that expects it finds the token there. */
export const WEB_IDENTITY_MOUNT_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
export const WEB_IDENTITY_TOKEN_FILE = `${WEB_IDENTITY_MOUNT_DIR}/token`;
/**
 * An hour: the init container uses the token once, within seconds, and the kubelet rotates it at
 * 80% of its life for as long as the pod runs. The webhook's 24 h default outlives its purpose;
 * the API server refuses less than 10 minutes.
 */
export const WEB_IDENTITY_TOKEN_SECONDS = 3600;
/** Containers the pod identity webhook must not touch (a comma-separated list of names). */
export const SKIP_CONTAINERS_ANNOTATION = "eks.amazonaws.com/skip-containers";

export interface EnvVar {
    name: string;
    value: string;
}

export interface ArtifactAccess {
    /** For the fetch-artifact container only. */
    env: EnvVar[];
    /** For the fetch-artifact container only. */
    volumeMounts: Array<{ name: string; mountPath: string; readOnly: true }>;
    volumes: Array<{ name: string; projected: { sources: Array<{ serviceAccountToken: { audience: string; expirationSeconds: number; path: string } }> } }>;
    podAnnotations: Record<string, string>;
}

export function artifactAccess(args: { store: ArtifactStoreConfig; roleArn?: string; otherContainers: readonly string[] }): ArtifactAccess {
    const { store, roleArn } = args;
    const env: EnvVar[] = [
        ...(store.endpoint ? [{ name: "AWS_ENDPOINT_URL_S3", value: store.endpoint }] : []),
        ...(store.stsEndpoint ? [{ name: "AWS_ENDPOINT_URL_STS", value: store.stsEndpoint }] : []),
        ...(store.region ? [{ name: "AWS_REGION", value: store.region }] : []),
    ];
    if (roleArn === undefined) return { env, volumeMounts: [], volumes: [], podAnnotations: {} };
    return {
        env: [...env, { name: "AWS_ROLE_ARN", value: roleArn }, { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: WEB_IDENTITY_TOKEN_FILE }],
        volumeMounts: [{ name: WEB_IDENTITY_VOLUME, mountPath: WEB_IDENTITY_MOUNT_DIR, readOnly: true }],
        volumes: [
            {
                name: WEB_IDENTITY_VOLUME,
                projected: { sources: [{ serviceAccountToken: { audience: STS_AUDIENCE, expirationSeconds: WEB_IDENTITY_TOKEN_SECONDS, path: "token" } }] },
            },
        ],
        podAnnotations: { [SKIP_CONTAINERS_ANNOTATION]: args.otherContainers.join(",") },
    };
}
