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
import { parseArgs } from "util";
import { irsaTrustPolicy, modelRuntimePolicy, parseS3Uri, repositoryArn, type AwsScope, type PolicyDocument } from "../components/iam";
import { iamRoleName, podRoleLogicalName, repositoryName } from "../components/naming";

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

const USAGE = `Usage: node dist/tools/artifact-store-roles.js --prefix s3://<bucket>/<prefix>/ --model <name> [--model <name> ...]
    [--environment lab] [--namespace models] [--oidc-issuer kubernetes.default.svc] [--account 123456789012] [--region us-east-1]`;

function main(argv: string[]): number {
    let values;
    try {
        values = parseArgs({
            args: argv,
            strict: true,
            options: {
                prefix: { type: "string" },
                model: { type: "string", multiple: true },
                environment: { type: "string", default: "lab" },
                namespace: { type: "string", default: "models" },
                "oidc-issuer": { type: "string", default: "kubernetes.default.svc" },
                account: { type: "string", default: "123456789012" },
                region: { type: "string", default: "us-east-1" },
                help: { type: "boolean", short: "h" },
            },
        }).values;
    } catch (error) {
        process.stderr.write(`artifact-store-roles: ${(error as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (!values.prefix || !values.model || values.model.length === 0) {
        process.stderr.write(`artifact-store-roles: --prefix and at least one --model are required\n${USAGE}\n`);
        return 2;
    }
    try {
        const roles = storeRoles({
            prefix: values.prefix,
            environment: values.environment,
            namespace: values.namespace,
            oidcIssuer: values["oidc-issuer"],
            scope: { partition: "aws", region: values.region, accountId: values.account },
            models: values.model,
        });
        process.stdout.write(`${JSON.stringify(roles, null, 2)}\n`);
        return 0;
    } catch (error) {
        process.stderr.write(`artifact-store-roles: ${(error as Error).message}\n`);
        return 1;
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
