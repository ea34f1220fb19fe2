/** The aws-vm target's config, and the rules it and the models on it must meet. */
import { isRegistryReference } from "../../config/model-registry";
import { REGISTRY_ON_DOCKER_ONLY } from "../checks";
import { z } from "zod";
import { portSchema } from "../../config/schema";
import type { TargetIssue } from "../definition";

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

export const awsVmTargetSchema = z.strictObject({
    type: z.literal("aws-vm"),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: "a VPC id such as vpc-0abc1234" }),
    /** At least two, in different availability zones: the load balancer needs both. */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "a subnet id such as subnet-0abc1234" })).min(2),
    /** Who may reach the load balancer; nobody else can. */
    allowedCidrs: z.array(z.string().regex(CIDR, { error: "an IPv4 CIDR such as 10.0.0.0/16" })).min(1),
    /** Internal by default: model endpoints face the VPC, not the internet. */
    internal: z.boolean().default(true),
    listenerPort: portSchema.default(80),
    instanceType: z
        .string()
        .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "an EC2 instance type such as t3.medium" })
        .default("t3.medium"),
    /** The machine image: baking it is out of scope; it needs Docker and the AWS CLI (e.g. Amazon Linux 2023 ECS-optimized). */
    ami: z.union([z.strictObject({ id: z.string().regex(/^ami-[0-9a-f]{8,17}$/) }), z.strictObject({ ssmParameter: z.string().startsWith("/") })]),
    instanceRefresh: z
        .strictObject({ minHealthyPercentage: z.number().int().min(0).max(100).default(90), warmupSeconds: z.number().int().min(0).default(120) })
        .default({ minHealthyPercentage: 90, warmupSeconds: 120 }),
});

export type AwsVmTargetConfig = z.infer<typeof awsVmTargetSchema>;

export function awsVmTargetRules(config: AwsVmTargetConfig, context: { registry: { type: string } | undefined }): TargetIssue[] {
    const registry = context.registry;
    if (registry === undefined || registry.type === "ecr") return [];
    return [{ path: "type", value: config.type, expected: `registry type ecr with an aws-vm target: instances pull with their instance role (registry is ${registry.type})` }];
}

export function awsVmArtifactRule(artifact: string): TargetIssue | undefined {
    if (isRegistryReference(artifact)) return { path: "artifact", value: artifact, expected: REGISTRY_ON_DOCKER_ONLY };
    return artifact.startsWith("s3://")
        ? undefined
        : { path: "artifact", value: artifact, expected: "an S3 URI such as s3://bucket/models/name/: instances copy the model from the model bucket at boot" };
}
