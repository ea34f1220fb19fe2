/**
 * `modelship <command> --stack <name> [--model <name>]` (also `npm run modelship -- ...`): the
 * operator's side of a rollout. Each step is an edit of the stack file, previewed (without --yes)
 * or applied in one stack update; the stack file is written only once the update succeeded, so
 * the file never claims a step the stack did not take, nor one that nobody reviewed.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { combineJudgements } from "../components/analysis/metrics-judge";
import type { Judgement } from "../components/analysis/types";
import { isRegistryReference } from "../components/config/model-registry";
import type { ModelConfig, ModelshipConfig, ResolvedModelConfig } from "../components/config/schema";
import type { PreviewCheckConfig } from "../components/strategies/fields";
import { smokeRequest } from "../components/gates/plan";
import { isAborted } from "../components/strategies";
import { PIN_HEADER } from "../components/traffic/types";
import { runCommand, UsageError } from "../tools/command-line";
import { COMMAND_ENV } from "../tools/env-vars";
import { EXIT_FAILED, EXIT_OK } from "../tools/exit-codes";
import { findProjectDir } from "../tools/project-files";
import { loadStackConfig, localPulumiEnv, requirePulumi } from "../tools/pulumi-local";
import { analyzeCandidate } from "./analysis";
import { nextAction } from "./auto";
import { parseCliArgs, USAGE, type CliArgs } from "./args";
import { Engine, Interrupted } from "./engine";
import { sendEvent, type EventContext } from "./events";
import { PreviewCheckError, previewRequests, runPreviewCheck, type PreviewMetrics } from "./preview-check";
import { PrometheusClient, TemplateError } from "./prometheus";
import { callWebhooks } from "./webhooks";
import { MlflowRegistry, RegistryError } from "./mlflow";
import { defaultFrom, defaultTrack, pinEdits, pinVersion, registryModel, resolveVersion } from "./pin";
import { abort, promote, retire, rollbackTo, RolloutError, type AliasMove, scaleDownDelaySeconds, tooSoonToPromote, trackFromHistory, type RolloutStep } from "./rollout";
import { StackFile, StackFileChanged } from "./stack-file-editor";
import { formatStatus, type ModelStatus } from "./status";

function pickModel(config: ModelshipConfig, stack: string, model: string | undefined): [string, ResolvedModelConfig] {
    const names = Object.keys(config.models);
    if (model === undefined) {
        if (names.length === 1) return [names[0], config.models[names[0]]];
        throw new UsageError(`stack ${stack} has several models (${names.join(", ")}): name one with --model`);
    }
    const found = config.models[model];
    if (!found) throw new UsageError(`no model ${model} in stack ${stack}; its models are: ${names.join(", ")}`);
    return [model, found];
}

/** The environment every engine run gets: `npm run up`'s backend and passphrase rules, and the Pulumi CLI checked first. */
function engineEnv(projectDir: string): NodeJS.ProcessEnv {
    const env = localPulumiEnv(projectDir);
    requirePulumi(env);
    return env;
}

/** The stack through the Automation API, to read its outputs and history (loaded only then: it takes a second or two). */
async function openStack(projectDir: string, stack: string): Promise<Stack> {
    const env = stringEnv(engineEnv(projectDir));
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    return LocalWorkspace.selectStack({ stackName: stack, workDir: projectDir }, { envVars: env });
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Every update of the stack, newest first: the CLI lists history a page at a time. */
async function allUpdates(stack: Stack) {
    const pageSize = 100;
    const updates = [];
    for (let page = 1; ; page++) {
        // Without secrets: decrypting them initializes the stack's secrets manager, which writes its salt into Pulumi.<stack>.yaml even when the config came from --config-file.
        const batch = await stack.history(pageSize, page, false);
        updates.push(...batch);
        if (batch.length < pageSize) return updates;
    }
}

async function status(args: CliArgs, projectDir: string): Promise<number> {
    const stack = await openStack(projectDir, args.stack);
    const outputs = await stack.outputs();
    const models = (outputs.models?.value ?? {}) as Record<string, ModelStatus>;
    const [last] = await stack.history(1, 1, false);
    console.log(formatStatus(args.stack, models, last ? { kind: last.kind, result: last.result, message: last.message, endTime: last.endTime?.toISOString() } : undefined, args.model));
    return EXIT_OK;
}

/** The model's endpoint through the router, from the stack's outputs. */
async function stackEndpoint(projectDir: string, stack: string, name: string): Promise<string> {
    const outputs = await (await openStack(projectDir, stack)).outputs();
    const endpoint = (outputs.models?.value as Record<string, ModelStatus> | undefined)?.[name]?.endpoint;
    if (!endpoint) throw new RolloutError(`stack ${stack} has no endpoint for ${name} in its outputs (has it been deployed?): pass the model's URL through the router with --endpoint`);
    return endpoint;
}

/**
 * The preview check of the candidate's pool before its first live traffic: pinned requests
 * through the router, then its metrics from Prometheus. Prometheus is asked for first, so a
 * missing URL is named before any request is sent.
 */
async function previewCheck(args: CliArgs, projectDir: string, config: ModelshipConfig, name: string, model: ResolvedModelConfig, check: PreviewCheckConfig): Promise<Judgement> {
    const candidate = model.tracks.candidate;
    if (!candidate) throw new RolloutError(`model ${name} has no candidate track: no pool to preview`);
    let metrics: PreviewMetrics | undefined;
    if (check.analysis) {
        if (!args.prometheus)
            throw new UsageError(
                `the preview check of ${name} ${candidate.version} judges its metrics: give --prometheus <url> or ${COMMAND_ENV.prometheusUrl}, or set strategy.preview.analysis: false`,
            );
        const client = new PrometheusClient(args.prometheus);
        metrics = {
            requestsServed: () => client.requestsServed(name, "candidate"),
            judge: (seconds) => analyzeCandidate(client, { model: name, namespace: namespaceOf(config, model), windowSeconds: seconds }, model),
        };
    }
    const bodies = previewRequests(projectDir, smokeRequest(model), check);
    const endpoint = args.endpoint ?? (await stackEndpoint(projectDir, args.stack, name));
    const target = { model: name, version: candidate.version, endpoint, pin: { header: PIN_HEADER, value: "candidate" }, expect: model.gates.smoke.expect };
    const verdict = await runPreviewCheck(target, bodies, check, metrics, (line) => console.log(line));
    printJudgement(`${name}: preview check of ${candidate.version}: ${verdict.decision.toUpperCase()}`, verdict);
    return verdict;
}

/**
 * One rollout step. The stack file is read and edited in memory; the engine previews or applies
 * the edited config from a temporary --config-file; the stack file is replaced only after the
 * update succeeded. Anything else (no CLI, no stack, a failed preview or update, an interrupt)
 * leaves the stack file as it was.
 */
async function step(
    args: CliArgs,
    projectDir: string,
    make: (name: string, model: ModelConfig, raw: Record<string, unknown>) => RolloutStep,
    judgement?: Judgement,
    previewChecked = false,
): Promise<number> {
    const config = loadStackConfig(projectDir, args.stack, args.configFile);
    const [name, model] = pickModel(config, args.stack, args.model);
    const file = StackFile.read(projectDir, args.stack, args.configFile);
    const planned = make(name, model, file.rawModel(name));
    file.apply(name, planned.edits);
    if (planned.previewCheck && !previewChecked) {
        if (!args.yes)
            console.log(
                `with --yes, ${name}'s candidate pool is checked first: ${planned.previewCheck.requests + 1} requests pinned to it${planned.previewCheck.analysis ? ", then its metrics" : ""}`,
            );
        else {
            const verdict = await previewCheck(args, projectDir, config, name, model, planned.previewCheck);
            if (verdict.decision !== "promote") {
                throw new RolloutError(
                    `the preview check of ${name} did not pass (${verdict.decision.toUpperCase()}: ${verdict.reasons.join("; ")}): nothing was applied; ${path.basename(file.file)} is unchanged`,
                );
            }
        }
    }
    const env = engineEnv(projectDir);
    const unchanged = `${path.basename(file.file)} is unchanged`;
    let aliasMoved = true;
    await Engine.session(projectDir, env, async (engine) => {
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `modelship-${args.stack}-`));
        const configFile = path.join(scratch, path.basename(file.file));
        let keep = false;
        try {
            fs.writeFileSync(configFile, file.text(), { mode: 0o600 });
            // The edited config must be valid before the engine sees it.
            loadStackConfig(projectDir, args.stack, configFile);
            console.log(`${args.yes ? "applying" : "previewing"}: ${planned.description}`);
            const common = ["--stack", args.stack, "--config-file", configFile, "--message", planned.description];
            if (!args.yes) {
                await engine.run(["preview", "--diff", ...common]);
                console.log(`previewed only; the stack file is unchanged. Run again with --yes to apply: ${planned.description}`);
                return;
            }
            await engine.run(["up", "--yes", "--skip-preview", ...common]);
            try {
                file.write();
            } catch (error) {
                // The stack runs the step now: its config must not get lost with the scratch folder.
                keep = true;
                const why = error instanceof StackFileChanged ? "changed while the update ran, so it was not overwritten" : `could not be written (${(error as Error).message})`;
                throw new RolloutError(
                    `the update applied ${JSON.stringify(planned.description)}, but ${file.file} ${why}: the config the stack now runs is in ${configFile}; merge the step into the stack file and commit it`,
                );
            }
            console.log(`done: ${planned.description}`);
            console.log(`${file.file} now holds this step: commit it, so the next update starts from here.`);
            if (planned.moveAlias) aliasMoved = await moveAlias(planned.moveAlias);
            await sendEvent({ stack: args.stack, environment: config.environment, model: name, config: model }, planned.event, planned.description, judgement);
        } catch (error) {
            if (!keep && error instanceof Error) {
                error.message += `; ${unchanged}`;
                if (args.yes && error instanceof Interrupted) error.message += "; the update may have applied part of the step: `modelship status` and a preview show where the stack stands";
            }
            throw error;
        } finally {
            if (!keep) fs.rmSync(scratch, { recursive: true, force: true });
        }
    });
    return aliasMoved ? EXIT_OK : EXIT_FAILED;
}

/**
 * Moves the registry alias after the update that made its version stable: never before, so the
 * alias does not name a version the stack failed to run. A failure here leaves the update and the
 * stack file as they are, and says how to move the alias by hand.
 */
async function moveAlias(move: AliasMove): Promise<boolean> {
    const started = Date.now();
    try {
        await new MlflowRegistry(move.trackingUri).setAlias(move.name, move.alias, move.version);
        console.log(`registry: ${move.name}@${move.alias} -> version ${move.version} (${Date.now() - started} ms)`);
        return true;
    } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        console.error(
            `the update applied, but the registry alias ${move.name}@${move.alias} still names its old version: ${error.message}; move it with MLflow (set_registered_model_alias("${move.name}", "${move.alias}", "${move.version}"))`,
        );
        return false;
    }
}

/** `pin`: writes the resolved version into the track; applies nothing. */
async function pin(args: CliArgs, projectDir: string): Promise<number> {
    const file = StackFile.read(projectDir, args.stack, args.configFile);
    const names = file.modelNames();
    const name = args.model ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined) throw new UsageError(`stack ${args.stack} has several models (${names.join(", ")}): name one with --model`);
    const raw = file.rawModel(name);
    const { reference, registry } = registryModel(name, raw);
    const track = args.track ?? (args.from !== undefined ? defaultTrack(args.from) : "stable");
    const tracks = (raw.tracks ?? {}) as Record<string, Record<string, unknown> | undefined>;
    if (!tracks[track])
        throw new RolloutError(
            `model ${name} has no ${track} track in ${path.basename(file.file)}: add tracks.${track} (its image or build${track === "candidate" ? ", and a two-track strategy" : ""}), then pin it`,
        );
    const from = args.from ?? defaultFrom(reference, track);
    const started = Date.now();
    const client = new MlflowRegistry(registry.trackingUri);
    const pinned = await pinVersion(client, name, await resolveVersion(client, reference.name, from));
    const seconds = ((Date.now() - started) / 1000).toFixed(2);
    const what = `${reference.name}${/^[0-9]+$/.test(from) ? `/${from}` : `@${from}`} = registry version ${pinned.artifact.registryVersion} (model version ${pinned.version})`;
    const current = tracks[track];
    if (JSON.stringify(current?.artifact) === JSON.stringify(pinned.artifact) && String(current?.version) === pinned.version) {
        console.log(`${name} tracks.${track} already pins ${what}; ${path.basename(file.file)} is unchanged (resolved in ${seconds} s)`);
        return EXIT_OK;
    }
    file.apply(name, pinEdits(track, pinned));
    file.write();
    console.log(`pinned ${name} tracks.${track} to ${what} in ${seconds} s`);
    console.log(`  files:  ${pinned.artifact.uri}`);
    console.log(`  sha256: ${pinned.artifact.sha256} (model.json)`);
    console.log(`${file.file} changed: review and commit it; the next update (npm run up, or promote) deploys it, and fetches exactly these files or fails.`);
    return EXIT_OK;
}

/**
 * `rollback --to`: the track entry the stack ran that version with, from its history; for a
 * models:/ model a registry version number not in the history is pinned from the registry, on
 * stable's image. Both lists are named when neither has it.
 */
async function rollbackTarget(args: CliArgs, projectDir: string, to: string): Promise<(name: string, model: ModelConfig, raw: Record<string, unknown>) => RolloutStep> {
    const history = (await allUpdates(await openStack(projectDir, args.stack))).map((update) => update.config);
    const config = loadStackConfig(projectDir, args.stack, args.configFile);
    const [name, model] = pickModel(config, args.stack, args.model);
    let earlier: Record<string, unknown>;
    try {
        earlier = trackFromHistory(history, name, to);
    } catch (error) {
        if (!(error instanceof RolloutError) || !model.modelRegistry || !isRegistryReference(model.artifact)) throw error;
        const raw = StackFile.read(projectDir, args.stack, args.configFile).rawModel(name);
        const { reference } = registryModel(name, raw);
        const client = new MlflowRegistry(model.modelRegistry.trackingUri);
        if (!/^[1-9][0-9]*$/.test(to)) throw new RolloutError(`${error.message}; a registry version is a number: ${await client.whatExists(reference.name)}`);
        let pinned;
        try {
            pinned = await pinVersion(client, name, await client.version(reference.name, to));
        } catch (registryError) {
            if (!(registryError instanceof RegistryError)) throw registryError;
            throw new RolloutError(`${error.message}; nor in the registry: ${registryError.message}`);
        }
        const { stable } = raw.tracks as { stable: Record<string, unknown> };
        earlier = { ...stable, version: pinned.version, artifact: pinned.artifact };
        console.log(`rollback: registry version ${to} of ${reference.name} is model version ${pinned.version} (${pinned.artifact.uri}), on stable's image`);
    }
    return (n, m, raw) => rollbackTo(n, m, raw, earlier);
}

/** The namespace a model's templates fill {{namespace}} with: its target's, where the target has one. */
function namespaceOf(config: ModelshipConfig, model: ResolvedModelConfig): string {
    const target: unknown = config.targets[model.target];
    return typeof target === "object" && target !== null && "namespace" in target && typeof target.namespace === "string" ? target.namespace : "";
}

/**
 * Analyzes the model's candidate over `windowSeconds` (at least a minute: a rate needs a few
 * scrapes) and prints the judgement. A template Prometheus cannot evaluate is an error, never a
 * pass.
 */
async function analyzeOnce(args: CliArgs, config: ModelshipConfig, name: string, model: ResolvedModelConfig, windowSeconds: number): Promise<Judgement> {
    if (!model.tracks.candidate) throw new RolloutError(`model ${name} has no candidate track: nothing to analyze`);
    if (!args.prometheus) throw new UsageError(`${args.command} needs Prometheus: --prometheus <url> or ${COMMAND_ENV.prometheusUrl}`);
    const client = new PrometheusClient(args.prometheus);
    const window = Math.max(60, windowSeconds);
    const verdict = await analyzeCandidate(client, { model: name, namespace: namespaceOf(config, model), windowSeconds: window }, model);
    printJudgement(`${name}: ${verdict.decision.toUpperCase()} (over the last ${window} s)`, verdict);
    return verdict;
}

function printJudgement(heading: string, verdict: Judgement): void {
    console.log(heading);
    for (const reason of verdict.reasons) console.log(`  ${reason}`);
}

async function analyze(args: CliArgs, projectDir: string): Promise<number> {
    const config = loadStackConfig(projectDir, args.stack, args.configFile);
    const [name, model] = pickModel(config, args.stack, args.model);
    await analyzeOnce(args, config, name, model, model.analysis.bakeSeconds);
    return EXIT_OK;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the hooks get: enough to find the rollout and its step. */
function hookPayload(args: CliArgs, config: ModelshipConfig, name: string, model: ModelConfig) {
    return {
        stack: args.stack,
        environment: config.environment,
        model: name,
        version: model.tracks.candidate?.version ?? model.tracks.stable.version,
        step: JSON.stringify(model.strategy),
    };
}

/** The preview check the next `promote` asks for, if any: auto runs it in place of a bake. */
function nextPreviewCheck(projectDir: string, args: CliArgs, name: string, model: ModelConfig): PreviewCheckConfig | undefined {
    try {
        return promote(name, model, StackFile.read(projectDir, args.stack, args.configFile).rawModel(name)).previewCheck;
    } catch (error) {
        // A promote that is refused is refused again, with its message, when auto applies it.
        if (error instanceof RolloutError) return undefined;
        throw error;
    }
}

async function auto(args: CliArgs, projectDir: string): Promise<number> {
    // Before the first bake, not after it: each step is an update.
    engineEnv(projectDir);
    const applied: CliArgs = { ...args, yes: true };
    let holds = 0;
    for (;;) {
        const config = loadStackConfig(projectDir, args.stack, args.configFile);
        const [name, model] = pickModel(config, args.stack, args.model);
        const context: EventContext = { stack: args.stack, environment: config.environment, model: name, config: model };
        if (!model.tracks.candidate) {
            console.log(`auto: ${name} has no candidate: the rollout is complete (stable ${model.tracks.stable.version})`);
            return EXIT_OK;
        }
        if (isAborted(model.strategy)) {
            console.log(`auto: ${name}'s rollout of ${model.tracks.candidate.version} is aborted; nothing to do`);
            return EXIT_FAILED;
        }
        const bake = args.bakeSeconds ?? model.analysis.bakeSeconds;
        const hooks = model.analysis.webhooks;
        // Before the candidate's first live traffic there is nothing to bake: its pool is checked as a preview instead.
        const preview = nextPreviewCheck(projectDir, args, name, model);
        let verdict: Judgement;
        try {
            if (preview) {
                console.log(`auto: checking ${name} ${model.tracks.candidate.version}'s pool as a preview before its first live traffic`);
                verdict = await previewCheck(args, projectDir, config, name, model, preview);
            } else {
                // The pool that lost traffic in the last step stays warm at least scaleDownDelaySeconds: the next update shrinks it.
                const wait = Math.max(bake, scaleDownDelaySeconds(model));
                console.log(`auto: baking ${wait} s before analyzing ${name} ${model.tracks.candidate.version}${wait > bake ? ` over the last ${bake} s (strategy.scaleDownDelaySeconds)` : ""}`);
                // Bake hooks (a load test, say) run while the candidate bakes; their verdict joins the analysis.
                const [, bakeHooks] = await Promise.all([sleep(wait * 1000), callWebhooks(hooks, "bake", hookPayload(args, config, name, model))]);
                verdict = combineJudgements([await analyzeOnce(args, config, name, model, bake), bakeHooks]);
            }
        } catch (error) {
            if (!(error instanceof TemplateError) && !(error instanceof PreviewCheckError)) throw error;
            // A template that cannot be evaluated, or replayed requests that cannot be read, stay broken: a person fixes them, no bake will.
            const reason = `${error.message}: pausing until ${error instanceof TemplateError ? "the template is" : "the preview's requests are"} fixed`;
            console.log(`auto: paused: ${reason}`);
            await sendEvent(context, "paused", reason);
            return EXIT_FAILED;
        }
        let action = nextAction(verdict, holds, model.analysis.onFailure);
        if (action.kind === "promote") {
            const preStep = await callWebhooks(hooks, "pre-step", hookPayload(args, config, name, model));
            if (preStep.decision !== "promote") {
                verdict = preStep;
                action = nextAction(preStep, holds, model.analysis.onFailure);
            }
        }
        switch (action.kind) {
            case "promote": {
                holds = 0;
                // The update's message carries the analysis that let it through.
                await step(
                    applied,
                    projectDir,
                    (n, m, raw) => {
                        const next = promote(n, m, raw);
                        return { ...next, description: `${next.description} (auto: ${verdict.reasons.join("; ")})` };
                    },
                    verdict,
                    preview !== undefined,
                );
                break;
            }
            case "wait":
                holds++;
                console.log(`auto: holding (${holds}): ${action.reason}`);
                await sendEvent(context, "held", `${name} ${model.tracks.candidate.version} held (${holds}): ${action.reason}`, verdict);
                break;
            case "pause":
                console.log(`auto: paused: ${action.reason}`);
                await sendEvent(context, "paused", `${name} ${model.tracks.candidate.version} paused: ${action.reason}`, verdict);
                return EXIT_FAILED;
            case "rollback": {
                console.log(`auto: rolling back: ${action.reason}`);
                const started = Date.now();
                await step(
                    applied,
                    projectDir,
                    (n, m) => {
                        const back = abort(n, m);
                        return { ...back, event: "rolled-back", description: `${back.description} (auto: ${action.reason})` };
                    },
                    verdict,
                );
                console.log(`auto: rolled back in ${((Date.now() - started) / 1000).toFixed(1)} s`);
                return EXIT_FAILED;
            }
        }
    }
}

export async function main(argv: readonly string[]): Promise<number> {
    const args = parseCliArgs(argv);
    const projectDir = args.project !== undefined ? path.resolve(args.project) : findProjectDir();
    switch (args.command) {
        case "status":
            return status(args, projectDir);
        case "promote": {
            const config = loadStackConfig(projectDir, args.stack, args.configFile);
            const [name, model] = pickModel(config, args.stack, args.model);
            if (args.yes && scaleDownDelaySeconds(model) > 0) {
                const [last] = await (await openStack(projectDir, args.stack)).history(1, 1, false);
                const tooSoon = tooSoonToPromote(name, model, last?.endTime, new Date());
                if (tooSoon) throw new RolloutError(tooSoon);
            }
            return step(args, projectDir, promote);
        }
        case "abort":
            return step(args, projectDir, (name, model) => (args.retire ? retire(name, model) : abort(name, model)));
        case "rollback": {
            const to = args.to;
            if (to === undefined) return step(args, projectDir, (name, model) => (args.retire ? retire(name, model) : abort(name, model)));
            return step(args, projectDir, await rollbackTarget(args, projectDir, to));
        }
        case "analyze":
            return analyze(args, projectDir);
        case "auto":
            return auto(args, projectDir);
        case "pin":
            return pin(args, projectDir);
    }
}

if (require.main === module) runCommand(USAGE, main);
