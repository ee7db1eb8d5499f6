import assert from "node:assert/strict";
import {
  assertBookNotCrossed,
  DEFAULT_SYMBOL_SPECS,
  formatAtoms,
  formatBigAtoms,
  type LevelEvent,
  type MarketEvent,
  MarketGenerator,
  MarketPacer,
  parseDecimalAtoms,
  SeededRandom,
  type TradeEvent,
  trimDecimal,
} from "../../src/sim/market/mod.ts";

function collect(
  generator: MarketGenerator,
  events: number,
  timeMs = 1_767_225_600_000,
): MarketEvent[] {
  const out: MarketEvent[] = [];
  generator.generate(events, timeMs, (event) => out.push(event));
  return out;
}

Deno.test("seeded random is deterministic and stays in range", () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const seqA = Array.from({ length: 1000 }, () => a.below(1000));
  const seqB = Array.from({ length: 1000 }, () => b.below(1000));
  const seqC = Array.from({ length: 1000 }, () => c.below(1000));
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
  assert.ok(seqA.every((n) => Number.isInteger(n) && n >= 0 && n < 1000));
  assert.throws(() => a.below(0), /bound: expected an integer/);
});

Deno.test("decimal atoms parse and format exactly", async (t) => {
  await t.step("parse", () => {
    assert.equal(parseDecimalAtoms("0.01"), 1_000_000);
    assert.equal(parseDecimalAtoms("87250.01"), 8_725_001_000_000);
    assert.equal(parseDecimalAtoms("0.00000001"), 1);
    assert.equal(parseDecimalAtoms("5"), 500_000_000);
    assert.throws(() => parseDecimalAtoms("0.000000001"), /at most 8 fraction digits/);
    assert.throws(() => parseDecimalAtoms("-1"), /non-negative decimal/);
    assert.throws(() => parseDecimalAtoms("1e-8"), /non-negative decimal/);
  });
  await t.step("format", () => {
    assert.equal(formatAtoms(8_725_001_000_000), "87250.01000000");
    assert.equal(formatAtoms(0), "0.00000000");
    assert.equal(formatAtoms(1), "0.00000001");
    assert.equal(formatAtoms(-51_230_000_000), "-512.30000000");
    assert.equal(formatAtoms(-5, 2), "-0.05");
    assert.equal(formatAtoms(123, 0), "123");
    assert.equal(formatBigAtoms(133_311_883_051_000_000n), "1333118830.51000000");
    assert.equal(trimDecimal("87250.01000000"), "87250.01");
    assert.equal(trimDecimal("2.00000000"), "2");
    assert.equal(trimDecimal("100"), "100");
  });
});

Deno.test("same seed gives the same event sequence; another seed does not", () => {
  const first = collect(new MarketGenerator({ seed: 99 }), 5000);
  const again = collect(new MarketGenerator({ seed: 99 }), 5000);
  const other = collect(new MarketGenerator({ seed: 100 }), 5000);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other.slice(0, 100), first.slice(0, 100));
  // Batch boundaries do not change the sequence.
  const batched = new MarketGenerator({ seed: 99 });
  const pieces: MarketEvent[] = [];
  while (pieces.length < first.length) {
    batched.generate(37, 1_767_225_600_000, (e) => pieces.push(e));
  }
  assert.deepEqual(pieces.slice(0, first.length), first);
});

Deno.test("prices and sizes sit on the tick and step grid of each symbol", () => {
  const generator = new MarketGenerator({ seed: 5 });
  const events = collect(generator, 20_000);
  for (const event of events) {
    const symbol = generator.symbols[event.symbolIndex];
    assert.ok(Number.isSafeInteger(event.tick) && event.tick >= 1);
    const qty = event.qtySteps;
    assert.ok(Number.isSafeInteger(qty) && qty >= 0);
    const price = formatAtoms(event.tick * symbol.tickAtoms);
    assert.match(price, /^\d+\.\d{8}$/);
    assert.equal(parseDecimalAtoms(price) % symbol.tickAtoms, 0);
    const size = formatAtoms(qty * symbol.stepAtoms);
    assert.equal(parseDecimalAtoms(size) % symbol.stepAtoms, 0);
    if (event.kind === "trade") assert.ok(event.qtySteps > 0);
  }
  const btc = generator.symbols.find((s) => s.canonical === "BTC-USDT")!;
  assert.equal(btc.tickAtoms, parseDecimalAtoms("0.01"));
  assert.equal(btc.stepAtoms, parseDecimalAtoms("0.00001"));
  assert.ok(generator.symbols.length >= 10);
});

Deno.test("books never cross, stay sorted and bounded, and ids are consecutive", () => {
  const generator = new MarketGenerator({ seed: 11, levelsInitial: 50, levelsMax: 200 });
  const lastUpdate = generator.symbols.map((s) => generator.book(s.index).updateId);
  const lastTrade = generator.symbols.map((s) => generator.lastTradeId(s.index));
  for (let batch = 0; batch < 200; batch++) {
    generator.generate(500, 1_767_225_600_000 + batch, (event) => {
      if (event.kind === "level") {
        assert.equal(event.updateId, lastUpdate[event.symbolIndex] + 1);
        lastUpdate[event.symbolIndex] = event.updateId;
      } else {
        assert.equal(event.tradeId, lastTrade[event.symbolIndex] + 1);
        lastTrade[event.symbolIndex] = event.tradeId;
      }
    });
    for (const symbol of generator.symbols) {
      const book = generator.book(symbol.index);
      assertBookNotCrossed(book);
      assert.ok(book.bids.levelCount <= 200 && book.asks.levelCount <= 200);
      assert.ok(book.bids.levelCount >= 10 && book.asks.levelCount >= 10);
    }
  }
  for (const symbol of generator.symbols) {
    const snapshot = generator.snapshot(symbol.index, 1000);
    for (let i = 1; i < snapshot.bids.length; i++) {
      assert.ok(snapshot.bids[i - 1][0] > snapshot.bids[i][0]);
    }
    for (let i = 1; i < snapshot.asks.length; i++) {
      assert.ok(snapshot.asks[i - 1][0] < snapshot.asks[i][0]);
    }
    assert.ok(snapshot.bids.every(([, q]) => q > 0) && snapshot.asks.every(([, q]) => q > 0));
    assert.equal(snapshot.updateId, lastUpdate[symbol.index]);
  }
});

Deno.test("trades consume the level they hit, and the next level event shows it", () => {
  const generator = new MarketGenerator({ seed: 21 });
  const events = collect(generator, 30_000);
  let checked = 0;
  let pending: TradeEvent[] = [];
  for (const event of events) {
    if (event.kind === "trade") {
      pending.push(event);
      continue;
    }
    if (pending.length > 0) {
      const level = event as LevelEvent;
      const filled = pending.reduce((sum, trade) => sum + trade.qtySteps, 0);
      assert.equal(level.reason, "fill");
      assert.equal(level.tick, pending[0].tick);
      assert.ok(
        pending.every((trade) =>
          trade.tick === level.tick && trade.symbolIndex === level.symbolIndex
        ),
      );
      // A buy taker lifts asks, a sell taker hits bids.
      assert.equal(level.side, pending[0].takerSide === "buy" ? "ask" : "bid");
      assert.equal(level.prevQtySteps - level.qtySteps, filled);
      pending = [];
      checked++;
    } else {
      assert.notEqual(event.reason, "fill");
    }
  }
  assert.ok(checked > 1000, `expected many fills, found ${checked}`);
});

Deno.test("level events replayed on the initial book rebuild the final book", () => {
  const generator = new MarketGenerator({ seed: 3, symbols: DEFAULT_SYMBOL_SPECS.slice(0, 2) });
  const mirrors = generator.symbols.map((s) => {
    const snapshot = generator.snapshot(s.index, 100_000);
    return { bids: new Map(snapshot.bids), asks: new Map(snapshot.asks) };
  });
  generator.generate(20_000, 0, (event) => {
    if (event.kind !== "level") return;
    const side = event.side === "bid"
      ? mirrors[event.symbolIndex].bids
      : mirrors[event.symbolIndex].asks;
    assert.equal(side.get(event.tick) ?? 0, event.prevQtySteps);
    if (event.qtySteps === 0) side.delete(event.tick);
    else side.set(event.tick, event.qtySteps);
  });
  for (const symbol of generator.symbols) {
    const snapshot = generator.snapshot(symbol.index, 100_000);
    assert.deepEqual(new Map(snapshot.bids), mirrors[symbol.index].bids);
    assert.deepEqual(new Map(snapshot.asks), mirrors[symbol.index].asks);
  }
});

Deno.test("a per-venue price offset shifts prices and keeps the same walk", () => {
  const specs = DEFAULT_SYMBOL_SPECS.slice(0, 1);
  const plain = new MarketGenerator({ seed: 8, symbols: specs });
  const shifted = new MarketGenerator({ seed: 8, symbols: specs, priceOffsetBps: 10 });
  const shift = shifted.symbols[0].startTick - plain.symbols[0].startTick;
  assert.equal(shift, Math.round(plain.symbols[0].startTick * 0.001));
  const a = collect(plain, 2000);
  const b = collect(shifted, 2000);
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.equal(b[i].kind, a[i].kind);
    assert.equal(b[i].tick - a[i].tick, shift);
  }
});

Deno.test("pacer matches the target rate and sheds a backlog beyond its bound", () => {
  const pacer = new MarketPacer({ eventsPerSecond: 50_000 }, 0);
  let total = 0;
  for (let ms = 10; ms <= 1000; ms += 10) {
    const due = pacer.due(ms);
    total += due;
    pacer.record(due + (due > 0 ? 3 : 0)); // the generator overshoots a little
  }
  assert.ok(Math.abs(total - 50_000) < 500, `expected about 50000 events, found ${total}`);
  const slow = new MarketPacer({ eventsPerSecond: 1 }, 0);
  let slowTotal = 0;
  for (let ms = 10; ms <= 3000; ms += 10) {
    const due = slow.due(ms);
    slowTotal += due;
    slow.record(due);
  }
  assert.equal(slowTotal, 3);
  const stalled = new MarketPacer({ eventsPerSecond: 1000, catchUpMaxMs: 100 }, 0);
  assert.ok(stalled.due(5000) <= 101);
  assert.ok(stalled.stats().eventsShed >= 4800);
});
