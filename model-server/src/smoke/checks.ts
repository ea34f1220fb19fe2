/**
 * The smoke gate's checks, one pure function each: given the server's answer (and what the gate
 * expects), passed with a line to print, or failed with what is wrong. The runner (run.ts) does the
 * requests, retries and deadlines; nothing here touches the network.
 *   ready   - the readiness probe answers 200;
 *   infer   - the recorded request on the v2 route: 200, the expected model_version, one output row
 *             per input row, every value within [min, max];
 *   v1      - the legacy route with the same rows: 200, its deprecation (Deprecation, Sunset, and a
 *             Link to the v2 route), predictions within [min, max];
 *   version - every answer's X-Model-Version header names the expected version.
 */
import { clip, valueRange } from "./output";

export interface Answer {
    status: number;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    body: string;
}

/** What the gate expects of the track: configured, and the rows of the recorded request. */
export interface Expected {
    model: string;
    version: string;
    rows: readonly (readonly number[])[];
    min: number;
    max: number;
}

export type CheckOutcome = { passed: true; detail: string } | { passed: false; problem: string };

export type CheckName = "ready" | "infer" | "v1" | "version";

const passed = (detail: string): CheckOutcome => ({ passed: true, detail });
const failed = (problem: string): CheckOutcome => ({ passed: false, problem });

export function describeAnswer(answer: Answer): string {
    return `${answer.status}${answer.body.trim() ? ` ${clip(answer.body, 300)}` : ""}`;
}

/** A response header by name, several values joined. Node gives header names in lower case. */
export function header(answer: Answer, name: string): string | undefined {
    const value = answer.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
}

/** The paths each check requests. Through a router (pinned) readiness is the model's, which the router's per-model rules reach. */
export const smokePaths = (model: string, pinned: boolean) => {
    const encoded = encodeURIComponent(model);
    return { ready: pinned ? `/v2/models/${encoded}/ready` : "/v2/health/ready", infer: `/v2/models/${encoded}/infer`, v1: `/v1/models/${encoded}:predict` };
};

/** The rows of a KServe v2 inference request's one input tensor (data flat row-major, or nested), for v1's `instances`. */
export function requestRows(request: unknown): number[][] {
    if (typeof request !== "object" || request === null || Array.isArray(request)) throw new Error('the recorded request is not a JSON object with "inputs"');
    const inputs = (request as Record<string, unknown>).inputs;
    if (!Array.isArray(inputs) || inputs.length !== 1)
        throw new Error(`the recorded request must have exactly one input tensor in "inputs", got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
    const tensor = inputs[0] as Record<string, unknown>;
    const shape = tensor?.shape;
    if (!Array.isArray(shape) || shape.length < 1 || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`inputs[0].shape is ${JSON.stringify(shape)}: expected [rows, features]`);
    const rows = shape[0] as number;
    const columns = shape.length >= 2 ? (shape.slice(1) as number[]).reduce((a, b) => a * b, 1) : 1;
    if (rows < 1) throw new Error("inputs[0].shape has no rows");
    const data = tensor.data;
    if (!Array.isArray(data)) throw new Error("inputs[0].data is not an array");
    const flat = data.flat(Infinity) as unknown[];
    if (flat.length !== rows * columns) throw new Error(`inputs[0].data has ${flat.length} values but the shape ${JSON.stringify(shape)} needs ${rows * columns}`);
    if (!flat.every((v) => typeof v === "number" && Number.isFinite(v))) throw new Error("inputs[0].data has a value that is not a finite number");
    const values = flat as number[];
    return Array.from({ length: rows }, (_, r) => values.slice(r * columns, (r + 1) * columns));
}

/** Every value outside [min, max], as `where = value`. */
export function outOfRange(values: readonly { where: string; value: unknown }[], min: number, max: number): string[] {
    return values.filter(({ value }) => typeof value !== "number" || !Number.isFinite(value) || value < min || value > max).map(({ where, value }) => `${where} = ${JSON.stringify(value)}`);
}

/** The output values of a v2 inference answer, named `<output>[i]`; throws when the answer has none. */
export function inferOutputs(body: unknown): { where: string; value: unknown }[] {
    if (typeof body !== "object" || body === null) throw new Error("the answer is not a JSON object");
    const outputs = (body as Record<string, unknown>).outputs;
    if (!Array.isArray(outputs) || outputs.length === 0) throw new Error("the answer has no outputs");
    const values: { where: string; value: unknown }[] = [];
    outputs.forEach((output: unknown, o: number) => {
        const out = (output ?? {}) as Record<string, unknown>;
        const name = typeof out.name === "string" ? out.name : `outputs[${o}]`;
        const data = Array.isArray(out.data) ? (out.data.flat(Infinity) as unknown[]) : [];
        if (data.length === 0) throw new Error(`output ${name} has no data`);
        data.forEach((value, i) => values.push({ where: `${name}[${i}]`, value }));
    });
    return values;
}

function parseBody(answer: Answer): unknown {
    try {
        return JSON.parse(answer.body);
    } catch {
        throw new Error(`the answer is not JSON: ${clip(answer.body, 200)}`);
    }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** ready: the probe's answer is 200; otherwise the answer, for the message once the deadline passes. */
export function checkReady(answer: Answer): CheckOutcome {
    return answer.status === 200 ? passed("ready") : failed(describeAnswer(answer));
}

/** infer: the v2 answer to the recorded request, posted to `url`. */
export function checkInfer(answer: Answer, expected: Expected, url: string): CheckOutcome {
    if (answer.status !== 200) return failed(`POST ${url} answered ${describeAnswer(answer)}`);
    try {
        const body = parseBody(answer) as Record<string, unknown>;
        const problems: string[] = [];
        if (body.model_version !== expected.version) problems.push(`model_version is ${JSON.stringify(body.model_version)}, expected --version ${JSON.stringify(expected.version)}`);
        const values = inferOutputs(body);
        const outside = outOfRange(values, expected.min, expected.max);
        if (outside.length > 0) problems.push(`output values outside [${expected.min}, ${expected.max}]: ${outside.join(", ")}`);
        const outputs = body.outputs as { shape?: unknown }[];
        const shape = outputs[0]?.shape;
        if (Array.isArray(shape) && shape[0] !== expected.rows.length) problems.push(`outputs[0].shape is ${JSON.stringify(shape)} for ${expected.rows.length} rows`);
        if (problems.length > 0) return failed(problems.join("; "));
        return passed(`${plural(expected.rows.length, "row")}, ${valueRange(values.map((v) => v.value as number))}`);
    } catch (error) {
        return failed(`POST ${url}: ${(error as Error).message}`);
    }
}

/** v1: the legacy route's answer to the same rows, posted to `url`: it still answers, and says it is deprecated and what succeeds it. */
export function checkV1Deprecation(answer: Answer, expected: Expected, url: string): CheckOutcome {
    if (answer.status !== 200) return failed(`POST ${url} answered ${describeAnswer(answer)}`);
    const problems: string[] = [];
    const deprecation = header(answer, "Deprecation");
    const sunset = header(answer, "Sunset");
    const link = header(answer, "Link");
    const successor = smokePaths(expected.model, false).infer;
    if (!deprecation) problems.push("no Deprecation header");
    if (!sunset) problems.push("no Sunset header");
    if (!link || !link.includes(successor)) problems.push(`Link is ${link === undefined ? "missing" : JSON.stringify(link)}, expected one to ${successor}`);
    let predictions: number[] = [];
    try {
        const body = parseBody(answer) as Record<string, unknown>;
        if (body.model_version !== undefined && body.model_version !== expected.version)
            problems.push(`model_version is ${JSON.stringify(body.model_version)}, expected --version ${JSON.stringify(expected.version)}`);
        if (!Array.isArray(body.predictions)) problems.push("the answer has no predictions list");
        else {
            predictions = body.predictions as number[];
            if (predictions.length !== expected.rows.length) problems.push(`${predictions.length} predictions for ${expected.rows.length} instances`);
            const outside = outOfRange(
                predictions.map((value, i) => ({ where: `predictions[${i}]`, value })),
                expected.min,
                expected.max,
            );
            if (outside.length > 0) problems.push(`predictions outside [${expected.min}, ${expected.max}]: ${outside.join(", ")}`);
        }
    } catch (error) {
        problems.push((error as Error).message);
    }
    if (problems.length > 0) return failed(`POST ${url}: ${problems.join("; ")}`);
    return passed(`${plural(expected.rows.length, "instance")}, ${valueRange(predictions)}; Deprecation: ${deprecation}, Sunset: ${sunset}, Link: ${link}`);
}

/** version: the X-Model-Version header of every answer the other checks got (by check name). */
export function checkVersion(answers: readonly { check: CheckName; answer: Answer }[], version: string): CheckOutcome {
    if (answers.length === 0) return failed("no answer carried an X-Model-Version header to check");
    const wrong = answers.filter(({ answer }) => header(answer, "X-Model-Version") !== version);
    if (wrong.length > 0)
        return failed(
            `X-Model-Version is ${wrong.map(({ check, answer }) => `${JSON.stringify(header(answer, "X-Model-Version") ?? null)} on the ${check} answer`).join(", ")}, expected --version ${JSON.stringify(version)}`,
        );
    return passed(`X-Model-Version ${version} on ${answers.map((a) => a.check).join(" and ")}`);
}
