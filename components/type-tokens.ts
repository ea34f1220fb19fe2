/**
 * Every type token the project writes or compares, in one table: the components' own
 * (`modelship:<module>:<Type>`, given to `super(...)`), and the provider resource types the policy
 * pack, the render and the tests recognise resources by. Policies compare tokens as strings, so
 * the same checks run under the engine and offline over a render; a token spelled here once
 * cannot be misspelled in one of them.
 */

/** The project's component resources. */
export const COMPONENT_TYPES = {
    modelImage: "modelship:image:ModelImage",
    containerRegistry: "modelship:registry:ContainerRegistry",
    modelService: "modelship:model:ModelService",
    modelGates: "modelship:gates:ModelGates",
    dockerTarget: "modelship:docker:DockerTarget",
    kubernetesTarget: "modelship:kubernetes:KubernetesTarget",
    awsVmTarget: "modelship:aws-vm:AwsVmTarget",
} as const;

/** The engine's root resource of every stack. */
export const STACK_TYPE = "pulumi:pulumi:Stack";

/** Provider resource types, by what they are. */
export const TYPES = {
    // Kubernetes
    deployment: "kubernetes:apps/v1:Deployment",
    horizontalPodAutoscaler: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    pod: "kubernetes:core/v1:Pod",
    job: "kubernetes:batch/v1:Job",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    namespace: "kubernetes:core/v1:Namespace",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    // Docker
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    /** A built image (@pulumi/docker-build). */
    image: "docker-build:index:Image",
    /** A local command: a deployment gate, or the docker target's router reload. */
    command: "command:local:Command",
    // AWS (IAM and S3 have their own tables below)
    ecrRepository: "aws:ecr/repository:Repository",
    ecrLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    /** The same resource under the provider's older `alb` module. */
    albLoadBalancer: "aws:alb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    listenerRule: "aws:lb/listenerRule:ListenerRule",
    albListenerRule: "aws:alb/listenerRule:ListenerRule",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    autoscalingGroup: "aws:autoscaling/group:Group",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    securityGroupEgressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    kmsKey: "aws:kms/key:Key",
} as const;

/** IAM resources: the documents the IAM policies read, and where they attach. */
export const IAM_TYPES = {
    policy: "aws:iam/policy:Policy",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    userPolicy: "aws:iam/userPolicy:UserPolicy",
    groupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    role: "aws:iam/role:Role",
    user: "aws:iam/user:User",
    instanceProfile: "aws:iam/instanceProfile:InstanceProfile",
    openIdConnectProvider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    groupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
} as const;

/** An S3 bucket and the companion resources that carry its settings, in the provider's current and V2 spellings. */
export const S3_TYPES = {
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    acl: "aws:s3/bucketAcl:BucketAcl",
    aclV2: "aws:s3/bucketAclV2:BucketAclV2",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    versioningV2: "aws:s3/bucketVersioningV2:BucketVersioningV2",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    encryptionV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
} as const;
