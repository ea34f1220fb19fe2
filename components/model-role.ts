/**
 * The IAM role one model's workloads run as, on any AWS-backed target: trusted by what the
 * target says (its pods' service account, or EC2), allowed only its own artifacts, image, log
 * group and metric namespace; with the log group it writes to.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope } from "./aws-scope";
import { logGroupName, modelRuntimePolicy, parseS3Uri, type PolicyDocument } from "./iam";
import { awsTags, iamRoleName, physicalName } from "./naming";
import type { RepositoryRef } from "./registry";

export interface ModelRoleArgs {
    /** The logical name, e.g. `fraud-scorer-pods`; the role's own name adds the product and environment (roles are account-wide). */
    name: string;
    /** The stack's environment: part of the role's name, and of its log group and metric namespace. */
    environment: string;
    /** The model whose workloads assume the role: its log group, metric namespace and image are all the role may use. */
    model: string;
    /** s3://bucket/prefix/: the only objects the role may read. */
    artifact: string;
    /** The model's repository: the role may pull from it, so it must be ECR. */
    repository: RepositoryRef;
    /** Who may assume the role, as the target says: its pods' service account (web identity) or EC2. */
    trust: PolicyDocument;
}

export function modelRole(args: ModelRoleArgs, parent: pulumi.Resource): aws.iam.Role {
    const repositoryArn = args.repository.arn;
    if (!repositoryArn) throw new pulumi.ResourceError(`model ${args.model}: its role pulls images with IAM, which needs an ECR repository; the registry is not ECR`, parent);
    const tags = awsTags(args.environment, args.model);
    const artifact = parseS3Uri(args.artifact);
    const role = new aws.iam.Role(args.name, { name: iamRoleName(args.environment, args.name), assumeRolePolicy: JSON.stringify(args.trust), tags }, { parent });
    new aws.cloudwatch.LogGroup(`${args.model}-logs`, { name: logGroupName(args.environment, args.model), retentionInDays: 30, tags }, { parent });
    new aws.iam.RolePolicy(
        `${args.model}-runtime`,
        {
            name: physicalName("aws-iam-role-policy", [args.model, "runtime"]),
            role: role.id,
            policy: pulumi
                .all([awsScope(parent), repositoryArn])
                .apply(([scope, arn]) => JSON.stringify(modelRuntimePolicy({ scope, environment: args.environment, model: args.model, artifact, repositoryArn: arn }))),
        },
        { parent },
    );
    return role;
}
