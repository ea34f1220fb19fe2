/** How the policy pack reads the docker target's objects: its router reload command, containers and pulled images. */
import { arrayAt, isRecord, plansFromJson, recordAt, stringAt, TYPES } from "../../../policies/lib";
import { PLANS_ENVIRONMENT } from "../../traffic/plan-annotation";
import type { TargetPolicyReaders } from "../definition";

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
                const ip = port.ip === undefined ? "0.0.0.0" : String(port.ip);
                return ip === "0.0.0.0" || ip === "::" ? [`port ${String(port.external ?? port.internal)} is published on every interface; publish it on 127.0.0.1`] : [];
            });
    },
};
