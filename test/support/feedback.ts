/**
 * What the analysis tests replay against real model servers: seeded feature rows and outcome
 * labels (the same every run), inferences under a known request id, outcome feedback, and model
 * artifacts written to a temporary folder (a shipped version under another model name, or with
 * its weights corrupted).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../../tools/render";
import { ARTIFACT_FILE } from "../../model-server/src/model";
import type { LoopbackClient } from "./load";

/** mulberry32: a small seeded generator, so inputs and labels replay identically on every run. */
export class SeededRandom {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0;
    }

    /** Uniform in [0, 1). */
    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }

    /** Standard normal (Box-Muller). */
    normal(): number {
        const u = 1 - this.next();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    }

    /** Fisher-Yates, in place. */
    shuffle<T>(items: T[]): T[] {
        for (let i = items.length - 1; i > 0; i--) {
            const j = Math.floor(this.next() * (i + 1));
            [items[i], items[j]] = [items[j], items[i]];
        }
        return items;
    }
}

/** Outcomes are drawn in blocks of this many. */
export const OUTCOME_BLOCK = 20;

/**
 * `n` outcomes of which a share `rate` is true: exactly round(rate * OUTCOME_BLOCK) in every block,
 * in seeded order. Stratified rather than independent draws, so that after any whole number of
 * blocks a track's success rate is exactly `rate`, and a decision reached says something about
 * the test, not about one lucky draw.
 */
export function stratifiedOutcomes(n: number, rate: number, random: SeededRandom): boolean[] {
    const hits = Math.round(rate * OUTCOME_BLOCK);
    assert.ok(Math.abs(hits / OUTCOME_BLOCK - rate) < 1e-9, `rate ${rate} is not a multiple of 1/${OUTCOME_BLOCK}`);
    const outcomes: boolean[] = [];
    while (outcomes.length < n) outcomes.push(...random.shuffle(Array.from({ length: OUTCOME_BLOCK }, (_, i) => i < hits)));
    return outcomes.slice(0, n);
}

/** Rows of the shipped models' four standardized features: standard normal, so scores spread around 0.5. */
export function featureRows(n: number, random: SeededRandom): number[][] {
    return Array.from({ length: n }, () => Array.from({ length: 4 }, () => random.normal()));
}

export function inferBodyFor(row: readonly number[]): string {
    return JSON.stringify({ inputs: [{ name: "features", shape: [1, row.length], datatype: "FP32", data: row }] });
}

export interface Answered {
    /** The answer's request id (its body's `id`). */
    id: string;
    probability: number;
    /** The class at the default decision threshold, 0.5. */
    predicted: 0 | 1;
    /** X-Model-Track: the server that answered. */
    track: string | undefined;
}

/** One inference of one row; `id` goes out as X-Request-Id when given. Fails on anything but a 200 with one score. */
export async function infer(client: LoopbackClient, model: string, row: readonly number[], id?: string): Promise<Answered> {
    const reply = await client.request({ path: `/v2/models/${model}/infer`, body: inferBodyFor(row), headers: id !== undefined ? { "x-request-id": id } : {} });
    assert.equal(reply.status, 200, `infer ${model} ${id ?? ""}: ${reply.status} ${reply.body}`);
    const answer = JSON.parse(reply.body) as { id?: string; outputs?: { data?: number[] }[] };
    const probability = answer.outputs?.[0]?.data?.[0];
    assert.ok(typeof probability === "number" && typeof answer.id === "string", `infer ${model}: no id or score in ${reply.body}`);
    if (id !== undefined) assert.equal(answer.id, id, "the answer carries the request's id");
    const track = reply.headers["x-model-track"];
    return { id: answer.id, probability, predicted: probability >= 0.5 ? 1 : 0, track: Array.isArray(track) ? track[0] : track };
}

/** POST /v2/models/{model}/feedback with the observed label; the status. */
export async function postFeedback(client: LoopbackClient, model: string, id: string, label: 0 | 1): Promise<number> {
    return (await client.request({ path: `/v2/models/${model}/feedback`, body: JSON.stringify({ id, label }) })).status;
}

/** `fn` over every item, at most `parallel` at a time, results in item order. */
export async function inParallel<T, R>(items: readonly T[], parallel: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i], i);
    };
    await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
    return results;
}

export interface ShippedModel {
    format: string;
    name: string;
    version: string;
    inputs: { name: string; size: number }[];
    weights: number[];
    bias: number;
    featureNames?: string[];
}

/** A version of fraud-scorer as shipped in model-server/models/. */
export function shippedModel(version: string): ShippedModel {
    return JSON.parse(fs.readFileSync(path.join(findProjectDir(), "model-server", "models", "fraud-scorer", version, ARTIFACT_FILE), "utf8")) as ShippedModel;
}

/**
 * Writes `model` as `<dir>/<name>/<version>/model.json` (the layout MODEL_ARTIFACT names) under
 * the model name `name`, and returns `<dir>/<name>`. The server checks the name and version
 * against MODEL_NAME and MODEL_VERSION; no checksum is needed (the artifact initializer checks
 * those, not the server).
 */
export function writeArtifact(dir: string, name: string, model: ShippedModel): string {
    const root = path.join(dir, name);
    fs.mkdirSync(path.join(root, model.version), { recursive: true });
    fs.writeFileSync(path.join(root, model.version, ARTIFACT_FILE), JSON.stringify({ ...model, name }, null, 2));
    return root;
}

/** The environment that makes the model server serve `name` from an artifact written by writeArtifact. */
export function servedAs(name: string, artifactRoot: string): Record<string, string> {
    return { MODEL_NAME: name, MODEL_ARTIFACT: artifactRoot };
}
