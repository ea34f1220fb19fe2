import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import { KEEP_ALIVE_TIMEOUT_MS } from "../../model-server/src/limits";
import { routesSchema } from "../../components/config/routes";
import { trackSchema } from "../../components/config/schema";
import { strategySchema } from "../../components/strategies";
import type { ModelRoute } from "../../components/traffic/nginx";
import { planTraffic } from "../../components/traffic/plan";
import type { TrackName } from "../../components/traffic/types";
import { answeredBy, listen, many, sleep, type Answer } from "../support/http";
import { isExecutable, LOCAL, makeRunDir, nginxCheck, nginxOrSkip, NginxProcess, writeConf } from "../support/nginx";
import { abTestPlan, canaryPlan, route, shadowPlan, singleTrackPlan } from "../support/plans";

/** A track server that answers every request with its own name (body and X-Model-Track, as the model server does) and counts the mirrored copies. */
interface TrackServer {
    server: http.Server;
    mirrored: number;
}

function trackServer(name: TrackName): TrackServer {
    const counter: TrackServer = {
        mirrored: 0,
        server: http.createServer((req, res) => {
            req.resume();
            req.on("end", () => {
                if (req.headers["x-modelship-mirror"] !== undefined) counter.mirrored++;
                res.writeHead(200, { "content-type": "application/json", "x-model-track": name });
                res.end(JSON.stringify({ track: name }));
            });
        }),
    };
    // As the model server does: nginx keeps idle upstream connections for less than this, so none is closed under it (which the router would retry on the other track).
    counter.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    return counter;
}

describe("nginx -t on rendered configs", function () {
    this.timeout(30000);
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    const cases: [string, ModelRoute[]][] = [
        ["canary", [route(canaryPlan(), { stable: [...LOCAL(19001), ...LOCAL(19002)], candidate: LOCAL(19003) })]],
        ["abTest sticky by header", [route(abTestPlan({ header: "X-Session-Id" }), { stable: LOCAL(19001), candidate: LOCAL(19003) })]],
        ["abTest sticky by cookie", [route(abTestPlan({ cookie: "ab_bucket" }), { stable: LOCAL(19001), candidate: LOCAL(19003) })]],
        ["shadow", [route(shadowPlan(20), { stable: LOCAL(19001), candidate: LOCAL(19003) })]],
        ["single track", [route(singleTrackPlan(), { stable: LOCAL(19001) })]],
        [
            "several models, one with a 63-character name",
            [
                route(canaryPlan(), { stable: LOCAL(19001), candidate: LOCAL(19003) }),
                route(shadowPlan(5, "churn"), { stable: LOCAL(19004), candidate: LOCAL(19005) }),
                route(singleTrackPlan("m".repeat(30) + "-" + "x".repeat(32)), { stable: LOCAL(19006) }),
            ],
        ],
    ];

    for (const [name, routes] of cases) {
        it(`accepts the ${name} config`, function () {
            const bin = nginxOrSkip(this);
            const dir = makeRunDir();
            dirs.push(dir);
            const result = nginxCheck(bin, dir, writeConf(dir, routes));
            assert.equal(result.status, 0, result.output);
            assert.match(result.output, /test is successful/);
        });
    }

    it("accepts a config when nginx runs as an unprivileged user (no /var/log/nginx, no /run)", function () {
        const bin = nginxOrSkip(this);
        const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find(isExecutable);
        if (process.getuid?.() === 0 && !setpriv) return this.skip();
        const dir = makeRunDir();
        dirs.push(dir);
        const asNobody = process.getuid?.() === 0 && setpriv ? [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : [];
        const result = nginxCheck(bin, dir, writeConf(dir, cases[3][1]), asNobody);
        assert.equal(result.status, 0, result.output);
    });
});

/** The real nginx on a free loopback port in front of a stable and a candidate track server. */
/** The real nginx in front of a stable and a candidate track server. */
class Harness {
    readonly tracks: Record<TrackName, TrackServer> = { stable: trackServer("stable"), candidate: trackServer("candidate") };
    readonly nginx = new NginxProcess();

    async start(bin: string, routesFor: (backends: ModelRoute["backends"]) => ModelRoute[]): Promise<void> {
        const backends = { stable: LOCAL(await listen(this.tracks.stable.server)), candidate: LOCAL(await listen(this.tracks.candidate.server)) };
        await this.nginx.start(bin, routesFor(backends));
    }

    send(urlPath: string, headers: http.OutgoingHttpHeaders = {}, method = "POST"): Promise<Answer> {
        return this.nginx.send(urlPath, headers, method);
    }

    accessLog(): string {
        return this.nginx.accessLog();
    }

    async stopTrack(track: TrackName): Promise<void> {
        const { server } = this.tracks[track];
        server.closeAllConnections();
        if (server.listening) await new Promise((resolve) => server.close(resolve));
    }

    async stop(): Promise<void> {
        await this.nginx.stop();
        await this.stopTrack("stable");
        await this.stopTrack("candidate");
    }
}

describe("nginx router end to end (canary 70/30)", function () {
    this.timeout(60000);
    const INFER = "/v2/models/fraud-scorer/infer";
    const router = new Harness();
    const infer = (headers: http.OutgoingHttpHeaders = {}) => router.send(INFER, headers);

    before(async function () {
        const bin = nginxOrSkip(this);
        await router.start(bin, (backends) => [route(canaryPlan("fraud-scorer", 30), backends)]);
    });
    after(() => router.stop());

    it("splits live requests about 70/30 and the answering track matches the header", async () => {
        const answers = await many(400, 8, () => infer());
        assert.ok(
            answers.every((a) => a.status === 200),
            JSON.stringify(answers.find((a) => a.status !== 200)),
        );
        assert.ok(
            answers.every((a) => answeredBy(a) === a.track),
            "X-Modelship-Track names the track that answered",
        );
        const share = answers.filter((a) => a.track === "candidate").length / answers.length;
        assert.ok(share >= 0.2 && share <= 0.4, `candidate share ${share}`);
    });

    it("pins requests with x-modelship-track: candidate", async () => {
        const answers = await many(20, 4, () => infer({ "x-modelship-track": "candidate" }));
        assert.deepEqual(
            answers.map((a) => [a.status, answeredBy(a)]),
            Array.from({ length: 20 }, () => [200, "candidate"]),
        );
    });

    it("routes the model's other paths and answers unknown models with a JSON 404", async () => {
        assert.equal((await router.send("/v2/models/fraud-scorer/ready", {}, "GET")).status, 200);
        assert.equal((await router.send("/v1/models/fraud-scorer:predict")).status, 200);
        for (const unknown of ["/v2/models/fraud-scorer-v2/infer", "/v2/models/other/infer", "/v2/health/live"]) {
            const answer = await router.send(unknown);
            assert.equal(answer.status, 404, unknown);
            assert.deepEqual(JSON.parse(answer.body), { error: "unknown model" });
        }
    });

    it("writes one JSON access log line per request naming the model and track", async () => {
        for (let attempt = 0; attempt < 20 && !router.accessLog().includes("/v2/health/live"); attempt++) await sleep(100);
        const entries = router
            .accessLog()
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        const inferences = entries.filter((e) => e.uri === INFER);
        assert.ok(inferences.length >= 420, `${inferences.length} inference log lines`);
        assert.ok(inferences.every((e) => e.model === "fraud-scorer" && (e.track === "stable" || e.track === "candidate") && e.status === 200 && e.request_id !== ""));
    });

    it("still answers every request from stable when the candidate server is down", async () => {
        await router.stopTrack("candidate");
        const answers = await many(100, 4, () => infer());
        assert.ok(
            answers.every((a) => a.status === 200),
            JSON.stringify(answers.find((a) => a.status !== 200)),
        );
        assert.ok(
            answers.every((a) => answeredBy(a) === "stable" && a.track === "stable"),
            "X-Modelship-Track names the track that answered",
        );
        const pinned = await many(5, 1, () => infer({ "x-modelship-track": "candidate" }));
        assert.ok(
            pinned.every((a) => a.status === 200 && answeredBy(a) === "stable" && a.track === "stable"),
            JSON.stringify(pinned),
        );
    });
});

describe("nginx router end to end (shadow 30% and sticky abTest)", function () {
    this.timeout(60000);
    const router = new Harness();

    before(async function () {
        const bin = nginxOrSkip(this);
        await router.start(bin, (backends) => [route(shadowPlan(30, "shadowed"), backends), route(abTestPlan({ header: "X-User" }), backends)]);
    });
    after(() => router.stop());

    it("answers only from stable and copies about 30% of the requests to the candidate", async () => {
        const answers = await many(400, 8, () => router.send("/v2/models/shadowed/infer"));
        assert.ok(answers.every((a) => a.status === 200 && answeredBy(a) === "stable" && a.track === "stable"));
        // Mirror subrequests run in the background; wait, boundedly, for the last copies.
        let seen = -1;
        for (let attempt = 0; attempt < 20 && seen !== router.tracks.candidate.mirrored; attempt++) {
            seen = router.tracks.candidate.mirrored;
            await sleep(100);
        }
        const share = router.tracks.candidate.mirrored / answers.length;
        assert.ok(share >= 0.2 && share <= 0.4, `mirrored share ${share}`);
        assert.equal(router.tracks.stable.mirrored, 0);
    });

    it("keeps every user of the sticky abTest on one track, and splits users between the tracks", async () => {
        const tracksOf = new Map<string, Set<string>>();
        for (let user = 0; user < 40; user++) {
            for (const answer of await many(3, 3, () => router.send("/v2/models/fraud-scorer/infer", { "x-user": `user-${user}` }))) {
                tracksOf.set(`user-${user}`, (tracksOf.get(`user-${user}`) ?? new Set()).add(answeredBy(answer)));
            }
        }
        assert.ok(
            [...tracksOf.values()].every((t) => t.size === 1),
            "one track per user",
        );
        const candidateUsers = [...tracksOf.values()].filter((t) => t.has("candidate")).length;
        assert.ok(candidateUsers >= 8 && candidateUsers <= 32, `${candidateUsers} of 40 users on candidate`);
    });
});

describe("nginx router end to end (sticky canary moved 10 -> 25 -> 50)", function () {
    this.timeout(120000);
    const router = new Harness();
    const KEYS = 2000;
    const planAt = (step: number) =>
        planTraffic("fraud-scorer", {
            strategy: strategySchema.parse({ type: "canary", steps: [10, 25, 50, 100], step, stickyBy: { header: "x-user-id" } }),
            tracks: {
                stable: trackSchema.parse({ version: "1.4.0", image: "registry.example/m:1.4.0", replicas: 4 }),
                candidate: trackSchema.parse({ version: "1.5.0", image: "registry.example/m:1.5.0", replicas: 4 }),
            },
        });
    let backends: ModelRoute["backends"] = {};

    before(async function () {
        const bin = nginxOrSkip(this);
        await router.start(bin, (b) => {
            backends = b;
            return [route(planAt(0), b)];
        });
    });
    after(() => router.stop());

    /** The track that answers each key, asked twice so a key that flips within one config shows. */
    async function tracksOfKeys(): Promise<string[]> {
        const tracks: string[] = [];
        for (let start = 0; start < KEYS; start += 50) {
            const batch = await Promise.all(
                Array.from({ length: 50 }, async (_, i) => {
                    const headers = { "x-user-id": `user-${start + i}` };
                    const [first, second] = [answeredBy(await router.send("/v2/models/fraud-scorer/infer", headers)), answeredBy(await router.send("/v2/models/fraud-scorer/infer", headers))];
                    assert.equal(first, second, `user-${start + i} answered by ${first}, then by ${second}, under one config`);
                    return first;
                }),
            );
            tracks.push(...batch);
        }
        return tracks;
    }

    it("moves only new keys to the candidate at each step, never one back to stable", async () => {
        const shares: string[] = [];
        let before = await tracksOfKeys();
        const candidateShare = (tracks: string[]) => tracks.filter((t) => t === "candidate").length / KEYS;
        assert.ok(Math.abs(candidateShare(before) - 0.1) < 0.03, `step 10%: ${candidateShare(before)} of the keys on the candidate`);
        for (const [step, weight] of [
            [1, 25],
            [2, 50],
        ]) {
            await router.nginx.reloadAndSettle([route(planAt(step), backends)]);
            const after = await tracksOfKeys();
            const back = after.filter((t, i) => before[i] === "candidate" && t === "stable").length;
            const moved = after.filter((t, i) => before[i] === "stable" && t === "candidate").length;
            assert.equal(back, 0, `${back} keys went from the candidate back to stable at ${weight}%`);
            assert.ok(Math.abs(candidateShare(after) - weight / 100) < 0.03, `step ${weight}%: ${candidateShare(after)} of the keys on the candidate`);
            shares.push(`${((moved / KEYS) * 100).toFixed(1)}% of keys moved to the candidate and 0 back at ${weight}%`);
            before = after;
        }
        console.log(`      measured: sticky canary over ${KEYS} keys: ${shares.join("; ")}`);
    });
});

describe("nginx router end to end (routes by header and cookie, before the split)", function () {
    this.timeout(60000);
    const router = new Harness();
    const INFER = "/v2/models/fraud-scorer/infer";
    const routes = routesSchema.parse([
        { match: { header: "x-tenant", value: "internal.team" }, track: "candidate" },
        { match: { cookie: "beta", regex: "yes|1" }, track: "candidate" },
        { match: { header: "x-tenant", regex: "legacy-[0-9]+" }, track: "stable" },
    ]);

    before(async function () {
        const bin = nginxOrSkip(this);
        // A 50/50 split, so that a route that did not apply would show within a few requests.
        await router.start(bin, (backends) => [route({ ...canaryPlan("fraud-scorer", 50), routes }, backends)]);
    });
    after(() => router.stop());

    const tracksFor = async (headers: http.OutgoingHttpHeaders) => new Set((await many(20, 4, () => router.send(INFER, headers))).map(answeredBy));

    it("sends every request whose header or cookie matches to the route's track", async () => {
        assert.deepEqual([...(await tracksFor({ "x-tenant": "internal.team" }))], ["candidate"]);
        assert.deepEqual([...(await tracksFor({ cookie: "session=abc; beta=yes" }))], ["candidate"]);
        assert.deepEqual([...(await tracksFor({ cookie: "beta=1" }))], ["candidate"]);
        assert.deepEqual([...(await tracksFor({ "x-tenant": "legacy-42" }))], ["stable"]);
    });

    it("splits what matches no route: near misses of each value included", async () => {
        for (const headers of [{ "x-tenant": "internalXteam" }, { "x-tenant": "internal.team2" }, { cookie: "beta=no" }, { cookie: "xbeta=yes" }, { "x-tenant": "legacy-x" }, {}]) {
            assert.deepEqual([...(await tracksFor(headers))].sort(), ["candidate", "stable"], JSON.stringify(headers));
        }
    });

    it("the pin header wins over a route", async () => {
        assert.deepEqual([...(await tracksFor({ "x-tenant": "internal.team", "x-modelship-track": "stable" }))], ["stable"]);
        assert.deepEqual([...(await tracksFor({ "x-tenant": "legacy-1", "x-modelship-track": "candidate" }))], ["candidate"]);
    });
});
