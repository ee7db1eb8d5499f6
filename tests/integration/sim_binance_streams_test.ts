import assert from "node:assert/strict";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { isRecord, sleep, TestWsClient } from "./sim_binance_ws_client.ts";

const DEC8 = /^-?\d+\.\d{8}$/;

/** Asserts the exact key order and the type of every key (`s` string, `n` number, `d` 8-decimal string, `b` boolean, `a` array, `o` object). */
function assertShape(payload: unknown, shape: Record<string, string>, what: string): void {
  assert.ok(isRecord(payload), `${what}: expected an object`);
  assert.deepEqual(Object.keys(payload), Object.keys(shape), `${what}: key order`);
  for (const [key, type] of Object.entries(shape)) {
    const value = payload[key];
    const ok = type === "s"
      ? typeof value === "string"
      : type === "n"
      ? Number.isSafeInteger(value)
      : type === "d"
      ? typeof value === "string" && DEC8.test(value)
      : type === "b"
      ? typeof value === "boolean"
      : type === "a"
      ? Array.isArray(value)
      : isRecord(value);
    assert.ok(ok, `${what}.${key}: expected type ${type}, found ${JSON.stringify(value)}`);
  }
}

function assertLevels(levels: unknown, what: string): void {
  assert.ok(Array.isArray(levels), `${what}: expected an array`);
  for (const level of levels) {
    assert.ok(Array.isArray(level) && level.length === 2, `${what}: expected [price, qty]`);
    assert.match(level[0], DEC8);
    assert.match(level[1], DEC8);
  }
}

const TRADE = { e: "s", E: "n", s: "s", t: "n", p: "d", q: "d", T: "n", m: "b", M: "b" };
const AGG = {
  e: "s",
  E: "n",
  s: "s",
  a: "n",
  p: "d",
  q: "d",
  f: "n",
  l: "n",
  T: "n",
  m: "b",
  M: "b",
};
const DEPTH = { e: "s", E: "n", s: "s", U: "n", u: "n", b: "a", a: "a" };
const PARTIAL = { lastUpdateId: "n", bids: "a", asks: "a" };
const BOOK_TICKER = { u: "n", s: "s", b: "d", B: "d", a: "d", A: "d" };
const TICKER = {
  e: "s",
  E: "n",
  s: "s",
  p: "d",
  P: "s",
  w: "d",
  x: "d",
  c: "d",
  Q: "d",
  b: "d",
  B: "d",
  a: "d",
  A: "d",
  o: "d",
  h: "d",
  l: "d",
  v: "d",
  q: "d",
  O: "n",
  C: "n",
  F: "n",
  L: "n",
  n: "n",
};
const MINI = { e: "s", E: "n", s: "s", c: "d", o: "d", h: "d", l: "d", v: "d", q: "d" };
const KLINE = { e: "s", E: "n", s: "s", k: "o" };
const KLINE_K = {
  t: "n",
  T: "n",
  s: "s",
  i: "s",
  f: "n",
  L: "n",
  o: "d",
  c: "d",
  h: "d",
  l: "d",
  v: "d",
  n: "n",
  x: "b",
  q: "d",
  V: "d",
  Q: "d",
  B: "s",
};

Deno.test("combined streams deliver every documented payload shape", async () => {
  const sim = await startBinanceSim({ seed: 4, eventsPerSecond: 3000, timeScale: 0.02 });
  const streams = [
    "btcusdt@trade",
    "btcusdt@aggTrade",
    "btcusdt@depth",
    "btcusdt@depth@100ms",
    "btcusdt@depth5",
    "btcusdt@depth10@100ms",
    "btcusdt@depth20",
    "btcusdt@bookTicker",
    "btcusdt@ticker",
    "btcusdt@miniTicker",
    "btcusdt@kline_1m",
    "!miniTicker@arr",
    "btcusdt@avgPrice",
  ];
  const client = await TestWsClient.open(`${sim.wsUrl}/stream?streams=${streams.join("/")}`);
  try {
    await client.until(
      () => streams.every((s) => client.matching((m) => m.stream === s).length > 0),
      5000,
      "one frame of every stream",
    );
    const first = (stream: string) =>
      client.matching<{ stream: string; data: unknown }>((m) => m.stream === stream)[0];
    for (const frame of client.matching((m) => "stream" in m)) {
      assert.deepEqual(Object.keys(frame), ["stream", "data"]);
    }
    assertShape(first("btcusdt@trade").data, TRADE, "trade");
    assertShape(first("btcusdt@aggTrade").data, AGG, "aggTrade");
    for (const s of ["btcusdt@depth", "btcusdt@depth@100ms"]) {
      const depth = first(s).data as Record<string, unknown>;
      assertShape(depth, DEPTH, s);
      assertLevels(depth.b, `${s}.b`);
      assertLevels(depth.a, `${s}.a`);
      assert.equal(depth.e, "depthUpdate");
      assert.ok((depth.U as number) <= (depth.u as number));
    }
    for (
      const [s, n] of [["btcusdt@depth5", 5], ["btcusdt@depth10@100ms", 10], [
        "btcusdt@depth20",
        20,
      ]] as const
    ) {
      const partial = first(s).data as Record<string, unknown>;
      assertShape(partial, PARTIAL, s);
      assertLevels(partial.bids, s);
      assert.equal((partial.bids as unknown[]).length, n);
      assert.equal((partial.asks as unknown[]).length, n);
    }
    assertShape(first("btcusdt@bookTicker").data, BOOK_TICKER, "bookTicker");
    const ticker = first("btcusdt@ticker").data as Record<string, unknown>;
    assertShape(ticker, TICKER, "ticker");
    assert.match(ticker.P as string, /^-?\d+\.\d{3}$/);
    assert.equal(ticker.e, "24hrTicker");
    assertShape(first("btcusdt@miniTicker").data, MINI, "miniTicker");
    const kline = first("btcusdt@kline_1m").data as Record<string, unknown>;
    assertShape(kline, KLINE, "kline");
    assertShape(kline.k, KLINE_K, "kline.k");
    const arr = first("!miniTicker@arr").data;
    assert.ok(Array.isArray(arr) && arr.length > 0);
    for (const mini of arr) assertShape(mini, MINI, "!miniTicker@arr[]");
    assertShape(
      first("btcusdt@avgPrice").data,
      { e: "s", E: "n", s: "s", i: "s", w: "d", T: "n" },
      "avgPrice",
    );
    // Prices are on BTCUSDT's 0.01 tick and quantities on its 0.00001 step.
    for (
      const trade of client.matching<{ data: { p: string; q: string } }>((m) =>
        m.stream === "btcusdt@trade"
      )
    ) {
      assert.match(trade.data.p, /^\d+\.\d{2}000000$/);
      assert.match(trade.data.q, /^\d+\.\d{5}000$/);
    }
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("raw streams deliver bare payloads, one or several per connection", async () => {
  const sim = await startBinanceSim({ seed: 5, eventsPerSecond: 3000, timeScale: 0.05 });
  const one = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
  const two = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@bookTicker/ethusdt@aggTrade`);
  try {
    await one.until(() => one.received.length >= 5, 3000, "five trades");
    for (const r of one.received) {
      assertShape(r.json, TRADE, "raw trade");
      assert.equal((r.json as { s: string }).s, "BTCUSDT");
    }
    await two.until(
      () =>
        two.matching((m) => m.e === "aggTrade").length > 0 &&
        two.matching((m) => "u" in m && !("e" in m)).length > 0,
      3000,
      "bookTicker and aggTrade",
    );
    for (const r of two.received) assert.ok(isRecord(r.json) && !("stream" in r.json));
    assert.ok(two.matching((m) => m.e === "aggTrade").every((m) => m.s === "ETHUSDT"));
  } finally {
    await one.close();
    await two.close();
    await sim.close();
  }
});

Deno.test("a kline bar is sent closed (x: true) exactly once", async () => {
  // klineBarScale 0.01: a 1m bar lasts 600 ms; updates every 40 ms.
  const sim = await startBinanceSim({
    seed: 6,
    eventsPerSecond: 2000,
    timeScale: 0.02,
    klineBarScale: 0.01,
  });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@kline_1m`);
  try {
    await client.until(
      () => client.matching((m) => isRecord(m.k) && m.k.x === true).length >= 3,
      5000,
      "three closed bars",
    );
    const klines = client.matching<
      { k: { t: number; T: number; x: boolean; i: string; o: string; c: string } }
    >(
      (m) => m.e === "kline",
    );
    const closedCount = new Map<number, number>();
    const closedAt = new Map<number, number>();
    klines.forEach((m, index) => {
      assert.equal(m.k.i, "1m");
      assert.equal(m.k.T, m.k.t + 600 - 1);
      if (m.k.x) {
        closedCount.set(m.k.t, (closedCount.get(m.k.t) ?? 0) + 1);
        closedAt.set(m.k.t, index);
      }
    });
    for (const [t, count] of closedCount) {
      assert.equal(count, 1, `bar ${t}: expected one closed frame, found ${count}`);
      // Nothing about a bar follows its closing frame.
      assert.ok(klines.slice(closedAt.get(t)! + 1).every((m) => m.k.t !== t));
    }
    // Bars follow each other: each closed bar's successor opens where it ended.
    const opens = [...new Set(klines.map((m) => m.k.t))];
    for (let i = 1; i < opens.length; i++) assert.ok(opens[i] > opens[i - 1]);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("same seed gives the same first events over the wire; another seed does not", async () => {
  const options = { eventsPerSecond: 4000, paused: true, symbols: ["BTCUSDT", "ETHUSDT"] };
  const sims = await Promise.all([
    startBinanceSim({ ...options, seed: 77 }),
    startBinanceSim({ ...options, seed: 77 }),
    startBinanceSim({ ...options, seed: 78 }),
  ]);
  const clients = await Promise.all(
    sims.map((sim) => TestWsClient.open(`${sim.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`)),
  );
  try {
    for (const sim of sims) sim.resume();
    const n = 40;
    for (const client of clients) {
      await client.until(() => client.received.length >= n, 5000, `${n} trades`);
    }
    const essence = (client: TestWsClient) =>
      client.received.slice(0, n).map((r) => {
        const d = (r.json as { data: Record<string, unknown> }).data;
        return [d.s, d.t, d.p, d.q, d.m];
      });
    assert.deepEqual(essence(clients[1]), essence(clients[0]));
    assert.notDeepEqual(essence(clients[2]), essence(clients[0]));
  } finally {
    for (const client of clients) await client.close();
    for (const sim of sims) await sim.close();
  }
});

Deno.test("unknown but well-formed symbols are accepted and stay silent", async () => {
  const sim = await startBinanceSim({ seed: 7, eventsPerSecond: 2000, timeScale: 0.05 });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/nosuchcoin@trade`);
  try {
    client.send({ method: "SUBSCRIBE", params: ["fakeusdt@depth"], id: 1 });
    await client.next((m) => m.id === 1);
    await sleep(300);
    assert.equal(client.received.length, 1);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("volumes past 2^53 atoms are still formatted exactly", async () => {
  const { SymbolFormat } = await import("../../src/sim/binance/symbol_format.ts");
  const { MarketGenerator, DEFAULT_SYMBOL_SPECS } = await import("../../src/sim/market/mod.ts");
  const doge =
    new MarketGenerator({ symbols: DEFAULT_SYMBOL_SPECS.filter((s) => s.base === "DOGE") })
      .symbols[0];
  const format = new SymbolFormat(doge);
  assert.equal(format.qty(91_231_671), "91231671.00000000");
  assert.equal(format.qty(123_456_789_012), "123456789012.00000000");
  assert.equal(format.price(15_000), "0.15000000");
  assert.equal(format.quote(15_000n * 123_456_789_012n), "18518518351.80000000");
});

Deno.test("a kline stream keeps working after unsubscribe and resubscribe", async () => {
  const sim = await startBinanceSim({ seed: 8, eventsPerSecond: 2000, timeScale: 0.02 });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@kline_5m`);
  try {
    await client.next((m) => m.e === "kline");
    client.send({ method: "UNSUBSCRIBE", params: ["btcusdt@kline_5m"], id: 1 });
    await client.next((m) => m.id === 1);
    client.send({ method: "SUBSCRIBE", params: ["btcusdt@kline_5m"], id: 2 });
    const from = client.received.findIndex((r) => (r.json as { id?: number }).id === 2);
    const kline = await client.next<{ k: { i: string } }>((m) => m.e === "kline", 3000, from + 1);
    assert.equal(kline.k.i, "5m");
  } finally {
    await client.close();
    await sim.close();
  }
});
