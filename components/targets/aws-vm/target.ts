/**
 * The aws-vm target: model servers on EC2 instances behind one Application Load Balancer.
 * Per model an instance role (its artifact prefix, its repository, its log group and metric
 * namespace, nothing else) and a log group; per track a launch template, an Auto Scaling group
 * refreshed on change, a target group health-checked on readiness, and CloudWatch alarms; and
 * listener rules carrying the plan's weights. The load balancer is reachable only from the given
 * CIDRs, the instances only from the load balancer.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { quantityBytes } from "../../config/schema";
import type { AnalysisConfig } from "../../config/schema";
import type { AwsVmTargetConfig } from "./config";
import { awsScope } from "../../aws-scope";
import { ec2TrustPolicy, logGroupName, parseS3Uri, type AwsScope } from "../../iam";
import { modelRole } from "../../model-role";
import { READY_PATH } from "../../model-server-env";
import { awsTags, physicalName, PRODUCT, trackName } from "../../naming";
import type { ContainerRegistry } from "../../registry";
import { localSmokeGate } from "../../gates/model-gates";
import { routeDependencies, type DeployedModel, type DeployedTrack, type ModelToDeploy, type ModelTarget, type SmokeGate } from "../../target";
import { UNKNOWN_MODEL_BODY } from "../../traffic/nginx";
import type { TrackName, TrackPlan } from "../../traffic/types";
import { instanceRefreshPreferences, pinRules, routeRules, splitRule, type ListenerRuleSpec } from "./alb";
import { userDataScript } from "./user-data";
import { COMPONENT_TYPES } from "../../type-tokens";

export interface AwsVmTargetArgs {
    /** The target's entry under `targets`. */
    config: AwsVmTargetConfig;
    /** The stack's environment: in every physical name and tag. */
    environment: string;
    /** Each model's ECR repository, which its instance role may pull from. */
    registry: ContainerRegistry;
    /** The models this target runs: each gets its own block of listener rule priorities. */
    models: readonly string[];
}

/** Where the load balancer sends one track: its target group. */
export interface AwsVmBackend {
    targetGroupArn: pulumi.Output<string>;
}

const ANYWHERE = "0.0.0.0/0";
/** Instances reach ECR, S3 and CloudWatch over HTTPS; nothing else leaves them. */
const HTTPS = 443;

export class AwsVmTarget extends pulumi.ComponentResource implements ModelTarget<AwsVmBackend> {
    readonly loadBalancer: aws.lb.LoadBalancer;
    private readonly listener: aws.lb.Listener;
    private readonly albSecurityGroup: aws.ec2.SecurityGroup;
    private readonly instanceSecurityGroup: aws.ec2.SecurityGroup;
    private readonly scope: pulumi.Output<AwsScope>;
    private readonly openPorts = new Set<number>();
    private readonly args: AwsVmTargetArgs;
    /** Prefixes the names of the target's own children: URNs carry the parent's type, not its name. */
    private readonly targetName: string;
    constructor(name: string, args: AwsVmTargetArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.awsVmTarget, name, {}, opts);
        this.args = args;
        this.targetName = name;
        const { config, environment } = args;
        const tags = awsTags(environment);
        this.scope = awsScope(this);
        const albDescription = `modelship ${environment} load balancer: reachable from the allowed CIDRs only`;
        this.albSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-alb`,
            {
                // A new description replaces the group: the hash gives the replacement a name of its own.
                name: physicalName("aws-security-group", [PRODUCT, environment, name, "alb"], { uniqueBy: [albDescription] }),
                vpcId: config.vpcId,
                description: albDescription,
                ingress: [{ protocol: "tcp", fromPort: config.listenerPort, toPort: config.listenerPort, cidrBlocks: config.allowedCidrs, description: "model clients" }],
                tags,
            },
            { parent: this },
        );
        const instancesDescription = `modelship ${environment} model servers: reachable from the load balancer only`;
        this.instanceSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-instances`,
            {
                name: physicalName("aws-security-group", [PRODUCT, environment, name, "instances"], { uniqueBy: [instancesDescription] }),
                vpcId: config.vpcId,
                description: instancesDescription,
                egress: [{ protocol: "tcp", fromPort: HTTPS, toPort: HTTPS, cidrBlocks: [ANYWHERE], description: "ECR, S3 and CloudWatch over HTTPS" }],
                tags,
            },
            { parent: this },
        );
        this.loadBalancer = new aws.lb.LoadBalancer(
            name,
            {
                // Unique per account and region, so the environment is in it; `internal` replaces the load balancer, so it is in the hash.
                name: physicalName("aws-load-balancer", [environment, name], { uniqueBy: [config.internal] }),
                internal: config.internal,
                loadBalancerType: "application",
                securityGroups: [this.albSecurityGroup.id],
                subnets: config.subnetIds,
                dropInvalidHeaderFields: true,
                tags,
            },
            { parent: this },
        );
        this.listener = new aws.lb.Listener(
            name,
            {
                loadBalancerArn: this.loadBalancer.arn,
                port: config.listenerPort,
                protocol: "HTTP",
                defaultActions: [{ type: "fixed-response", fixedResponse: { contentType: "application/json", messageBody: UNKNOWN_MODEL_BODY, statusCode: "404" } }],
                tags,
            },
            { parent: this },
        );
    }

    /** The model port open from the load balancer to the instances, once per port. */
    private openModelPort(port: number): void {
        if (this.openPorts.has(port)) return;
        this.openPorts.add(port);
        const description = `model servers on ${port}`;
        new aws.vpc.SecurityGroupIngressRule(
            `${this.targetName}-instances-from-alb-${port}`,
            { securityGroupId: this.instanceSecurityGroup.id, referencedSecurityGroupId: this.albSecurityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description },
            { parent: this },
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${this.targetName}-alb-to-instances-${port}`,
            { securityGroupId: this.albSecurityGroup.id, referencedSecurityGroupId: this.instanceSecurityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description },
            { parent: this },
        );
    }

    deployModel(model: ModelToDeploy, parent: pulumi.Resource): DeployedModel<AwsVmBackend> {
        const { environment, registry } = this.args;
        const tags = awsTags(environment, model.name);
        this.openModelPort(model.config.port);
        const role = modelRole(
            { name: `${model.name}-instance`, environment, model: model.name, artifact: model.config.artifact, repository: registry.repository(model.name), trust: ec2TrustPolicy() },
            parent,
        );
        const profile = new aws.iam.InstanceProfile(`${model.name}`, { name: physicalName("aws-instance-profile", [PRODUCT, environment, model.name]), role: role.name, tags }, { parent });
        const tracks: DeployedModel<AwsVmBackend>["tracks"] = {};
        const groups: Partial<Record<TrackName, pulumi.Output<string>>> = {};
        for (const track of model.plan.tracks) {
            const deployed = this.deployTrack(model, track, { profile, logGroup: logGroupName(environment, model.name), artifact: parseS3Uri(model.config.artifact) }, parent);
            tracks[track.track] = deployed;
            groups[track.track] = deployed.backend.targetGroupArn;
        }
        for (const rule of pinRules(model.plan, this.priorityIndex(model.name), groups)) {
            const track = rule.kind.slice("pin-".length) as TrackName;
            const deployed = tracks[track];
            if (!deployed) continue;
            const pin = this.listenerRule(model.name, rule, deployed.resources);
            tracks[track] = { ...deployed, smoke: this.smokeGate(model, track, [pin, ...deployed.resources]) };
        }
        // On by default only for an internet-facing load balancer; for an internal one, enable it where the deployer runs inside the VPC.
        return { plan: model.plan, tracks, smokeByDefault: model.config.gates.smoke.request !== undefined && !this.args.config.internal };
    }

    /**
     * A track's smoke gate: the gate program from the deployer's machine through the load balancer,
     * pinned to the track by header (instances take requests only from the load balancer), once the
     * track's pin rule and instances are in place.
     */
    private smokeGate(model: ModelToDeploy, track: TrackName, needs: readonly pulumi.Resource[]): SmokeGate {
        return (spec, parent) => {
            const image = model.images[track];
            if (!image) throw new pulumi.ResourceError(`model ${model.name}: no image for the ${track} track`, this);
            const port = this.args.config.listenerPort === 80 ? "" : `:${this.args.config.listenerPort}`;
            const url = pulumi.interpolate`http://${this.loadBalancer.dnsName}${port}`;
            return localSmokeGate({ model: model.name, config: model.config, spec, image, url, pin: { header: model.plan.pinHeader, track: spec.track } }, { parent, dependsOn: [...needs] });
        };
    }

    /** The model's place in this target's sorted model list: its block of rule priorities. */
    private priorityIndex(model: string): number {
        const index = [...this.args.models].sort((a, b) => a.localeCompare(b)).indexOf(model);
        if (index < 0) throw new pulumi.ResourceError(`model ${model}: not among the models of this aws-vm target (${this.args.models.join(", ")})`, this);
        return index;
    }

    private listenerRule(model: string, rule: ListenerRuleSpec<pulumi.Output<string>>, dependsOn: readonly pulumi.Resource[]): aws.lb.ListenerRule {
        return new aws.lb.ListenerRule(
            `${model}-${rule.kind}`,
            {
                listenerArn: this.listener.arn,
                priority: rule.priority,
                conditions: rule.conditions,
                actions: [{ type: "forward", forward: rule.forward }],
                tags: { ...awsTags(this.args.environment, model), ...rule.tags },
            },
            { parent: this, dependsOn: [...dependsOn] },
        );
    }

    private deployTrack(
        model: ModelToDeploy,
        track: TrackPlan,
        shared: { profile: aws.iam.InstanceProfile; logGroup: string; artifact: ReturnType<typeof parseS3Uri> },
        parent: pulumi.Resource,
    ): DeployedTrack<AwsVmBackend> {
        const { config, environment } = this.args;
        const name = trackName(model.name, track.track);
        const tags = { ...awsTags(environment, model.name), "modelship:track": track.track, "modelship:version": track.version };
        const image = model.images[track.track];
        if (!image) throw new pulumi.ResourceError(`model ${model.name}: no image for the ${track.track} track`, this);
        const targetGroup = new aws.lb.TargetGroup(
            name,
            {
                // Unique per account and region: the environment is in it. Port and VPC replace the group, so they are in the hash.
                name: physicalName("aws-target-group", [environment, name], { uniqueBy: [model.config.port, config.vpcId] }),
                port: model.config.port,
                protocol: "HTTP",
                targetType: "instance",
                vpcId: config.vpcId,
                deregistrationDelay: 30,
                healthCheck: { path: READY_PATH, matcher: "200", interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
                tags,
            },
            { parent },
        );
        const userData = pulumi.all([this.scope, image.ref]).apply(([scope, ref]) =>
            Buffer.from(
                userDataScript({
                    region: scope.region,
                    environment,
                    model: model.name,
                    track,
                    image: ref,
                    artifact: shared.artifact,
                    port: model.config.port,
                    logGroup: shared.logGroup,
                    ...(model.config.resources.limits.memory !== undefined ? { memoryLimitBytes: quantityBytes(model.config.resources.limits.memory) } : {}),
                }),
            ).toString("base64"),
        );
        const launchTemplate = new aws.ec2.LaunchTemplate(
            name,
            {
                name: physicalName("aws-launch-template", [PRODUCT, environment, name]),
                imageId: "id" in config.ami ? config.ami.id : `resolve:ssm:${config.ami.ssmParameter}`,
                instanceType: config.instanceType,
                iamInstanceProfile: { arn: shared.profile.arn },
                vpcSecurityGroupIds: [this.instanceSecurityGroup.id],
                // IMDSv2 only: a request forged through the model server cannot read the role's credentials.
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                userData,
                updateDefaultVersion: true,
                tagSpecifications: [{ resourceType: "instance", tags }],
                tags,
            },
            { parent },
        );
        const group = new aws.autoscaling.Group(
            name,
            {
                name: physicalName("aws-autoscaling-group", [PRODUCT, environment, name]),
                vpcZoneIdentifiers: config.subnetIds,
                // An autoscaled group's desired capacity is its scaling policy's; the bounds follow the track's share of traffic.
                ...(track.autoscaling ? { minSize: track.autoscaling.min, maxSize: track.autoscaling.max } : { desiredCapacity: track.replicas, minSize: track.replicas, maxSize: track.replicas }),
                targetGroupArns: [targetGroup.arn],
                // The listener rules wait on the group: with this set, its update ends once that many instances are healthy in the target group.
                ...(track.readyBeforeRoute !== undefined ? { waitForElbCapacity: track.readyBeforeRoute } : {}),
                healthCheckType: "ELB",
                healthCheckGracePeriod: config.instanceRefresh.warmupSeconds,
                launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
                instanceRefresh: { strategy: "Rolling", preferences: instanceRefreshPreferences(model.plan.poolUpdate, track.replicas, config.instanceRefresh) },
                tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
            },
            { parent },
        );
        if (track.autoscaling && "cpuPercent" in track.autoscaling.on) {
            new aws.autoscaling.Policy(
                `${name}-cpu`,
                {
                    autoscalingGroupName: group.name,
                    policyType: "TargetTrackingScaling",
                    estimatedInstanceWarmup: config.instanceRefresh.warmupSeconds,
                    targetTrackingConfiguration: { predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" }, targetValue: track.autoscaling.on.cpuPercent },
                },
                { parent },
            );
        }
        this.alarms(name, model.config.analysis, targetGroup, tags, parent);
        return { backend: { targetGroupArn: targetGroup.arn }, resources: [targetGroup, group] };
    }

    /** 5xx share, p95 response time and unhealthy hosts of one target group, at the model's thresholds. */
    private alarms(name: string, analysis: AnalysisConfig, targetGroup: aws.lb.TargetGroup, tags: Record<string, string>, parent: pulumi.Resource): void {
        const alarmName = (alarm: string) => physicalName("aws-metric-alarm", [PRODUCT, this.args.environment, name, alarm]);
        const dimensions = { LoadBalancer: this.loadBalancer.arnSuffix, TargetGroup: targetGroup.arnSuffix };
        const metric = (id: string, metricName: string, stat: string) => ({ id, returnData: false, metric: { namespace: "AWS/ApplicationELB", metricName, dimensions, period: 60, stat } });
        new aws.cloudwatch.MetricAlarm(
            `${name}-5xx`,
            {
                name: alarmName("5xx"),
                alarmDescription: `share of ${name}'s requests answered 5xx above ${analysis.maxErrorRate}`,
                comparisonOperator: "GreaterThanThreshold",
                threshold: analysis.maxErrorRate,
                evaluationPeriods: 5,
                datapointsToAlarm: 2,
                treatMissingData: "notBreaching",
                metricQueries: [
                    metric("errors", "HTTPCode_Target_5XX_Count", "Sum"),
                    metric("requests", "RequestCount", "Sum"),
                    { id: "share", expression: "IF(requests > 0, errors / requests, 0)", label: "5xx share", returnData: true },
                ],
                tags,
            },
            { parent },
        );
        new aws.cloudwatch.MetricAlarm(
            `${name}-latency`,
            {
                name: alarmName("latency"),
                alarmDescription: `${name}'s p95 target response time above ${analysis.maxP95LatencyMs} ms`,
                namespace: "AWS/ApplicationELB",
                metricName: "TargetResponseTime",
                dimensions,
                extendedStatistic: "p95",
                period: 60,
                comparisonOperator: "GreaterThanThreshold",
                threshold: analysis.maxP95LatencyMs / 1000,
                evaluationPeriods: 5,
                datapointsToAlarm: 2,
                treatMissingData: "notBreaching",
                tags,
            },
            { parent },
        );
        new aws.cloudwatch.MetricAlarm(
            `${name}-unhealthy`,
            {
                name: alarmName("unhealthy"),
                alarmDescription: `${name} has instances failing the readiness check`,
                namespace: "AWS/ApplicationELB",
                metricName: "UnHealthyHostCount",
                dimensions,
                statistic: "Maximum",
                period: 60,
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
                evaluationPeriods: 3,
                datapointsToAlarm: 2,
                treatMissingData: "notBreaching",
                tags,
            },
            { parent },
        );
    }

    route(models: readonly DeployedModel<AwsVmBackend>[]): Record<string, pulumi.Output<string>> {
        const { config } = this.args;
        for (const m of models) {
            const groups: Partial<Record<TrackName, pulumi.Output<string>>> = {};
            for (const [track, deployed] of Object.entries(m.tracks) as Array<[TrackName, DeployedTrack<AwsVmBackend>]>) groups[track] = deployed.backend.targetGroupArn;
            // Header and cookie routes move live traffic, so they wait for the gates as the split does.
            for (const rule of [...routeRules(m.plan, this.priorityIndex(m.plan.model), groups), splitRule(m.plan, this.priorityIndex(m.plan.model), groups)]) {
                this.listenerRule(m.plan.model, rule, routeDependencies([m]));
            }
        }
        const port = config.listenerPort === 80 ? "" : `:${config.listenerPort}`;
        const endpoints = Object.fromEntries(models.map((m) => [m.plan.model, pulumi.interpolate`http://${this.loadBalancer.dnsName}${port}/v2/models/${m.plan.model}`]));
        this.registerOutputs({ loadBalancer: this.loadBalancer.dnsName, endpoints });
        return endpoints;
    }
}
