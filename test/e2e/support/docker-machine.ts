/**
 * What a docker-target stack under the real engine needs of this machine, where no image can be
 * pulled: a Docker engine with a loopback registry and the base image (test/support/docker.ts),
 * docker-build's BuildKit (buildkitd here, selected as the builder), and the router image, named
 * by digest. `release` stops only what `prepare` started.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { LABEL } from "../../../components/naming";
import { findProjectDir } from "../../../tools/render";
import { must, prepareDocker, run, stopDocker, type DockerEnvironment } from "../../support/docker";

const script = (name: string) => path.join(findProjectDir(), "scripts", name);

export interface DockerMachine {
    docker: DockerEnvironment;
    /** The nginx router image, by digest. */
    routerImage: string;
    /** The pid of a buildkitd this run started, to stop afterwards. */
    startedBuildkit?: string;
}

export function prepareDockerMachine(): DockerMachine {
    const docker = prepareDocker(20 * 60_000);
    const builder = must("bash", [script("buildkit-builder.sh")], { timeout: 20 * 60_000 }).split("\n");
    assert.equal(builder[0], "modelship");
    const startedBuildkit = /^started (\d+)$/.exec(builder[1] ?? "")?.[1];
    const routerImage =
        must("bash", [script("router-image.sh"), docker.registry], { timeout: 10 * 60_000 })
            .split("\n")
            .pop() ?? "";
    assert.match(routerImage, /@sha256:[a-f0-9]{64}$/, "the router image is named by digest");
    return { docker, routerImage, ...(startedBuildkit ? { startedBuildkit } : {}) };
}

/** The stack's model-server containers that run, as `<track> <version> <docker status>`, sorted. */
export function trackContainers(environment: string): string[] {
    const format = `{{.Label "${LABEL.track}"}} {{.Label "${LABEL.version}"}} {{.Status}}`;
    return must("docker", ["ps", "--filter", `label=${LABEL.managedBy}=modelship`, "--filter", `label=${LABEL.environment}=${environment}`, "--format", format])
        .split("\n")
        .filter((line) => /^(stable|candidate) /.test(line))
        .sort();
}

export function releaseDockerMachine(machine: DockerMachine | undefined): void {
    if (machine?.startedBuildkit) run("bash", [script("buildkit-builder.sh"), "stop", machine.startedBuildkit]);
    stopDocker(machine?.docker);
}
