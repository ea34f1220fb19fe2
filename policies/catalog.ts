/** Every policy of the pack, in the order their themes are documented. */
import { hygienePolicies } from "./hygiene";
import { iamPolicies } from "./iam";
import type { ModelshipPolicy } from "./lib";
import { storagePolicies } from "./storage";
import { trafficPolicies } from "./traffic";
import { workloadPolicies } from "./workloads";

export const allPolicies: readonly ModelshipPolicy[] = [...iamPolicies, ...storagePolicies, ...workloadPolicies, ...hygienePolicies, ...trafficPolicies];
