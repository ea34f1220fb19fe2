/** How the policy pack reads the docker target's objects: its router reload command, containers and pulled images. */
import { arrayAt, DANGEROUS_CAPABILITIES, isRecord, plansFromJson, recordAt, stringAt, TYPES, type Props } from "../../../policies/lib";
import { PLANS_ENVIRONMENT } from "../../traffic/plan-annotation";
import type { TargetPolicyReaders } from "../definition";
import { scalarText } from "../../scalar-text";

function dockerHealthcheck(props: Props): string[] {
    return arrayAt(props, "healthcheck", "tests").filter((t): t is string => typeof t === "string");
}

function isRootUser(user: string | undefined): boolean {
    return user === undefined || user === "" || /^(root|0)(:.*)?$/.test(user);
}

export const dockerPolicyReaders: TargetPolicyReaders = {
    // The object that changes with the routes is the command that reloads the router's config.
    routerPlans(type, props) {
        if (type !== TYPES.command) return undefined;
        const environment = recordAt(props, "environment");
        return environment && PLANS_ENVIRONMENT in environment ? plansFromJson(stringAt(environment, PLANS_ENVIRONMENT)) : undefined;
    },
    // What the reload command writes into the router container: its stdin.
    routerNginxConf(type, props) {
        return type === TYPES.command && dockerPolicyReaders.routerPlans?.(type, props) !== undefined ? stringAt(props, "stdin") : undefined;
    },
    images(type, props) {
        const image = type === TYPES.container ? stringAt(props, "image") : type === TYPES.remoteImage ? stringAt(props, "name") : undefined;
        return image ? [{ where: type === TYPES.container ? "container" : "pulled image", image }] : [];
    },
    publicExposure(type, props) {
        if (type !== TYPES.container) return [];
        return arrayAt(props, "ports")
            .filter(isRecord)
            .flatMap((port) => {
                const ip = scalarText(port.ip, "0.0.0.0");
                return ip === "0.0.0.0" || ip === "::" ? [`port ${scalarText(port.external ?? port.internal, "?")} is published on every interface; publish it on 127.0.0.1`] : [];
            });
    },
    // A container's own settings; the docker target sets no resource limits (the local engine is the developer's machine).
    workloadFindings: {
        probes(type, props) {
            if (type !== TYPES.container) return [];
            const tests = dockerHealthcheck(props);
            return tests.length === 0 || tests[0] === "NONE" ? ["the container has no health check: Docker cannot tell a loaded model from a starting one"] : [];
        },
        nonRoot(type, props) {
            return type === TYPES.container && isRootUser(stringAt(props, "user"))
                ? [`the container runs as ${stringAt(props, "user") ?? "the image's user, unchecked"}; set user to a non-root uid`]
                : [];
        },
        privileged(type, props) {
            if (type !== TYPES.container) return [];
            const added = arrayAt(props, "capabilities", "adds").filter((cap): cap is string => typeof cap === "string");
            return [
                ...(props.privileged === true ? ["the container is privileged"] : []),
                ...added.filter((c) => DANGEROUS_CAPABILITIES.has(c.toUpperCase())).map((cap) => `the container adds capability ${cap}`),
            ];
        },
        hostAccess(type, props) {
            if (type !== TYPES.container) return [];
            return [
                ...["networkMode", "pidMode", "ipcMode"].filter((mode) => props[mode] === "host").map((mode) => `the container sets ${mode}: host`),
                ...arrayAt(props, "mounts")
                    .filter(isRecord)
                    .filter((mount) => mount.type === "bind" && mount.readOnly !== true)
                    .map((mount) => `bind mount of ${String(mount.source)} is writable; mount host files read-only`),
            ];
        },
    },
};
