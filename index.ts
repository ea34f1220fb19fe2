/**
 * modelship stack program: `pulumi up -s <stack>` deploys the models of Pulumi.<stack>.yaml.
 * A bad config stops here, before any resource is registered, with every mistake listed.
 */
import { loadConfig } from "./components/config/load";
import { deployModelship } from "./components/stack";

const deployed = deployModelship(loadConfig());

export const environment = deployed.environment;
/** Per model: endpoint, strategy and step, versions, live weights, mirror share, replicas, image references. */
export const models = deployed.models;
