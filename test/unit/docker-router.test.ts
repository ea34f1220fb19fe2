import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readPlansAnnotation } from "../../components/traffic/plan-annotation";
import { routerPlans } from "../../policies/target-readers";
import type { RecordedResource } from "../../tools/mock-runtime";
import { canaryModel, dockerConfig, modelFor } from "../fixtures";
import { at, named, ofType, runStack, T } from "../mock-stack";
import { fakeBin } from "../support/fake-bin";

const COMMAND = T.command;
const RELOAD = "router-reload";

const atStep = (step: number, overrides: Record<string, unknown> = {}) => dockerConfig({ "fraud-scorer": canaryModel({ strategy: { type: "canary", steps: [10, 25, 50, 100], step }, ...overrides }) });

async function render(raw: ReturnType<typeof dockerConfig>): Promise<RecordedResource[]> {
    return (await runStack(raw, "dev")).resources;
}

const key = (r: RecordedResource) => `${r.type}::${r.name}`;

/** What a preview of `after` over `before` would list: changed inputs, added and removed resources. */
function changes(before: RecordedResource[], after: RecordedResource[]): string[] {
    const old = new Map(before.map((r) => [key(r), r]));
    const next = new Map(after.map((r) => [key(r), r]));
    return [
        ...after.filter((r) => old.has(key(r)) && JSON.stringify(old.get(key(r))!.inputs) !== JSON.stringify(r.inputs)).map((r) => `~ ${r.name}`),
        ...after.filter((r) => !old.has(key(r))).map((r) => `+ ${r.name}`),
        ...before.filter((r) => !next.has(key(r))).map((r) => `- ${r.name}`),
    ].sort();
}

describe("docker target: the router stays, its config is reloaded", () => {
    it("the router container's inputs do not change with the weights, the step, the versions or the models", async () => {
        const base = named(await render(atStep(0)), T.container, "router");
        const others = [
            atStep(1),
            atStep(3),
            atStep(0, { tracks: { stable: { version: "1.5.0", build: { context: "model-server" }, replicas: 1 }, candidate: { version: "1.6.0", build: { context: "model-server" }, replicas: 3 } } }),
            dockerConfig({ "fraud-scorer": canaryModel(), churn: modelFor(canaryModel(), "abTest") }),
        ];
        for (const raw of others) assert.deepEqual(named(await render(raw), T.container, "router").inputs, base.inputs);
        assert.deepEqual(at(base, "ports"), [{ internal: 8080, external: 8080, ip: "127.0.0.1" }], "published on loopback only");
        assert.equal(at(base, "user"), "101:101");
        assert.equal(at(base, "restart"), "unless-stopped");
        const uploads = at<Array<{ file: string; content: string }>>(base, "uploads");
        assert.deepEqual(
            uploads.map((u) => u.file),
            ["/etc/nginx/nginx.conf"],
            "a bootstrap config to start with",
        );
        assert.doesNotMatch(uploads[0].content, /fraud-scorer/, "the bootstrap config routes no model");
    });

    it("the reload command carries the rendered config on stdin and is triggered by its hash, the router container's id and every replica's id (a replaced replica keeps its alias, and nginx resolves it at reload)", async () => {
        const [first, second] = [await render(atStep(0)), await render(atStep(1))];
        const reload = (resources: RecordedResource[]) => named(resources, COMMAND, RELOAD);
        for (const [resources, candidate] of [
            [first, 10],
            [second, 25],
        ] as const) {
            const stdin = at<string>(reload(resources), "stdin");
            assert.match(stdin, new RegExp(`${100 - candidate}% stable;`));
            assert.deepEqual(at(reload(resources), "triggers"), [
                createHash("sha256").update(stdin).digest("hex"),
                "router-id",
                "fraud-scorer-stable-0-id",
                "fraud-scorer-stable-1-id",
                "fraud-scorer-candidate-0-id",
            ]);
        }
        assert.notDeepEqual(at(reload(first), "triggers"), at(reload(second), "triggers"));
    });

    it("the reload command carries the plans, for reviewers and the policy pack", async () => {
        const reload = named(await render(atStep(1)), COMMAND, RELOAD);
        const read = routerPlans(COMMAND, reload.inputs);
        assert.deepEqual(
            read?.plans.map((p) => [p.model, p.weights, p.step]),
            [["fraud-scorer", { stable: 75, candidate: 25 }, 1]],
        );
        assert.equal(read?.problem, undefined);
        const container = named(await render(atStep(1)), T.container, "router");
        assert.equal(routerPlans(T.container, container.inputs), undefined, "the container carries no plan: it does not change with one");
        const gate = named(await render(atStep(1)), COMMAND, "fraud-scorer-gates-candidate-smoke");
        assert.equal(routerPlans(COMMAND, gate.inputs), undefined, "a gate is no router");
        assert.ok(readPlansAnnotation(JSON.stringify(read?.plans)));
    });

    it("the reload command waits for the router container and every gate and replica of the tracks it sends traffic to", async () => {
        const resources = await render(atStep(0));
        const reload = named(resources, COMMAND, RELOAD);
        const gates = ofType(resources, COMMAND).filter((c) => c.name.includes("-gates-"));
        const containers = ofType(resources, T.container);
        // lint, scan and smoke of both tracks; the router, two stable replicas and one candidate (10% of 2).
        assert.deepEqual([gates.length, containers.length], [6, 4]);
        const expected = [...gates, ...containers].map(key);
        assert.deepEqual(
            expected.filter((k) => !(reload.dependsOn ?? []).includes(k)),
            [],
        );
        assert.deepEqual(named(resources, T.container, "router").dependsOn ?? [], [], "the router container waits for nothing of the models");
    });

    it("a canary step changes the reload command, the candidate's smoke gate and its replicas, never the router container", async () => {
        // A candidate of 4 replicas runs ceil(4 * weight / 100) of them: 1 at 10% and 25%, 2 at 50%.
        const tracks = { stable: { version: "1.4.0", build: { context: "model-server" }, replicas: 2 }, candidate: { version: "1.5.0", build: { context: "model-server" }, replicas: 4 } };
        const steps = [await render(atStep(0, { tracks })), await render(atStep(1, { tracks })), await render(atStep(2, { tracks }))];
        assert.deepEqual(changes(steps[0], steps[1]), ["~ fraud-scorer-gates-candidate-smoke", `~ ${RELOAD}`]);
        assert.deepEqual(changes(steps[1], steps[2]), ["+ fraud-scorer-candidate-1", "~ fraud-scorer-gates-candidate-smoke", `~ ${RELOAD}`]);
    });
});

describe("the router reload script", () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    /** Runs the reload command as the command provider does (`/bin/sh -c <create>`, the config on stdin) against a fake `docker`. */
    async function runReload(options: { nginxTestFails?: boolean } = {}) {
        const resources = await render(atStep(1));
        const reload = named(resources, COMMAND, RELOAD);
        const router = at<string>(named(resources, T.container, "router"), "name");
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-router-"));
        dirs.push(state);
        const docker = `
if [ "$2" = "-i" ]; then cat > "${state}/written"; fi
case "$*" in
  *"nginx -t"*) if [ -n "$FAKE_NGINX_T_FAILS" ]; then echo "nginx: [emerg] unknown directive \\"splitt_clients\\"" >&2; exit 1; fi ;;
esac`;
        const bin = fakeBin({ docker }, ["cat"]);
        dirs.push(bin.dir);
        const result = spawnSync("/bin/sh", ["-c", at<string>(reload, "create")], {
            input: at<string>(reload, "stdin"),
            encoding: "utf8",
            env: { PATH: bin.dir, ...(options.nginxTestFails ? { FAKE_NGINX_T_FAILS: "1" } : {}) },
            timeout: 10_000,
        });
        const written = path.join(state, "written");
        return {
            result,
            router,
            stdin: at<string>(reload, "stdin"),
            written: fs.existsSync(written) ? fs.readFileSync(written, "utf8") : undefined,
            // One entry per call; the last one's in-container script spans lines.
            calls: fs.existsSync(bin.log)
                ? fs
                      .readFileSync(bin.log, "utf8")
                      .trim()
                      .split(/\n(?=docker )/)
                      .map((c) => c.replace(/ \| backend=.*$/, ""))
                : [],
        };
    }

    it("writes the config into the running router, tests it, moves it in place, then reloads nginx", async () => {
        const { result, router, stdin, written, calls: logged } = await runReload();
        const reloadPrefix = `docker exec ${router} sh -c `;
        const reloadCall = logged[logged.length - 1].slice(reloadPrefix.length);
        const calls = logged.map((c) => (c.startsWith(reloadPrefix) ? `${reloadPrefix}(the reload)` : c));
        assert.equal(result.status, 0, result.stderr);
        assert.equal(written, stdin, "the config reaches the container byte for byte");
        assert.deepEqual(calls, [
            `docker exec -i -u 0 ${router} sh -c cat > /etc/nginx/nginx.conf.next`,
            `docker exec ${router} nginx -t -q -c /etc/nginx/nginx.conf.next`,
            `docker exec -u 0 ${router} mv /etc/nginx/nginx.conf.next /etc/nginx/nginx.conf`,
            `docker exec ${router} sh -c (the reload)`,
        ]);
        // In the container: the workers of the running config, then the reload, then the wait for them to be gone.
        assert.match(
            reloadCall,
            /^tries=0\nwhile \[ ! -s \/tmp\/nginx\.pid \][\s\S]*\nmaster=\$\(cat \/tmp\/nginx\.pid\)\n[\s\S]*\nold=\$\(workers\)\nnginx -s reload\n[\s\S]*\/proc\/\$pid[\s\S]*sleep 0\.1\ndone$/,
        );
    });

    it("a config nginx refuses fails the command with nginx's message, before the move, and the running config stays", async () => {
        const { result, router, calls } = await runReload({ nginxTestFails: true });
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /unknown directive "splitt_clients"/);
        assert.match(result.stderr, /nginx refused the new config of dev-modelship-router; it keeps serving its current one/);
        assert.deepEqual(calls, [
            `docker exec -i -u 0 ${router} sh -c cat > /etc/nginx/nginx.conf.next`,
            `docker exec ${router} nginx -t -q -c /etc/nginx/nginx.conf.next`,
            `docker exec -u 0 ${router} rm -f /etc/nginx/nginx.conf.next`,
        ]);
    });
});
