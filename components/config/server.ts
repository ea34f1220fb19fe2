/**
 * Which server a track runs: modelship's own (the default), or any other Open Inference Protocol
 * server named by `tracks.<track>.server`, whose image is the track's `image` (or `build`). What
 * the targets, the router and the smoke gate need to know of it is here.
 */
import { z } from "zod";

const portSchema = z.number().int().min(1).max(65535);
const urlPathSchema = z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, { error: "an absolute URL path such as /metrics" });

export const serverSchema = z.strictObject({
    /** The port its Open Inference Protocol REST API listens on in the container. */
    port: portSchema.default(8080),
    /** Where Prometheus scrapes it, when not on `port` (MLServer: 8082); the docker target publishes it on loopback too. */
    metricsPort: portSchema.optional(),
    metricsPath: urlPathSchema.default("/metrics"),
    /**
     * Where it says it is ready to serve, on `port`; by default the protocol's readiness of the
     * model itself (a server may be ready before its model is, as MLServer is). The docker target
     * asks it on each replica before the router or the smoke gate does.
     */
    readinessPath: urlPathSchema.optional(),
    /** Where Kubernetes asks whether to restart it, on `port`: the protocol's server liveness by default. */
    livenessPath: urlPathSchema.default("/v2/health/live"),
    /** The container's command, replacing the image's (empty: the image's own). */
    args: z.array(z.string()).default([]),
    /** Its environment: nothing of modelship's own server's is passed. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "an environment variable name" }), z.string()).default({}),
    /** Where the version's files are mounted: `<modelsDir>/<model>/<version>`, read-only. */
    modelsDir: z
        .string()
        .regex(/^\/[A-Za-z0-9._\-/]*$/, { error: "an absolute path in the container" })
        .default("/models"),
});

export type ServerConfig = z.infer<typeof serverSchema>;

/** The port a track's server answers on in its container: another server's own, or the model's. */
export function trackPort(modelPort: number, server: ServerConfig | undefined): number {
    return server?.port ?? modelPort;
}

/** Where a track's server exposes its Prometheus metrics in its container: modelship's on its own port. */
export function trackMetrics(modelPort: number, server: ServerConfig | undefined): { port: number; path: string } {
    return { port: server?.metricsPort ?? trackPort(modelPort, server), path: server?.metricsPath ?? "/metrics" };
}

/** Where another server's replica is asked whether it is ready: its own path, or the protocol's readiness of the model. */
export function readinessPath(model: string, server: ServerConfig): string {
    return server.readinessPath ?? `/v2/models/${encodeURIComponent(model)}/ready`;
}
