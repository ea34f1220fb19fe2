/**
 * Validators for Kubernetes objects built only from schemas this project did not write:
 *
 * - built-in kinds (apps/v1, core/v1, policy/v1, ...): the Kubernetes OpenAPI schemas compiled into
 *   the `kubernetes-models` npm package (`new Deployment(obj).validate()`), plus an unknown-field
 *   check along the package's generated TypeScript interfaces;
 * - custom resources: the `openAPIV3Schema` of the upstream CustomResourceDefinitions, read from the
 *   Go modules that publish them (Gateway API, prometheus-operator) and compiled with ajv.
 *
 * CRD schemas are compiled the way the API server applies them, as far as JSON Schema can:
 * defaults are filled in first (ajv `useDefaults`), unknown fields are errors (the API server would
 * prune them silently, or reject them with `fieldValidation=Strict`; either way the field does
 * nothing, which is the bug we want to see), `x-kubernetes-list-type` set/map uniqueness is checked.
 * CEL rules (`x-kubernetes-validations`) cannot be evaluated by ajv, there is no CEL interpreter
 * here: the rules in CEL_EXACT and CEL_PATTERNS below are re-implemented by hand, keyed by their exact text
 * in the CRD, so a rule that changes upstream stops matching and is reported as "not evaluated"
 * rather than checked against stale logic. Every other rule is counted in `celStats.notEvaluated`.
 */
import Ajv, { type AnySchemaObject, type ErrorObject, type ValidateFunction } from "ajv";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { parse as parseYaml } from "yaml";
import { TEST_ENV } from "../../../tools/env-vars";

export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [field: string]: unknown;
}

export interface Issue {
    /** JSON pointer into the object, e.g. /spec/rules/2/backendRefs/0/weight. */
    path: string;
    message: string;
}

export function formatIssues(issues: readonly Issue[]): string {
    return issues.map((i) => `${i.path || "/"} ${i.message}`).join("; ");
}

// ---------------------------------------------------------------------------------------------
// Go modules that publish CRDs, fetched through the Go module proxy (`go mod download`).

export interface GoModule {
    path: string;
    version: string;
}

/** Pinned, so that a new upstream release is a reviewed change here rather than a surprise. */
export const GATEWAY_API: GoModule = { path: "sigs.k8s.io/gateway-api", version: "v1.6.3" };
export const PROMETHEUS_OPERATOR: GoModule = { path: "github.com/prometheus-operator/prometheus-operator", version: "v0.85.0" };

/** Outside the repository: where the module directories found by `go mod download` are remembered. */
export const CACHE_DIR = process.env[TEST_ENV.contractCache] ?? path.join(os.tmpdir(), "modelship-contract-cache");

export function goAvailable(): boolean {
    const run = spawnSync("go", ["version"], { encoding: "utf8", timeout: 30_000 });
    return run.status === 0;
}

/**
 * The directory of `module` in the Go module cache, downloading it on first use. The answer is
 * cached in CACHE_DIR (Go caches the download itself), so a warm run does not start `go` at all.
 */
export function goModuleDir(module: GoModule): string {
    const cacheFile = path.join(CACHE_DIR, `${module.path.replace(/[^A-Za-z0-9.-]/g, "_")}@${module.version}.json`);
    try {
        const cached = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as { Dir?: string };
        if (cached.Dir && fs.existsSync(path.join(cached.Dir, "go.mod"))) return cached.Dir;
    } catch {
        // not cached yet
    }
    let stdout: string;
    try {
        // Outside any Go module: the download must not touch (or depend on) a go.mod nearby.
        stdout = execFileSync("go", ["mod", "download", "-json", `${module.path}@${module.version}`], { cwd: os.tmpdir(), encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
        const e = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`go mod download ${module.path}@${module.version} failed: ${e.stdout || e.stderr || e.message}`, { cause: error });
    }
    const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
    if (info.Error || !info.Dir) throw new Error(`go mod download ${module.path}@${module.version}: ${info.Error ?? "no Dir in the answer"}`);
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(cacheFile, JSON.stringify(info, null, 2));
    return info.Dir;
}

// ---------------------------------------------------------------------------------------------
// Built-in kinds: kubernetes-models (ESM only, so loaded with a real dynamic import).

// TypeScript compiles `import()` to `require()` under CommonJS; kubernetes-models only exports `import`.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body: the one way to keep a real import()
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

type ModelClass = new (data: Record<string, unknown>) => { validate(): void };
const coreModels = new Map<string, Promise<ModelClass | undefined>>();

function findUp(relative: string, start: string = __dirname): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, relative);
        if (fs.existsSync(candidate)) return candidate;
        if (path.dirname(dir) === dir) throw new Error(`no ${relative} above ${start}`);
    }
}

export function kubernetesModelsVersion(): string {
    return (JSON.parse(fs.readFileSync(findUp("node_modules/kubernetes-models/package.json"), "utf8")) as { version: string }).version;
}

/** The kubernetes-models class of a built-in kind, or undefined when the package has none. */
export function coreModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const key = `${apiVersion}/${kind}`;
    let found = coreModels.get(key);
    if (!found) {
        found = (async () => {
            if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
            try {
                const mod = await importEsm(`kubernetes-models/${apiVersion}/${kind}`);
                const model = mod[kind] as ModelClass | undefined;
                return typeof model === "function" ? model : undefined;
            } catch (error) {
                const code = (error as { code?: string }).code;
                if (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return undefined;
                throw error;
            }
        })();
        coreModels.set(key, found);
    }
    return found;
}

/** ajv errors (kubernetes-models throws ajv's ValidationError) as issues. */
function ajvIssues(errors: readonly Partial<ErrorObject>[] | null | undefined): Issue[] {
    return (errors ?? []).map((e) => {
        const extra = e.keyword === "additionalProperties" ? ` (unknown field "${String(e.params?.additionalProperty)}")` : e.keyword === "enum" ? ` (${JSON.stringify(e.params?.allowedValues)})` : "";
        return { path: e.instancePath ?? "", message: `${e.message ?? e.keyword ?? "invalid"}${extra}` };
    });
}

/**
 * Validates a built-in kind with kubernetes-models (and, unless `unknownFields` is false, looks for
 * fields the Kubernetes API does not have); undefined when that package has no schema for the kind.
 */
export async function validateCore(object: KubernetesObject, options: { unknownFields?: boolean } = {}): Promise<Issue[] | undefined> {
    const Model = await coreModel(object.apiVersion, object.kind);
    if (!Model) return undefined;
    const issues: Issue[] = [];
    try {
        new Model(object).validate();
    } catch (error) {
        const errors = (error as { errors?: ErrorObject[] }).errors;
        if (!Array.isArray(errors)) throw error;
        issues.push(...ajvIssues(errors));
    }
    if (options.unknownFields !== false) {
        const unknown = unknownBuiltInFields(object);
        if (!unknown) throw new Error(`kubernetes-models validates ${object.apiVersion} ${object.kind} but has no interface I${object.kind} to check its fields against`);
        issues.push(...unknown);
    }
    return issues;
}

/**
 * Unknown fields in built-in kinds. kubernetes-models' validators (like the Kubernetes OpenAPI they
 * come from) do not forbid extra properties, and the API server drops them (with a warning at
 * most), so a misspelt `readinesProbe` would vanish silently. The package's TypeScript interfaces,
 * generated from the same OpenAPI, do list every field: walk the object along them with the
 * TypeScript checker. A property is known when the interface has it or has a string index
 * signature (maps such as labels or resource limits).
 */
let typeProgram: ts.Program | undefined;
const typeRoots = new Set<string>();

function builtInType(apiVersion: string, kind: string): { checker: ts.TypeChecker; type: ts.Type } | undefined {
    const file = path.join(path.dirname(findUp("node_modules/kubernetes-models/package.json")), apiVersion, `${kind}.d.ts`);
    if (!fs.existsSync(file)) return undefined;
    if (!typeRoots.has(file) || !typeProgram) {
        typeRoots.add(file);
        const options: ts.CompilerOptions = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true, skipLibCheck: true, types: [] };
        typeProgram = ts.createProgram([...typeRoots], options, undefined, typeProgram); // reuses the files already parsed
    }
    const source = typeProgram.getSourceFile(file);
    let declaration: ts.InterfaceDeclaration | undefined;
    if (source) ts.forEachChild(source, (node) => void (ts.isInterfaceDeclaration(node) && node.name.text === `I${kind}` ? (declaration = node) : undefined));
    if (!declaration) return undefined;
    const checker = typeProgram.getTypeChecker();
    return { checker, type: checker.getTypeAtLocation(declaration) };
}

function unknownFields(checker: ts.TypeChecker, value: unknown, declared: ts.Type, at: string, issues: Issue[]): void {
    const type = checker.getNonNullableType(declared);
    const members = type.isUnion() ? type.types : [type];
    if (Array.isArray(value)) {
        const array = members.find((t) => checker.isArrayType(t));
        if (array) value.forEach((item, i) => unknownFields(checker, item, checker.getTypeArguments(array as ts.TypeReference)[0], `${at}/${i}`, issues));
        return;
    }
    if (value === null || typeof value !== "object") return;
    // Type mismatches (an object where a string is due) are the validators' job; only look inside objects.
    const object = members.find((t) => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t));
    if (!object) return;
    const index = checker.getIndexTypeOfType(object, ts.IndexKind.String);
    for (const [key, item] of Object.entries(value)) {
        const property = object.getProperty(key);
        if (property) unknownFields(checker, item, checker.getTypeOfSymbol(property), `${at}/${key}`, issues);
        else if (index) unknownFields(checker, item, index, `${at}/${key}`, issues);
        else issues.push({ path: at, message: `unknown field "${key}" (not in the Kubernetes API; the API server would drop it)` });
    }
}

export function unknownBuiltInFields(object: KubernetesObject): Issue[] | undefined {
    const found = builtInType(object.apiVersion, object.kind);
    if (!found) return undefined;
    const issues: Issue[] = [];
    unknownFields(found.checker, object, found.type, "", issues);
    return issues;
}

/** ObjectMeta from kubernetes-models, for custom resources whose CRD schema leaves metadata open. */
async function objectMetaValidator(): Promise<(metadata: unknown) => Issue[]> {
    const mod = await importEsm("@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta");
    const ObjectMeta = mod.ObjectMeta as ModelClass;
    return (metadata) => {
        try {
            new ObjectMeta((metadata ?? {}) as Record<string, unknown>).validate();
            return [];
        } catch (error) {
            const errors = (error as { errors?: ErrorObject[] }).errors;
            if (!Array.isArray(errors)) throw error;
            return ajvIssues(errors).map((i) => ({ ...i, path: `/metadata${i.path}` }));
        }
    };
}

// ---------------------------------------------------------------------------------------------
// API server rules that no OpenAPI schema states (k8s.io/apimachinery/pkg/api/validation and
// pkg/apis/apps/validation), ported by hand; small on purpose: names, labels, selectors.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function dns1123Subdomain(value: string): boolean {
    return value.length <= 253 && value.split(".").every((part) => DNS1123_LABEL.test(part));
}

function qualifiedName(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
    if (prefix !== undefined && (prefix.length === 0 || !dns1123Subdomain(prefix))) return false;
    return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** metadata.name/namespace syntax, label and annotation keys and values, as the API server checks them. */
export function apimachineryIssues(object: KubernetesObject): Issue[] {
    const issues: Issue[] = [];
    const meta = object.metadata ?? {};
    const name = meta.name;
    if (typeof name !== "string" || name.length === 0) issues.push({ path: "/metadata/name", message: "is required" });
    else if (object.kind === "Namespace" || object.kind === "Service" || object.kind === "Job") {
        // A Job's name is also the value of the job-name labels the API server adds to its pod template.
        const [rule, label] = object.kind === "Service" ? [DNS1035_LABEL, "RFC 1035 label"] : [DNS1123_LABEL, "RFC 1123 label"];
        if (name.length > 63 || !rule.test(name)) issues.push({ path: "/metadata/name", message: `"${name}" is not a valid ${label}` });
    } else if (!dns1123Subdomain(name)) issues.push({ path: "/metadata/name", message: `"${name}" is not a valid RFC 1123 subdomain` });
    if (meta.namespace !== undefined && (typeof meta.namespace !== "string" || meta.namespace.length > 63 || !DNS1123_LABEL.test(meta.namespace))) {
        issues.push({ path: "/metadata/namespace", message: `"${String(meta.namespace)}" is not a valid RFC 1123 label` });
    }
    for (const [key, value] of Object.entries(meta.labels ?? {})) {
        if (!qualifiedName(key)) issues.push({ path: `/metadata/labels/${key}`, message: "label key is not a qualified name" });
        if (typeof value !== "string" || value.length > 63 || (value !== "" && !QUALIFIED_NAME.test(value)))
            issues.push({ path: `/metadata/labels/${key}`, message: `label value ${JSON.stringify(value)} is not valid (at most 63 characters, alphanumerics, '-', '_', '.')` });
    }
    let annotationBytes = 0;
    for (const [key, value] of Object.entries(meta.annotations ?? {})) {
        if (!qualifiedName(key)) issues.push({ path: `/metadata/annotations/${key}`, message: "annotation key is not a qualified name" });
        annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
    }
    if (annotationBytes > 256 * 1024) issues.push({ path: "/metadata/annotations", message: `annotations total ${annotationBytes} bytes, more than 256 KiB` });
    const spec = object.spec as { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } } | undefined;
    if (["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].includes(object.kind) && spec?.selector?.matchLabels) {
        const labels = spec.template?.metadata?.labels ?? {};
        const mismatch = Object.entries(spec.selector.matchLabels).filter(([k, v]) => labels[k] !== v);
        if (mismatch.length > 0) issues.push({ path: "/spec/template/metadata/labels", message: `selector does not match template labels (${mismatch.map(([k, v]) => `${k}=${v}`).join(", ")})` });
    }
    return issues;
}

// ---------------------------------------------------------------------------------------------
// CEL rules, re-implemented by hand. Each entry is keyed by (or matches) the exact rule text in
// the upstream CRD; `self` is the value at the schema node, after defaulting.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Cel = (self: any) => boolean;

const has = (o: any, key: string): boolean => o !== null && typeof o === "object" && o[key] !== undefined;
const empty = (v: unknown): boolean => v === undefined || v === "" || v === 0;

/** Gateway API Duration (a subset of Go's): `1h`, `500ms`, `1m30s`. */
function durationMs(text: string): number {
    const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
    let total = 0;
    for (const [, amount, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)/g)) total += Number(amount) * units[unit];
    return total;
}

function sameParent(p1: any, p2: any): boolean {
    const bothNoNamespace = (!has(p1, "namespace") || p1.namespace === "") && (!has(p2, "namespace") || p2.namespace === "");
    const sameNamespace = has(p1, "namespace") && has(p2, "namespace") && p1.namespace === p2.namespace;
    return p1.group === p2.group && p1.kind === p2.kind && p1.name === p2.name && (bothNoNamespace || sameNamespace);
}

function sameOptional(p1: any, p2: any, key: string): boolean {
    return (empty(p1[key]) && empty(p2[key])) || (has(p1, key) && has(p2, key) && p1[key] === p2[key]);
}

const prefixRewrite = (kind: "requestRedirect" | "urlRewrite") => (f: any) =>
    has(f, kind) && has(f[kind], "path") && f[kind].path.type === "ReplacePrefixMatch" && has(f[kind].path, "replacePrefixMatch");
const exactlyOne = <T>(list: readonly T[] | undefined, test: (x: T) => boolean): boolean => (list ?? []).filter(test).length === 1;
const onePathPrefixMatch = (rule: any): boolean => !(rule.matches?.length !== 1 || !has(rule.matches[0], "path") || rule.matches[0].path.type !== "PathPrefix");

const CEL_EXACT: Record<string, Cel> = {
    // HTTPRoute spec.parentRefs
    "self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__)) ? ((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || p2.sectionName == '') && (!has(p1.port) || p1.port == 0) == (!has(p2.port) || p2.port == 0)): true))":
        (self: any[]) => self.every((p1) => self.every((p2) => (sameParent(p1, p2) ? empty(p1.sectionName) === empty(p2.sectionName) && empty(p1.port) === empty(p2.port) : true))),
    "self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && (((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || p2.sectionName == '')) || ( has(p1.sectionName) && has(p2.sectionName) && p1.sectionName == p2.sectionName)) && (((!has(p1.port) || p1.port == 0) && (!has(p2.port) || p2.port == 0)) || (has(p1.port) && has(p2.port) && p1.port == p2.port))))":
        (self: any[]) => self.every((p1) => exactlyOne(self, (p2) => sameParent(p1, p2) && sameOptional(p1, p2, "sectionName") && sameOptional(p1, p2, "port"))),
    // the same two on the standard channel, whose parentRefs have no port
    "self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) ? ((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || p2.sectionName == '')) : true))":
        (self: any[]) => self.every((p1) => self.every((p2) => (sameParent(p1, p2) ? empty(p1.sectionName) === empty(p2.sectionName) : true))),
    "self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && (((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || p2.sectionName == '')) || (has(p1.sectionName) && has(p2.sectionName) && p1.sectionName == p2.sectionName))))":
        (self: any[]) => self.every((p1) => exactlyOne(self, (p2) => sameParent(p1, p2) && sameOptional(p1, p2, "sectionName"))),
    // spec.rules
    "self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))": (self: any[]) =>
        self.every((l1) => !has(l1, "name") || exactlyOne(self, (l2) => has(l2, "name") && l1.name === l2.name)),
    // spec.rules[]
    "(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))): true": (self) =>
        has(self, "backendRefs") && self.backendRefs.length > 0 ? !has(self, "filters") || self.filters.every((f: any) => !has(f, "requestRedirect")) : true,
    "(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true":
        (self) => (has(self, "filters") && exactlyOne(self.filters, prefixRewrite("requestRedirect")) ? onePathPrefixMatch(self) : true),
    "(has(self.filters) && self.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true":
        (self) => (has(self, "filters") && exactlyOne(self.filters, prefixRewrite("urlRewrite")) ? onePathPrefixMatch(self) : true),
    "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true":
        (self) =>
            has(self, "backendRefs") && exactlyOne(self.backendRefs, (b: any) => has(b, "filters") && exactlyOne(b.filters, prefixRewrite("requestRedirect"))) ? onePathPrefixMatch(self) : true,
    "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true":
        (self) => (has(self, "backendRefs") && exactlyOne(self.backendRefs, (b: any) => has(b, "filters") && exactlyOne(b.filters, prefixRewrite("urlRewrite"))) ? onePathPrefixMatch(self) : true),
    "!(has(self.request) && has(self.backendRequest) && duration(self.request) != duration('0s') && duration(self.backendRequest) > duration(self.request))": (self) =>
        !(has(self, "request") && has(self, "backendRequest") && durationMs(self.request) !== 0 && durationMs(self.backendRequest) > durationMs(self.request)),
    // backendRefs and mirror/auth backendRefs
    "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true": (self) => (String(self.group ?? "").length === 0 && self.kind === "Service" ? has(self, "port") : true),
    // filter lists
    "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))": (self: any[]) =>
        !(self.some((f) => f.type === "RequestRedirect") && self.some((f) => f.type === "URLRewrite")),
    "!('*' in self && self.size() > 1)": (self: any[]) => !(self.includes("*") && self.length > 1),
    // requestMirror
    "!(has(self.percent) && has(self.fraction))": (self) => !(has(self, "percent") && has(self, "fraction")),
    "self.numerator <= self.denominator": (self) => self.numerator <= self.denominator,
    // matches[].path
    "self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'": (self) => ["Exact", "PathPrefix", "RegularExpression"].includes(self.type),
    // sessionPersistence (experimental channel)
    "!has(self.cookieConfig) || !has(self.cookieConfig.lifetimeType) || self.cookieConfig.lifetimeType != 'Permanent' || has(self.absoluteTimeout)": (self) =>
        !has(self, "cookieConfig") || !has(self.cookieConfig, "lifetimeType") || self.cookieConfig.lifetimeType !== "Permanent" || has(self, "absoluteTimeout"),
    "!has(self.cookieConfig) || self.type == 'Cookie'": (self) => !has(self, "cookieConfig") || self.type === "Cookie",
};

const CEL_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => Cel]> = [
    // filter type <-> field: "!(has(self.requestMirror) && self.type != 'RequestMirror')" and its converse
    [
        /^!\(has\(self\.(\w+)\) && self\.type != '(\w+)'\)$/,
        ([, field, type]) =>
            (self) =>
                !(has(self, field) && self.type !== type),
    ],
    [
        /^!\(!has\(self\.(\w+)\) && self\.type == '(\w+)'\)$/,
        ([, field, type]) =>
            (self) =>
                !(!has(self, field) && self.type === type),
    ],
    [
        /^self\.filter\(f, f\.type == '(\w+)'\)\.size\(\) <= (\d+)$/,
        ([, type, max]) =>
            (self: any[]) =>
                self.filter((f) => f.type === type).length <= Number(max),
    ],
    // "self.protocol == 'GRPC' ? has(self.grpc) : true", "self.type == 'ReplaceFullPath' ? has(self.replaceFullPath) : true"
    [
        /^self\.(\w+) == '([^']*)' \? has\(self\.(\w+)\) : true$/,
        ([, key, value, field]) =>
            (self) =>
                self[key] === value ? has(self, field) : true,
    ],
    // "has(self.grpc) ? self.protocol == 'GRPC' : true"
    [
        /^has\(self\.(\w+)\) \? self\.(\w+) == '([^']*)' : true$/,
        ([, field, key, value]) =>
            (self) =>
                has(self, field) ? self[key] === value : true,
    ],
    // matches[].path value rules
    [
        /^\(self\.type in \['Exact','PathPrefix'\]\) \? (!?)self\.value\.(startsWith|endsWith|contains)\('([^']*)'\) : true$/,
        ([, not, op, arg]) =>
            (self) => {
                if (!["Exact", "PathPrefix"].includes(self.type)) return true;
                const value = String(self.value);
                const hit = op === "startsWith" ? value.startsWith(arg) : op === "endsWith" ? value.endsWith(arg) : value.includes(arg);
                return not ? !hit : hit;
            },
    ],
    [
        /^\(self\.type in \['Exact','PathPrefix'\]\) \? self\.value\.matches\(r"""(.*)"""\) : true$/s,
        ([, pattern]) => {
            const re = new RegExp(pattern);
            return (self) => (["Exact", "PathPrefix"].includes(self.type) ? re.test(String(self.value)) : true);
        },
    ],
    // spec.rules: "(self.size() > 0 ? self[0].matches.size() : 0) + ... <= 128"
    [
        /^\(self\.size\(\) > 0 \? self\[0\]\.matches\.size\(\) : 0\)((?: \+ \(self\.size\(\) > \d+ \? self\[\d+\]\.matches\.size\(\) : 0\))*) <= (\d+)$/,
        ([, rest, max]) => {
            const counted = 1 + (rest.match(/\+/g)?.length ?? 0);
            return (self: any[]) => self.slice(0, counted).reduce((n, rule) => n + (rule.matches?.length ?? 0), 0) <= Number(max);
        },
    ],
];
/* eslint-enable @typescript-eslint/no-explicit-any */

export function celImplementation(rule: string): Cel | undefined {
    const exact = CEL_EXACT[rule];
    if (exact) return exact;
    for (const [pattern, build] of CEL_PATTERNS) {
        const m = pattern.exec(rule);
        if (m) return build(m);
    }
    return undefined;
}

export interface CelStats {
    /** rule text -> times evaluated by hand on validated data. */
    evaluated: Map<string, number>;
    /** rule text -> message and times a node carrying it was validated without evaluating it. */
    notEvaluated: Map<string, { message: string; count: number }>;
}

export const celStats: CelStats = { evaluated: new Map(), notEvaluated: new Map() };

// ---------------------------------------------------------------------------------------------
// CRD schemas compiled with ajv.

/** Go's RE2 allows inline flags such as `^(?i)(abort|warn)?$` (prometheus-operator uses it); JS does not. */
function goRegExp(pattern: string, flags: string): RegExp {
    const inline = /^(\^?)\(\?([ims]+)\)/.exec(pattern);
    if (!inline) return new RegExp(pattern, flags);
    return new RegExp(inline[1] + pattern.slice(inline[0].length), flags + inline[2].replace(/[^ims]/g, ""));
}
goRegExp.code = "goRegExp";

const INT32 = { type: "number" as const, validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1 };
const INT64 = { type: "number" as const, validate: (n: number) => Number.isInteger(n) };
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** The other formats the API server knows; it checks them loosely, ajv does not check them at all. */
const LOOSE_FORMATS = [
    "float",
    "double",
    "byte",
    "password",
    "date",
    "duration",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "bsonobjectid",
    "datetime",
];

function deepEqual(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

function newAjv(): Ajv {
    // strict: false ignores the keywords ajv does not know (x-kubernetes-map-type, -list-map-keys,
    // -int-or-string: its anyOf states the rule). Patterns keep ajv's u flag: RE2 matches code points too.
    const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, code: { regExp: goRegExp } });
    ajv.addFormat("int32", INT32);
    ajv.addFormat("int64", INT64);
    ajv.addFormat("date-time", RFC3339);
    for (const name of LOOSE_FORMATS) ajv.addFormat(name, true);
    ajv.addKeyword({
        keyword: "x-kubernetes-validations",
        schemaType: "array",
        post: true, // after the node's own keywords, i.e. after its subtree was defaulted
        errors: true,
        validate: function cel(rules: Array<{ rule: string; message?: string }>, data: unknown): boolean {
            const errors: Array<Partial<ErrorObject>> = [];
            for (const { rule, message } of rules) {
                const implementation = celImplementation(rule);
                if (!implementation) {
                    const seen = celStats.notEvaluated.get(rule) ?? { message: message ?? rule, count: 0 };
                    seen.count++;
                    celStats.notEvaluated.set(rule, seen);
                    continue;
                }
                celStats.evaluated.set(rule, (celStats.evaluated.get(rule) ?? 0) + 1);
                let ok: boolean;
                try {
                    ok = implementation(data);
                } catch {
                    ok = false; // CEL would report a runtime error (no such key, ...) as a failure too
                }
                if (!ok) errors.push({ keyword: "x-kubernetes-validations", message: `CEL: ${message ?? rule}`, params: { rule } });
            }
            (cel as { errors?: Array<Partial<ErrorObject>> }).errors = errors;
            return errors.length === 0;
        },
    });
    ajv.addKeyword({
        keyword: "x-kubernetes-list-type",
        schemaType: "string",
        post: true,
        errors: true,
        validate: function listType(type: string, data: unknown, parentSchema?: AnySchemaObject): boolean {
            const fail = (message: string) => {
                (listType as { errors?: Array<Partial<ErrorObject>> }).errors = [{ keyword: "x-kubernetes-list-type", message, params: { type } }];
                return false;
            };
            if (!Array.isArray(data)) return true;
            if (type === "set") {
                const seen = data.map((item) => JSON.stringify(item));
                const dup = seen.find((item, i) => seen.indexOf(item) !== i);
                return dup === undefined ? true : fail(`duplicate entry ${dup} in a list of type set`);
            }
            if (type === "map") {
                const keys = (parentSchema?.["x-kubernetes-list-map-keys"] ?? []) as string[];
                const tuples = data.map((item: Record<string, unknown>) => keys.map((k) => item?.[k]));
                const dup = tuples.find((t, i) => tuples.findIndex((u) => deepEqual(t, u)) !== i);
                return dup === undefined ? true : fail(`duplicate key ${JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, dup[i]])))} in a list of type map`);
            }
            return true;
        },
    });
    return ajv;
}

/**
 * The schema with unknown fields made errors: every `type: object` node that lists its properties
 * (or lists none and does not say x-kubernetes-preserve-unknown-fields, so the API server would
 * prune everything in it) gets `additionalProperties: false`. The root metadata stays open: the API
 * server validates ObjectMeta itself (here: kubernetes-models' ObjectMeta).
 */
export function strictSchema(schema: AnySchemaObject, isRoot = true): AnySchemaObject {
    const copy: AnySchemaObject = { ...schema };
    if (copy.properties) {
        copy.properties = Object.fromEntries(Object.entries(copy.properties as Record<string, AnySchemaObject>).map(([k, v]) => [k, isRoot && k === "metadata" ? v : strictSchema(v, false)]));
    }
    if (copy.items && typeof copy.items === "object" && !Array.isArray(copy.items)) copy.items = strictSchema(copy.items as AnySchemaObject, false);
    if (copy.additionalProperties && typeof copy.additionalProperties === "object") copy.additionalProperties = strictSchema(copy.additionalProperties as AnySchemaObject, false);
    for (const key of ["anyOf", "allOf", "oneOf"] as const) {
        if (Array.isArray(copy[key])) copy[key] = (copy[key] as AnySchemaObject[]).map((s) => strictSchema(s, false));
    }
    if (copy.type === "object" && copy.additionalProperties === undefined && copy["x-kubernetes-preserve-unknown-fields"] !== true) copy.additionalProperties = false;
    return copy;
}

export interface CrdValidator {
    apiVersion: string;
    kind: string;
    /** Where the schema came from, e.g. sigs.k8s.io/gateway-api@v1.6.3 config/crd/experimental/... */
    source: string;
    validate(object: KubernetesObject): Issue[];
}

interface CrdDocument {
    kind: string;
    metadata: { annotations?: Record<string, string> };
    spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema?: { openAPIV3Schema: AnySchemaObject } }> };
}

let metaValidator: Promise<(metadata: unknown) => Issue[]> | undefined;
const compiled = new Map<string, CrdValidator>();

/** A validator for one served version of the CRD in `file` (inside `module`). */
export async function crdValidator(module: GoModule, relativeFile: string, version: string): Promise<CrdValidator> {
    const key = `${module.path}@${module.version}/${relativeFile}#${version}`;
    const known = compiled.get(key);
    if (known) return known;
    metaValidator ??= objectMetaValidator();
    const validateMeta = await metaValidator;
    const file = path.join(goModuleDir(module), relativeFile);
    const crd = parseYaml(fs.readFileSync(file, "utf8")) as CrdDocument;
    if (crd.kind !== "CustomResourceDefinition") throw new Error(`${file} is a ${crd.kind}, not a CustomResourceDefinition`);
    const entry = crd.spec.versions.find((v) => v.name === version);
    if (!entry?.served || !entry.schema) throw new Error(`${file}: version ${version} is not served (have ${crd.spec.versions.map((v) => v.name).join(", ")})`);
    const ajv = newAjv();
    const check: ValidateFunction = ajv.compile(strictSchema(entry.schema.openAPIV3Schema));
    const apiVersion = `${crd.spec.group}/${version}`;
    const validator: CrdValidator = {
        apiVersion,
        kind: crd.spec.names.kind,
        source: `${module.path}@${module.version} ${relativeFile}`,
        validate(object) {
            const issues: Issue[] = [];
            if (object.apiVersion !== apiVersion || object.kind !== crd.spec.names.kind)
                issues.push({ path: "", message: `is ${object.apiVersion} ${object.kind}, this schema is for ${apiVersion} ${crd.spec.names.kind}` });
            // Defaulting mutates: validate a copy, as the API server defaults its own copy.
            const copy = structuredClone(object);
            if (!check(copy)) issues.push(...ajvIssues(check.errors));
            issues.push(...validateMeta(object.metadata));
            return issues;
        },
    };
    compiled.set(key, validator);
    return validator;
}

export const GATEWAY_HTTPROUTE = {
    experimental: "config/crd/experimental/gateway.networking.k8s.io_httproutes.yaml",
    standard: "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
};

/** In v0.85.0 example/prometheus-operator-crd and -crd-full hold the same schemas (only an annotation differs). */
export const PROMETHEUS_OPERATOR_CRDS = {
    PrometheusRule: "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
    ServiceMonitor: "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
};

/** Every custom resource kind we have an upstream schema for, by `apiVersion/kind`. */
export async function crdCatalog(): Promise<Map<string, CrdValidator>> {
    const validators = await Promise.all([
        crdValidator(GATEWAY_API, GATEWAY_HTTPROUTE.experimental, "v1"),
        crdValidator(PROMETHEUS_OPERATOR, PROMETHEUS_OPERATOR_CRDS.PrometheusRule, "v1"),
        crdValidator(PROMETHEUS_OPERATOR, PROMETHEUS_OPERATOR_CRDS.ServiceMonitor, "v1"),
    ]);
    return new Map(validators.map((v) => [`${v.apiVersion}/${v.kind}`, v]));
}

/** apiVersion/kind that the CRD catalog would cover, known without Go (for skip decisions and the no-schema check). */
export const CRD_KINDS = new Set(["gateway.networking.k8s.io/v1/HTTPRoute", "monitoring.coreos.com/v1/PrometheusRule", "monitoring.coreos.com/v1/ServiceMonitor"]);
