import assert from "node:assert/strict";
import fc from "fast-check";
import { MergeIdDedup, RecentSeqWindow } from "../../src/dispatcher/mod.ts";

Deno.test("recent seq window remembers the last N released sequence numbers", async (t) => {
  await t.step("empty window", () => {
    const w = new RecentSeqWindow(4);
    assert.equal(w.size, 0);
    assert.equal(w.has(1), false);
    assert.ok(Number.isNaN(w.oldest()));
  });

  await t.step("filling, wrapping and forgetting the oldest", () => {
    const w = new RecentSeqWindow(4);
    for (const seq of [10, 11, 13]) w.add(seq);
    assert.equal(w.size, 3);
    assert.equal(w.oldest(), 10);
    w.add(14);
    w.add(15); // 10 falls out
    assert.equal(w.size, 4);
    assert.equal(w.oldest(), 11);
    assert.deepEqual([10, 11, 12, 13, 14, 15, 16].map((s) => w.has(s)), [
      false,
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
  });

  await t.step("clear forgets everything", () => {
    const w = new RecentSeqWindow(2);
    w.add(5);
    w.add(6);
    w.clear();
    assert.equal(w.size, 0);
    assert.equal(w.has(6), false);
    w.add(1); // a restarted sequence may go below the old one
    assert.equal(w.has(1), true);
  });

  await t.step("sequence numbers must be added in increasing order", () => {
    const w = new RecentSeqWindow(3);
    w.add(7);
    assert.throws(() => w.add(7), /expected seq > 7, found 7/);
    assert.throws(() => w.add(3), /expected seq > 7, found 3/);
  });

  await t.step("capacity must be an integer >= 1", () => {
    assert.throws(
      () => new RecentSeqWindow(0),
      /expected an integer window capacity >= 1, found 0/,
    );
    assert.throws(() => new RecentSeqWindow(2.5), /found 2.5/);
  });
});

Deno.test("property: the window answers like a model of its last N entries", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 60 }),
      fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 20 }),
      (capacity, steps, probes) => {
        const w = new RecentSeqWindow(capacity);
        const added: number[] = [];
        let seq = 0;
        for (const step of steps) {
          seq += step;
          w.add(seq);
          added.push(seq);
        }
        const kept = added.slice(-capacity);
        assert.equal(w.size, kept.length);
        if (kept.length > 0) assert.equal(w.oldest(), kept[0]);
        for (const p of [...probes, ...added]) assert.equal(w.has(p), kept.includes(p));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("merge id dedup admits new ids once and forgets the least recently seen", async (t) => {
  await t.step("new, duplicate, stats", () => {
    const d = new MergeIdDedup({ idsMax: 3 });
    assert.equal(d.admit("m-1"), true);
    assert.equal(d.admit("m-2"), true);
    assert.equal(d.admit("m-1"), false);
    assert.equal(d.has("m-2"), true);
    assert.deepEqual(d.stats(), { size: 2, idsMax: 3, admitted: 2, duplicates: 1, evicted: 0 });
  });

  await t.step("bounded: a hit refreshes recency, the least recently seen is evicted", () => {
    const d = new MergeIdDedup({ idsMax: 3 });
    for (const id of ["a", "b", "c"]) d.admit(id);
    assert.equal(d.admit("a"), false); // a is now the most recent; b the least
    assert.equal(d.admit("d"), true); // evicts b
    assert.equal(d.size, 3);
    assert.equal(d.has("b"), false);
    assert.equal(d.has("a"), true);
    assert.equal(d.admit("b"), true, "an evicted id is admitted again: the window's bound");
    assert.equal(d.has("c"), false);
    assert.equal(d.stats().evicted, 2);
  });

  await t.step("clear forgets ids but keeps counters", () => {
    const d = new MergeIdDedup();
    assert.equal(d.idsMax, 4096);
    d.admit("x");
    d.clear();
    assert.equal(d.size, 0);
    assert.equal(d.admit("x"), true);
    assert.equal(d.stats().admitted, 2);
  });

  await t.step("idsMax must be an integer >= 1", () => {
    assert.throws(
      () => new MergeIdDedup({ idsMax: 0 }),
      /expected an integer idsMax >= 1, found 0/,
    );
  });
});

Deno.test("property: merge id dedup never exceeds idsMax and matches an LRU model", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 100 }),
      (idsMax, ids) => {
        const d = new MergeIdDedup({ idsMax });
        const model: string[] = []; // least recently seen first
        for (const n of ids) {
          const id = `merge-${n}`;
          const at = model.indexOf(id);
          const expectedNew = at < 0;
          if (at >= 0) model.splice(at, 1);
          else if (model.length >= idsMax) model.shift();
          model.push(id);
          assert.equal(d.admit(id), expectedNew);
          assert.ok(d.size <= idsMax);
        }
        assert.equal(d.size, model.length);
        for (const id of model) assert.equal(d.has(id), true);
      },
    ),
    { numRuns: 300 },
  );
});
