/** The aws-vm target: models on EC2 Auto Scaling groups behind one Application Load Balancer. */
import type { RouterOffer } from "../../traffic/features";
import { defineTarget, RUN_ELSEWHERE } from "../definition";
import { MOCK_ACCOUNT, MOCK_REGION } from "../mocks";
import { awsVmArtifactRule, awsVmTargetRules, awsVmTargetSchema } from "./config";
import { awsVmPolicyReaders } from "./policy";
import { AwsVmTarget } from "./target";
import { scalarText } from "../../scalar-text";
import { TYPES } from "../../type-tokens";

// An ALB forwards by weight and sticks by its own cookie, but cannot copy requests anywhere.
const ALB: RouterOffer = { label: "the aws-vm target's Application Load Balancer", features: new Set(["split", "sticky", "pin"]), instead: RUN_ELSEWHERE };

export const awsVmTarget = defineTarget({
    type: "aws-vm",
    schema: awsVmTargetSchema,
    targetRules: awsVmTargetRules,
    router: () => ALB,
    autoscalingFit: (autoscaling) =>
        autoscaling.targetCPU !== undefined
            ? undefined
            : "targetCPU: the Auto Scaling group's target tracking keeps the instances' average CPU; requests in flight and Prometheus metrics do not reach it",
    routeFit: (match) => {
        if (match.regex !== undefined) return "a `value`: the load balancer's header conditions have no regular expressions (only * and ? wildcards); list one route per value";
        if (/[*?]/.test(match.value ?? "")) return "a value without * or ?: the load balancer reads them as wildcards, so the route would match more than this value";
        return undefined;
    },
    smokeRequestFor: "the smoke gate through the load balancer",
    modelKeys: [],
    artifactRule: awsVmArtifactRule,
    create: (name, config, context) => new AwsVmTarget(name, { config, environment: context.environment, registry: context.registry, models: context.models }),
    mocks: {
        [TYPES.loadBalancer]: (name, inputs) => {
            const physical = scalarText(inputs.name, name);
            return {
                arn: `arn:aws:elasticloadbalancing:${MOCK_REGION}:${MOCK_ACCOUNT}:loadbalancer/app/${physical}/0123456789abcdef`,
                arnSuffix: `app/${physical}/0123456789abcdef`,
                dnsName: `${inputs.internal === false ? "" : "internal-"}${physical}.${MOCK_REGION}.elb.amazonaws.com`,
            };
        },
        [TYPES.targetGroup]: (name, inputs) => {
            const physical = scalarText(inputs.name, name);
            return { arn: `arn:aws:elasticloadbalancing:${MOCK_REGION}:${MOCK_ACCOUNT}:targetgroup/${physical}/0123456789abcdef`, arnSuffix: `targetgroup/${physical}/0123456789abcdef` };
        },
        [TYPES.listener]: (name) => ({ arn: `arn:aws:elasticloadbalancing:${MOCK_REGION}:${MOCK_ACCOUNT}:listener/app/${name}/0123456789abcdef/0123456789abcdef` }),
        "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
    },
    policy: awsVmPolicyReaders,
});
