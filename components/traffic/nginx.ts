/**
 * TrafficPlans -> one nginx.conf for the nginx router (docker target, and the Kubernetes
 * "nginx" router option). Pure: the same options always give the same bytes, so a config
 * change shows up in `pulumi preview` only when the traffic really changes.
 *
 * Per model the chosen track flows through three nginx variables:
 *   split key ($request_id, or the sticky key) -> split_clients by weight -> header/cookie
 *   routes (a chain of maps, first match wins) -> pin-header map.
 * The pin map's result names the upstream (`<model>_<track>`). X-Modelship-Track names the track
 * whose server answered (its X-Model-Track), which differs from the chosen one after a fallback.
 */
import { KEEP_ALIVE_TIMEOUT_MS, MAX_BODY_BYTES } from "../../model-server/src/limits";
import { valuePattern } from "../config/routes";
import { TRACK_NAMES, type StickyKey, type TrackName, type TrackPlan, type TrafficPlan } from "./types";

export interface ModelRoute {
    plan: TrafficPlan;
    /** Upstream addresses per track, "host:port"; a track of the plan without an entry is an error. */
    backends: Partial<Record<TrackName, readonly string[]>>;
}

export interface NginxRouterOptions {
    /** The router runs as non-root, so this is usually above 1024 (e.g. 8080). */
    listenPort: number;
    /** Several models behind one router, each routed by its own Open Inference Protocol path. */
    routes: readonly ModelRoute[];
    /** Address to bind; every interface when omitted. Tests bind 127.0.0.1 only. */
    listenAddress?: string;
    /**
     * Writable directory for the pid file and temp files, "/tmp" when omitted: a read-only root
     * filesystem mounts an emptyDir there, and two routers on one host can be kept apart.
     */
    runDir?: string;
}

/** Internal location prefix for mirror subrequests; outside the /v1 and /v2 model paths. */
export const MIRROR_LOCATION_PREFIX = "/_modelship/mirror/";
/** Where the router hands each mirrored copy to itself (see mirrorLocations), on loopback only. */
export const RELAY_LOCATION_PREFIX = "/_modelship/relay/";
const SHADOW_LOCATION_PREFIX = "/_modelship/shadow/";
const RELAY_HOST = "127.0.0.1";
const RELAY_UPSTREAM = "ms_mirror_relay";
/**
 * Mirrored copies in flight at once, per router; more are dropped (the relay answers 503) rather
 * than piling up connections to a shadow that has fallen behind.
 */
export const SHADOW_COPIES_IN_FLIGHT = 32;
export const UNKNOWN_MODEL_BODY = '{"error":"unknown model"}';

/** A failed try moves on to the track's other servers, then (where the plan allows) its backup track; bounded so a broken model cannot multiply latency. */
const NEXT_UPSTREAM_TRIES = 3;
const UPSTREAM_KEEPALIVE = 16;
/**
 * nginx drops an idle upstream connection this long before the model server would
 * (KEEP_ALIVE_TIMEOUT_MS), so it never sends a request on a connection the server is closing.
 */
const UPSTREAM_IDLE_MARGIN_SECONDS = 5;
export const UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS = KEEP_ALIVE_TIMEOUT_MS / 1000 - UPSTREAM_IDLE_MARGIN_SECONDS;
/** The model server's own limit: a larger body is refused here, before it is buffered or sent on. */
export const CLIENT_MAX_BODY_BYTES = MAX_BODY_BYTES;
/** Client bodies at the limit that the run dir must hold at once (bodies over 16 KiB are buffered there). */
const CLIENT_BODIES_BUFFERED = 64;
/**
 * What the run dir must hold: client bodies, plus the relay's copy of each mirrored body in
 * flight; answers never go to disk (proxy_max_temp_file_size 0). Sizes the router's emptyDir.
 */
export const RUN_DIR_BYTES = (CLIENT_BODIES_BUFFERED + SHADOW_COPIES_IN_FLIGHT) * CLIENT_MAX_BODY_BYTES;
/**
 * A live request: connecting is quick or the server is gone; an inference may take a while; a
 * failed try is only tried again early on, so a request that timed out reading is never sent twice.
 */
const LIVE_TIMEOUTS = { connect: "2s", send: "10s", read: "30s", nextUpstream: "5s" };
/** The longest a live request can take through the router: its upstream read, after the tries of proxy_next_upstream_timeout. */
export const LONGEST_LIVE_REQUEST_SECONDS = parseInt(LIVE_TIMEOUTS.read, 10) + parseInt(LIVE_TIMEOUTS.nextUpstream, 10);
const DEFAULT_RUN_DIR = "/tmp";

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** nginx ignores request headers with underscores by default, so only these reach a $http_ variable. */
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** nginx variable names allow [A-Za-z0-9_] only, so $cookie_<name> cannot express other cookies. */
const COOKIE_NAME = /^[A-Za-z0-9_]+$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
const RUN_DIR = /^(?:\/[A-Za-z0-9._-]+)+\/?$/;

// ---------------------------------------------------------------------------------------------
// Names. Every generated variable starts with "ms_" so that no model name can produce a
// built-in prefix variable ($http_..., $cookie_...), and every kind of name ends in its own
// suffix so that two models can never produce the same name.

interface ModelNames {
    model: string;
    ident: string;
    upstream(track: TrackName): string;
    mirrorUpstream(track: TrackName): string;
    trackVar: string;
    answeredVar: string;
    splitVar: string;
    splitKeyVar: string;
    routeVar(index: number): string;
    mirrorVar(track: TrackName): string;
    mirrorLocation(track: TrackName): string;
    relayLocation(track: TrackName): string;
    shadowLocation(track: TrackName): string;
}

/** DNS labels may contain '-', which nginx identifiers may not. */
export function nginxIdent(model: string): string {
    return model.replace(/-/g, "_");
}

function namesFor(model: string): ModelNames {
    const ident = nginxIdent(model);
    return {
        model,
        ident,
        upstream: (track) => `${ident}_${track}`,
        mirrorUpstream: (track) => `${ident}_${track}_mirror`,
        trackVar: `$ms_${ident}_track`,
        answeredVar: `$ms_${ident}_answered`,
        splitVar: `$ms_${ident}_split`,
        splitKeyVar: `$ms_${ident}_split_key`,
        routeVar: (index) => `$ms_${ident}_route_${index}`,
        mirrorVar: (track) => `$ms_${ident}_mirror_${track}`,
        mirrorLocation: (track) => `${MIRROR_LOCATION_PREFIX}${model}/${track}`,
        relayLocation: (track) => `${RELAY_LOCATION_PREFIX}${model}/${track}`,
        shadowLocation: (track) => `${SHADOW_LOCATION_PREFIX}${model}/${track}`,
    };
}

function headerVar(header: string): string {
    return `$http_${header.toLowerCase().replace(/-/g, "_")}`;
}

function stickyVar(sticky: StickyKey): string {
    return "header" in sticky ? headerVar(sticky.header) : `$cookie_${sticky.cookie.toLowerCase()}`;
}

// ---------------------------------------------------------------------------------------------
// Validation: collect every problem so one failed preview lists them all.

function checkPort(port: number, what: string): string[] {
    return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [`${what}: port must be an integer 1..65535, got ${String(port)}`];
}

function checkBackend(address: string, where: string): string[] {
    const match = /^(.+):(\d+)$/.exec(address);
    if (!match || !HOST.test(match[1])) return [`${where}: backend "${address}" is not "host:port"`];
    return checkPort(Number(match[2]), `${where}: backend "${address}"`);
}

function checkPercent(value: number, what: string): string[] {
    return Number.isInteger(value) && value >= 0 && value <= 100 ? [] : [`${what} must be an integer 0..100, got ${String(value)}`];
}

function checkTracks(plan: TrafficPlan, where: string): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const t of plan.tracks) {
        if (!(TRACK_NAMES as readonly string[]).includes(t.track)) problems.push(`${where}: unknown track "${t.track}"`);
        if (seen.has(t.track)) problems.push(`${where}: track "${t.track}" is listed twice`);
        seen.add(t.track);
        problems.push(...checkPercent(t.weight, `${where}: ${t.track} weight`));
        problems.push(...checkPercent(t.mirrorPercent, `${where}: ${t.track} mirrorPercent`));
    }
    if (plan.tracks.length === 0) problems.push(`${where}: the plan has no tracks`);
    const sum = plan.tracks.reduce((total, t) => total + t.weight, 0);
    if (plan.tracks.length > 0 && sum !== 100) {
        problems.push(`${where}: track weights must sum to 100, got ${plan.tracks.map((t) => `${t.track} ${t.weight}`).join(" + ")} = ${sum}`);
    }
    return problems;
}

function checkSticky(sticky: StickyKey | undefined, where: string): string[] {
    if (!sticky) return [];
    if ("header" in sticky) {
        return HEADER_NAME.test(sticky.header) ? [] : [`${where}: sticky header "${sticky.header}" must match ${HEADER_NAME.source}`];
    }
    return COOKIE_NAME.test(sticky.cookie) ? [] : [`${where}: sticky cookie "${sticky.cookie}" must match ${COOKIE_NAME.source} (nginx variable names)`];
}

function checkRoutes(plan: TrafficPlan, where: string): string[] {
    return plan.routes.flatMap((route, i) => {
        const problems: string[] = [];
        if (!plan.tracks.some((t) => t.track === route.track)) problems.push(`${where}: route ${i} sends requests to the ${route.track} track, which the plan does not have`);
        const { header, cookie } = route.match;
        if (header !== undefined && !HEADER_NAME.test(header)) problems.push(`${where}: route ${i} header "${header}" must match ${HEADER_NAME.source}`);
        if (cookie !== undefined && !COOKIE_NAME.test(cookie)) problems.push(`${where}: route ${i} cookie "${cookie}" must match ${COOKIE_NAME.source} (nginx variable names)`);
        return problems;
    });
}

function checkBackends(route: ModelRoute, where: string): string[] {
    const problems: string[] = [];
    for (const t of route.plan.tracks) {
        const addresses = route.backends[t.track];
        if (addresses === undefined) problems.push(`${where}: no backends given for the ${t.track} track`);
        else if (addresses.length === 0) problems.push(`${where}: the backend list of the ${t.track} track is empty`);
        else addresses.forEach((a) => problems.push(...checkBackend(a, `${where} ${t.track}`)));
    }
    return problems;
}

function checkRoute(route: ModelRoute): string[] {
    const { plan } = route;
    const where = `model "${plan.model}"`;
    if (!DNS_LABEL.test(plan.model)) return [`${where}: model name must be a DNS label (a-z, 0-9, '-', at most 63)`];
    return [
        ...checkTracks(plan, where),
        ...checkSticky(plan.sticky, where),
        ...checkRoutes(plan, where),
        ...(HEADER_NAME.test(plan.pinHeader) ? [] : [`${where}: pin header "${plan.pinHeader}" must match ${HEADER_NAME.source}`]),
        ...checkBackends(route, where),
    ];
}

function checkRouter(options: NginxRouterOptions): string[] {
    const problems = [...checkPort(options.listenPort, "listenPort")];
    if (options.listenAddress !== undefined && !HOST.test(options.listenAddress)) {
        problems.push(`listenAddress "${options.listenAddress}" is not a host name or IP address`);
    }
    if (options.runDir !== undefined && !RUN_DIR.test(options.runDir)) {
        problems.push(`runDir "${options.runDir}" must be an absolute path (not "/") of [A-Za-z0-9._/-]`);
    }
    const models = options.routes.map((r) => r.plan.model);
    const duplicates = [...new Set(models.filter((m, i) => models.indexOf(m) !== i))];
    if (duplicates.length > 0) problems.push(`routes: duplicate model names: ${duplicates.join(", ")}`);
    return problems;
}

/** Throws one Error that lists every problem of the options; returns silently when they are valid. */
export function validateNginxRouterOptions(options: NginxRouterOptions): void {
    throwProblems([...checkRouter(options), ...(options.routes.length === 0 ? ["routes: at least one model route is needed"] : []), ...options.routes.flatMap(checkRoute)]);
}

function throwProblems(problems: readonly string[]): void {
    if (problems.length > 0) throw new Error(`invalid nginx router options:\n  - ${problems.join("\n  - ")}`);
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers.

const INDENT = "    ";

function block(head: string, body: readonly string[]): string[] {
    return [`${head} {`, ...body.map((line) => (line === "" ? "" : INDENT + line)), "}"];
}

/** Config text taken from user input (versions) must never break out of a comment line. */
function commentSafe(text: string): string {
    return text.replace(/[^\x20-\x7e]/g, "?");
}

function liveTracks(plan: TrafficPlan): TrackPlan[] {
    return plan.tracks.filter((t) => t.weight > 0);
}

function mirroredTracks(plan: TrafficPlan): TrackPlan[] {
    return plan.tracks.filter((t) => t.mirrorPercent > 0);
}

/**
 * max_fails=0: a failure never takes a server out of rotation for other requests. With a backup
 * track, a primary marked down sends every request of its track to the backup: one failed
 * request to stable gave a 5% canary all traffic for fail_timeout. Only the failed request itself
 * moves on (proxy_next_upstream).
 */
function serverLines(addresses: readonly string[], suffix: string): string[] {
    return addresses.map((a) => `server ${a} max_fails=0${suffix};`);
}

function backendsOf(route: ModelRoute, track: TrackName): readonly string[] {
    // validateNginxRouterOptions has rejected a plan track without backends.
    return route.backends[track] ?? [];
}

function describeRoute(route: ModelRoute): string[] {
    const { plan } = route;
    const step = plan.step ? ` step ${plan.step.index + 1}/${plan.step.count}` : "";
    const tracks = plan.tracks.map((t) => {
        const mirror = t.mirrorPercent > 0 ? `, mirror ${t.mirrorPercent}%` : "";
        return `${t.track} ${t.version} ${t.weight}%${mirror}`;
    });
    return [commentSafe(`# model ${plan.model}: ${plan.strategy}${step}${plan.aborted ? " (aborted)" : ""}; ${tracks.join("; ")}`)];
}

// ---------------------------------------------------------------------------------------------
// Per-model http-level blocks.

function keepaliveLines(): string[] {
    return [`keepalive ${UPSTREAM_KEEPALIVE};`, `keepalive_timeout ${UPSTREAM_KEEPALIVE_TIMEOUT_SECONDS}s;`];
}

/**
 * Where the plan allows a fallback, a track falls back onto the other tracks that take live
 * traffic, never onto a 0-weight (aborted, blue-green preview) or mirror-only track: those may be
 * broken by definition.
 */
function upstreamBlocks(route: ModelRoute, names: ModelNames): string[] {
    return route.plan.tracks.flatMap((t) => {
        const backups = route.plan.fallback ? liveTracks(route.plan).filter((other) => other.track !== t.track) : [];
        const servers = [...serverLines(backendsOf(route, t.track), ""), ...backups.flatMap((b) => serverLines(backendsOf(route, b.track), " backup"))];
        return block(`upstream ${names.upstream(t.track)}`, [...servers, ...keepaliveLines()]);
    });
}

/** Mirror copies get their own upstream without backups, so a failing shadow never loads stable. */
function mirrorUpstreamBlocks(route: ModelRoute, names: ModelNames): string[] {
    return mirroredTracks(route.plan).flatMap((t) => block(`upstream ${names.mirrorUpstream(t.track)}`, [...serverLines(backendsOf(route, t.track), ""), ...keepaliveLines()]));
}

function splitKeyBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    if (!plan.sticky) return [];
    const key = stickyVar(plan.sticky);
    return block(`map ${key} ${names.splitKeyVar}`, [`"" $request_id;`, `default ${key};`]);
}

function splitBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    const key = plan.sticky ? names.splitKeyVar : "$request_id";
    const buckets = liveTracks(plan).map((t) => (t.weight === 100 ? `* ${t.track};` : `${t.weight}% ${t.track};`));
    return block(`split_clients "${key}" ${names.splitVar}`, buckets);
}

/** A string in double quotes for nginx's config parser, which reads \\ and \" as escapes. */
function quoted(text: string): string {
    return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Routes by header or cookie, chained: each map answers its route's track when its value matches
 * and otherwise the next route's result, the last one the weighted split's.
 */
function routeBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    return plan.routes.flatMap((route, i) => {
        const { match } = route;
        const source = match.header !== undefined ? headerVar(match.header) : `$cookie_${(match.cookie ?? "").toLowerCase()}`;
        const next = i + 1 < plan.routes.length ? names.routeVar(i + 1) : names.splitVar;
        return block(`map ${source} ${names.routeVar(i)}`, [`${quoted(`~^${valuePattern(match)}$`)} ${route.track};`, `default ${next};`]);
    });
}

/** Pinning works for 0-weight tracks too: that is how QA reaches a blue-green preview or a shadow. */
function pinBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    const pins = plan.tracks.map((t) => `${t.track} ${t.track};`);
    const unpinned = plan.routes.length > 0 ? names.routeVar(0) : names.splitVar;
    return block(`map ${headerVar(plan.pinHeader)} ${names.trackVar}`, [`default ${unpinned};`, ...pins]);
}

/**
 * The track whose server answered, as the model server names itself (X-Model-Track); the chosen
 * track where no server answered (nginx's own 502/504) or the answer does not say.
 */
function answeredBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    const tracks = plan.tracks.map((t) => `${t.track} ${t.track};`);
    return block(`map $upstream_http_x_model_track ${names.answeredVar}`, [`default ${names.trackVar};`, ...tracks]);
}

/**
 * Sampling hashes a salted request id so that it is independent of the live split, which may
 * hash the same $request_id.
 */
function mirrorSampleBlocks(plan: TrafficPlan, names: ModelNames): string[] {
    return mirroredTracks(plan).flatMap((t) => {
        const buckets = t.mirrorPercent === 100 ? ["* 1;"] : [`${t.mirrorPercent}% 1;`, "* 0;"];
        return block(`split_clients "mirror:\${request_id}" ${names.mirrorVar(t.track)}`, buckets);
    });
}

function modelHttpBlocks(route: ModelRoute): string[] {
    const names = namesFor(route.plan.model);
    return [
        ...describeRoute(route),
        ...upstreamBlocks(route, names),
        ...mirrorUpstreamBlocks(route, names),
        ...splitKeyBlocks(route.plan, names),
        ...splitBlocks(route.plan, names),
        ...routeBlocks(route.plan, names),
        ...pinBlocks(route.plan, names),
        ...answeredBlocks(route.plan, names),
        ...mirrorSampleBlocks(route.plan, names),
        "",
    ];
}

// ---------------------------------------------------------------------------------------------
// Locations.

function proxyHeaderLines(extra: readonly string[]): string[] {
    return [
        "proxy_http_version 1.1;",
        // An empty Connection header keeps the upstream keepalive connections open.
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Request-Id $ms_request_id;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        ...extra,
    ];
}

/** Matches /v2/models/<name>, everything below it, and the legacy /v1/models/<name>:predict. */
export function modelLocationRegex(model: string): string {
    return `^/(?:v2/models/${model}(?:/|$)|v1/models/${model}:predict$)`;
}

function modelLocation(route: ModelRoute): string[] {
    const names = namesFor(route.plan.model);
    const mirrors = mirroredTracks(route.plan).map((t) => `mirror ${names.mirrorLocation(t.track)};`);
    return block(`location ~ "${modelLocationRegex(route.plan.model)}"`, [
        ...mirrors,
        ...(mirrors.length > 0 ? ["mirror_request_body on;"] : []),
        `proxy_pass http://${names.ident}_\${${names.trackVar.slice(1)}};`,
        ...proxyHeaderLines([]),
        // Inference is a pure function of its input, so a POST may be retried (non_idempotent).
        "proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;",
        `proxy_next_upstream_tries ${NEXT_UPSTREAM_TRIES};`,
        `proxy_next_upstream_timeout ${LIVE_TIMEOUTS.nextUpstream};`,
        `proxy_connect_timeout ${LIVE_TIMEOUTS.connect};`,
        `proxy_send_timeout ${LIVE_TIMEOUTS.send};`,
        `proxy_read_timeout ${LIVE_TIMEOUTS.read};`,
        "proxy_hide_header X-Modelship-Track;",
        "proxy_hide_header X-Modelship-Model;",
        `add_header X-Modelship-Model ${route.plan.model} always;`,
        `add_header X-Modelship-Track ${names.answeredVar} always;`,
    ]);
}

/**
 * A mirror subrequest holds its client's connection until it ends: nginx reads the client's next
 * request only then, so a 3 s shadow made every later request on that keep-alive connection wait
 * 3 s. So the copy takes two hops. The mirror location hands it to this router's relay location
 * over loopback, which answers as soon as it has the body; the relay, a request of its own,
 * mirrors the copy on to the shadow track and alone waits for it. Unsampled requests end at the
 * mirror location without a backend call.
 */
function mirrorLocations(route: ModelRoute): string[] {
    const names = namesFor(route.plan.model);
    return mirroredTracks(route.plan).flatMap((t) => [
        ...block(`location = ${names.mirrorLocation(t.track)}`, [
            "internal;",
            ...block(`if (${names.mirrorVar(t.track)} = 0)`, ["return 204;"]),
            `proxy_pass http://${RELAY_UPSTREAM}${names.relayLocation(t.track)}$request_uri;`,
            ...proxyHeaderLines([]),
            "proxy_next_upstream off;",
            // The relay answers at once; these only bound a relay that cannot.
            "proxy_connect_timeout 1s;",
            "proxy_send_timeout 1s;",
            "proxy_read_timeout 1s;",
        ]),
        // No content handler: nginx's static module answers (404) after the mirror phase. A
        // `return` would answer in the rewrite phase, before it, and the copy would never leave.
        ...block(`location ~ "^${names.relayLocation(t.track)}(?<ms_relayed_uri>/.*)$"`, [
            `allow ${RELAY_HOST};`,
            "deny all;",
            "access_log off;",
            "log_not_found off;",
            `limit_conn ms_shadow ${SHADOW_COPIES_IN_FLIGHT};`,
            `mirror ${names.shadowLocation(t.track)};`,
            "mirror_request_body on;",
        ]),
        ...block(`location = ${names.shadowLocation(t.track)}`, [
            "internal;",
            `proxy_pass http://${names.mirrorUpstream(t.track)}$ms_relayed_uri;`,
            ...proxyHeaderLines(["proxy_set_header X-Modelship-Mirror 1;"]),
            "proxy_next_upstream off;",
            `proxy_connect_timeout ${LIVE_TIMEOUTS.connect};`,
            `proxy_send_timeout ${LIVE_TIMEOUTS.send};`,
            `proxy_read_timeout ${LIVE_TIMEOUTS.read};`,
        ]),
    ]);
}

function mirrors(routes: readonly ModelRoute[]): boolean {
    return routes.some((r) => mirroredTracks(r.plan).length > 0);
}

/**
 * The relay is this router on loopback. No keepalive: the relay keeps each connection until its
 * copy is done, and a reused one would hold the next copy (and its client) behind it.
 */
function relayBlocks(options: NginxRouterOptions, routes: readonly ModelRoute[]): string[] {
    if (!mirrors(routes)) return [];
    return [...block(`upstream ${RELAY_UPSTREAM}`, serverLines([`${RELAY_HOST}:${options.listenPort}`], "")), `limit_conn_zone "shadow" zone=ms_shadow:1m;`, "limit_conn_log_level warn;", ""];
}

function serverBlock(options: NginxRouterOptions, routes: readonly ModelRoute[]): string[] {
    const listen = options.listenAddress ? `${options.listenAddress}:${options.listenPort}` : `${options.listenPort}`;
    // Without a listenAddress nginx listens on every interface, loopback included.
    const relayListen = mirrors(routes) && options.listenAddress !== undefined && options.listenAddress !== RELAY_HOST ? [`listen ${RELAY_HOST}:${options.listenPort};`] : [];
    return block("server", [
        `listen ${listen};`,
        ...relayListen,
        "server_name _;",
        "",
        "# Router liveness; says nothing about the models behind it.",
        ...block("location = /healthz", ["access_log off;", "default_type application/json;", `return 200 '{"status":"ok"}';`]),
        "",
        ...routes.flatMap((r) => [...modelLocation(r), ...mirrorLocations(r), ""]),
        ...block("location /", ["default_type application/json;", `return 404 '${UNKNOWN_MODEL_BODY}';`]),
    ]);
}

// ---------------------------------------------------------------------------------------------
// The whole file.

const LOG_FIELDS: ReadonlyArray<readonly [string, string, boolean]> = [
    ["time", "$time_iso8601", true],
    // The response headers are read back so that the log needs no `set` (which would be shared
    // with, and overwritten by, mirror subrequests).
    ["model", "$sent_http_x_modelship_model", true],
    ["track", "$sent_http_x_modelship_track", true],
    ["status", "$status", false],
    ["upstream_addr", "$upstream_addr", true],
    ["upstream_status", "$upstream_status", true],
    ["upstream_response_time", "$upstream_response_time", true],
    ["request_time", "$request_time", false],
    ["method", "$request_method", true],
    ["uri", "$request_uri", true],
    ["request_id", "$ms_request_id", true],
    ["bytes_sent", "$bytes_sent", false],
];

function logFormatLine(): string {
    const fields = LOG_FIELDS.map(([name, variable, quoted]) => (quoted ? `"${name}":"${variable}"` : `"${name}":${variable}`));
    return `log_format modelship escape=json '{${fields.join(",")}}';`;
}

function httpBlock(options: NginxRouterOptions, routes: readonly ModelRoute[], runDir: string): string[] {
    return block("http", [
        "# Temp files under the run dir: the router runs as non-root on a read-only root filesystem.",
        `client_body_temp_path ${runDir}/nginx_client_body;`,
        `proxy_temp_path ${runDir}/nginx_proxy;`,
        `fastcgi_temp_path ${runDir}/nginx_fastcgi;`,
        `uwsgi_temp_path ${runDir}/nginx_uwsgi;`,
        `scgi_temp_path ${runDir}/nginx_scgi;`,
        "",
        "server_tokens off;",
        "default_type application/octet-stream;",
        "# What the model server accepts (model-server/src/limits.ts): a larger body is refused here, before it is buffered.",
        `client_max_body_size ${CLIENT_MAX_BODY_BYTES};`,
        "# Answers stream through memory buffers, never to disk: the run dir holds request bodies only.",
        "proxy_max_temp_file_size 0;",
        "# Generated variable names grow with the model name (up to 63 characters).",
        "variables_hash_bucket_size 128;",
        "variables_hash_max_size 4096;",
        "",
        logFormatLine(),
        "access_log /dev/stdout modelship;",
        "",
        "# Keep the caller's request id for tracing across hops; mint one otherwise.",
        ...block("map $http_x_request_id $ms_request_id", ['"" $request_id;', "default $http_x_request_id;"]),
        "",
        ...routes.flatMap(modelHttpBlocks),
        ...relayBlocks(options, routes),
        ...serverBlock(options, routes),
    ]);
}

function headerComment(routes: readonly ModelRoute[]): string[] {
    return [
        routes.length === 0 ? "# Generated by modelship: a router with no routes yet." : "# Generated by modelship from the traffic plans of: " + routes.map((r) => r.plan.model).join(", ") + ".",
        "# Do not edit by hand: every `pulumi up` renders this file again.",
        "",
    ];
}

/** Renders a complete nginx.conf routing every model of `options.routes`; throws on invalid options. */
export function renderNginxConf(options: NginxRouterOptions): string {
    validateNginxRouterOptions(options);
    return renderFile(options);
}

/**
 * The config a router starts with before it is told its routes (the docker target's container,
 * whose routes are written in afterwards): /healthz answers, every model path is unknown (404).
 * The same file as a routed one otherwise, so it needs the same run dir and keeps the same pid
 * file, where a later `nginx -s reload` finds the running nginx.
 */
export function renderBootstrapNginxConf(options: Omit<NginxRouterOptions, "routes">): string {
    const unrouted = { ...options, routes: [] };
    throwProblems(checkRouter(unrouted));
    return renderFile(unrouted);
}

/** Where the rendered config has nginx keep its master's pid: what `nginx -s reload` signals. */
export function nginxPidFile(runDir: string = DEFAULT_RUN_DIR): string {
    return `${runDir.replace(/\/$/, "")}/nginx.pid`;
}

function renderFile(options: NginxRouterOptions): string {
    // Sorted so that reordering models in the stack config does not change the file.
    const routes = [...options.routes].sort((a, b) => (a.plan.model < b.plan.model ? -1 : a.plan.model > b.plan.model ? 1 : 0));
    const runDir = (options.runDir ?? DEFAULT_RUN_DIR).replace(/\/$/, "");
    const lines = [
        ...headerComment(routes),
        "worker_processes auto;",
        `pid ${nginxPidFile(runDir)};`,
        "error_log stderr warn;",
        "",
        ...block("events", ["worker_connections 1024;"]),
        "",
        ...httpBlock(options, routes, runDir),
    ];
    return lines.join("\n") + "\n";
}
