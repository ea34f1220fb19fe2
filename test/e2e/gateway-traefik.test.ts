/**
 * The gateway-api router with a real data plane: Traefik (scripts/traefik-toolchain.sh) as the
 * Gateway implementation on the real node, serving the HTTPRoute the lab stack renders for
 * fraud-scorer. Weights and header pins carry real traffic; a shadow on Traefik, which does not
 * implement RequestMirror, is refused at preview. Traefik's build is long (about 14 minutes
 * cold on 2 cores), so `.ci/run` leaves it out: without the binary this file is skipped, unless
 * MODELSHIP_REQUIRE_TRAEFIK=1 makes that a failure.
 */
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PIN_HEADER } from "../../components/traffic/types";
import { findProjectDir } from "../../tools/render";
import { must, prepareDocker, stopDocker, BUILD_ENV, type DockerEnvironment } from "../support/docker";
import { binomialBounds, countBy, failed, within } from "../support/load";
import { EngineStack, engineOrSkip, TOOLCHAIN_BIN } from "./support/engine";
import type { NetnsLoadOutput } from "./support/netns-load";
import { RealNode } from "./support/real-node";
import { S3Store } from "./support/s3-store";
import { isOn, TEST_ENV } from "../../tools/env-vars";

const STACK = "lab";
const MODEL = "fraud-scorer";
const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "kubectl", "kubelet", "kube-proxy", "coredns"];
const ENTRYPOINT_PORT = 8000;
const SHARE_REQUESTS = 2000;
const CANARY_STEPS = [10, 25, 50, 75, 100];

type Config = Record<string, unknown>;

/** The Gateway the lab stack's routes attach to, implemented by Traefik on its `web` entry point. */
const GATEWAY = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: traefik }
spec: { controllerName: traefik.io/gateway-controller }
---
apiVersion: v1
kind: Namespace
metadata: { name: gateway-system }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: inference, namespace: gateway-system }
spec:
  gatewayClassName: traefik
  listeners:
  - { name: web, protocol: HTTP, port: ${ENTRYPOINT_PORT}, allowedRoutes: { namespaces: { from: All } } }
`;

function traefikOrSkip(context: Mocha.Context): string {
    const traefik = path.join(TOOLCHAIN_BIN, "traefik");
    if (fs.existsSync(traefik)) return traefik;
    const message = `traefik not in ${TOOLCHAIN_BIN}: run scripts/traefik-toolchain.sh (about 14 minutes cold)`;
    if (isOn(TEST_ENV.requireTraefik)) assert.fail(`${message} (${TEST_ENV.requireTraefik}=1)`);
    return context.skip();
}

describe("the gateway-api router with Traefik as the implementation, on a real node", function () {
    this.timeout(30 * 60_000);
    let docker: DockerEnvironment | undefined;
    let node: RealNode | undefined;
    let store: S3Store | undefined;
    let traefik: ChildProcess | undefined;
    let stack: EngineStack;
    let config: Config;
    let nodeAddress = "";
    const figures: string[] = [];
    const traefikLog = () => path.join(stack.dir, "traefik.log");

    const model = (c: Config = config) => (c["modelship:models"] as Record<string, Record<string, unknown>>)[MODEL];
    const readConfig = (): Config => (parse(fs.readFileSync(stack.configFile, "utf8")) as { config: Config }).config;
    const load = (args: readonly string[]): Promise<NetnsLoadOutput> =>
        node!.load({ host: nodeAddress, port: ENTRYPOINT_PORT, path: `/v2/models/${MODEL}/infer` }, args, { concurrency: 8, timeoutMs: 5 * 60_000 });
    const shares = async (label: string, candidateShare: number) => {
        const { samples } = await load(["--total", String(SHARE_REQUESTS)]);
        const failures = samples.filter(failed);
        assert.equal(
            failures.length,
            0,
            `${failures.length} failed: ${failures
                .slice(0, 3)
                .map((s) => s.error ?? s.status)
                .join("; ")}`,
        );
        const counts = countBy(samples, (s) => s.track);
        const bounds = binomialBounds(SHARE_REQUESTS, candidateShare);
        figures.push(`Traefik, ${label}: candidate ${counts.candidate ?? 0}/${SHARE_REQUESTS} (bounds ${bounds.low}..${bounds.high} for ${candidateShare * 100}%)`);
        assert.ok(within(counts.candidate ?? 0, bounds), `${label}: ${JSON.stringify(counts)} against ${JSON.stringify(bounds)}`);
    };

    before(async function () {
        const bin = engineOrSkip(this, ENGINE_BINARIES);
        const traefikBin = traefikOrSkip(this);
        docker = prepareDocker(20 * 60_000);
        const projectDir = findProjectDir();
        const server = `${docker.registry}/modelship-e2e/model-server:node`;
        must("docker", ["build", "-q", "--build-arg", `BASE_IMAGE=${docker.baseImage}`, "-t", server, path.join(projectDir, "model-server")], { env: BUILD_ENV, timeout: 20 * 60_000 });
        const images = ["1.4.0", "1.5.0"].map((v) => `127.0.0.1:5000/modelship/${MODEL}:${v}`);
        for (const image of images) must("docker", ["tag", server, image]);

        node = await RealNode.up(bin);
        await node.loadImages(images);
        nodeAddress = await node.address();
        stack = new EngineStack(STACK, bin, node.kubeconfig, RealNode.launcher);
        store = await S3Store.up(node, nodeAddress);
        const seeded = await store.seed("s3://lab-models/", { models: path.join(projectDir, "model-server", "models"), environment: STACK, namespace: "lab-gateway" });

        await node.apply(GATEWAY);
        // Traefik watches the cluster through the node's kubeconfig, from inside the node's namespace.
        const log = fs.openSync(traefikLog(), "w");
        traefik = spawn(
            "bash",
            [
                ...RealNode.launcher.slice(1),
                traefikBin,
                `--entryPoints.web.address=:${ENTRYPOINT_PORT}`,
                "--providers.kubernetesgateway=true",
                "--providers.kubernetesgateway.experimentalChannel=true",
                "--log.level=INFO",
            ],
            { env: { ...process.env, KUBECONFIG: node.kubeconfig }, stdio: ["ignore", log, log] },
        );

        // The lab stack's gateway target alone, with the store's endpoints and the model's role.
        const lab = (parse(fs.readFileSync(path.join(projectDir, "Pulumi.lab.yaml"), "utf8")) as { config: Config }).config;
        const targets = lab["modelship:targets"] as Record<string, Record<string, unknown>>;
        const gateway: Record<string, unknown> = {
            ...targets.gateway,
            router: { ...(targets.gateway.router as Record<string, unknown>), implementation: "traefik" },
            artifactStore: { endpoint: store.endpoint, stsEndpoint: store.endpoint, region: "us-east-1" },
        };
        config = {
            ...lab,
            "modelship:targets": { gateway },
            "modelship:models": { [MODEL]: { ...(lab["modelship:models"] as Record<string, Record<string, unknown>>)[MODEL], serviceAccountRoleArn: seeded[MODEL].roleArn } },
        };
        stack.writeConfig(config);
    });

    after(async function () {
        for (const line of figures) console.log(`      ${line}`);
        traefik?.kill("SIGTERM");
        if (stack) await stack.destroy();
        if (node && !isOn(TEST_ENV.keepCluster)) {
            await store?.down();
            await node.down();
        }
        stack?.cleanup();
        stopDocker(docker);
    });

    it("`npm run up`, then the HTTPRoute's weights carry real traffic through Traefik: 10% of 2,000 requests to the candidate", async () => {
        const result = await stack.run("npm", ["run", "up", "--", "--stack", STACK, "--config-file", stack.configFile, "--yes", "--skip-preview"]);
        assert.equal(result.status, 0, result.all);
        // Traefik applies a route once it has seen it: the first answers can still be 404s.
        const deadline = Date.now() + 60_000;
        for (;;) {
            const probe = await load(["--total", "8"]);
            if (probe.samples.every((s) => s.status === 200)) break;
            assert.ok(Date.now() < deadline, `Traefik routes the model within a minute: ${JSON.stringify(probe.samples.map((s) => s.status))}\n${fs.readFileSync(traefikLog(), "utf8").slice(-2000)}`);
            await new Promise((r) => setTimeout(r, 2000));
        }
        await shares("canary step 1/5", CANARY_STEPS[0] / 100);
    });

    it("a header pin sends every request to the track it names", async () => {
        for (const track of ["candidate", "stable"]) {
            const { samples } = await load(["--total", "200", "--header", `${PIN_HEADER}:${track}`]);
            assert.deepEqual(
                countBy(samples, (s) => s.track),
                { [track]: 200 },
            );
        }
    });

    it("`modelship promote --yes` moves the share Traefik serves to the next step", async () => {
        const promoted = await stack.modelship("promote", "--stack", STACK, "--config-file", stack.configFile, "--model", MODEL, "--yes");
        assert.equal(promoted.status, 0, promoted.all);
        assert.equal((model(readConfig()).strategy as { step: number }).step, 1);
        await shares("canary step 2/5", CANARY_STEPS[1] / 100);
    });

    it("a shadow on this Gateway is refused at preview, naming the implementation and those that mirror", async () => {
        const current = readConfig();
        const shadow = structuredClone(current);
        model(shadow).strategy = { type: "shadow", mirrorPercent: 20 };
        stack.writeConfig(shadow);
        const preview = await stack.previewText();
        stack.writeConfig(current);
        assert.notEqual(preview.status, 0, preview.all);
        assert.match(preview.stdout + preview.stderr, /router\.implementation/, preview.all);
        assert.match(preview.stdout + preview.stderr, /traefik/, preview.all);
        assert.match(preview.stdout + preview.stderr, /envoy-gateway/, preview.all);
    });
});
