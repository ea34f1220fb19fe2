/** The partition, region and account the AWS provider deploys to: what IAM documents name in their ARNs. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsScope } from "./iam";

export function awsScope(parent: pulumi.Resource): pulumi.Output<AwsScope> {
    const invoke = { parent };
    return pulumi
        .all([aws.getPartitionOutput({}, invoke), aws.getRegionOutput({}, invoke), aws.getCallerIdentityOutput({}, invoke)])
        .apply(([partition, region, identity]) => ({ partition: partition.partition, region: region.region, accountId: identity.accountId }));
}
