import { strict as assert } from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { renderNginxConf, type ModelRoute, type NginxRouterOptions } from "../../components/traffic/nginx";
import type { StickyKey, TrackName, TrackPlan, TrafficPlan } from "../../components/traffic/types";

// ---------------------------------------------------------------------------------------------
// Plans, written out as the strategies would produce them.

function track(name: TrackName, version: string, weight: number, mirrorPercent = 0): TrackPlan {
    return { track: name, version, weight, mirrorPercent, replicas: name === "stable" ? 3 : 1, featureFlags: {} };
}

function plan(model: string, strategy: TrafficPlan["strategy"], tracks: TrackPlan[], extra: Partial<TrafficPlan> = {}): TrafficPlan {
    return { model, strategy, tracks, poolUpdate: { kind: "rolling", maxSurge: "25%", maxUnavailable: 0 }, aborted: false, pinHeader: "x-modelship-track", ...extra };
}

function canaryPlan(model = "fraud-scorer", candidateWeight = 10): TrafficPlan {
    return plan(model, "canary", [track("stable", "1.4.0", 100 - candidateWeight), track("candidate", "1.5.0", candidateWeight)], {
        step: { index: 1, count: 5, setWeight: candidateWeight },
    });
}

function abortedCanaryPlan(): TrafficPlan {
    return plan("fraud-scorer", "canary", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0)], { aborted: true });
}

function blueGreenPreviewPlan(): TrafficPlan {
    return plan("fraud-scorer", "blueGreen", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0)]);
}

function abTestPlan(sticky: StickyKey): TrafficPlan {
    return plan("fraud-scorer", "abTest", [track("stable", "1.4.0", 50), track("candidate", "1.5.0", 50)], { sticky });
}

function shadowPlan(mirrorPercent = 20, model = "fraud-scorer"): TrafficPlan {
    return plan(model, "shadow", [track("stable", "1.4.0", 100), track("candidate", "1.5.0", 0, mirrorPercent)]);
}

function singleTrackPlan(model = "fraud-scorer"): TrafficPlan {
    return plan(model, "rolling", [track("stable", "1.4.0", 100)]);
}

const STABLE = ["10.0.0.1:8080", "10.0.0.2:8080"];
const CANDIDATE = ["10.0.1.1:8080"];

function route(p: TrafficPlan, backends: ModelRoute["backends"] = { stable: STABLE, candidate: CANDIDATE }): ModelRoute {
    return { plan: p, backends };
}

function render(...routes: ModelRoute[]): string {
    return renderNginxConf({ listenPort: 8080, routes });
}

// ---------------------------------------------------------------------------------------------
// A small reader for the rendered file: blocks by their head, directives by their name.

interface Block {
    head: string;
    /** Trimmed lines between the braces, nested blocks included. */
    body: string[];
}

function blocks(conf: string): Block[] {
    const lines = conf.split("\n").map((l) => l.trim());
    const found: Block[] = [];
    lines.forEach((line, start) => {
        if (!line.endsWith("{") || line.startsWith("#")) return;
        let depth = 0;
        for (let i = start; i < lines.length; i++) {
            if (lines[i].endsWith("{")) depth++;
            if (lines[i] === "}") depth--;
            if (depth === 0) {
                found.push({ head: line.slice(0, -1).trim(), body: lines.slice(start + 1, i) });
                return;
            }
        }
        assert.fail(`unbalanced block "${line}"`);
    });
    return found;
}

function theBlock(conf: string, matches: (head: string) => boolean, what: string): Block {
    const found = blocks(conf).filter((b) => matches(b.head));
    assert.equal(found.length, 1, `expected one ${what}, found ${found.length} in:\n${conf}`);
    return found[0];
}

const upstream = (conf: string, name: string) => theBlock(conf, (h) => h === `upstream ${name}`, `upstream ${name}`);
const splitOf = (conf: string, ident: string) => theBlock(conf, (h) => h.startsWith("split_clients ") && h.endsWith(`$ms_${ident}_split`), `split of ${ident}`);
const pinMapOf = (conf: string, ident: string) => theBlock(conf, (h) => h.startsWith("map ") && h.endsWith(`$ms_${ident}_track`), `pin map of ${ident}`);
const locationOf = (conf: string, model: string) => theBlock(conf, (h) => h.startsWith("location ~") && h.includes(`/models/${model}(`), `location of ${model}`);

function serversOf(b: Block): { address: string; backup: boolean }[] {
    return b.body.filter((l) => l.startsWith("server ")).map((l) => ({ address: l.split(/\s+/)[1], backup: / backup;$/.test(l) }));
}

function directive(b: Block, name: string): string[] {
    return b.body.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).replace(/;$/, ""));
}

// ---------------------------------------------------------------------------------------------

describe("renderNginxConf", () => {
    describe("weighted split", () => {
        it("gives each live track its weight as a split_clients percentage, hashed on the request id", () => {
            const split = splitOf(render(route(canaryPlan())), "fraud_scorer");
            assert.equal(split.head, 'split_clients "$request_id" $ms_fraud_scorer_split');
            assert.deepEqual(split.body, ["90% stable;", "10% candidate;"]);
        });

        it("gives a track at 100 the catch-all bucket and leaves a 0-weight track out of the split", () => {
            for (const p of [blueGreenPreviewPlan(), abortedCanaryPlan(), singleTrackPlan()]) {
                assert.deepEqual(splitOf(render(route(p)), "fraud_scorer").body, ["* stable;"], p.strategy);
            }
        });

        it("proxies to the upstream named by the chosen track and says which track and model answered", () => {
            const location = locationOf(render(route(canaryPlan())), "fraud-scorer");
            assert.deepEqual(directive(location, "proxy_pass"), ["http://fraud_scorer_${ms_fraud_scorer_track}"]);
            assert.deepEqual(directive(location, "add_header"), ["X-Modelship-Model fraud-scorer always", "X-Modelship-Track $ms_fraud_scorer_track always"]);
            assert.deepEqual(directive(location, "proxy_http_version"), ["1.1"]);
            assert.ok(location.body.includes('proxy_set_header Connection "";'));
            assert.ok(location.body.includes("proxy_set_header Host $host;"));
            assert.ok(location.body.some((l) => l.startsWith("proxy_set_header X-Request-Id $")));
        });
    });

    describe("sticky", () => {
        it("hashes an abTest on its header key, falling back to the request id when the header is absent", () => {
            const conf = render(route(abTestPlan({ header: "X-Session-Id" })));
            const keyMap = theBlock(conf, (h) => h.startsWith("map $http_x_session_id "), "sticky key map");
            assert.deepEqual(keyMap.body, ['"" $request_id;', "default $http_x_session_id;"]);
            const keyVar = keyMap.head.split(/\s+/)[2];
            const split = splitOf(conf, "fraud_scorer");
            assert.equal(split.head, `split_clients "${keyVar}" $ms_fraud_scorer_split`);
            assert.deepEqual(split.body, ["50% stable;", "50% candidate;"]);
        });

        it("hashes on a cookie key with $cookie_<name>", () => {
            const conf = render(route(abTestPlan({ cookie: "ab_bucket" })));
            const keyMap = theBlock(conf, (h) => h.startsWith("map $cookie_ab_bucket "), "sticky cookie map");
            assert.deepEqual(keyMap.body, ['"" $request_id;', "default $cookie_ab_bucket;"]);
            assert.ok(splitOf(conf, "fraud_scorer").head.includes(keyMap.head.split(/\s+/)[2]));
        });

        it("does not hash on any key when the plan is not sticky", () => {
            const conf = render(route(canaryPlan()));
            assert.ok(!/\$http_x_session_id|\$cookie_/.test(conf));
        });
    });

    describe("pin header", () => {
        it("pins by x-modelship-track to every track of the plan, the weighted split otherwise", () => {
            const pin = pinMapOf(render(route(canaryPlan())), "fraud_scorer");
            assert.equal(pin.head, "map $http_x_modelship_track $ms_fraud_scorer_track");
            assert.deepEqual(pin.body, ["default $ms_fraud_scorer_split;", "stable stable;", "candidate candidate;"]);
        });

        it("pins to a 0-weight track, which keeps its upstream (blue-green preview QA)", () => {
            const conf = render(route(blueGreenPreviewPlan()));
            assert.ok(pinMapOf(conf, "fraud_scorer").body.includes("candidate candidate;"));
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_candidate")).filter((s) => !s.backup).map((s) => s.address), CANDIDATE);
        });

        it("offers only the tracks the plan has", () => {
            const conf = render(route(singleTrackPlan(), { stable: STABLE }));
            assert.deepEqual(pinMapOf(conf, "fraud_scorer").body, ["default $ms_fraud_scorer_split;", "stable stable;"]);
            assert.ok(!conf.includes("fraud_scorer_candidate"));
        });

        it("reads the plan's own pin header", () => {
            const conf = render(route({ ...canaryPlan(), pinHeader: "X-QA-Track" }));
            assert.ok(pinMapOf(conf, "fraud_scorer").head.startsWith("map $http_x_qa_track "));
        });
    });

    describe("mirror", () => {
        it("copies the shadow's percentage of requests to the mirror track through an internal location", () => {
            const conf = render(route(shadowPlan(20)));
            const location = locationOf(conf, "fraud-scorer");
            const mirrors = directive(location, "mirror");
            assert.equal(mirrors.length, 1);
            assert.deepEqual(directive(location, "mirror_request_body"), ["on"]);

            const mirrorLocation = theBlock(conf, (h) => h === `location = ${mirrors[0]}`, "mirror location");
            assert.ok(mirrorLocation.body.includes("internal;"));
            const [sampleVar] = (mirrorLocation.body.find((l) => l.startsWith("if (")) ?? "").match(/\$\w+/) ?? [];
            assert.ok(sampleVar, "the mirror location tests a sampling variable");
            const sampleIf = theBlock(conf, (h) => h === `if (${sampleVar} = 0)`, "sampling if");
            assert.deepEqual(sampleIf.body, ["return 204;"]);
            const sample = theBlock(conf, (h) => h.startsWith("split_clients ") && h.endsWith(` ${sampleVar}`), "mirror sampling");
            assert.deepEqual(sample.body, ["20% 1;", "* 0;"]);

            const [mirrorTarget] = directive(mirrorLocation, "proxy_pass");
            const mirrorUpstream = /^http:\/\/(\w+)\$request_uri$/.exec(mirrorTarget)?.[1];
            assert.ok(mirrorUpstream, mirrorTarget);
            assert.deepEqual(serversOf(upstream(conf, mirrorUpstream)), CANDIDATE.map((address) => ({ address, backup: false })));
        });

        it("never gives the mirror track live traffic or makes it a backup", () => {
            const conf = render(route(shadowPlan(20)));
            assert.deepEqual(splitOf(conf, "fraud_scorer").body, ["* stable;"]);
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_stable")), STABLE.map((address) => ({ address, backup: false })));
            for (const b of blocks(conf).filter((x) => x.head.startsWith("upstream "))) {
                assert.ok(!serversOf(b).some((s) => s.backup && CANDIDATE.includes(s.address)), `${b.head} falls back on the mirror track`);
            }
        });

        it("sends every request to a 100% mirror", () => {
            const conf = render(route(shadowPlan(100)));
            const sample = theBlock(conf, (h) => h.startsWith('split_clients "mirror:'), "mirror sampling");
            assert.deepEqual(sample.body, ["* 1;"]);
        });

        it("mirrors nothing when no track has a mirror percentage", () => {
            for (const p of [canaryPlan(), abortedCanaryPlan(), abTestPlan({ header: "x-user" })]) {
                const conf = render(route(p));
                assert.ok(!/^\s*mirror /m.test(conf), p.strategy);
                assert.ok(!conf.includes("/_modelship/mirror/"), p.strategy);
            }
        });
    });

    describe("retry on the other track", () => {
        it("lists each live track's servers as backup of the other live track", () => {
            const conf = render(route(canaryPlan()));
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_stable")), [
                ...STABLE.map((address) => ({ address, backup: false })),
                ...CANDIDATE.map((address) => ({ address, backup: true })),
            ]);
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_candidate")), [
                ...CANDIDATE.map((address) => ({ address, backup: false })),
                ...STABLE.map((address) => ({ address, backup: true })),
            ]);
        });

        it("never falls back onto a 0-weight or aborted track", () => {
            for (const p of [blueGreenPreviewPlan(), abortedCanaryPlan()]) {
                const conf = render(route(p));
                assert.ok(serversOf(upstream(conf, "fraud_scorer_stable")).every((s) => !s.backup), p.strategy);
                // The 0-weight track, reached only by pin, may still fall back onto live stable.
                assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_candidate")).filter((s) => s.backup).map((s) => s.address), STABLE);
            }
        });

        it("retries on errors and 5xx a bounded number of times, with health-checked keepalive upstreams", () => {
            const conf = render(route(canaryPlan()));
            const location = locationOf(conf, "fraud-scorer");
            const [nextUpstream] = directive(location, "proxy_next_upstream");
            for (const condition of ["error", "timeout", "http_502", "http_503", "http_504"]) assert.ok(nextUpstream.split(" ").includes(condition), condition);
            const [tries] = directive(location, "proxy_next_upstream_tries").map(Number);
            assert.ok(tries >= 2 && tries <= 5, `tries ${tries}`);
            const stable = upstream(conf, "fraud_scorer_stable");
            assert.ok(stable.body.filter((l) => l.startsWith("server ")).every((l) => l.includes(" max_fails=1 fail_timeout=5s")));
            assert.deepEqual(directive(stable, "keepalive"), ["16"]);
        });
    });

    describe("routing by model path", () => {
        const conf = render(route(canaryPlan("fraud-scorer")), route(singleTrackPlan("churn"), { stable: ["10.0.2.1:8080"] }));

        function locationRegex(model: string): RegExp {
            const head = locationOf(conf, model).head;
            const source = /^location ~ "(.*)"$/.exec(head)?.[1];
            assert.ok(source, head);
            return new RegExp(source);
        }

        it("sends each model's Open Inference Protocol paths, and only those, to that model", () => {
            const own = (m: string) => [`/v2/models/${m}`, `/v2/models/${m}/ready`, `/v2/models/${m}/infer`, `/v2/models/${m}/versions/1.5.0/infer`, `/v1/models/${m}:predict`];
            const notOwn = (m: string) => [`/v2/models/${m}-v2/infer`, `/v2/models/${m}x`, `/v1/models/${m}`, `/v1/models/${m}:predictx`, "/v2/health/live", "/"];
            for (const [model, other] of [["fraud-scorer", "churn"], ["churn", "fraud-scorer"]]) {
                const regex = locationRegex(model);
                for (const p of own(model)) assert.ok(regex.test(p), `${model} should route ${p}`);
                for (const p of [...notOwn(model), ...own(other)]) assert.ok(!regex.test(p), `${model} should not route ${p}`);
            }
        });

        it("proxies each model to its own upstreams", () => {
            assert.deepEqual(directive(locationOf(conf, "churn"), "proxy_pass"), ["http://churn_${ms_churn_track}"]);
            assert.deepEqual(serversOf(upstream(conf, "churn_stable")), [{ address: "10.0.2.1:8080", backup: false }]);
            assert.deepEqual(directive(locationOf(conf, "fraud-scorer"), "proxy_pass"), ["http://fraud_scorer_${ms_fraud_scorer_track}"]);
        });

        it("answers anything else with a JSON 404 and the router's /healthz with 200", () => {
            const fallback = theBlock(conf, (h) => h === "location /", "catch-all location");
            assert.deepEqual(directive(fallback, "return"), [`404 '{"error":"unknown model"}'`]);
            assert.deepEqual(directive(fallback, "default_type"), ["application/json"]);
            const healthz = theBlock(conf, (h) => h === "location = /healthz", "healthz location");
            assert.ok(directive(healthz, "return")[0].startsWith("200 "));
        });
    });

    describe("the file", () => {
        it("says it is generated by modelship and not to be edited", () => {
            const [first, second] = render(route(canaryPlan())).split("\n");
            assert.match(first, /^# Generated by modelship/);
            assert.match(second, /^# Do not edit by hand/);
        });

        it("is the same bytes for the same input, whatever the order of the models", () => {
            const a = route(canaryPlan("fraud-scorer"));
            const b = route(shadowPlan(20, "churn"), { stable: ["10.0.2.1:8080"], candidate: ["10.0.2.2:8080"] });
            assert.equal(render(a, b), render(a, b));
            assert.equal(render(a, b), render(b, a));
        });

        it("runs as non-root: pid and temp files under /tmp, errors to stderr, nothing under /var", () => {
            const conf = render(route(canaryPlan()));
            assert.match(conf, /^pid \/tmp\/[\w.]+;$/m);
            for (const temp of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) assert.match(conf, new RegExp(`^\\s*${temp}_temp_path /tmp/\\S+;$`, "m"), temp);
            assert.match(conf, /^error_log stderr( \w+)?;$/m);
            assert.ok(!conf.includes("/var/"));
            assert.ok(!/^\s*user /m.test(conf));
            assert.match(conf, /^\s*listen 8080;$/m);
        });

        it("puts pid and temp files under runDir and binds listenAddress when given", () => {
            const conf = renderNginxConf({ listenPort: 18080, listenAddress: "127.0.0.1", runDir: "/run/router/", routes: [route(canaryPlan())] });
            assert.match(conf, /^pid \/run\/router\/nginx\.pid;$/m);
            assert.equal((conf.match(/_temp_path \/run\/router\/\w+;/g) ?? []).length, 5);
            assert.match(conf, /^\s*listen 127\.0\.0\.1:18080;$/m);
        });

        it("logs JSON to stdout with the model, track and request fields", () => {
            const conf = render(route(canaryPlan()));
            const format = /^\s*log_format (\w+) escape=json '(.*)';$/m.exec(conf);
            assert.ok(format, "a JSON log_format");
            assert.match(conf, new RegExp(`^\\s*access_log /dev/stdout ${format[1]};$`, "m"));
            const sample = JSON.parse(format[2].replace(/\$\w+/g, "1"));
            for (const field of ["time", "model", "track", "status", "upstream_addr", "upstream_status", "request_time", "method", "uri", "request_id"]) {
                assert.ok(field in sample, field);
            }
        });
    });

    describe("validation", () => {
        const rejects = (options: NginxRouterOptions, message: RegExp) => assert.throws(() => renderNginxConf(options), message);
        const withRoutes = (...routes: ModelRoute[]): NginxRouterOptions => ({ listenPort: 8080, routes });

        it("rejects a router without routes", () => rejects(withRoutes(), /at least one model route/));

        it("rejects duplicate model names", () => rejects(withRoutes(route(canaryPlan()), route(shadowPlan())), /duplicate model names: fraud-scorer/));

        it("rejects a plan track without backends", () => rejects(withRoutes(route(canaryPlan(), { stable: STABLE })), /no backends given for the candidate track/));

        it("rejects an empty backend list", () => rejects(withRoutes(route(canaryPlan(), { stable: STABLE, candidate: [] })), /backend list of the candidate track is empty/));

        it("rejects weights that do not sum to 100", () => {
            const p = plan("fraud-scorer", "canary", [track("stable", "1.4.0", 90), track("candidate", "1.5.0", 20)]);
            rejects(withRoutes(route(p)), /weights must sum to 100.*= 110/);
        });

        it("rejects a bad listen or backend port", () => {
            for (const port of [0, 65536, 80.5, Number.NaN]) rejects({ listenPort: port, routes: [route(canaryPlan())] }, /listenPort: port must be an integer 1\.\.65535/);
            rejects(withRoutes(route(canaryPlan(), { stable: ["10.0.0.1:0"], candidate: CANDIDATE })), /backend "10\.0\.0\.1:0"/);
            rejects(withRoutes(route(canaryPlan(), { stable: ["10.0.0.1"], candidate: CANDIDATE })), /backend "10\.0\.0\.1" is not "host:port"/);
        });

        it("rejects names that would break out of the config", () => {
            rejects(withRoutes(route(canaryPlan("Fraud_Scorer"))), /must be a DNS label/);
            rejects(withRoutes(route(canaryPlan(), { stable: ["evil;\n}:80"], candidate: CANDIDATE })), /not "host:port"/);
            rejects(withRoutes(route(abTestPlan({ header: "x user" }))), /sticky header/);
            rejects(withRoutes(route(abTestPlan({ cookie: "ab-bucket" }))), /sticky cookie/);
            rejects(withRoutes(route({ ...canaryPlan(), pinHeader: "x;y" })), /pin header/);
        });

        it("lists every problem in one error", () => {
            const p = plan("fraud-scorer", "canary", [track("stable", "1.4.0", 90), track("candidate", "1.5.0", 20)]);
            assert.throws(
                () => renderNginxConf({ listenPort: 0, routes: [route(p, { stable: [] })] }),
                (e: Error) => ["listenPort", "sum to 100", "stable track is empty", "candidate track"].every((s) => e.message.includes(s)),
            );
        });
    });
});

// ---------------------------------------------------------------------------------------------
// The real nginx.

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

function findNginx(): string | undefined {
    const onPath = (process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "").map((d) => path.join(d, "nginx"));
    return ["/usr/sbin/nginx", ...onPath].find(isExecutable);
}

function nginxOrSkip(context: Mocha.Context): string {
    const bin = findNginx();
    if (bin) return bin;
    if (process.env.MODELSHIP_REQUIRE_NGINX === "1") assert.fail("no nginx binary (/usr/sbin/nginx or on PATH) and MODELSHIP_REQUIRE_NGINX=1");
    return context.skip();
}

/** `-e` (1.19.5+) keeps nginx off its compiled-in error log, which may be /var/log/nginx. */
function errorLogArgs(bin: string): string[] {
    const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(bin, ["-v"], { encoding: "utf8" }).stderr ?? "");
    const [major, minor, patch] = version ? version.slice(1).map(Number) : [0, 0, 0];
    const hasE = major > 1 || (major === 1 && (minor > 19 || (minor === 19 && patch >= 5)));
    return hasE ? ["-e", "stderr"] : [];
}

function makeRunDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-nginx-"));
    // Readable and writable by an unprivileged nginx too (the non-root check, root's workers).
    fs.chmodSync(dir, 0o777);
    return dir;
}

function writeConf(dir: string, routes: ModelRoute[], listenPort = 18080): string {
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, renderNginxConf({ listenPort, listenAddress: "127.0.0.1", runDir: dir, routes }), { mode: 0o644 });
    return file;
}

/**
 * nginx opens `access_log /dev/stdout` itself, which fails (ENXIO) when stdout is a socket, as
 * Node's stdio pipes are; containers give it a FIFO. A file stands in for it here.
 */
function stdoutFile(dir: string): number {
    const fd = fs.openSync(path.join(dir, "stdout.log"), "a");
    // nginx reopens it by path, possibly as an unprivileged user.
    fs.fchmodSync(fd, 0o666);
    return fd;
}

function nginxCheck(bin: string, dir: string, conf: string, prefix: string[] = []): { status: number | null; output: string } {
    const [command, ...args] = [...prefix, bin, ...errorLogArgs(bin), "-t", "-p", `${dir}/`, "-c", conf];
    const stdout = stdoutFile(dir);
    try {
        const result = spawnSync(command, args, { encoding: "utf8", timeout: 15000, stdio: ["ignore", stdout, "pipe"] });
        return { status: result.status, output: `${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
    } finally {
        fs.closeSync(stdout);
    }
}

const LOCAL = (port: number) => [`127.0.0.1:${port}`];

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

// ---------------------------------------------------------------------------------------------
// End to end: the real nginx in front of two tiny track servers on loopback.

interface Answer {
    status: number;
    track: string | undefined;
    body: string;
}

function listen(server: http.Server | net.Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
}

async function freePort(): Promise<number> {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    return port;
}

/** A track server that answers every request with its own name and counts the mirrored copies. */
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
                res.writeHead(200, { "content-type": "application/json" });
                res.end(JSON.stringify({ track: name }));
            });
        }),
    };
    return counter;
}

function request(agent: http.Agent, port: number, urlPath: string, headers: http.OutgoingHttpHeaders = {}, method = "POST"): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const body = method === "POST" ? JSON.stringify({ inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [0.5] }] }) : undefined;
        const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent, headers: { "content-type": "application/json", ...headers }, timeout: 10000 }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, track: res.headers["x-modelship-track"] as string | undefined, body: text }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout on ${urlPath}`)));
        req.on("error", reject);
        req.end(body);
    });
}

/** Bounded fan-out: `count` requests, `parallel` at a time. */
async function many(count: number, parallel: number, send: () => Promise<Answer>): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let sent = 0; sent < count; sent += parallel) {
        answers.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - sent) }, send))));
    }
    return answers;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const answeredBy = (a: Answer): string => (JSON.parse(a.body) as { track: string }).track;

/** The real nginx on a free loopback port in front of a stable and a candidate track server. */
class Harness {
    readonly tracks: Record<TrackName, TrackServer> = { stable: trackServer("stable"), candidate: trackServer("candidate") };
    readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    port = 0;
    dir = "";
    private nginx: ChildProcess | undefined;
    private stderr = "";

    async start(bin: string, routesFor: (backends: ModelRoute["backends"]) => ModelRoute[]): Promise<void> {
        const backends = { stable: LOCAL(await listen(this.tracks.stable.server)), candidate: LOCAL(await listen(this.tracks.candidate.server)) };
        this.port = await freePort();
        this.dir = makeRunDir();
        const conf = writeConf(this.dir, routesFor(backends), this.port);
        const stdout = stdoutFile(this.dir);
        this.nginx = spawn(bin, [...errorLogArgs(bin), "-p", `${this.dir}/`, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", stdout, "pipe"] });
        fs.closeSync(stdout);
        this.nginx.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
        await this.waitForHealthz();
    }

    private async waitForHealthz(): Promise<void> {
        for (let attempt = 0; attempt < 100; attempt++) {
            if (this.nginx?.exitCode !== null) assert.fail(`nginx exited with ${String(this.nginx?.exitCode)}: ${this.stderr}`);
            const answer = await this.send("/healthz", {}, "GET").catch(() => undefined);
            if (answer?.status === 200) return;
            await sleep(100);
        }
        assert.fail(`nginx did not answer /healthz within 10 s: ${this.stderr}`);
    }

    send(urlPath: string, headers: http.OutgoingHttpHeaders = {}, method = "POST"): Promise<Answer> {
        return request(this.agent, this.port, urlPath, headers, method);
    }

    accessLog(): string {
        return fs.readFileSync(path.join(this.dir, "stdout.log"), "utf8");
    }

    async stopTrack(track: TrackName): Promise<void> {
        const { server } = this.tracks[track];
        server.closeAllConnections();
        if (server.listening) await new Promise((resolve) => server.close(resolve));
    }

    async stop(): Promise<void> {
        this.agent.destroy();
        const nginx = this.nginx;
        if (nginx && nginx.exitCode === null) {
            const exited = new Promise((resolve) => nginx.once("exit", resolve));
            nginx.kill("SIGTERM");
            await Promise.race([exited, sleep(5000)]);
            if (nginx.exitCode === null) nginx.kill("SIGKILL");
        }
        await this.stopTrack("stable");
        await this.stopTrack("candidate");
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
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
        assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.find((a) => a.status !== 200)));
        assert.ok(answers.every((a) => answeredBy(a) === a.track), "X-Modelship-Track names the track that answered");
        const share = answers.filter((a) => a.track === "candidate").length / answers.length;
        assert.ok(share >= 0.2 && share <= 0.4, `candidate share ${share}`);
    });

    it("pins requests with x-modelship-track: candidate", async () => {
        const answers = await many(20, 4, () => infer({ "x-modelship-track": "candidate" }));
        assert.deepEqual(answers.map((a) => [a.status, answeredBy(a)]), Array.from({ length: 20 }, () => [200, "candidate"]));
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
        const entries = router.accessLog().split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
        const inferences = entries.filter((e) => e.uri === INFER);
        assert.ok(inferences.length >= 420, `${inferences.length} inference log lines`);
        assert.ok(inferences.every((e) => e.model === "fraud-scorer" && (e.track === "stable" || e.track === "candidate") && e.status === 200 && e.request_id !== ""));
    });

    it("still answers every request from stable when the candidate server is down", async () => {
        await router.stopTrack("candidate");
        const answers = await many(100, 4, () => infer());
        assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.find((a) => a.status !== 200)));
        assert.ok(answers.every((a) => answeredBy(a) === "stable"));
        const pinned = await many(5, 1, () => infer({ "x-modelship-track": "candidate" }));
        assert.ok(pinned.every((a) => a.status === 200 && answeredBy(a) === "stable"));
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
        assert.ok([...tracksOf.values()].every((t) => t.size === 1), "one track per user");
        const candidateUsers = [...tracksOf.values()].filter((t) => t.has("candidate")).length;
        assert.ok(candidateUsers >= 8 && candidateUsers <= 32, `${candidateUsers} of 40 users on candidate`);
    });
});
