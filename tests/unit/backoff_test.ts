import assert from "node:assert/strict";
import { Backoff } from "../../src/adapter/shared/backoff.ts";

/** A random source replaying `values` in a loop. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

Deno.test("backoff grows by the multiplier and stops at the cap", () => {
  const backoff = new Backoff({ initialMs: 250, maxMs: 2_000, jitter: "none" });
  const delays = Array.from({ length: 7 }, () => backoff.next());
  assert.deepEqual(delays, [250, 500, 1_000, 2_000, 2_000, 2_000, 2_000]);
  assert.equal(backoff.attempt, 7);
});

Deno.test("backoff honours a custom multiplier", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, multiplier: 3, jitter: "none" });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [100, 300, 900]);
});

Deno.test("backoff reset starts the schedule over", () => {
  const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, jitter: "none" });
  backoff.next();
  backoff.next();
  backoff.next();
  assert.equal(backoff.nextBaseMs, 2_000);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 250);
});

Deno.test("backoff never overflows during a long outage", () => {
  const backoff = new Backoff({ initialMs: 1, maxMs: 30_000, jitter: "none" });
  let last = 0;
  for (let i = 0; i < 5_000; i++) last = backoff.next();
  assert.equal(last, 30_000);
});

Deno.test("full jitter stays within [minMs, base] of each attempt", async (t) => {
  await t.step("extremes of the random source", () => {
    const low = new Backoff({ initialMs: 200, maxMs: 1_000, jitter: "full", random: () => 0 });
    // random 0 would give 0 ms: the floor (default min(initialMs, 100)) prevents a tight loop.
    assert.deepEqual([low.next(), low.next(), low.next()], [100, 100, 100]);
    const high = new Backoff({
      initialMs: 200,
      maxMs: 1_000,
      jitter: "full",
      random: () => 0.999999,
    });
    const delays = [high.next(), high.next(), high.next(), high.next()];
    const bases = [200, 400, 800, 1_000];
    delays.forEach((d, i) => assert.ok(d <= bases[i] && d > bases[i] * 0.999, `${d}`));
  });
  await t.step("many random draws", () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, minMs: 50 });
    for (let round = 0; round < 50; round++) {
      backoff.reset();
      for (let i = 0; i < 10; i++) {
        const base = backoff.nextBaseMs;
        const d = backoff.next();
        assert.ok(d >= 50 && d <= base, `attempt ${i}: ${d} outside [50, ${base}]`);
      }
    }
  });
  await t.step("a middle draw scales the base", () => {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 8_000, random: sequence([0.5]) });
    assert.deepEqual([backoff.next(), backoff.next()], [500, 1_000]);
  });
});

Deno.test("ratio jitter keeps delays within (base * (1 - ratio), base]", () => {
  const backoff = new Backoff({
    initialMs: 1_000,
    maxMs: 4_000,
    jitter: 0.5,
    random: sequence([0, 0.5, 0.999]),
  });
  assert.equal(backoff.next(), 1_000); // r = 0 → the base itself
  assert.equal(backoff.next(), 1_500); // base 2000, r = 0.5 → 2000 * (1 - 0.25)
  const d = backoff.next(); // base 4000, r → 1 → just above 2000
  assert.ok(d > 2_000 && d < 2_010, `${d}`);
});

Deno.test("backoff rejects invalid options with clear messages", () => {
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), /expected backoff initialMs > 0/);
  assert.throws(
    () => new Backoff({ initialMs: 100, maxMs: 50 }),
    /expected backoff maxMs >= initialMs \(100\), found 50/,
  );
  assert.throws(
    () => new Backoff({ initialMs: 100, maxMs: 500, multiplier: 0.5 }),
    /expected backoff multiplier >= 1/,
  );
  assert.throws(
    () => new Backoff({ initialMs: 100, maxMs: 500, jitter: 1.5 }),
    /expected backoff jitter ratio in \[0, 1\]/,
  );
  assert.throws(
    () => new Backoff({ initialMs: 100, maxMs: 500, minMs: 200 }),
    /expected backoff minMs in \[0, 100\]/,
  );
  const bad = new Backoff({ initialMs: 100, maxMs: 500, random: () => 1 });
  assert.throws(() => bad.next(), /expected the backoff random source to return \[0, 1\)/);
});
