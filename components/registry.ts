/**
 * Where model images are pushed: a private ECR repository per model (scanned on push, tags
 * immutable, old untagged images expired, encrypted), an external registry, or nowhere (the
 * local Docker engine keeps them).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RegistryConfig } from "./config/schema";
import { awsScope } from "./aws-scope";
import { deployerPolicy, deployerTrustPolicy } from "./iam";
import { awsTags, physicalName, PRODUCT, repositoryName } from "./naming";
import { COMPONENT_TYPES } from "./type-tokens";

export interface RegistryCredentials {
    address: string;
    username: string;
    password: string;
}

/** What a ModelImage needs to know about the repository it pushes to. */
export interface RepositoryRef {
    /** e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelship/fraud-scorer */
    url: pulumi.Output<string>;
    /** False when images stay in the local engine. */
    push: boolean;
    /** The ECR repository's ARN, for IAM documents; undefined for other registries. */
    arn?: pulumi.Output<string>;
    credentials?: pulumi.Output<RegistryCredentials>;
}

export interface ContainerRegistryArgs {
    /** The stack's `registry`: ECR (a repository per model, optionally a deployer role), an external registry, or the local engine. */
    config: RegistryConfig;
    /** The stack's environment: it names the deployer role, and tags the repositories and the role. */
    environment: string;
    /** Every model the stack deploys: each gets its own repository. */
    models: readonly string[];
}

/** Expire untagged images after N days, keep the last M images: a rollback target stays available. */
export function ecrLifecyclePolicy(expireUntaggedAfterDays: number, keepLastImages: number): string {
    return JSON.stringify({
        rules: [
            {
                rulePriority: 1,
                description: `expire untagged images after ${expireUntaggedAfterDays} days`,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: expireUntaggedAfterDays },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `keep the last ${keepLastImages} images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepLastImages },
                action: { type: "expire" },
            },
        ],
    });
}

export class ContainerRegistry extends pulumi.ComponentResource {
    private readonly repositories: ReadonlyMap<string, RepositoryRef>;
    readonly repositoryUrls: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.containerRegistry, name, {}, opts);
        const refs = new Map<string, RepositoryRef>();
        for (const model of args.models) refs.set(model, this.repositoryFor(model, args));
        this.repositories = refs;
        if (args.config.type === "ecr" && args.config.deployer) this.deployerRole(args.config.deployer.trustedPrincipalArn, [...refs.values()], args.environment);
        this.repositoryUrls = pulumi.all(Object.fromEntries([...refs].map(([model, ref]) => [model, ref.url])));
        this.registerOutputs({ repositoryUrls: this.repositoryUrls });
    }

    repository(model: string): RepositoryRef {
        const ref = this.repositories.get(model);
        if (!ref) throw new pulumi.ResourceError(`no repository declared for model ${model}`, this);
        return ref;
    }

    /** The role CI assumes to push images: these repositories, push actions only. */
    private deployerRole(trustedPrincipalArn: string, repositories: readonly RepositoryRef[], environment: string): void {
        const role = new aws.iam.Role(
            "deployer",
            { name: physicalName("aws-iam-role", [PRODUCT, environment, "deployer"]), assumeRolePolicy: JSON.stringify(deployerTrustPolicy(trustedPrincipalArn)), tags: awsTags(environment) },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            "deployer-push",
            {
                name: physicalName("aws-iam-role-policy", ["deployer-push"]),
                role: role.id,
                policy: pulumi.all([awsScope(this), pulumi.all(repositories.flatMap((r) => (r.arn ? [r.arn] : [])))]).apply(([scope, arns]) => JSON.stringify(deployerPolicy(scope, arns))),
            },
            { parent: this },
        );
    }

    private repositoryFor(model: string, args: ContainerRegistryArgs): RepositoryRef {
        const config = args.config;
        switch (config.type) {
            case "local":
                return { url: pulumi.output(repositoryName(model)), push: false };
            case "external":
                return { url: pulumi.output(`${config.url}/${repositoryName(model)}`), push: true };
            case "ecr": {
                const repository = new aws.ecr.Repository(
                    model,
                    {
                        name: repositoryName(model),
                        imageTagMutability: "IMMUTABLE",
                        imageScanningConfiguration: { scanOnPush: true },
                        encryptionConfigurations: [{ encryptionType: "KMS" }],
                        tags: awsTags(args.environment, model),
                    },
                    { parent: this },
                );
                new aws.ecr.LifecyclePolicy(model, { repository: repository.name, policy: ecrLifecyclePolicy(config.expireUntaggedAfterDays, config.keepLastImages) }, { parent: this });
                const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
                return {
                    url: repository.repositoryUrl,
                    arn: repository.arn,
                    push: true,
                    credentials: pulumi.secret(token).apply((t) => ({ address: t.proxyEndpoint, username: t.userName, password: t.password })),
                };
            }
        }
    }
}
