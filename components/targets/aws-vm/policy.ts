/** How the policy pack reads the aws-vm target's objects: the listener rule that splits a model's traffic, the load balancer. */
import { arrayAt, isRecord, recordAt, TYPES } from "../../../policies/lib";
import { readPlanTags } from "../../traffic/plan-annotation";
import type { TargetPolicyReaders } from "../definition";

export const awsVmPolicyReaders: TargetPolicyReaders = {
    // The plan's tags beside the weights of the rule's forward action; a per-track pin rule carries none.
    routerPlans(type, props) {
        if (type !== TYPES.listenerRule && type !== TYPES.albListenerRule) return undefined;
        const forward = arrayAt(props, "actions").find((a) => isRecord(a) && recordAt(a, "forward") !== undefined);
        const weights = arrayAt(forward, "forward", "targetGroups").map((group) => (isRecord(group) ? group.weight : undefined));
        const reading = readPlanTags(recordAt(props, "tags") ?? {}, weights);
        if (!reading) return undefined;
        return "plan" in reading ? { plans: [reading.plan] } : { plans: [], problem: reading.problem };
    },
    publicExposure(type, props) {
        if (type !== TYPES.loadBalancer && type !== TYPES.albLoadBalancer) return [];
        // AWS's default scheme is internet-facing: only an explicit internal: true keeps it private.
        return props.internal === true
            ? []
            : ["the load balancer is internet-facing (internal is not true): it gets public addresses whatever its security group allows; set internal: true and reach it from inside the VPC"];
    },
};
