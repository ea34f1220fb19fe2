import { strict as assert } from "assert";
import type { PolicyStatement } from "../../../components/iam";
import { iamPolicies } from "../../../policies/iam";
import type { ModelshipPolicy } from "../../../policies/lib";
import { resource, violationsOf } from "../../support/policies";
import { IAM_TYPES, S3_TYPES } from "../../../components/type-tokens";

function policy(name: string): ModelshipPolicy {
    const found = iamPolicies.find((p) => p.name === name);
    assert.ok(found, `no policy ${name}`);
    return found;
}

const POLICY = IAM_TYPES.policy;
const ROLE_POLICY = IAM_TYPES.rolePolicy;
const USER_POLICY = IAM_TYPES.userPolicy;
const GROUP_POLICY = IAM_TYPES.groupPolicy;
const ROLE = IAM_TYPES.role;

/** A policy document as an object. */
function doc(...statements: PolicyStatement[]) {
    return { Version: "2012-10-17", Statement: statements };
}

/** A policy document as the JSON string most AWS resources take. */
function json(...statements: PolicyStatement[]): string {
    return JSON.stringify(doc(...statements));
}

function allow(Action: string | string[], Resource: string | string[] = "arn:aws:s3:::models/fraud-scorer/*"): PolicyStatement {
    return { Effect: "Allow", Action, Resource };
}

function assertOne(messages: string[], ...fragments: string[]): void {
    assert.equal(messages.length, 1, `expected one message, got ${JSON.stringify(messages)}`);
    for (const fragment of fragments) assert.ok(messages[0].includes(fragment), `"${messages[0]}" does not mention ${fragment}`);
}

describe("policies: IAM", () => {
    it("every policy has a stable kebab-case name, a description, the iam theme and no enforcement level", () => {
        assert.deepEqual(
            iamPolicies.map((p) => p.name),
            ["iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-admin-managed-policies", "iam-trust-scoped", "iam-no-inline-user-policies"],
        );
        for (const p of iamPolicies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(p.description.length > 20);
            assert.equal(p.theme, "iam");
            assert.equal(p.enforcementLevel, undefined);
        }
    });

    describe("iam-no-wildcard-actions", () => {
        const subject = policy("iam-no-wildcard-actions");

        it('refuses Action "*" (JSON string document)', async () => {
            assertOne(await violationsOf(subject, resource(POLICY, { policy: json(allow("*")) })), 'Action "*"', "every action of every service");
        });

        it('refuses "s3:*" (object document)', async () => {
            assertOne(await violationsOf(subject, resource(POLICY, { policy: doc(allow("s3:*")) })), '"s3:*"', "every action of s3");
        });

        it('refuses the partial wildcards "s3:Put*", "s3:*Object", "iam:Create*" and "s3:G?t*"', async () => {
            for (const action of ["s3:Put*", "s3:*Object", "iam:Create*", "s3:G?t*"]) {
                assertOne(await violationsOf(subject, resource(POLICY, { policy: json(allow(action)) })), `"${action}"`, "can expand to write actions");
            }
        });

        it("refuses a wildcard service", async () => {
            assertOne(await violationsOf(subject, resource(POLICY, { policy: json(allow("*:Get*")) })), '"*:Get*"', "wildcards the service");
        });

        it("refuses NotAction in an Allow statement", async () => {
            const statement: PolicyStatement = { Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::models/*" };
            assertOne(await violationsOf(subject, resource(POLICY, { policy: json(statement) })), "NotAction", "list the actions");
        });

        it("reports each offending action of a statement, with its Sid", async () => {
            const messages = await violationsOf(subject, resource(POLICY, { policy: json({ ...allow(["s3:GetObject", "s3:Put*", "s3:*"]), Sid: "Artifacts" }) }));
            assert.equal(messages.length, 2);
            assert.ok(messages.every((m) => m.includes('"Artifacts"')));
        });

        it('allows read-verb wildcards ("s3:Get*", "ec2:Describe*", "s3:List*", "dynamodb:BatchGet*", "s3:Head*") and exact actions', async () => {
            const statement = allow(["s3:Get*", "ec2:Describe*", "s3:List*", "dynamodb:BatchGet*", "s3:Head*", "s3:GetObject", "s3:PutObject"]);
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: json(statement) })), []);
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: doc(statement) })), []);
        });

        it('allows Deny statements with "*" and NotAction', async () => {
            const deny: PolicyStatement = { Effect: "Deny", Action: "*", Resource: "*" };
            const denyNot: PolicyStatement = { Effect: "Deny", NotAction: "s3:GetObject", Resource: "*" };
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: json(allow("s3:GetObject"), deny, denyNot) })), []);
        });

        it("checks RolePolicy, UserPolicy, GroupPolicy and Role.inlinePolicies documents", async () => {
            for (const type of [ROLE_POLICY, USER_POLICY, GROUP_POLICY]) {
                assertOne(await violationsOf(subject, resource(type, { policy: json(allow("s3:*")) })), '"s3:*"');
                assert.deepEqual(await violationsOf(subject, resource(type, { policy: json(allow("s3:GetObject")) })), []);
            }
            const role = resource(ROLE, {
                assumeRolePolicy: json({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }),
                inlinePolicies: [
                    { name: "reader", policy: json(allow("s3:GetObject")) },
                    { name: "writer", policy: json(allow("s3:Put*")) },
                ],
            });
            assertOne(await violationsOf(subject, role), "inlinePolicies[writer]", '"s3:Put*"');
        });

        it("ignores resources that carry no permission document", async () => {
            assert.deepEqual(await violationsOf(subject, resource(S3_TYPES.bucket, { policy: json(allow("*")) })), []);
        });
    });

    describe("iam-no-wildcard-resources", () => {
        const subject = policy("iam-no-wildcard-resources");

        it('allows Resource "*" for ecr:GetAuthorizationToken alone', async () => {
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: json(allow("ecr:GetAuthorizationToken", "*")) })), []);
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: doc(allow(["ecr:GetAuthorizationToken", "sts:GetCallerIdentity"], "*")) })), []);
        });

        it('refuses Resource "*" when an action outside the exception list is mixed in, naming it', async () => {
            const messages = await violationsOf(subject, resource(POLICY, { policy: json(allow(["ecr:GetAuthorizationToken", "s3:GetObject"], "*")) }));
            assertOne(messages, 'grants s3:GetObject on Resource "*"', "scope them to the ARNs");
            assert.ok(messages[0].startsWith("policy statement #0 grants s3:GetObject on"), "the exception is not listed as offending");
        });

        it('refuses "*" among other resource entries, and NotResource', async () => {
            assertOne(await violationsOf(subject, resource(ROLE_POLICY, { policy: json(allow("s3:GetObject", ["arn:aws:s3:::models/*", "*"])) })), "s3:GetObject", 'Resource "*"');
            const notResource: PolicyStatement = { Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secrets/*" };
            assertOne(await violationsOf(subject, resource(POLICY, { policy: doc(notResource) })), "s3:GetObject", "NotResource");
        });

        it('refuses NotAction on Resource "*"', async () => {
            const statement: PolicyStatement = { Effect: "Allow", NotAction: "iam:*", Resource: "*" };
            assertOne(await violationsOf(subject, resource(POLICY, { policy: json(statement) })), "NotAction");
        });

        it("allows statements scoped to ARNs, and Deny on *", async () => {
            const deny: PolicyStatement = { Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" };
            assert.deepEqual(await violationsOf(subject, resource(POLICY, { policy: json(allow(["s3:GetObject", "s3:ListBucket"]), deny) })), []);
        });

        it("checks Role.inlinePolicies", async () => {
            const role = resource(ROLE, { inlinePolicies: [{ name: "logs", policy: json(allow("logs:PutLogEvents", "*")) }] });
            assertOne(await violationsOf(subject, role), "inlinePolicies[logs]", "logs:PutLogEvents");
        });
    });

    describe("iam-no-admin-managed-policies", () => {
        const subject = policy("iam-no-admin-managed-policies");
        const attachments = [IAM_TYPES.rolePolicyAttachment, IAM_TYPES.userPolicyAttachment, IAM_TYPES.groupPolicyAttachment, IAM_TYPES.policyAttachment];
        const admin = [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/PowerUserAccess",
            "arn:aws:iam::aws:policy/IAMFullAccess",
            "arn:aws:iam::aws:policy/job-function/SystemAdministrator",
            "arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
            "arn:aws:iam::aws:policy/job-function/DatabaseAdministrator",
            "arn:aws-cn:iam::aws:policy/AdministratorAccess",
            "arn:aws-us-gov:iam::aws:policy/PowerUserAccess",
        ];

        it("refuses each AWS-managed admin/power-user policy on each attachment type, in any partition", async () => {
            for (const type of attachments) {
                for (const arn of admin) {
                    assertOne(await violationsOf(subject, resource(type, { policyArn: arn })), arn, "administrator/power-user", "customer-managed policy");
                }
            }
        });

        it("refuses AWS-managed FullAccess policies, aws-cn partition included", async () => {
            for (const arn of ["arn:aws:iam::aws:policy/AmazonS3FullAccess", "arn:aws-cn:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess", "arn:aws:iam::aws:policy/AWSLambda_FullAccess"]) {
                assertOne(await violationsOf(subject, resource(attachments[0], { policyArn: arn })), arn, "FullAccess");
            }
        });

        it("refuses them in Role.managedPolicyArns", async () => {
            const role = resource(ROLE, { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess"] });
            assertOne(await violationsOf(subject, role), "managedPolicyArns", "arn:aws:iam::aws:policy/AdministratorAccess");
        });

        it("allows customer-managed policies of the same name and narrow AWS-managed ones", async () => {
            for (const arn of ["arn:aws:iam::123456789012:policy/AdministratorAccess", "arn:aws:iam::123456789012:policy/AmazonS3FullAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]) {
                assert.deepEqual(await violationsOf(subject, resource(attachments[0], { policyArn: arn })), [], arn);
            }
            assert.deepEqual(await violationsOf(subject, resource(ROLE, { managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"] })), []);
        });
    });

    describe("iam-trust-scoped", () => {
        const subject = policy("iam-trust-scoped");
        const provider = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789";
        const host = "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789";

        function irsa(condition?: PolicyStatement["Condition"]): PolicyStatement {
            return { Effect: "Allow", Principal: { Federated: provider }, Action: "sts:AssumeRoleWithWebIdentity", ...(condition ? { Condition: condition } : {}) };
        }

        const role = (assumeRolePolicy: unknown) => resource(ROLE, { assumeRolePolicy });

        it('refuses Principal "*"', async () => {
            assertOne(await violationsOf(subject, role(json({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }))), 'Principal "*"', "name the service");
        });

        it('refuses Principal {AWS: "*"}, also in a list', async () => {
            assertOne(await violationsOf(subject, role(doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }))), '{AWS: "*"}');
            assertOne(await violationsOf(subject, role(json({ Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:root", "*"] }, Action: "sts:AssumeRole" }))), '{AWS: "*"}');
        });

        it("refuses an IRSA trust without a sub condition", async () => {
            assertOne(await violationsOf(subject, role(json(irsa({ StringEquals: { [`${host}:aud`]: "sts.amazonaws.com" } })))), `no StringEquals condition on ${host}:sub`);
        });

        it("refuses an IRSA trust whose sub is a StringLike wildcard", async () => {
            const trust = irsa({ StringLike: { [`${host}:sub`]: "system:serviceaccount:models:*" }, StringEquals: { [`${host}:aud`]: "sts.amazonaws.com" } });
            assertOne(await violationsOf(subject, role(json(trust))), `${host}:sub is matched with StringLike`, "system:serviceaccount:models:*");
        });

        it("refuses a wildcard sub even under StringEquals", async () => {
            const trust = irsa({ StringEquals: { [`${host}:sub`]: "system:serviceaccount:*:*", [`${host}:aud`]: "sts.amazonaws.com" } });
            assertOne(await violationsOf(subject, role(doc(trust))), `${host}:sub`, "without wildcards");
        });

        it("refuses an IRSA trust without an aud condition", async () => {
            assertOne(await violationsOf(subject, role(json(irsa({ StringEquals: { [`${host}:sub`]: "system:serviceaccount:models:fraud-scorer" } })))), `${host}:aud`, "sts.amazonaws.com");
        });

        it("reports both when there is no condition at all", async () => {
            const messages = await violationsOf(subject, role(json(irsa())));
            assert.equal(messages.length, 2);
            assert.ok(messages[0].includes(":sub") && messages[1].includes(":aud"));
        });

        it("passes a correct IRSA trust, as JSON and as an object", async () => {
            const trust = irsa({ StringEquals: { [`${host}:sub`]: "system:serviceaccount:models:fraud-scorer", [`${host}:aud`]: "sts.amazonaws.com" } });
            assert.deepEqual(await violationsOf(subject, role(json(trust))), []);
            assert.deepEqual(await violationsOf(subject, role(doc(trust))), []);
        });

        it("passes a service principal, and a Deny with Principal *", async () => {
            const service: PolicyStatement = { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" };
            const deny: PolicyStatement = { Effect: "Deny", Principal: "*", Action: "sts:AssumeRole" };
            assert.deepEqual(await violationsOf(subject, role(json(service, deny))), []);
        });
    });

    describe("iam-no-inline-user-policies", () => {
        const subject = policy("iam-no-inline-user-policies");

        it("refuses any UserPolicy", async () => {
            assertOne(await violationsOf(subject, resource(USER_POLICY, { user: "deployer", policy: json(allow("s3:GetObject")) })), "IAM user deployer", "role");
        });

        it("allows role and group policies", async () => {
            assert.deepEqual(
                await violationsOf(subject, [
                    resource(ROLE_POLICY, { role: "r", policy: json(allow("s3:GetObject")) }),
                    resource(GROUP_POLICY, { group: "g", policy: json(allow("s3:GetObject")) }, "g"),
                ]),
                [],
            );
        });
    });
});
