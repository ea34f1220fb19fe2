/**
 * A provider plugin's schema against the npm SDK generated for it: each resource's input and
 * output properties as the SDK's declaration files type them (the `*Args` interface and the
 * resource class), reduced to a shape both sides can state (`string`, `array<string>`,
 * `map<string>`, `enum(none|stderr)`, `object(BuildContext)`, ...), and the differences between the
 * two, by name.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** A property's type, and whether it is always present (outputs) or must be given (inputs). */
export interface PropertyShape {
    type: string;
    required: boolean;
}

export type Properties = Record<string, PropertyShape>;

export interface ResourceShape {
    inputs: Properties;
    outputs: Properties;
}

/** Where the SDK declares a resource: its declaration file, arguments interface and class. */
export interface SdkResource {
    token: string;
    /** Relative to the package's folder, e.g. `local/command.d.ts`. */
    declarationFile: string;
    argsInterface: string;
    className: string;
}

// --- the SDK's side --------------------------------------------------------------------------

function parse(file: string): ts.SourceFile {
    return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
}

/** The string values of `export declare const <name>: { readonly X: "x"; ... }` in an enums file. */
function enumValues(enumsFile: string, name: string): string[] {
    const source = parse(enumsFile);
    for (const statement of source.statements) {
        if (!ts.isVariableStatement(statement)) continue;
        for (const declaration of statement.declarationList.declarations) {
            if (!ts.isIdentifier(declaration.name) || declaration.name.text !== name || !declaration.type || !ts.isTypeLiteralNode(declaration.type)) continue;
            return declaration.type.members.flatMap((member) =>
                ts.isPropertySignature(member) && member.type && ts.isLiteralTypeNode(member.type) && ts.isStringLiteral(member.type.literal) ? [member.type.literal.text] : [],
            );
        }
    }
    throw new Error(`no enum ${name} in ${enumsFile}`);
}

/** The shape of a declared type: pulumi.Input/Output unwrapped, `undefined` dropped. */
function sdkType(node: ts.TypeNode, packageDir: string): string {
    if (node.kind === ts.SyntaxKind.StringKeyword) return "string";
    if (node.kind === ts.SyntaxKind.BooleanKeyword) return "boolean";
    if (node.kind === ts.SyntaxKind.NumberKeyword) return "number";
    if (node.kind === ts.SyntaxKind.AnyKeyword) return "any";
    if (ts.isParenthesizedTypeNode(node)) return sdkType(node.type, packageDir);
    if (ts.isArrayTypeNode(node)) return `array<${sdkType(node.elementType, packageDir)}>`;
    if (ts.isTypeLiteralNode(node) && node.members.length === 1 && ts.isIndexSignatureDeclaration(node.members[0])) {
        return `map<${sdkType(node.members[0].type, packageDir)}>`;
    }
    if (ts.isUnionTypeNode(node)) {
        const kinds = [...new Set(node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword).map((t) => sdkType(t, packageDir)))].sort();
        // The SDK's `Asset | Archive` is the schema's pulumi.json#/Asset (an asset or an archive).
        if (kinds.join("|") === "archive|asset") return "asset";
        return kinds.join("|");
    }
    if (ts.isTypeReferenceNode(node)) {
        const name = node.typeName.getText();
        const args = node.typeArguments ?? [];
        if ((name === "pulumi.Input" || name === "pulumi.Output") && args.length === 1) return sdkType(args[0], packageDir);
        if (name === "pulumi.asset.Archive") return "archive";
        if (name === "pulumi.asset.Asset") return "asset";
        // `enums.local.Logging` (a module's enum) or `enums.Platform` (the package's index module).
        const enumRef = /^enums\.(?:(\w+)\.)?(\w+)$/.exec(name);
        if (enumRef)
            return `enum(${enumValues(path.join(packageDir, "types", "enums", enumRef[1] ?? "", "index.d.ts"), enumRef[2])
                .sort()
                .join("|")})`;
        // An object type of the package, `inputs.BuildContextArgs` in arguments (the SDK names input
        // types with an `Args` suffix), `outputs.BuildContext` in the class: the schema's
        // #/types/<pkg>:<module>:BuildContext.
        const objectRef = /^(inputs|outputs)\.(?:\w+\.)*(\w+)$/.exec(name);
        if (objectRef) return `object(${objectRef[1] === "inputs" ? objectRef[2].replace(/Args$/, "") : objectRef[2]})`;
        return `unknown type ${name}`;
    }
    return `unknown type ${node.getText()}`;
}

function isUndefinable(node: ts.TypeNode): boolean {
    if (ts.isUnionTypeNode(node)) return node.types.some((t) => t.kind === ts.SyntaxKind.UndefinedKeyword);
    if (ts.isTypeReferenceNode(node) && node.typeArguments?.length === 1) return isUndefinable(node.typeArguments[0]);
    return false;
}

/** The resource as the SDK declares it: inputs from the `*Args` interface, outputs from the class. */
export function sdkResourceShape(packageDir: string, resource: SdkResource): ResourceShape {
    const source = parse(path.join(packageDir, resource.declarationFile));
    const inputs: Properties = {};
    const outputs: Properties = {};
    for (const statement of source.statements) {
        if (ts.isInterfaceDeclaration(statement) && statement.name.text === resource.argsInterface) {
            for (const member of statement.members) {
                if (!ts.isPropertySignature(member) || !member.type) continue;
                inputs[member.name.getText()] = { type: sdkType(member.type, packageDir), required: !member.questionToken };
            }
        }
        if (ts.isClassDeclaration(statement) && statement.name?.text === resource.className) {
            for (const member of statement.members) {
                if (!ts.isPropertyDeclaration(member) || !member.type) continue;
                if (member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue;
                outputs[member.name.getText()] = { type: sdkType(member.type, packageDir), required: !isUndefinable(member.type) };
            }
        }
    }
    if (Object.keys(inputs).length === 0 || Object.keys(outputs).length === 0) {
        throw new Error(`${resource.declarationFile} declares no ${resource.argsInterface} properties or no ${resource.className} properties`);
    }
    return { inputs, outputs };
}

/**
 * An object type as the SDK declares it: an interface of `types/input.d.ts` or `types/output.d.ts`
 * (what a program passes or reads for `#/types/<pkg>:<module>:<Name>`), so nested fields are
 * compared too, not just a resource's top level. Input types are `<Name>Args` in some packages
 * (docker-build) and `<Name>` in others (docker).
 */
export function sdkObjectShape(packageDir: string, name: string, side: "input" | "output" = "input"): Properties {
    const file = path.join(packageDir, "types", `${side}.d.ts`);
    const names = side === "input" ? [`${name}Args`, name] : [name];
    const interfaces = parse(file).statements.filter((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s));
    const declaration = names.map((n) => interfaces.find((s) => s.name.text === n)).find((d) => d !== undefined);
    if (!declaration) throw new Error(`${file} declares no ${names.join(" or ")}`);
    const properties: Properties = {};
    for (const member of declaration.members) {
        if (!ts.isPropertySignature(member) || !member.type) continue;
        properties[member.name.getText()] = { type: sdkType(member.type, packageDir), required: !member.questionToken };
    }
    return properties;
}

// --- the provider's side ---------------------------------------------------------------------

export interface TypeSpec {
    type?: string;
    $ref?: string;
    items?: TypeSpec;
    additionalProperties?: TypeSpec;
}

export interface PackageSchema {
    name: string;
    version?: string;
    types?: Record<string, { type?: string; enum?: Array<{ value: unknown }>; properties?: Record<string, TypeSpec>; required?: string[]; language?: { nodejs?: { requiredOutputs?: string[] } } }>;
    resources?: Record<string, { inputProperties?: Record<string, TypeSpec>; requiredInputs?: string[]; properties?: Record<string, TypeSpec>; required?: string[] }>;
}

function schemaType(spec: TypeSpec, schema: PackageSchema): string {
    if (spec.$ref) {
        const builtin = /^pulumi\.json#\/(\w+)$/.exec(spec.$ref);
        if (builtin) return builtin[1].toLowerCase();
        const local = /^#\/types\/(.+)$/.exec(spec.$ref);
        const type = local ? schema.types?.[local[1]] : undefined;
        if (type?.enum)
            return `enum(${type.enum
                .map((e) => String(e.value))
                .sort()
                .join("|")})`;
        if (type?.type === "object" && local) return `object(${local[1].slice(local[1].lastIndexOf(":") + 1)})`;
        return `unknown ref ${spec.$ref}`;
    }
    switch (spec.type) {
        case "string":
        case "boolean":
        case "number":
            return spec.type;
        case "integer":
            return "number";
        case "array":
            return `array<${spec.items ? schemaType(spec.items, schema) : "any"}>`;
        case "object":
            return `map<${spec.additionalProperties ? schemaType(spec.additionalProperties, schema) : "any"}>`;
        case undefined:
            break;
    }
    return `unknown type ${JSON.stringify(spec)}`;
}

function schemaProperties(schema: PackageSchema, props: Record<string, TypeSpec> | undefined, required: string[] | undefined): Properties {
    return Object.fromEntries(Object.entries(props ?? {}).map(([name, spec]) => [name, { type: schemaType(spec, schema), required: (required ?? []).includes(name) }]));
}

/** The resource as the provider's schema declares it. */
export function schemaResourceShape(schema: PackageSchema, token: string): ResourceShape {
    const resource = schema.resources?.[token];
    if (!resource) throw new Error(`the ${schema.name} schema has no resource ${token}`);
    return { inputs: schemaProperties(schema, resource.inputProperties, resource.requiredInputs), outputs: schemaProperties(schema, resource.properties, resource.required) };
}

/**
 * The properties of an object type (`#/types/<token>`) as the provider's schema declares them.
 * @param side "output": as the SDK's output type has them, where the Node.js SDK also makes the
 *   type's `requiredOutputs` (computed fields) non-optional
 */
export function schemaObjectShape(schema: PackageSchema, token: string, side: "input" | "output" = "input"): Properties {
    const type = schema.types?.[token];
    if (type?.type !== "object") throw new Error(`the ${schema.name} schema has no object type ${token}`);
    const required = side === "output" ? [...(type.required ?? []), ...(type.language?.nodejs?.requiredOutputs ?? [])] : type.required;
    return schemaProperties(schema, type.properties, required);
}

// --- the comparison --------------------------------------------------------------------------

/** Every difference between two property sets, one line each, named `<where>.<property>`; none when they agree. */
export function propertyDifferences(where: string, sdk: Properties, provider: Properties): string[] {
    const differences: string[] = [];
    for (const name of [...new Set([...Object.keys(sdk), ...Object.keys(provider)])].sort()) {
        const s = sdk[name];
        const p = provider[name];
        if (!p) differences.push(`${where}.${name}: declared by the SDK (${s.type}), missing from the provider's schema`);
        else if (!s) differences.push(`${where}.${name}: in the provider's schema (${p.type}), not declared by the SDK`);
        else if (s.type !== p.type) differences.push(`${where}.${name}: the SDK says ${s.type}, the provider's schema ${p.type}`);
        else if (s.required !== p.required) differences.push(`${where}.${name}: ${s.required ? "required" : "optional"} in the SDK, ${p.required ? "required" : "optional"} in the provider's schema`);
    }
    return differences;
}

/** Every difference between the two, one line each; none when they agree. */
export function shapeDifferences(sdk: ResourceShape, provider: ResourceShape): string[] {
    return [...propertyDifferences("inputs", sdk.inputs, provider.inputs), ...propertyDifferences("outputs", sdk.outputs, provider.outputs)];
}
