/**
 * The dev target: the local Docker engine. One network, containers per track, and an nginx
 * router container published on 127.0.0.1 only, whose generated config a command writes in and
 * reloads (router-reload.ts), so that a step never takes the router away.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { DockerTargetConfig } from "./config";
import { quantityBytes } from "../../config/schema";
import { trackArtifact, type ArtifactLocation } from "../../config/model-registry";
import { readinessPath, trackMetrics, trackPort } from "../../config/server";
import { locateArtifact } from "../../../model-server/src/model";
import { artifactSource, comparesWithCandidate, fetchArtifactContainer, fetchArtifactStep, MODEL_MOUNT_DIR, modelServerEnv, nodeHttpProbe, READY_PATH } from "../../model-server-env";
import { environmentLabels, LABEL, physicalName, PRODUCT, trackLabels, trackName } from "../../naming";
import { localSmokeGate } from "../../gates/model-gates";
import { routeDependencies, nginxRoutes, type AddressedBackend, type DeployedModel, type DeployedTrack, type ModelToDeploy, type ModelTarget } from "../../target";
import { renderBootstrapNginxConf, renderNginxConf } from "../../traffic/nginx";
import { plansAnnotation, PLANS_ENVIRONMENT } from "../../traffic/plan-annotation";
import { configHash, NGINX_CONF_PATH, routerReloadScript } from "./router-reload";
import { readinessWaitScript } from "./readiness";
import { shellQuote } from "../../shell";
import { trackPlan, type TrackPlan } from "../../traffic/types";
import { COMPONENT_TYPES } from "../../type-tokens";

export const ROUTER_PORT = 8080;
/** The model-server image's own user; set here too so the container never runs as root whatever the image says. */
export const MODEL_SERVER_USER = "10001:10001";
/** The nginx user of the usual nginx images; the generated config needs no root (port 8080, files under /tmp). */
export const ROUTER_USER = "101:101";

export interface DockerTargetArgs {
    /** The target's entry under `targets`. */
    config: DockerTargetConfig;
    /** The stack's environment: in every physical name and label. */
    environment: string;
}

function dockerLabels(labels: Record<string, string>): docker.types.input.ContainerLabel[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/**
 * `dev-fraud-scorer-candidate-1.5.0-0`: the host name the router resolves a replica by (its alias
 * on the network). The container's own name is the provider's (`fraud-scorer-candidate-0-<7 hex>`),
 * new with every container: a replacement starts before its predecessor stops, also under the same
 * version (a rebuild), or after a failed update left a container of the version it returns to.
 */
export function containerAlias(environment: string, model: string, track: TrackPlan, replica: number): string {
    return physicalName("docker-container", [environment, trackName(model, track.track), track.version, String(replica)]);
}

/**
 * Holds an image built into the local engine for the stack: its create names the image's ID, its
 * delete removes the tag once nothing runs it. Never forced, so a container of a later update
 * that runs the same tag (a rollback to the version of a failed update) keeps it; a RemoteImage
 * would fail that update instead ("unable to remove repository reference").
 */
function localImage(name: string, tag: pulumi.Output<string>, parent: pulumi.Resource): command.local.Command {
    return new command.local.Command(
        name,
        {
            create: tag.apply((t) => `docker image inspect --format '{{.Id}}' ${shellQuote(t)}`),
            delete: tag.apply((t) => `docker image rm ${shellQuote(t)} >/dev/null 2>&1 || echo ${shellQuote(`${t} was not removed (a container still runs it, or it is gone already)`)}`),
            triggers: [tag],
        },
        { parent },
    );
}

/**
 * The track's copy of its model: a volume (named by the provider, so a replacement, also after a
 * failed update, never meets its predecessor's name) into which the image's own fetch-artifact
 * copies `<artifact>/<version>/model.json` once it matches its `model.json.sha256`, the checksum
 * rule of every target. The replicas mount it read-only and wait for it: a missing or corrupt
 * artifact fails the update here, before any container of the version starts or traffic moves.
 */
function fetchedArtifact(
    args: { environment: string; model: string; track: TrackPlan; location: ArtifactLocation; image: pulumi.Input<string> },
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): { volume: docker.Volume; fetch: command.local.Command } {
    const name = `${trackName(args.model, args.track.track)}-artifact`;
    // Labelled with the version: a new version gets a fresh volume, and the old one goes with its containers.
    const volume = new docker.Volume(name, { labels: dockerLabels(trackLabels(args.environment, args.model, args.track.track, args.track.version)) }, { parent: opts.parent });
    const location = localized(args.location);
    const source = artifactSource(location);
    // A registry's store over http(s) is reached from this machine's network (a tracking server on loopback included); files on this machine are mounted, with no network at all.
    const remote = localDirectory(source) === undefined;
    const fetch = new command.local.Command(
        `${name}-fetch`,
        {
            create: pulumi.all([args.image, volume.name]).apply(([image, volumeName]) =>
                fetchArtifactStep(
                    fetchArtifactContainer({
                        model: args.model,
                        location,
                        version: args.track.version,
                        into: { type: "volume", source: volumeName },
                        // A new volume's root belongs to root; capabilities are dropped all the same, and the
                        // files it writes are world-readable for the server's own user.
                        user: "0:0",
                        network: remote ? "host" : "none",
                        ...(remote ? {} : { sourceMount: source }),
                    }),
                    shellQuote(image),
                    `modelship: ${args.model} ${args.track.version} was not fetched and verified from ${source} (the line above says why); the ${args.track.track} track's containers are not started`,
                ),
            ),
        },
        opts,
    );
    return { volume, fetch };
}

/** Where a location is on this machine, as the model server reads it (a path, or a `file://` URL); undefined for a URI elsewhere. */
function localDirectory(where: string): string | undefined {
    const located = locateArtifact(where);
    return located.kind === "path" ? located.path : undefined;
}

/** A local location as an absolute path (the container mounts it at the same path); a URI as it is. */
function localized(location: ArtifactLocation): ArtifactLocation {
    const absolute = (where: string) => localDirectory(where) ?? where;
    return location.kind === "pinned" ? { ...location, directory: absolute(location.directory) } : { ...location, root: absolute(location.root) };
}

/** The ids of every replica container the routes send traffic to. */
function replicaIds(models: readonly DeployedModel<AddressedBackend>[]): pulumi.Output<string>[] {
    return models.flatMap((m) => Object.values(m.tracks).flatMap((t) => t.resources.flatMap((r) => (r instanceof docker.Container ? [r.id] : []))));
}

export class DockerTarget extends pulumi.ComponentResource implements ModelTarget<AddressedBackend> {
    readonly network: docker.Network;
    private readonly args: DockerTargetArgs;

    constructor(name: string, args: DockerTargetArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.dockerTarget, name, {}, opts);
        this.args = args;
        this.network = new docker.Network(
            "network",
            { name: physicalName("docker-network", [PRODUCT, args.environment]), labels: dockerLabels(environmentLabels(args.environment)) },
            { parent: this },
        );
    }

    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel<AddressedBackend> {
        const tracks: DeployedModel<AddressedBackend>["tracks"] = {};
        for (const track of model.plan.tracks) tracks[track.track] = this.deployTrack(model, track, parent);
        // The smoke gate runs from this machine, which reaches every track's published port.
        return { plan: model.plan, tracks, smokeByDefault: true };
    }

    private deployTrack(model: ModelToDeploy, track: TrackPlan, parent: pulumi.Resource): DeployedTrack<AddressedBackend> {
        const { environment } = this.args;
        const image = model.images[track.track];
        if (!image) throw new pulumi.ResourceError(`model ${model.name}: no image for the ${track.track} track`, this);
        // A prebuilt image is pulled and run by its ID, and left in the engine afterwards. An image
        // built here is already in the engine under its tag: it is run by that tag (its build digest
        // is not an ID the engine knows), its containers carry its content in a label so a rebuild
        // under the same tag replaces them, and it goes with the stack (see localImage).
        const imageRef = image.builtLocally ? image.ref : new docker.RemoteImage(`${trackName(model.name, track.track)}-image`, { name: image.ref, keepLocally: true }, { parent }).imageId;
        const held = image.builtLocally ? [localImage(`${trackName(model.name, track.track)}-local-image`, image.ref, parent)] : [];
        const otherServer = model.config.tracks[track.track]?.server;
        const port = trackPort(model.config.port, otherServer);
        const metrics = trackMetrics(model.config.port, otherServer);
        const memory = model.config.resources.limits.memory;
        const candidate = trackPlan(model.plan, "candidate");
        // The candidate's first replica pairs stable's answers with its own: a random sample of the mirrored requests.
        const compareWith = candidate && comparesWithCandidate(model.plan, track) ? { shadowCompareUrl: `http://${containerAlias(environment, model.name, candidate, 0)}:${port}` } : {};
        // Another server gets its own environment only, and the version's directory as it is; modelship's
        // server its settings, and its files fetched and verified into a volume.
        const env = otherServer
            ? otherServer.env
            : modelServerEnv({
                  model: model.name,
                  environment,
                  artifact: `${MODEL_MOUNT_DIR}/${model.name}`,
                  port,
                  track,
                  ...(memory !== undefined ? { memoryLimitBytes: quantityBytes(memory) } : {}),
                  ...compareWith,
              });
        const files = otherServer ? { dependsOn: held, mount: this.versionDirectory(model, track, otherServer.modelsDir) } : this.fetchedFiles(model, track, imageRef, held, parent);
        const recreate = model.plan.poolUpdate.kind === "recreate";
        const containers = Array.from({ length: track.replicas }, (_, replica) => {
            const alias = containerAlias(environment, model.name, track, replica);
            return new docker.Container(
                `${trackName(model.name, track.track)}-${replica}`,
                {
                    image: imageRef,
                    envs: Object.entries(env).map(([k, v]) => `${k}=${v}`),
                    ...(otherServer && otherServer.args.length > 0 ? { command: otherServer.args } : {}),
                    labels: image.builtLocally
                        ? pulumi.output(image.contentId).apply((content) => dockerLabels({ ...trackLabels(environment, model.name, track.track, track.version), [LABEL.imageContent]: content }))
                        : dockerLabels(trackLabels(environment, model.name, track.track, track.version)),
                    networksAdvanced: [{ name: this.network.name, aliases: [alias] }],
                    // On a free loopback port, so the smoke gate reaches this replica without the router.
                    // Another server's metrics port too, where it has one of its own: Prometheus on this machine scrapes it there.
                    ports: [{ internal: port, ip: "127.0.0.1" }, ...(metrics.port !== port ? [{ internal: metrics.port, ip: "127.0.0.1" }] : [])],
                    mounts: [files.mount],
                    // Another server's image brings its own health check (waited for all the same): the project's probe runs its Node.js.
                    ...(otherServer ? {} : { healthcheck: { tests: ["CMD", ...nodeHttpProbe(port, READY_PATH)], interval: "5s", timeout: "3s", retries: 3, startPeriod: "30s" } }),
                    restart: "unless-stopped",
                    user: MODEL_SERVER_USER,
                    readOnly: true,
                    tmpfs: { "/tmp": "rw,size=64m" },
                    capabilities: { drops: ["ALL"] },
                    securityOpts: ["no-new-privileges:true"],
                    // Wait for the health check, so the router is only (re)configured once the track answers;
                    // another server is asked its readiness route from here instead (readiness.ts).
                    ...(otherServer ? {} : { wait: true, waitTimeout: 120 }),
                },
                // Removed before the image they run, so the image can go.
                { parent, deleteBeforeReplace: recreate, dependsOn: files.dependsOn },
            );
        });
        // The first replica on its loopback port: where the track's smoke gate knocks, without the router.
        const published = containers[0].ports.apply((ports) => `http://127.0.0.1:${ports?.[0]?.external ?? port}`);
        const ready = otherServer ? [this.readyReplicas(model, track, containers, port, readinessPath(model.name, otherServer), parent)] : [];
        const metricsUrl = containers[0].ports.apply((ports) => `http://127.0.0.1:${ports?.find((p) => p.internal === metrics.port)?.external ?? metrics.port}${metrics.path}`);
        return {
            backend: { addresses: containers.map((_, replica) => `${containerAlias(environment, model.name, track, replica)}:${port}`) },
            resources: [...containers, ...ready],
            metrics: metricsUrl,
            smoke: (spec, gateParent) =>
                localSmokeGate(
                    { model: model.name, config: model.config, spec, image, url: published, ...(otherServer ? { server: "oip" as const } : {}) },
                    { parent: gateParent, dependsOn: [...containers, ...ready] },
                ),
        };
    }

    /** Another server's replicas, each asked its readiness route on its loopback port until it answers or the model's ready timeout passes. */
    private readyReplicas(model: ModelToDeploy, track: TrackPlan, containers: readonly docker.Container[], port: number, readinessPath: string, parent: pulumi.Resource) {
        const urls = pulumi.all(containers.map((c) => c.ports)).apply((all) => all.map((ports) => `http://127.0.0.1:${ports?.find((p) => p.internal === port)?.external ?? port}${readinessPath}`));
        return new command.local.Command(
            `${trackName(model.name, track.track)}-ready`,
            {
                create: urls.apply((u) => `node -e ${shellQuote(readinessWaitScript(u, model.config.readyTimeoutSeconds))}`),
                // A replaced replica is a new container on a new port: asked again.
                triggers: containers.map((c) => c.id),
            },
            { parent, dependsOn: [...containers] },
        );
    }

    /** Another server's files: the version's own directory on this machine (config rules make the artifact one), bind-mounted read-only. */
    private versionDirectory(model: ModelToDeploy, track: TrackPlan, modelsDir: string) {
        const directory = localDirectory(model.config.artifact);
        if (directory === undefined)
            throw new pulumi.ResourceError(`model ${model.name}: the ${track.track} track's server mounts a directory on this machine, and ${model.config.artifact} is not one`, this);
        return { type: "bind", source: path.join(directory, track.version), target: `${modelsDir}/${model.name}/${track.version}`, readOnly: true };
    }

    /** modelship's server's files: fetched and verified into a volume of the track's own, which its containers mount read-only. */
    private fetchedFiles(model: ModelToDeploy, track: TrackPlan, image: pulumi.Input<string>, held: pulumi.Resource[], parent: pulumi.Resource) {
        const artifact = fetchedArtifact({ environment: this.args.environment, model: model.name, track, location: trackArtifact(model.config, track.track), image }, { parent, dependsOn: held });
        return { dependsOn: [...held, artifact.fetch], mount: { type: "volume", source: artifact.volume.name, target: `${MODEL_MOUNT_DIR}/${model.name}`, readOnly: true } };
    }

    route(models: readonly DeployedModel<AddressedBackend>[]): Record<string, pulumi.Output<string>> {
        const { config, environment } = this.args;
        // Nothing here depends on the routes: a step reloads the router's config, it never replaces the router.
        const router = new docker.Container(
            "router",
            {
                name: physicalName("docker-container", [environment, "modelship-router"]),
                image: config.routerImage,
                uploads: [{ file: NGINX_CONF_PATH, content: renderBootstrapNginxConf({ listenPort: ROUTER_PORT }) }],
                networksAdvanced: [{ name: this.network.name }],
                ports: [{ internal: ROUTER_PORT, external: config.port, ip: "127.0.0.1" }],
                labels: dockerLabels({ ...environmentLabels(environment), [LABEL.component]: "router" }),
                user: ROUTER_USER,
                healthcheck: { tests: ["CMD-SHELL", `nginx -t -q || exit 1`], interval: "10s", timeout: "3s", retries: 3 },
                restart: "unless-stopped",
            },
            // Should it be replaced all the same (a new image), the published port allows only one at a time.
            { parent: this, deleteBeforeReplace: true },
        );
        const conf = renderNginxConf({ listenPort: ROUTER_PORT, routes: nginxRoutes(models) });
        new command.local.Command(
            "router-reload",
            {
                create: router.name.apply(routerReloadScript),
                stdin: conf,
                // A new config, or a new router (which starts with the bootstrap config), reloads; so
                // does a replaced replica under the same alias, whose address nginx resolves at reload.
                triggers: [configHash(conf), router.id, ...replicaIds(models)],
                environment: { [PLANS_ENVIRONMENT]: plansAnnotation(models.map((m) => m.plan)) },
            },
            { parent: this, dependsOn: [router, ...routeDependencies(models)] },
        );
        const baseUrl = pulumi.interpolate`http://127.0.0.1:${router.ports.apply((ports) => ports?.[0]?.external ?? config.port)}`;
        this.registerOutputs({ network: this.network.name, baseUrl });
        return Object.fromEntries(models.map((m) => [m.plan.model, pulumi.interpolate`${baseUrl}/v2/models/${m.plan.model}`]));
    }
}
