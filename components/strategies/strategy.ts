/**
 * What a strategy is: its variant of the `strategy` config key, whether it runs one pool or two
 * tracks, the router features it cannot run without, its own config rules, its traffic plan and
 * (for two tracks) its next `promote` step. Each strategy is one file in this folder, listed once
 * in index.ts; planTraffic, the config rules, the capability check, the rollout CLI and the
 * policy pack ask the strategy instead of comparing type names.
 */
import type { z } from "zod";
import type { TrackName } from "../config/tracks";
import type { RouterFeature } from "../traffic/features";
import type { PoolUpdate, StepPosition, StickyKey } from "../traffic/types";
import type { PreviewCheckConfig } from "./fields";

/** A config mistake, with its path relative to the model (`strategy.steps`). */
export interface StrategyIssue {
    path: string;
    value: unknown;
    expected: string;
}

/** One change to the model's node in the stack file: a path below `models.<name>` and its new value, or removal. */
export type Edit = { path: readonly (string | number)[]; value: unknown } | { path: readonly (string | number)[]; remove: true };

/** How live and mirrored requests are divided between stable and the candidate. */
export interface Split {
    /** Share of live requests the candidate answers, 0..100; stable answers the rest. */
    candidateWeight: number;
    /** Share of requests copied to the candidate, whose answers are dropped. */
    mirrorPercent: number;
}

/** Replicas each track runs for the split, from the full size each track declares. */
export type Sizing = (tracks: Readonly<Record<TrackName, { replicas: number }>>, split: Split) => Record<TrackName, number>;

/** A two-track strategy's plan, before abort is applied. */
export interface TwoTrackShape {
    split: Split;
    sizing: Sizing;
    /** Autoscaled tracks: stable's bounds shrink by the candidate's live share (and are full again on abort). */
    dynamicStableScale?: boolean;
    /**
     * The pool losing traffic is kept warm: `previous` is the split before this step, whose size
     * the losing pool keeps through it; the next update, no sooner than `delaySeconds` later, shrinks it.
     */
    scaleDown?: { delaySeconds: number; previous?: Split };
    step?: StepPosition;
    /** Whether a failed request is retried on the other live track; true unless the strategy says otherwise. */
    fallback?: boolean;
}

/** The model's versions, for a promote step's words. */
export interface PromoteContext {
    model: string;
    stable: string;
    candidate: string;
}

/**
 * The next `promote` step: conclude (the candidate becomes stable; `how` starts the update's
 * message), a step of its own as stack-file edits (with the preview check the candidate's pool
 * must pass first, where the step is the first to send it live traffic), or a refusal and why.
 */
export type PromoteStep = { conclude: string } | { description: string; edits: Edit[]; previewCheck?: PreviewCheckConfig } | { refused: string };

/** A strategy's variant of the `strategy` key: a strict object whose `type` is the strategy's name. */
export type StrategySchema = z.ZodObject<{ type: z.ZodLiteral<string> }, z.core.$strict>;
/** Two-track variants all carry `abort`. */
export type TwoTrackSchema = z.ZodObject<{ type: z.ZodLiteral<string>; abort: z.ZodDefault<z.ZodBoolean> }, z.core.$strict>;

interface StrategyCommon<S extends StrategySchema> {
    schema: S;
    /** The router features the strategy cannot run without; features it uses where offered (a canary's fallback) are not needs. */
    needs: readonly RouterFeature[];
    /** Rules between the strategy's own keys; paths relative to the model. */
    rules?(config: z.output<S>): StrategyIssue[];
}

/** Runs one pool of the stable track and replaces it in place: never a candidate. */
export interface OnePoolStrategy<S extends StrategySchema = StrategySchema> extends StrategyCommon<S> {
    tracks: "one";
    poolUpdate(config: z.output<S>): PoolUpdate;
}

/** Runs stable and a candidate and moves traffic between them with the router. */
export interface TwoTrackStrategy<S extends TwoTrackSchema = TwoTrackSchema> extends StrategyCommon<S> {
    tracks: "two";
    /** Whether the candidate's answers reach users (false: it only gets copies, whose answers are dropped). */
    candidateAnswers: boolean;
    /** Whether the candidate may run the stable version (e.g. the same image with other feature flags). */
    candidateMayRunStableVersion: boolean;
    /** The key that keeps each user on one track, where the config has one; read before the rules have checked the rest of the config. */
    stickyBy?(config: z.output<S>): StickyKey | undefined;
    shape(config: z.output<S>): TwoTrackShape;
    promote(config: z.output<S>, context: PromoteContext): PromoteStep;
}

export type Strategy = OnePoolStrategy | TwoTrackStrategy;

/** Strategies by their `type`, in the order messages list them. */
export type StrategyRegistry = Readonly<Record<string, Strategy>>;

/** Identity functions that keep a strategy file's own config type in its methods. */
export function onePool<S extends StrategySchema>(strategy: Omit<OnePoolStrategy<S>, "tracks">): OnePoolStrategy<S> {
    return { ...strategy, tracks: "one" };
}

export function twoTrack<S extends TwoTrackSchema>(strategy: Omit<TwoTrackStrategy<S>, "tracks">): TwoTrackStrategy<S> {
    return { ...strategy, tracks: "two" };
}
