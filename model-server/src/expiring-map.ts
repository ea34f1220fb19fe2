/**
 * A map from request ids to what the server must remember about them for a while: bounded both
 * in time (every entry lives ttlMs from when it was set) and in size (past maxEntries, or past
 * maxWeight when entries are weighed, e.g. by their rows, the oldest goes). Entries leave in the order they came, so both bounds cost O(1) per entry: the oldest is
 * always first in the Map's insertion order. onEvict hears of every entry that leaves unread, so
 * callers can count what was lost.
 */

export type EvictionReason = "expired" | "full";

export interface ExpiringMapOptions<V> {
    readonly maxEntries: number;
    readonly ttlMs: number;
    /** What one value weighs (its rows, say); with maxWeight, bounds what a few huge values may hold. */
    readonly weigh?: (value: V) => number;
    readonly maxWeight?: number;
    /** Milliseconds; performance.now by default. Tests pass a clock they move. */
    readonly now?: () => number;
    readonly onEvict?: (key: string, value: V, reason: EvictionReason) => void;
}

interface Entry<V> {
    readonly value: V;
    readonly expires: number;
    readonly weight: number;
}

export class ExpiringMap<V> {
    private readonly entries = new Map<string, Entry<V>>();
    private readonly now: () => number;
    private weight = 0;

    constructor(private readonly options: ExpiringMapOptions<V>) {
        this.now = options.now ?? (() => performance.now());
    }

    get size(): number {
        return this.entries.size;
    }

    /** Stores `value` for ttlMs from now; a key set again starts over (and moves to the back). */
    set(key: string, value: V): void {
        this.sweep();
        this.remove(key);
        const weight = this.options.weigh?.(value) ?? 0;
        this.entries.set(key, { value, expires: this.now() + this.options.ttlMs, weight });
        this.weight += weight;
        const maxWeight = this.options.maxWeight ?? Infinity;
        while (this.entries.size > this.options.maxEntries || (this.weight > maxWeight && this.entries.size > 0)) {
            const [oldest, entry] = this.entries.entries().next().value as [string, Entry<V>];
            this.remove(oldest);
            this.options.onEvict?.(oldest, entry.value, "full");
        }
    }

    /** The live value, or undefined for an unknown or expired key. */
    get(key: string): V | undefined {
        const entry = this.entries.get(key);
        if (entry === undefined) return undefined;
        if (entry.expires <= this.now()) {
            this.sweep();
            return undefined;
        }
        return entry.value;
    }

    /** Removes and returns the live value (undefined for an unknown or expired key); never reported to onEvict. */
    take(key: string): V | undefined {
        const value = this.get(key);
        if (value !== undefined) this.remove(key);
        return value;
    }

    /** Drops every expired entry, oldest first, telling onEvict. */
    sweep(): void {
        const now = this.now();
        for (const [key, entry] of this.entries) {
            if (entry.expires > now) break;
            this.remove(key);
            this.options.onEvict?.(key, entry.value, "expired");
        }
    }

    private remove(key: string): void {
        const entry = this.entries.get(key);
        if (entry === undefined) return;
        this.entries.delete(key);
        this.weight -= entry.weight;
    }
}
