import assert from "node:assert/strict";
import { FairShareScheduler, TokenBucket } from "../../src/consumer/mod.ts";
import { ManualClock } from "../../src/pool/clock.ts";

const BTC = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };

Deno.test("token bucket starts full, refills at its rate and never holds more than the burst", async (t) => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ rateTokensPerSec: 10, burstTokens: 3, clock });

  await t.step("a full bucket gives its burst at once, then refuses", () => {
    assert.equal(bucket.available(), 3);
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(2), true);
    assert.equal(bucket.tryTake(), false);
    assert.equal(bucket.available(), 0);
  });

  await t.step("one token every 100 ms; waitMs says when", () => {
    assert.equal(bucket.waitMs(), 100);
    clock.advance(40);
    assert.equal(bucket.tryTake(), false, "0.4 of a token is not a token");
    assert.ok(Math.abs(bucket.waitMs() - 60) < 1e-9);
    assert.ok(Math.abs(bucket.waitMs(2) - 160) < 1e-9);
    clock.advance(60);
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
  });

  await t.step("a long quiet spell refills only up to the burst", () => {
    clock.advance(60_000);
    assert.equal(bucket.available(), 3);
    assert.equal(bucket.waitMs(3), 0);
    assert.equal(bucket.waitMs(4), Infinity, "more than the burst never fits");
  });
});

Deno.test("token bucket: fractional refill adds up exactly over many small steps", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({
    rateTokensPerSec: 250,
    burstTokens: 1,
    initialTokens: 0,
    clock,
  });
  let taken = 0;
  for (let ms = 0; ms < 10_000; ms++) {
    clock.advance(1);
    while (bucket.tryTake()) taken++;
  }
  // 250/s for 10 s.
  assert.ok(taken >= 2499 && taken <= 2500, `expected ~2500 tokens, found ${taken}`);
});

Deno.test("token bucket: an infinite rate never refuses", () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({
    rateTokensPerSec: Infinity,
    burstTokens: 5,
    initialTokens: 0,
    clock,
  });
  clock.advance(1);
  for (let i = 0; i < 5; i++) assert.equal(bucket.tryTake(), true);
});

Deno.test("token bucket refuses bad options with clear messages", () => {
  assert.throws(
    () => new TokenBucket({ rateTokensPerSec: 0, burstTokens: 1 }),
    /expected rateTokensPerSec > 0 \(or Infinity\), found 0/,
  );
  assert.throws(
    () => new TokenBucket({ rateTokensPerSec: 1, burstTokens: 0.5 }),
    /expected a finite burstTokens >= 1, found 0.5/,
  );
  assert.throws(
    () => new TokenBucket({ rateTokensPerSec: 1, burstTokens: 2, initialTokens: 3 }),
    /expected initialTokens in 0\.\.2, found 3/,
  );
  const bucket = new TokenBucket({ rateTokensPerSec: 1, burstTokens: 1 });
  assert.throws(() => bucket.tryTake(0), /expected a finite token count > 0, found 0/);
});

Deno.test("stream share: refill is split by weight and each member gets its guaranteed rate", () => {
  const clock = new ManualClock();
  const shares = new FairShareScheduler({
    streamRateEventsPerSec: 300,
    streamBurstEvents: 3,
    clock,
  });
  // Weights min(r, R): 300, 200, 100 (W = 600); R_eff = max(300, 0.25 * 600) = 300.
  const a = shares.join(BTC, 1000);
  const b = shares.join(BTC, 200);
  const c = shares.join(BTC, 100);
  assert.deepEqual(shares.stats(), [{
    ...BTC,
    members: 3,
    totalWeight: 600,
    effectiveRateEventsPerSec: 300,
  }]);
  // Drain the initial credits, then count what each gets taking as fast as it can.
  for (const m of [a, b, c]) while (m.tryTake());
  const got = [0, 0, 0];
  for (let ms = 0; ms < 10_000; ms++) {
    clock.advance(1);
    [a, b, c].forEach((m, i) => {
      while (m.tryTake()) got[i]++;
    });
  }
  // All three always want more: shares are 150, 100, 50 per second.
  assert.ok(Math.abs(got[0] - 1500) <= 2, `a: ${got[0]}`);
  assert.ok(Math.abs(got[1] - 1000) <= 2, `b: ${got[1]}`);
  assert.ok(Math.abs(got[2] - 500) <= 2, `c: ${got[2]}`);
});

Deno.test("stream share: what a member leaves unused spills to the others (work conserving)", () => {
  const clock = new ManualClock();
  const shares = new FairShareScheduler({
    streamRateEventsPerSec: 300,
    streamBurstEvents: 3,
    clock,
  });
  const greedy = shares.join(BTC, 300);
  const idle = shares.join(BTC, 300);
  while (greedy.tryTake());
  let got = 0;
  for (let ms = 0; ms < 10_000; ms++) {
    clock.advance(1);
    while (greedy.tryTake()) got++;
  }
  // The idle member's cap fills at once; everything after that spills to the greedy one.
  assert.ok(got >= 2990 && got <= 3000, `expected ~3000 (the whole stream), found ${got}`);
  assert.ok(idle.credit <= idle.cap);
  assert.equal(idle.tryTake(), true, "the idle member kept its own burst");
});

Deno.test("stream share: with many members the floor raises capacity so each keeps 25 %", () => {
  const clock = new ManualClock();
  const shares = new FairShareScheduler({
    streamRateEventsPerSec: 300,
    streamBurstEvents: 8,
    clock,
  });
  const members = Array.from({ length: 6 }, () => shares.join(BTC, 300));
  // W = 1800, R_eff = max(300, 450) = 450: 75/s each = 25 % of 300.
  assert.equal(shares.stats()[0].effectiveRateEventsPerSec, 450);
  for (const m of members) while (m.tryTake());
  const got = members.map(() => 0);
  for (let ms = 0; ms < 4_000; ms++) {
    clock.advance(1);
    members.forEach((m, i) => {
      while (m.tryTake()) got[i]++;
    });
  }
  for (const n of got) assert.ok(n >= 0.25 * 300 * 4 - 2, `expected >= 298 per member, found ${n}`);
});

Deno.test("stream share: leaving re-splits the stream; the last member removes the share", () => {
  const clock = new ManualClock();
  const shares = new FairShareScheduler({ streamRateEventsPerSec: 100, clock });
  const a = shares.join(BTC, 100);
  const b = shares.join(BTC, 100);
  assert.equal(shares.streams, 1);
  assert.equal(a.share.guaranteedRate(a), 50);
  shares.leave(b);
  shares.leave(b); // idempotent
  assert.equal(b.tryTake(), false, "a member that left takes nothing");
  assert.equal(a.share.guaranteedRate(a), 100);
  shares.leave(a);
  assert.equal(shares.streams, 0);
  assert.throws(
    () => new FairShareScheduler({ streamRateEventsPerSec: Infinity }),
    /expected a finite streamRateEventsPerSec > 0, found Infinity/,
  );
  assert.throws(
    () => new FairShareScheduler({ streamRateEventsPerSec: 1, shareFloor: 0 }),
    /expected shareFloor in \(0, 1\], found 0/,
  );
});
