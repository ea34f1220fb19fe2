/**
 * Contract: the IAM documents the prod stack actually emits (IRSA pod roles, the VM instance role,
 * the CI deployer), taken from the render and put through the IAM simulator and AWS's action
 * catalogue: each role may do its own model's work and not its neighbours'.
 */
import { strict as assert } from "assert";
import { parsePolicyDocument, parseS3Uri, type PolicyDocument } from "../../components/iam";
import { MOCK_ACCOUNT, MOCK_REGION } from "../../components/targets/mocks";
import type { RecordedResource } from "../../tools/mock-runtime";
import { findProjectDir, renderStack } from "../../tools/render";
import { readStackFiles } from "../../tools/project-files";
import { catalogueProblems, expectResult, identityPolicyErrors, simulateIdentity, simulateTrust, type IamRequest } from "./support/iam";
import { IAM_TYPES } from "../../components/type-tokens";

interface RenderedModel {
    name: string;
    artifact: string;
}

const counts = { allowed: 0, denied: 0, documents: 0 };

async function expectAllowed(principal: string, document: PolicyDocument, request: IamRequest, label: string) {
    await expectResult("Allowed", () => simulateIdentity(principal, document, request), label);
    counts.allowed += 1;
}

async function expectDenied(principal: string, document: PolicyDocument, request: IamRequest, label: string) {
    await expectResult("ImplicitlyDenied", () => simulateIdentity(principal, document, request), label);
    counts.denied += 1;
}

const repository = (model: string) => `arn:aws:ecr:${MOCK_REGION}:${MOCK_ACCOUNT}:repository/modelship/${model}`;

describe("contract: the IAM documents the prod stack emits", function () {
    this.timeout(60_000);
    let resources: RecordedResource[] = [];
    let models: RenderedModel[] = [];

    before(async () => {
        const render = await renderStack(findProjectDir(), "prod");
        resources = render.resources;
        // The artifact each model reads is in its containers' env (pods) or its boot script (instances); the config is the source of both.
        const files = readStackFiles(findProjectDir(), "prod");
        const config = JSON.parse(files.config["modelship:models"]) as Record<string, { artifact: string }>;
        models = Object.entries(config).map(([name, m]) => ({ name, artifact: m.artifact }));
    });

    after(() => console.log(`measured: rendered IAM: ${counts.documents} documents of the prod stack; ${counts.allowed} requests allowed and ${counts.denied} denied as expected`));

    function document(type: string, name: string, field: string): PolicyDocument {
        const found = resources.find((r) => r.type === type && r.name === name);
        assert.ok(found, `${type} ${name} in the prod render`);
        const parsed = parsePolicyDocument(found.inputs[field]);
        assert.ok(parsed, `${name}.${field} is a policy document`);
        return parsed;
    }

    it("every emitted document uses only actions, resources and condition keys AWS's catalogue knows", async () => {
        const documents = resources.flatMap((r) =>
            r.type === IAM_TYPES.rolePolicy ? [parsePolicyDocument(r.inputs.policy)] : r.type === IAM_TYPES.role ? [parsePolicyDocument(r.inputs.assumeRolePolicy)] : [],
        );
        assert.ok(documents.length >= 8, `${documents.length} documents`);
        for (const doc of documents) {
            assert.ok(doc);
            counts.documents += 1;
            if (doc.Statement.some((s) => s.Principal !== undefined)) continue;
            assert.deepEqual(identityPolicyErrors(doc), []);
            assert.deepEqual((await catalogueProblems(doc)).problems, []);
        }
    });

    it("each model's runtime role reads its own artifacts and pulls its own image, and nobody else's", async () => {
        const runtimes = models.filter((m) => resources.some((r) => r.type === IAM_TYPES.rolePolicy && r.name === `${m.name}-runtime`));
        assert.ok(runtimes.length >= 3, "pod roles and the instance role");
        for (const model of runtimes) {
            const policy = document(IAM_TYPES.rolePolicy, `${model.name}-runtime`, "policy");
            const role = `arn:aws:iam::${MOCK_ACCOUNT}:role/${model.name}`;
            const own = parseS3Uri(model.artifact);
            await expectAllowed(role, policy, { action: "s3:GetObject", resource: `arn:aws:s3:::${own.bucket}/${own.prefix}1.0.0/model.json` }, `${model.name} reads its model`);
            await expectAllowed(role, policy, { action: "ecr:BatchGetImage", resource: repository(model.name) }, `${model.name} pulls its image`);
            await expectDenied(role, policy, { action: "s3:PutObject", resource: `arn:aws:s3:::${own.bucket}/${own.prefix}1.0.0/model.json` }, `${model.name} cannot overwrite its model`);
            await expectDenied(role, policy, { action: "ecr:PutImage", resource: repository(model.name) }, `${model.name} cannot push`);
            for (const other of models.filter((m) => m.name !== model.name)) {
                const theirs = parseS3Uri(other.artifact);
                await expectDenied(
                    role,
                    policy,
                    { action: "s3:GetObject", resource: `arn:aws:s3:::${theirs.bucket}/${theirs.prefix}1.0.0/model.json` },
                    `${model.name} cannot read ${other.name}'s model`,
                );
                await expectDenied(role, policy, { action: "ecr:BatchGetImage", resource: repository(other.name) }, `${model.name} cannot pull ${other.name}'s image`);
            }
        }
    });

    it("each IRSA role is assumable by its own service account only", async () => {
        const target = JSON.parse(readStackFiles(findProjectDir(), "prod").config["modelship:targets"]) as Record<string, { irsa?: { oidcProviderArn: string }; namespace?: string }>;
        const cluster = Object.values(target).find((t) => t.irsa)!;
        const provider = cluster.irsa!.oidcProviderArn;
        const issuer = provider.slice(provider.indexOf("oidc-provider/") + "oidc-provider/".length);
        const podRoles = resources.filter((r) => r.type === IAM_TYPES.role && r.name.endsWith("-pods"));
        assert.ok(podRoles.length >= 2);
        for (const role of podRoles) {
            const model = role.name.replace(/-pods$/, "");
            const trust = document(IAM_TYPES.role, role.name, "assumeRolePolicy");
            const token = (account: string) => ({
                action: "sts:AssumeRoleWithWebIdentity",
                resource: `arn:aws:iam::${MOCK_ACCOUNT}:role/${role.name}`,
                context: { [`${issuer}:sub`]: `system:serviceaccount:${cluster.namespace}:${account}`, [`${issuer}:aud`]: "sts.amazonaws.com" },
            });
            await expectResult("Allowed", () => simulateTrust(provider, trust, token(model)), `${model}'s service account`);
            counts.allowed += 1;
            for (const other of models.filter((m) => m.name !== model)) {
                await expectResult("ImplicitlyDenied", () => simulateTrust(provider, trust, token(other.name)), `${other.name}'s service account on ${model}'s role`);
                counts.denied += 1;
            }
        }
    });

    it("the CI deployer may push to every repository of the stack and read nothing", async () => {
        const policy = document(IAM_TYPES.rolePolicy, "deployer-push", "policy");
        const role = `arn:aws:iam::${MOCK_ACCOUNT}:role/deployer`;
        for (const model of models) await expectAllowed(role, policy, { action: "ecr:PutImage", resource: repository(model.name) }, `push ${model.name}`);
        await expectDenied(role, policy, { action: "ecr:PutImage", resource: repository("not-a-model") }, "push elsewhere");
        const artifact = parseS3Uri(models[0].artifact);
        await expectDenied(role, policy, { action: "s3:GetObject", resource: `arn:aws:s3:::${artifact.bucket}/${artifact.prefix}1.0.0/model.json` }, "read artifacts");
        await expectDenied(role, policy, { action: "ecr:DeleteRepository", resource: repository(models[0].name) }, "delete a repository");
    });
});
