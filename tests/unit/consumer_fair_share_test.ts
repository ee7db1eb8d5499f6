import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry, type StreamKey } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import { ManualClock } from "../../src/pool/clock.ts";
import { CanonicalEvent } from "../../src/schema/mod.ts";
import { sampleTrade } from "../support/schema_samples.ts";

/** A reader: its budget and how many messages it reads per tick (every `everyMs`). */
interface ReaderSpec {
  id: string;
  rateEventsPerSec: number;
  burstEvents: number;
  /** Messages read per read tick (Infinity: everything deliverable). */
  readsPerTick: number;
  /** Read ticks happen every `everyMs` ms. */
  everyMs: number;
}

interface Scenario {
  streams: StreamKey[];
  /** λ: events per second each stream produces. */
  streamEventsPerSec: number;
  /** R: fan-out capacity per stream. */
  streamRateEventsPerSec: number;
  readers: ReaderSpec[];
  durationMs: number;
}

interface Outcome {
  /** Market events each reader received. */
  received: Map<string, number>;
  /** Market events delivered per stream, all readers together. */
  deliveredByStream: Map<string, number>;
}

/**
 * Runs producers and readers on a manual clock, 1 ms per step, through the real routing table
 * and dispatcher. Readers poll in the order given, so the first one is always first in line.
 */
function run(s: Scenario): Outcome {
  const clock = new ManualClock();
  const pool = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 4,
    create: () => new CanonicalEvent(),
  });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({
    routes,
    clock,
    streamRateEventsPerSec: s.streamRateEventsPerSec,
    streamBurstEvents: 8,
    queueEventsMax: 256,
  });
  const dispatcher = new Dispatcher({ routes, pool });
  const consumers = s.readers.map((r) => {
    const c = registry.create(r.id, {
      rateEventsPerSec: r.rateEventsPerSec,
      burstEvents: r.burstEvents,
    });
    for (const key of s.streams) assert.equal(c.subscribe(key).ok, true);
    return c;
  });
  const received = new Map(s.readers.map((r) => [r.id, 0]));
  const deliveredByStream = new Map(s.streams.map((k) => [k.symbol, 0]));
  const periodMs = 1000 / s.streamEventsPerSec;
  let seq = 0;
  let nextEventMs = periodMs;
  try {
    for (let ms = 1; ms <= s.durationMs; ms++) {
      clock.advance(1);
      for (; nextEventMs <= ms; nextEventMs += periodMs) {
        seq++;
        for (const key of s.streams) {
          const ev = pool.tryAcquire()!;
          ev.copyFrom(
            sampleTrade({ symbol: key.symbol, seq, seqFirst: seq, tradeId: String(seq) }),
          );
          dispatcher.dispatch(ev);
        }
      }
      s.readers.forEach((r, i) => {
        if (ms % r.everyMs !== 0) return;
        for (let n = 0; n < r.readsPerTick; n++) {
          const msg = consumers[i].poll();
          if (msg === undefined) break;
          if (msg.type !== undefined) continue; // gap markers are free and not bandwidth
          received.set(r.id, received.get(r.id)! + 1);
          deliveredByStream.set(msg.symbol, deliveredByStream.get(msg.symbol)! + 1);
        }
      });
    }
  } finally {
    registry.close();
  }
  assert.equal(pool.inFlightCount(), 0);
  return { received, deliveredByStream };
}

/** B(c) = min(r_c, Σ_s min(λ_s, r_c, R)): what `r` would receive alone, reading as fast as allowed. */
function subscribedBandwidth(s: Scenario, r: ReaderSpec): number {
  const perStream = Math.min(s.streamEventsPerSec, r.rateEventsPerSec, s.streamRateEventsPerSec);
  return Math.min(r.rateEventsPerSec, perStream * s.streams.length);
}

const BTC: StreamKey = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };
const ETH: StreamKey = { provider: "binance", symbol: "ETH-USDT", kind: "trade" };

Deno.test("fair share: three consumers with different drain speeds each get >= 25 % of their subscribed bandwidth", () => {
  const scenario: Scenario = {
    streams: [BTC, ETH],
    streamEventsPerSec: 500,
    streamRateEventsPerSec: 300,
    readers: [
      // Polls first every ms and takes all it may: the greedy one.
      { id: "greedy", rateEventsPerSec: 1000, burstEvents: 10, readsPerTick: Infinity, everyMs: 1 },
      { id: "steady", rateEventsPerSec: 200, burstEvents: 5, readsPerTick: 1, everyMs: 1 },
      // Reads 1 message per 10 ms (100/s), in line with its budget.
      { id: "slow", rateEventsPerSec: 100, burstEvents: 2, readsPerTick: 1, everyMs: 10 },
    ],
    durationMs: 10_000,
  };
  const out = run(scenario);
  if (Deno.env.get("FAIR_SHARE_PRINT") === "1") console.log(out);
  const seconds = scenario.durationMs / 1000;
  for (const r of scenario.readers) {
    const got = out.received.get(r.id)! / seconds;
    const b = subscribedBandwidth(scenario, r);
    assert.ok(
      got >= 0.25 * b,
      `${r.id}: expected >= 25 % of ${b}/s, found ${got}/s (${(100 * got / b).toFixed(1)} %)`,
    );
    assert.ok(
      got <= r.rateEventsPerSec + r.burstEvents / seconds,
      `${r.id} stays within its budget`,
    );
  }
  // The slow and steady readers are not starved by the greedy one: they get their whole budget.
  assert.ok(out.received.get("slow")! / seconds >= 95, `slow: ${out.received.get("slow")}`);
  assert.ok(out.received.get("steady")! / seconds >= 190, `steady: ${out.received.get("steady")}`);
  // Each stream's fan-out stays within R_eff = max(300, 0.25 * (300 + 200 + 100)) = 300/s
  // (plus the members' initial credits).
  for (const [symbol, n] of out.deliveredByStream) {
    assert.ok(n <= 300 * seconds + 24, `${symbol}: ${n} deliveries exceed the stream capacity`);
  }
  // The greedy reader gets what the others leave: 2 * 300 - 200 - 100 = 300/s.
  const greedy = out.received.get("greedy")! / seconds;
  assert.ok(greedy >= 290 && greedy <= 310, `greedy: ${greedy}/s`);
});

Deno.test("fair share: with five greedy consumers on one stream the floor keeps each at 25 %", () => {
  const readers: ReaderSpec[] = Array.from({ length: 5 }, (_, i) => ({
    id: `c${i + 1}`,
    rateEventsPerSec: 300,
    burstEvents: 5,
    readsPerTick: Infinity,
    everyMs: 1,
  }));
  const scenario: Scenario = {
    streams: [BTC],
    streamEventsPerSec: 1000,
    // An equal split of 300 would give each 60/s = 20 %; the floor raises R_eff to 375.
    streamRateEventsPerSec: 300,
    readers,
    durationMs: 4_000,
  };
  const out = run(scenario);
  const seconds = scenario.durationMs / 1000;
  for (const r of readers) {
    const got = out.received.get(r.id)! / seconds;
    const b = subscribedBandwidth(scenario, r);
    assert.ok(got >= 0.25 * b, `${r.id}: expected >= ${0.25 * b}/s, found ${got}/s`);
  }
});

Deno.test("fair share is off by default: consumers are limited only by their own budgets", () => {
  const scenario: Scenario = {
    streams: [BTC],
    streamEventsPerSec: 500,
    streamRateEventsPerSec: Infinity,
    readers: [
      { id: "a", rateEventsPerSec: Infinity, burstEvents: 1, readsPerTick: Infinity, everyMs: 1 },
      { id: "b", rateEventsPerSec: 100, burstEvents: 1, readsPerTick: Infinity, everyMs: 1 },
    ],
    durationMs: 2_000,
  };
  const out = run(scenario);
  assert.equal(out.received.get("a"), 1000, "every event");
  const b = out.received.get("b")!;
  assert.ok(b >= 199 && b <= 201, `b: ${b} (100/s)`);
});
