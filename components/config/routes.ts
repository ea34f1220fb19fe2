/**
 * The model's `routes` key: requests that carry a chosen header or cookie value go to a named
 * track before the weighted split (an internal tenant, a beta cohort), Argo Rollouts'
 * setHeaderRoute and Flagger's header/cookie matches. The pin header still wins over them.
 */
import { z } from "zod";
import { TRACK_NAMES } from "./tracks";

/** nginx reads request headers with [A-Za-z0-9-] names only, and cookies whose names are nginx variable names. */
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const COOKIE_NAME = /^[A-Za-z0-9_]+$/;
/** Printable ASCII: each router's renderer escapes what its syntax needs. */
const MATCH_TEXT = /^[\x20-\x7e]+$/;

function validRegex(source: string): boolean {
    try {
        new RegExp(source);
        return true;
    } catch {
        return false;
    }
}

export const routeMatchSchema = z
    .strictObject({
        header: z.string().regex(HEADER_NAME, { error: "a header name: letters, digits and -" }).optional(),
        cookie: z.string().regex(COOKIE_NAME, { error: "a cookie name: letters, digits and _" }).optional(),
        /** The whole value, compared exactly (case-sensitive). */
        value: z.string().min(1).max(128).regex(MATCH_TEXT, { error: "printable ASCII" }).optional(),
        /** A regular expression the whole value must match (`beta|internal`, `[0-9]+`); every router anchors it at both ends. */
        regex: z.string().min(1).max(256).regex(MATCH_TEXT, { error: "printable ASCII" }).refine(validRegex, { error: "a valid regular expression" }).optional(),
    })
    .refine((m) => (m.header === undefined) !== (m.cookie === undefined), { error: "exactly one of `header` or `cookie` to match on" })
    .refine((m) => (m.value === undefined) !== (m.regex === undefined), { error: "exactly one of `value` (an exact match) or `regex`" });

export const routeSchema = z.strictObject({
    match: routeMatchSchema,
    /** The track that answers matching requests. */
    track: z.enum(TRACK_NAMES),
});

export const routesSchema = z.array(routeSchema).max(8, { error: "at most 8 routes per model (each is a listener rule on the ALB)" }).default([]);

export type RouteMatch = z.infer<typeof routeMatchSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;

/** The request key a route reads, for messages: `header x-tenant` or `cookie beta`. */
export function describeMatch(match: RouteMatch): string {
    const key = match.header !== undefined ? `header ${match.header}` : `cookie ${match.cookie ?? ""}`;
    return match.value !== undefined ? `${key} = ${match.value}` : `${key} ~ ${match.regex ?? ""}`;
}

/** Text as a regular expression that matches it literally. */
export function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What the whole value must match, unanchored: the escaped value, or the regex as a group. Each router anchors it. */
export function valuePattern(match: RouteMatch): string {
    return match.value !== undefined ? escapeRegex(match.value) : `(?:${match.regex ?? ""})`;
}
