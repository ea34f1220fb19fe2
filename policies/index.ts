/**
 * The modelship policy pack: `pulumi preview --policy-pack policies --policy-pack-config
 * policies/config/<stack>.json`. Policies are advisory unless the stack's config file says
 * otherwise (dev: advisory, prod: mandatory). The same policies run offline with `npm run policy`.
 */
import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./catalog";

new PolicyPack("modelship", {
    description: "IAM least privilege, registry and storage settings, workload hardening, environment hygiene and traffic weights for modelship stacks.",
    enforcementLevel: "advisory",
    policies: [...allPolicies],
});
