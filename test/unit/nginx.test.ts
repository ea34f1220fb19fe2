import { strict as assert } from "assert";
import { KEEP_ALIVE_TIMEOUT_MS, MAX_BODY_BYTES } from "../../model-server/src/limits";
import { renderBootstrapNginxConf, renderNginxConf, UNKNOWN_MODEL_BODY, type ModelRoute, type NginxRouterOptions } from "../../components/traffic/nginx";
import { abortedCanaryPlan, abTestPlan, blueGreenPreviewPlan, canaryPlan, CANDIDATE, plan, route, shadowPlan, singleTrackPlan, STABLE, track } from "../support/plans";

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
            assert.deepEqual(directive(location, "add_header"), ["X-Modelship-Model fraud-scorer always", "X-Modelship-Track $ms_fraud_scorer_answered always"]);
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
            assert.deepEqual(
                serversOf(upstream(conf, "fraud_scorer_candidate"))
                    .filter((s) => !s.backup)
                    .map((s) => s.address),
                CANDIDATE,
            );
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

            // The mirror location hands the copy to the relay on loopback, briefly...
            assert.deepEqual(directive(mirrorLocation, "proxy_pass"), ["http://ms_mirror_relay/_modelship/relay/fraud-scorer/candidate$request_uri"]);
            assert.deepEqual(serversOf(upstream(conf, "ms_mirror_relay")), [{ address: "127.0.0.1:8080", backup: false }]);
            assert.deepEqual(directive(upstream(conf, "ms_mirror_relay"), "keepalive"), [], "a relay connection is held until its copy is done: never reused");
            for (const timeout of ["proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"]) assert.deepEqual(directive(mirrorLocation, timeout), ["1s"], timeout);
            // ...which answers at once, from the static module after the mirror phase (no `return`), and copies it on to the shadow track.
            const relay = theBlock(conf, (h) => h.startsWith('location ~ "^/_modelship/relay/fraud-scorer/candidate('), "relay location");
            assert.deepEqual(directive(relay, "allow"), ["127.0.0.1"]);
            assert.deepEqual(directive(relay, "deny"), ["all"]);
            assert.deepEqual(directive(relay, "return"), []);
            assert.deepEqual(directive(relay, "limit_conn"), ["ms_shadow 32"]);
            const [shadowPath] = directive(relay, "mirror");
            const shadow = theBlock(conf, (h) => h === `location = ${shadowPath}`, "shadow location");
            assert.ok(shadow.body.includes("internal;"));
            const mirrorUpstream = /^http:\/\/(\w+)\$ms_relayed_uri$/.exec(directive(shadow, "proxy_pass")[0] ?? "")?.[1];
            assert.ok(mirrorUpstream, shadow.body.join("\n"));
            assert.deepEqual(
                serversOf(upstream(conf, mirrorUpstream)),
                CANDIDATE.map((address) => ({ address, backup: false })),
            );
        });

        it("also listens on loopback for the relay when listenAddress is another address", () => {
            const conf = renderNginxConf({ listenPort: 8080, listenAddress: "10.1.2.3", routes: [route(shadowPlan(20))] });
            assert.match(conf, /^\s*listen 10\.1\.2\.3:8080;$/m);
            assert.match(conf, /^\s*listen 127\.0\.0\.1:8080;$/m);
            const noMirror = renderNginxConf({ listenPort: 8080, listenAddress: "10.1.2.3", routes: [route(canaryPlan())] });
            assert.ok(!noMirror.includes("127.0.0.1"), "no relay without a mirror");
        });

        it("never gives the mirror track live traffic or makes it a backup", () => {
            const conf = render(route(shadowPlan(20)));
            assert.deepEqual(splitOf(conf, "fraud_scorer").body, ["* stable;"]);
            assert.deepEqual(
                serversOf(upstream(conf, "fraud_scorer_stable")),
                STABLE.map((address) => ({ address, backup: false })),
            );
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
        it("never takes a server out of rotation for other requests (max_fails=0)", () => {
            const conf = render(route(canaryPlan()));
            for (const name of ["fraud_scorer_stable", "fraud_scorer_candidate"]) {
                const servers = upstream(conf, name).body.filter((l) => l.startsWith("server "));
                assert.ok(servers.length > 0 && servers.every((l) => / max_fails=0( backup)?;$/.test(l)), servers.join("\n"));
            }
        });

        it("gives no backup track where the plan allows no fallback (an A/B test by default)", () => {
            const conf = render(route(abTestPlan({ header: "x-user" })));
            for (const name of ["fraud_scorer_stable", "fraud_scorer_candidate"])
                assert.ok(
                    serversOf(upstream(conf, name)).every((s) => !s.backup),
                    name,
                );
            const allowed = render(route({ ...abTestPlan({ header: "x-user" }), fallback: true }));
            assert.deepEqual(
                serversOf(upstream(allowed, "fraud_scorer_stable"))
                    .filter((s) => s.backup)
                    .map((s) => s.address),
                CANDIDATE,
            );
        });

        it("names the track whose server answered in X-Modelship-Track, the chosen one where none did", () => {
            const answered = theBlock(render(route(canaryPlan())), (h) => h === "map $upstream_http_x_model_track $ms_fraud_scorer_answered", "answered-track map");
            assert.deepEqual(answered.body, ["default $ms_fraud_scorer_track;", "stable stable;", "candidate candidate;"]);
        });

        it("lists each live track's servers as backup of the other live track", () => {
            const conf = render(route(canaryPlan()));
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_stable")), [...STABLE.map((address) => ({ address, backup: false })), ...CANDIDATE.map((address) => ({ address, backup: true }))]);
            assert.deepEqual(serversOf(upstream(conf, "fraud_scorer_candidate")), [
                ...CANDIDATE.map((address) => ({ address, backup: false })),
                ...STABLE.map((address) => ({ address, backup: true })),
            ]);
        });

        it("never falls back onto a 0-weight or aborted track", () => {
            for (const p of [blueGreenPreviewPlan(), abortedCanaryPlan()]) {
                const conf = render(route(p));
                assert.ok(
                    serversOf(upstream(conf, "fraud_scorer_stable")).every((s) => !s.backup),
                    p.strategy,
                );
                // The 0-weight track, reached only by pin, may still fall back onto live stable.
                assert.deepEqual(
                    serversOf(upstream(conf, "fraud_scorer_candidate"))
                        .filter((s) => s.backup)
                        .map((s) => s.address),
                    STABLE,
                );
            }
        });

        it("retries on errors and 5xx a bounded number of times and early only, with keepalive upstreams", () => {
            const conf = render(route(canaryPlan()));
            const location = locationOf(conf, "fraud-scorer");
            const [nextUpstream] = directive(location, "proxy_next_upstream");
            for (const condition of ["error", "timeout", "http_502", "http_503", "http_504"]) assert.ok(nextUpstream.split(" ").includes(condition), condition);
            const [tries] = directive(location, "proxy_next_upstream_tries").map(Number);
            assert.ok(tries >= 2 && tries <= 5, `tries ${tries}`);
            assert.deepEqual(directive(location, "proxy_next_upstream_timeout"), ["5s"]);
            assert.deepEqual(directive(location, "proxy_read_timeout"), ["30s"]);
            assert.deepEqual(directive(location, "proxy_send_timeout"), ["10s"]);
            const stable = upstream(conf, "fraud_scorer_stable");
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
            for (const [model, other] of [
                ["fraud-scorer", "churn"],
                ["churn", "fraud-scorer"],
            ]) {
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

        it("keeps idle upstream connections shorter than the model server does, and bodies to what it accepts", () => {
            const conf = render(route(canaryPlan()));
            const idle = directive(upstream(conf, "fraud_scorer_stable"), "keepalive_timeout");
            assert.deepEqual(idle, [`${KEEP_ALIVE_TIMEOUT_MS / 1000 - 5}s`]);
            assert.match(conf, new RegExp(`^\\s*client_max_body_size ${MAX_BODY_BYTES};$`, "m"));
            assert.match(conf, /^\s*proxy_max_temp_file_size 0;$/m);
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

    describe("before the routes (the docker router's bootstrap config)", () => {
        const bootstrap = renderBootstrapNginxConf({ listenPort: 8080 });

        it("answers /healthz and nothing else: every model path is unknown", () => {
            assert.ok(!/^\s*(upstream|split_clients|proxy_pass) /m.test(bootstrap), "routes nothing");
            const server = theBlock(bootstrap, (h) => h === "server", "server");
            assert.deepEqual(directive(server, "listen"), ["8080"]);
            assert.deepEqual(
                directive(
                    theBlock(bootstrap, (h) => h === "location = /healthz", "health location"),
                    "return",
                ),
                [`200 '{"status":"ok"}'`],
            );
            assert.deepEqual(
                directive(
                    theBlock(bootstrap, (h) => h === "location /", "fallback location"),
                    "return",
                ),
                [`404 '${UNKNOWN_MODEL_BODY}'`],
            );
        });

        it("keeps the pid file and temp paths of a routed config, where a reload finds the running nginx", () => {
            const routed = render(route(canaryPlan()));
            const shared = (conf: string) => conf.split("\n").filter((l) => /^\s*(pid|error_log|\w+_temp_path|access_log|log_format) /.test(l));
            assert.deepEqual(shared(bootstrap), shared(routed));
            assert.match(bootstrap, /^# Generated by modelship/);
        });

        it("is refused with the same checks of the listener", () => {
            assert.throws(() => renderBootstrapNginxConf({ listenPort: 0 }), /listenPort/);
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
