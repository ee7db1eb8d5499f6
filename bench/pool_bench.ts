/**
 * Pool suite: the cost of a pooled CanonicalEvent against allocating a new one per event, and
 * the cost of pool debug mode (poisoning + stack capture) against debug off.
 *
 * Each operation fills a realistic trade the way a decoder does (eleven fields, strings taken from
 * a prepared set so string allocation, which both variants pay alike, does not blur the
 * comparison) and stores the event in a ring "sink" so V8 cannot elide the allocation by escape
 * analysis: the event escapes, as it does in the gateway where the dispatcher receives it.
 *
 * @module
 */

import { BoundedPool } from "../src/pool/mod.ts";
import { CanonicalEvent } from "../src/schema/canonical_event.ts";
import { bytesSaved, measure, speedup } from "./harness.ts";
import type { BenchSuiteResult } from "./run.ts";

const GROUP = "canonical_event";
const OPS_FAST = 200_000;
/** Debug mode records two traces per op (µs each): fewer ops keep a round in tens of ms. */
const OPS_DEBUG = 10_000;
const SINK_SIZE = 1024;
const PRICES_SIZE = 64;
/** Bytes/op below which a row counts as allocation-free (see the verdict). */
const ALLOCATION_NOISE_BYTES_MAX = 4;

const PRICES = Array.from({ length: PRICES_SIZE }, (_, i) => (87_250 + i * 0.01).toFixed(8));
const QTYS = Array.from({ length: PRICES_SIZE }, (_, i) => (0.0012 + i * 0.0001).toFixed(8));
const TRADE_IDS = Array.from({ length: PRICES_SIZE }, (_, i) => String(5_123_456_789 + i));
const sink: (CanonicalEvent | null)[] = new Array(SINK_SIZE).fill(null);

/** What a Binance trade decoder writes into a pooled event. */
function fillTrade(ev: CanonicalEvent, i: number): void {
  const k = i & (PRICES_SIZE - 1);
  // A local, as a decoder's parsed number is (a module-level counter would box a new
  // HeapNumber per increment and charge the pool for the bench's own allocation).
  const seq = 5_123_456_789 + i;
  ev.kind = "trade";
  ev.provider = "binance";
  ev.symbol = "BTC-USDT";
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.exchangeTsMs = 1_760_000_000_000 + i;
  ev.recvTsMs = 1_760_000_000_000.5 + i;
  ev.tradeId = TRADE_IDS[k];
  ev.price = PRICES[k];
  ev.qty = QTYS[k];
  ev.side = (i & 1) === 0 ? "buy" : "sell";
}

function roundNew(ops: number): void {
  for (let i = 0; i < ops; i++) {
    const ev = new CanonicalEvent();
    fillTrade(ev, i);
    sink[i & (SINK_SIZE - 1)] = ev;
  }
}

function makePool(debug: boolean): BoundedPool<CanonicalEvent> {
  return new BoundedPool<CanonicalEvent>({
    name: debug ? "bench_debug" : "bench",
    capacity: 64,
    create: () => new CanonicalEvent(),
    debug,
  });
}

function pooledRound(pool: BoundedPool<CanonicalEvent>): (ops: number) => void {
  return (ops: number): void => {
    for (let i = 0; i < ops; i++) {
      const ev = pool.tryAcquire();
      if (ev === null) {
        throw new Error(`bench: expected a free event, found pool "${pool.name}" exhausted`);
      }
      fillTrade(ev, i);
      sink[i & (SINK_SIZE - 1)] = ev;
      pool.release(ev);
    }
  };
}

/** The part of a pooled op that belongs to the object, not the pool. */
function roundResetOnly(ops: number): void {
  const ev = new CanonicalEvent();
  for (let i = 0; i < ops; i++) {
    fillTrade(ev, i);
    ev.reset();
  }
  sink[0] = ev;
}

/** A pooled object whose reset costs next to nothing: isolates the pool's own overhead. */
class Token {
  n = 0;

  reset(): void {
    this.n = 0;
  }
}

function roundTokenPool(pool: BoundedPool<Token>): (ops: number) => void {
  return (ops: number): void => {
    for (let i = 0; i < ops; i++) {
      const t = pool.tryAcquire();
      if (t === null) {
        throw new Error(`bench: expected a free token, found pool "${pool.name}" exhausted`);
      }
      t.n = i;
      pool.release(t);
    }
  };
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

function fmt(x: number): string {
  return x.toFixed(1);
}

/** Runs the pool suite. */
export function run(): Promise<BenchSuiteResult> {
  const fast = { opsPerRound: OPS_FAST };
  const baseline = measure(GROUP, "new CanonicalEvent() + fill", roundNew, fast);
  const off = measure(
    GROUP,
    "pool tryAcquire + fill + release, debug off",
    pooledRound(makePool(false)),
    fast,
  );
  const on = measure(
    GROUP,
    "pool tryAcquire + fill + release, debug on",
    pooledRound(makePool(true)),
    {
      opsPerRound: OPS_DEBUG,
      rounds: 5,
    },
  );
  const resetOnly = measure(GROUP, "fill + CanonicalEvent.reset(), no pool", roundResetOnly, fast);
  const tokenPool = new BoundedPool<Token>({
    name: "tokens",
    capacity: 64,
    create: () => new Token(),
  });
  const poolOnly = measure(
    "pool_only",
    "tryAcquire + release of a trivial object",
    roundTokenPool(tokenPool),
    fast,
  );
  sink.fill(null);

  const saved = pct(bytesSaved(off, baseline));
  const speed = speedup(off, baseline).toFixed(2);
  const debugCost = (on.nsPerOp / off.nsPerOp).toFixed(1);
  // The smallest V8 heap object is 12-16 bytes, so any per-op allocation would show >= 12
  // bytes/op; what remains below 4 is the harness's heap-statistics read and JIT noise.
  const fastPathZero = off.bytesPerOp < ALLOCATION_NOISE_BYTES_MAX;
  baseline.note = "baseline";
  off.note = `${speed}× speed of new, ${saved} fewer bytes`;
  on.note = `${debugCost}× debug off (2 traces, poison, 2nd reset per op)`;
  resetOnly.note = "the object's own part of the pooled row";
  poolOnly.note = "the pool's own part of the pooled row";

  const verdicts = [
    `pooled allocates ${saved} fewer bytes/op than new ` +
    `(${fmt(off.bytesPerOp)} vs ${fmt(baseline.bytesPerOp)} bytes/op)`,
    `target "pool fast path allocates nothing": ${fastPathZero ? "met" : "MISSED"} ` +
    `(${off.bytesPerOp.toFixed(2)} bytes/op < ${ALLOCATION_NOISE_BYTES_MAX}: measurement noise, ` +
    `not one object per op)`,
    `pooled runs at ${speed}× the speed of new (${fmt(off.nsPerOp)} vs ${fmt(baseline.nsPerOp)} ` +
    `ns/op; new's timing includes its scavenges, not the old-generation pressure of a big heap)`,
    `the pool's own tryAcquire + release costs ${fmt(poolOnly.nsPerOp)} ns/op (trivial object); ` +
    `fill + CanonicalEvent.reset() alone ${fmt(resetOnly.nsPerOp)} ns/op`,
    `debug-on costs ${debugCost}× debug-off (${on.nsPerOp.toFixed(0)} vs ${fmt(off.nsPerOp)} ` +
    `ns/op, ${on.bytesPerOp.toFixed(0)} bytes/op): the price of stack traces, paid only in debug`,
  ];
  if (resetOnly.nsPerOp > 2 * poolOnly.nsPerOp) {
    // Measured: `arr.length = 0` takes a slow runtime path even when the array is already empty
    // (tens of ns each); reset() touches the level storage only when a count or a store calls
    // for it, so the common trade event pays two comparisons.
    verdicts.push(
      `CanonicalEvent.reset() outweighs the pool (${fmt(resetOnly.nsPerOp)} vs ` +
        `${fmt(poolOnly.nsPerOp)} ns/op): keep its level clearing behind the count checks`,
    );
  }
  return Promise.resolve({
    title: "Object pool: pooled CanonicalEvent vs new",
    rows: [baseline, off, on, resetOnly, poolOnly],
    verdicts,
  });
}
