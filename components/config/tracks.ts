/**
 * The tracks a model's `tracks` key holds: `stable`, and a `candidate` while a version rolls out.
 * Traffic, strategies and targets name tracks by these.
 */
export const TRACK_NAMES = ["stable", "candidate"] as const;
export type TrackName = (typeof TRACK_NAMES)[number];
