/**
 * The type-token table is what the policies and the tests recognise resources by: a token spelled
 * differently from the provider's would match nothing, and a policy would pass without a word. Each
 * provider token is checked against the class of the SDK the components create it with.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import { strict as assert } from "assert";
import { IAM_TYPES, S3_TYPES, TYPES } from "../../components/type-tokens";

/** Resources that are Kubernetes custom resources: the SDK has no class for them, their token is apiVersion and kind. */
const CUSTOM_RESOURCES = new Set<string>([TYPES.httpRoute, TYPES.serviceMonitor, TYPES.prometheusRule]);

type Namespace = Record<string, unknown>;

/** The SDK class a token names: `aws:lb/listenerRule:ListenerRule` -> aws.lb.ListenerRule, `kubernetes:apps/v1:Deployment` -> k8s.apps.v1.Deployment. */
function sdkClass(token: string): { __pulumiType?: string } | undefined {
    const [provider, module, name] = token.split(":");
    const walk = (root: unknown, path: string[]) => path.reduce<unknown>((at, key) => (at as Namespace | undefined)?.[key], root) as { __pulumiType?: string } | undefined;
    switch (provider) {
        case "aws":
            return walk(aws, [module.split("/")[0], name]);
        case "kubernetes": {
            const [group, version] = module.split("/");
            return walk(k8s, [group, version, name]);
        }
        case "docker":
            return walk(docker, [name]);
        case "docker-build":
            return walk(dockerBuild, [name]);
        case "command":
            return walk(command, [module, name]);
        default:
            return undefined;
    }
}

describe("type-token table (components/type-tokens)", () => {
    const tokens = [...Object.values(TYPES), ...Object.values(IAM_TYPES), ...Object.values(S3_TYPES)];

    it("every provider token is the one its SDK class registers", () => {
        for (const token of tokens.filter((t) => !CUSTOM_RESOURCES.has(t))) {
            const found = sdkClass(token);
            assert.ok(found, `${token}: no such class in the provider's SDK`);
            assert.equal(found.__pulumiType, token);
        }
    });

    it("every custom resource token is its API group, version and kind, as the kubernetes provider spells it", () => {
        for (const token of CUSTOM_RESOURCES) assert.match(token, /^kubernetes:[a-z0-9.-]+\.[a-z]+\/v[0-9a-z]+:[A-Z][A-Za-z]+$/);
    });

    it("no token is listed twice", () => {
        assert.equal(new Set(tokens).size, tokens.length);
    });
});
