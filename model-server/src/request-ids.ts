/**
 * An inference's request id: the X-Request-Id header (the router's id, which its mirrored copy
 * carries too), else the OIP body's `id`, else one generated here. Feedback and shadow comparison
 * find an answer by it, so every answer carries it (body `id` and X-Request-Id header).
 */
import { randomUUID } from "crypto";
import type { IncomingHttpHeaders } from "http";
import { ProtocolError } from "./protocol";

export const REQUEST_ID_HEADER = "x-request-id";
/** Longer ids are refused: they are kept in memory (up to 100k of them) and sent on to the candidate. */
export const MAX_REQUEST_ID_LENGTH = 256;

/** The X-Request-Id header's value, undefined when absent or empty; a 400 when too long. */
export function headerRequestId(headers: IncomingHttpHeaders): string | undefined {
    const raw = headers[REQUEST_ID_HEADER];
    const value = (Array.isArray(raw) ? raw.join(", ") : (raw ?? "")).trim();
    if (value === "") return undefined;
    checkLength(value, "the X-Request-Id header");
    return value;
}

/** The header's id, else the body's, else a new UUID. */
export function requestId(fromHeader: string | undefined, fromBody: string | undefined): string {
    if (fromHeader !== undefined) return fromHeader;
    if (fromBody !== undefined && fromBody !== "") {
        checkLength(fromBody, "id");
        return fromBody;
    }
    return randomUUID();
}

function checkLength(id: string, what: string): void {
    if (id.length > MAX_REQUEST_ID_LENGTH) throw new ProtocolError(400, `${what} is ${id.length} characters long: expected at most ${MAX_REQUEST_ID_LENGTH}`);
}

/** Each row's class at the decision threshold: 1 when the probability is at least the threshold. */
export function classesOf(probabilities: readonly number[], threshold: number): number[] {
    return probabilities.map((p) => (p >= threshold ? 1 : 0));
}
