/** How two-track strategies size their tracks for a split. */
import type { Sizing, Split } from "./strategy";

/** Each track at the size it declares. */
export const fullSize: Sizing = ({ stable, candidate }) => ({ stable: stable.replicas, candidate: candidate.replicas });

/** The candidate proportional to the share of requests it sees, never below one so it stays warm. */
export function proportional(share: (split: Split) => number, of: "stable" | "candidate"): Sizing {
    return (tracks, split) => ({
        stable: tracks.stable.replicas,
        candidate: Math.max(1, Math.ceil((tracks[of].replicas * share(split)) / 100)),
    });
}

/** Both tracks at the larger declared size, so that the two are compared at the same capacity. */
export const equalSize: Sizing = ({ stable, candidate }) => {
    const replicas = Math.max(stable.replicas, candidate.replicas);
    return { stable: replicas, candidate: replicas };
};
