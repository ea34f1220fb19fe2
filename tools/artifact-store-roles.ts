/**
 * The IAM roles a test artifact store (scripts/s3-store.sh seed) creates, one per model: the
 * project's own documents, the same a kubernetes target with `irsa` makes (modelRuntimePolicy,
 * irsaTrustPolicy, the role's name), rendered here so the store never holds a second copy of them.
 *
 *   node dist/tools/artifact-store-roles.js --prefix s3://bucket/models/ --environment lab \
 *       --namespace models --oidc-issuer oidc.example.com --model fraud-scorer [--model ...]
 *
 * Prints JSON: [{model, artifact, roleName, trustPolicy, runtimePolicy}].
 */
import { irsaTrustPolicy, modelRuntimePolicy, parseS3Uri, repositoryArn, type AwsScope, type PolicyDocument } from "../components/iam";
import { iamRoleName, podRoleLogicalName, repositoryName } from "../components/naming";
import { parseFlags, runCommand, UsageError } from "./command-line";
import { EXIT_OK } from "./exit-codes";

export interface StoreRole {
    model: string;
    /** s3://bucket/<prefix><model>/: the model's artifact, the only prefix its role reads. */
    artifact: string;
    roleName: string;
    trustPolicy: PolicyDocument;
    runtimePolicy: PolicyDocument;
}

export interface StoreRolesArgs {
    /** s3://bucket/prefix/: each model's artifacts go under <prefix><model>/. */
    prefix: string;
    environment: string;
    namespace: string;
    /** The cluster's service account issuer, host and path (what IRSA's OIDC provider is named by). */
    oidcIssuer: string;
    scope: AwsScope;
    models: readonly string[];
}

export function storeRoles(args: StoreRolesArgs): StoreRole[] {
    // The parent may be a whole bucket (s3://lab-models/): each model's own prefix is what is checked, by parseS3Uri below.
    const parent = /^s3:\/\/[^/]+\/(.*\/)?$/.exec(args.prefix);
    if (!parent) throw new Error(`--prefix ${JSON.stringify(args.prefix)} is not s3://<bucket>/ or s3://<bucket>/<prefix>/`);
    return args.models.map((model) => {
        const artifact = `${args.prefix}${model}/`;
        return {
            model,
            artifact,
            roleName: iamRoleName(args.environment, podRoleLogicalName(model)),
            trustPolicy: irsaTrustPolicy({
                oidcProviderArn: `arn:${args.scope.partition}:iam::${args.scope.accountId}:oidc-provider/${args.oidcIssuer}`,
                namespace: args.namespace,
                serviceAccount: model,
            }),
            runtimePolicy: modelRuntimePolicy({
                scope: args.scope,
                environment: args.environment,
                model,
                artifact: parseS3Uri(artifact),
                repositoryArn: repositoryArn(args.scope, repositoryName(model)),
            }),
        };
    });
}

const USAGE = `usage: node dist/tools/artifact-store-roles.js --prefix s3://<bucket>/<prefix>/ --model <name> [--model <name> ...]
    [--environment lab] [--namespace models] [--oidc-issuer kubernetes.default.svc] [--account 123456789012] [--region us-east-1]`;

function main(argv: readonly string[]): number {
    const { values, lists } = parseFlags(
        argv,
        { "--prefix": "prefix", "--environment": "environment", "--namespace": "namespace", "--oidc-issuer": "oidcIssuer", "--account": "account", "--region": "region" },
        { lists: { "--model": "models" } },
    );
    if (!values.prefix || lists.models.length === 0) throw new UsageError("--prefix and at least one --model are required");
    const roles = storeRoles({
        prefix: values.prefix,
        environment: values.environment ?? "lab",
        namespace: values.namespace ?? "models",
        oidcIssuer: values.oidcIssuer ?? "kubernetes.default.svc",
        scope: { partition: "aws", region: values.region ?? "us-east-1", accountId: values.account ?? "123456789012" },
        models: lists.models,
    });
    process.stdout.write(`${JSON.stringify(roles, null, 2)}\n`);
    return EXIT_OK;
}

if (require.main === module) runCommand(USAGE, main);
