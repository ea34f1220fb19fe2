import { strict as assert } from "assert";
import { ExpiringMap, type EvictionReason } from "../src/expiring-map";

describe("ExpiringMap", () => {
    let clock = 0;
    let evicted: [string, number, EvictionReason][] = [];
    const make = (maxEntries = 3, ttlMs = 100) => new ExpiringMap<number>({ maxEntries, ttlMs, now: () => clock, onEvict: (key, value, reason) => evicted.push([key, value, reason]) });
    beforeEach(() => {
        clock = 0;
        evicted = [];
    });

    it("keeps an entry for ttlMs, then forgets it and reports it expired", () => {
        const map = make();
        map.set("a", 1);
        clock = 99;
        assert.equal(map.get("a"), 1);
        clock = 100;
        assert.equal(map.get("a"), undefined);
        assert.deepEqual(evicted, [["a", 1, "expired"]]);
        assert.equal(map.size, 0);
    });

    it("drops the oldest entry past maxEntries and reports it", () => {
        const map = make(2);
        map.set("a", 1);
        map.set("b", 2);
        map.set("c", 3);
        assert.deepEqual([map.get("a"), map.get("b"), map.get("c")], [undefined, 2, 3]);
        assert.deepEqual(evicted, [["a", 1, "full"]]);
    });

    it("restarts an entry's time when it is set again", () => {
        const map = make();
        map.set("a", 1);
        map.set("b", 2);
        clock = 60;
        map.set("a", 10);
        clock = 120;
        map.sweep();
        assert.deepEqual([map.get("a"), map.get("b")], [10, undefined]);
        assert.deepEqual(evicted, [["b", 2, "expired"]]);
    });

    it("takes an entry out without reporting it, and sweeps expired entries oldest first", () => {
        const map = make(10);
        map.set("a", 1);
        clock = 10;
        map.set("b", 2);
        clock = 20;
        map.set("c", 3);
        assert.equal(map.take("b"), 2);
        assert.equal(map.take("b"), undefined);
        clock = 115;
        map.sweep();
        assert.deepEqual(evicted, [["a", 1, "expired"]]);
        assert.equal(map.size, 1);
        clock = 1000;
        assert.equal(map.take("c"), undefined, "an expired entry cannot be taken");
        assert.deepEqual(evicted, [
            ["a", 1, "expired"],
            ["c", 3, "expired"],
        ]);
    });

    it("drops the oldest entries while their weight is over maxWeight, even a single one", () => {
        const map = new ExpiringMap<number>({
            maxEntries: 10,
            maxWeight: 100,
            weigh: (rows) => rows,
            ttlMs: 100,
            now: () => clock,
            onEvict: (key, value, reason) => evicted.push([key, value, reason]),
        });
        map.set("a", 40);
        map.set("b", 40);
        map.set("c", 30);
        assert.deepEqual([map.get("a"), map.get("b"), map.get("c")], [undefined, 40, 30]);
        assert.equal(map.take("b"), 40);
        map.set("d", 70);
        assert.deepEqual([map.get("c"), map.get("d")], [30, 70], "a taken entry's weight is freed");
        map.set("e", 101);
        assert.equal(map.size, 0, "a value heavier than maxWeight is not kept");
        assert.deepEqual(evicted, [
            ["a", 40, "full"],
            ["c", 30, "full"],
            ["d", 70, "full"],
            ["e", 101, "full"],
        ]);
    });
});
