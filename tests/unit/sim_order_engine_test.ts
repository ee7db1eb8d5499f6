import assert from "node:assert/strict";
import {
  MarketBookSource,
  type SimBookLevel,
  type SimBookSource,
  type SimInstrument,
  simInstrumentsFromMarket,
  SimOrderEngine,
  type SimOrderEngineOptions,
  type SimOrderEvent,
  type SimOrderInput,
} from "../../src/sim/order_engine/mod.ts";
import { MarketGenerator } from "../../src/sim/market/mod.ts";

const BTC: SimInstrument = {
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  tickSize: "0.01",
  stepSize: "0.001",
  minQty: "0.002",
  minNotional: "5",
};

/** A fixed book the tests edit directly. */
class FakeBook implements SimBookSource {
  bids: SimBookLevel[] = [{ price: "99", qty: "1" }, { price: "98", qty: "2" }];
  asks: SimBookLevel[] = [
    { price: "101", qty: "0.5" },
    { price: "102", qty: "1" },
    { price: "103", qty: "2" },
  ];
  levels(symbol: string, side: "bid" | "ask", levelsMax: number): SimBookLevel[] {
    if (symbol !== "BTC-USDT") return [];
    return (side === "bid" ? this.bids : this.asks).slice(0, levelsMax);
  }
}

function setup(opts: Partial<SimOrderEngineOptions> = {}) {
  const book = new FakeBook();
  let now = 1000;
  const engine = new SimOrderEngine({
    instruments: [BTC],
    book,
    clock: () => now++,
    initialBalances: { USDT: "100000", BTC: "10" },
    ...opts,
  });
  const events: SimOrderEvent[] = [];
  engine.subscribe("acct", (e) => events.push(e));
  return { engine, book, events };
}

function order(overrides: Partial<SimOrderInput> = {}): SimOrderInput {
  return {
    account: "acct",
    clientId: "c1",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    postOnly: false,
    price: "100",
    qty: "1",
    ...overrides,
  };
}

function summary(events: SimOrderEvent[]): string[] {
  return events.map((e) =>
    e.kind === "trade"
      ? `trade ${e.qty}@${e.price} ${e.order.state} cum=${e.order.cumQty} maker=${e.maker}`
      : `${e.kind} ${e.order.state}${e.order.endReason === "" ? "" : " " + e.order.endReason}`
  );
}

Deno.test("resting order fills partially then fully through fillResting", () => {
  const { engine, events } = setup();
  const placed = engine.place(order({ qty: "1.5" }));
  assert.ok(placed.ok);
  assert.equal(placed.order.state, "new");
  assert.equal(placed.order.orderId, 1);
  assert.equal(engine.balances("acct").USDT.locked, "150.15"); // 150 + 0.1 % fee
  const partial = engine.fillResting("acct", { clientId: "c1" }, "0.5");
  assert.equal(partial?.state, "partially_filled");
  assert.equal(partial?.cumQty, "0.5");
  assert.equal(partial?.cumQuote, "50");
  const full = engine.fillResting("acct", { orderId: 1 });
  assert.equal(full?.state, "filled");
  assert.deepEqual(summary(events), [
    "new new",
    "trade 0.5@100 partially_filled cum=0.5 maker=true",
    "trade 1@100 filled cum=1.5 maker=true",
  ]);
  const trades = events.filter((e) => e.kind === "trade");
  assert.deepEqual(trades.map((t) => t.kind === "trade" && t.tradeId), [1, 2]);
  const first = trades[0];
  assert.ok(first.kind === "trade");
  assert.equal(first.fee, "0.05");
  assert.equal(first.feeAsset, "USDT");
  assert.equal(first.quote, "50");
  // 150 quote + 0.15 fee spent, 1.5 BTC received, nothing left locked.
  assert.deepEqual(engine.balances("acct"), {
    USDT: { free: "99849.85", locked: "0" },
    BTC: { free: "11.5", locked: "0" },
  });
  assert.equal(engine.fillResting("acct", { orderId: 1 }), undefined);
});

Deno.test("limit buy takes several ask levels as taker and rests the remainder", () => {
  const { engine, events } = setup();
  const placed = engine.place(order({ price: "102", qty: "2" }));
  assert.ok(placed.ok);
  assert.equal(placed.order.state, "partially_filled");
  assert.equal(placed.order.cumQty, "1.5");
  assert.equal(placed.order.cumQuote, "152.5");
  assert.deepEqual(summary(events), [
    "new new",
    "trade 0.5@101 partially_filled cum=0.5 maker=false",
    "trade 1@102 partially_filled cum=1.5 maker=false",
  ]);
  assert.equal(engine.openOrders("acct").length, 1);
  // The public book is not consumed: a second order takes the same level again.
  const again = engine.place(order({ clientId: "c2", price: "101", qty: "0.5" }));
  assert.ok(again.ok);
  assert.equal(again.order.state, "filled");
});

Deno.test("limit sell takes bids down to its limit only", () => {
  const { engine, events } = setup();
  const placed = engine.place(order({ side: "sell", price: "98.5", qty: "3", timeInForce: "IOC" }));
  assert.ok(placed.ok);
  assert.equal(placed.order.cumQty, "1");
  assert.deepEqual(summary(events), [
    "new new",
    "trade 1@99 partially_filled cum=1 maker=false",
    "canceled canceled ioc_remainder",
  ]);
  // 3 BTC locked, 1 sold, 2 released; 99 USDT minus 0.099 fee received.
  assert.deepEqual(engine.balances("acct"), {
    USDT: { free: "100098.901", locked: "0" },
    BTC: { free: "9", locked: "0" },
  });
});

Deno.test("IOC remainder is canceled", () => {
  const { engine, events } = setup();
  const placed = engine.place(order({ price: "101", qty: "1", timeInForce: "IOC" }));
  assert.ok(placed.ok);
  assert.equal(placed.order.state, "canceled");
  assert.equal(placed.order.endReason, "ioc_remainder");
  assert.equal(placed.order.cumQty, "0.5");
  assert.deepEqual(summary(events), [
    "new new",
    "trade 0.5@101 partially_filled cum=0.5 maker=false",
    "canceled canceled ioc_remainder",
  ]);
  assert.equal(engine.openOrders("acct").length, 0);
  assert.equal(engine.balances("acct").USDT.locked, "0");
});

Deno.test("FOK", async (t) => {
  await t.step("unfillable: new then canceled, nothing filled", () => {
    const { engine, events } = setup();
    const placed = engine.place(order({ price: "102", qty: "2", timeInForce: "FOK" }));
    assert.ok(placed.ok);
    assert.equal(placed.order.state, "canceled");
    assert.equal(placed.order.endReason, "fok_unfilled");
    assert.equal(placed.order.cumQty, "0");
    assert.deepEqual(summary(events), ["new new", "canceled canceled fok_unfilled"]);
    assert.deepEqual(engine.balances("acct").USDT, { free: "100000", locked: "0" });
  });
  await t.step("fillable: fills completely", () => {
    const { engine, events } = setup();
    const placed = engine.place(order({ price: "102", qty: "1.5", timeInForce: "FOK" }));
    assert.ok(placed.ok);
    assert.equal(placed.order.state, "filled");
    assert.deepEqual(summary(events), [
      "new new",
      "trade 0.5@101 partially_filled cum=0.5 maker=false",
      "trade 1@102 filled cum=1.5 maker=false",
    ]);
  });
});

Deno.test("market orders", async (t) => {
  await t.step("buy walks the asks and cancels what the book cannot fill", () => {
    const { engine, events } = setup();
    const placed = engine.place(order({ orderType: "market", price: "", qty: "4" }));
    assert.ok(placed.ok);
    assert.equal(placed.order.price, "");
    assert.equal(placed.order.cumQty, "3.5");
    assert.equal(placed.order.cumQuote, "358.5");
    assert.equal(placed.order.endReason, "ioc_remainder");
    assert.deepEqual(summary(events), [
      "new new",
      "trade 0.5@101 partially_filled cum=0.5 maker=false",
      "trade 1@102 partially_filled cum=1.5 maker=false",
      "trade 2@103 partially_filled cum=3.5 maker=false",
      "canceled canceled ioc_remainder",
    ]);
    // 358.5 + 0.3585 fee.
    assert.deepEqual(engine.balances("acct").USDT, { free: "99641.1415", locked: "0" });
  });
  await t.step("sell fills completely", () => {
    const { engine } = setup();
    const placed = engine.place(order({ side: "sell", orderType: "market", price: "", qty: "2" }));
    assert.ok(placed.ok);
    assert.equal(placed.order.state, "filled");
    assert.equal(placed.order.cumQuote, "197");
  });
  await t.step("buy with an empty book ends unfilled", () => {
    const { engine, book, events } = setup();
    book.asks = [];
    const placed = engine.place(order({ orderType: "market", price: "", qty: "1" }));
    assert.ok(placed.ok);
    assert.deepEqual(summary(events), ["new new", "canceled canceled ioc_remainder"]);
  });
});

Deno.test("post-only that would take is canceled; one that would not rests", () => {
  const { engine, events } = setup();
  const taking = engine.place(order({ postOnly: true, price: "101" }));
  assert.ok(taking.ok);
  assert.equal(taking.order.endReason, "post_only_would_take");
  assert.deepEqual(summary(events), ["new new", "canceled canceled post_only_would_take"]);
  const resting = engine.place(order({ clientId: "c2", postOnly: true, price: "100.99" }));
  assert.ok(resting.ok);
  assert.equal(resting.order.state, "new");
});

Deno.test("rejects, in filter order, with a detail naming expected and found", async (t) => {
  const cases: [string, Partial<SimOrderInput>, string, RegExp][] = [
    ["unknown symbol", { symbol: "ETH-USDT" }, "unknown_symbol", /expected one of BTC-USDT/],
    ["zero qty", { qty: "0" }, "invalid_parameter", /qty: expected a positive decimal/],
    ["negative qty", { qty: "-1" }, "invalid_parameter", /found "-1"/],
    ["unparsable qty", { qty: "1e-3" }, "invalid_parameter", /found "1e-3"/],
    ["nine fraction digits", { price: "1.000000001" }, "invalid_parameter", /price/],
    ["limit without price", { price: "" }, "invalid_parameter", /price: expected a positive/],
    ["market with price", { orderType: "market" }, "invalid_parameter", /expected "" for a/],
    ["empty client id", { clientId: "" }, "invalid_parameter", /clientId/],
    ["tick size", { price: "100.005" }, "filter_tick_size", /multiple of tickSize 0.01, found/],
    ["step size", { qty: "0.0025" }, "filter_step_size", /multiple of stepSize 0.001, found/],
    ["min qty", { qty: "0.001" }, "filter_min_qty", /expected at least 0.002, found 0.001/],
    ["min notional", { price: "1", qty: "4" }, "filter_min_notional", /at least 5, found 4/],
    [
      "min notional of a market order uses the best ask",
      { orderType: "market", price: "", qty: "0.002" },
      "filter_min_notional",
      /found 0.202/,
    ],
    ["tick before step", { price: "100.001", qty: "0.0001" }, "filter_tick_size", /tick/],
    ["insufficient quote", { qty: "1000" }, "insufficient_balance", /USDT: expected a free/],
    [
      "insufficient base",
      { side: "sell", price: "1000", qty: "11" },
      "insufficient_balance",
      /BTC: expected a free balance of at least 11, found 10/,
    ],
  ];
  for (const [name, overrides, reason, detail] of cases) {
    await t.step(name, () => {
      const { engine, events } = setup();
      const result = engine.place(order(overrides));
      assert.ok(!result.ok);
      assert.equal(result.reason, reason);
      assert.match(result.detail, detail);
      assert.deepEqual(events, []);
    });
  }
});

Deno.test("balances lock on placement, release on cancel and reject when short", () => {
  const { engine } = setup({ initialBalances: { USDT: "1001" }, feeRate: "0" });
  const first = engine.place(order({ price: "100", qty: "10" }));
  assert.ok(first.ok);
  assert.deepEqual(engine.balances("acct").USDT, { free: "1", locked: "1000" });
  const second = engine.place(order({ clientId: "c2", price: "100", qty: "0.05" }));
  assert.ok(!second.ok);
  assert.equal(second.reason, "insufficient_balance");
  assert.equal(second.detail, "USDT: expected a free balance of at least 5, found 1");
  assert.ok(engine.cancel("acct", { clientId: "c1" }).ok);
  assert.deepEqual(engine.balances("acct").USDT, { free: "1001", locked: "0" });
  assert.ok(engine.place(order({ clientId: "c2", price: "100", qty: "0.05" })).ok);
  // A fresh account starts with the initial balances; unseen assets are absent.
  assert.deepEqual(engine.balances("other"), { USDT: { free: "1001", locked: "0" } });
});

Deno.test("duplicate client id is refused while open and reusable once closed", () => {
  const { engine } = setup();
  assert.ok(engine.place(order()).ok);
  const dup = engine.place(order({ price: "99" }));
  assert.ok(!dup.ok);
  assert.equal(dup.reason, "duplicate_client_id");
  assert.match(dup.detail, /expected no open order with "c1", found order 1/);
  // Other accounts have their own namespace.
  assert.ok(engine.place(order({ account: "other" })).ok);
  assert.ok(engine.cancel("acct", { clientId: "c1" }).ok);
  const reused = engine.place(order({ price: "99" }));
  assert.ok(reused.ok);
  assert.equal(reused.order.orderId, 3);
  assert.equal(engine.get("acct", { clientId: "c1" })?.orderId, 3);
  assert.ok(engine.cancel("acct", { clientId: "c1" }).ok);
  // Both closed: the most recent one answers the client id; ids still find each.
  assert.equal(engine.get("acct", { clientId: "c1" })?.orderId, 3);
  assert.equal(engine.get("acct", { orderId: 1 })?.price, "100");
});

Deno.test("cancel and cancel of unknown or closed orders", () => {
  const { engine, events } = setup();
  assert.ok(engine.place(order()).ok);
  const canceled = engine.cancel("acct", { orderId: 1 });
  assert.ok(canceled.ok);
  assert.equal(canceled.order.state, "canceled");
  assert.equal(canceled.order.endReason, "user");
  assert.deepEqual(summary(events), ["new new", "canceled canceled user"]);
  const again = engine.cancel("acct", { orderId: 1 });
  assert.ok(!again.ok);
  assert.equal(again.reason, "unknown_order");
  assert.equal(again.detail, "expected an open order with orderId 1, found it already canceled");
  const unknown = engine.cancel("acct", { clientId: "nope" });
  assert.ok(!unknown.ok);
  assert.equal(unknown.detail, 'expected an open order with clientId "nope", found none');
  assert.ok(!engine.cancel("nobody", { orderId: 1 }).ok);
  // Another account cannot cancel acct's order.
  assert.ok(engine.place(order({ clientId: "c2" })).ok);
  assert.ok(!engine.cancel("other", { clientId: "c2" }).ok);
});

Deno.test("get returns open orders, closed orders, and undefined for unknown", () => {
  const { engine } = setup();
  assert.ok(engine.place(order({ price: "101", qty: "0.5" })).ok); // fills at once
  const filled = engine.get("acct", { clientId: "c1" });
  assert.equal(filled?.state, "filled");
  assert.equal(filled?.cumQuote, "50.5");
  assert.ok(engine.place(order({ clientId: "c2" })).ok);
  assert.equal(engine.get("acct", { clientId: "c2" })?.state, "new");
  assert.equal(engine.get("acct", { clientId: "zz" }), undefined);
  assert.equal(engine.get("other", { orderId: 1 }), undefined);
  // Snapshots are copies.
  const copy = engine.get("acct", { clientId: "c2" })!;
  copy.state = "filled";
  assert.equal(engine.get("acct", { clientId: "c2" })?.state, "new");
});

Deno.test("onMarketTrade fills crossed resting orders as maker in time priority", () => {
  const { engine, events } = setup();
  assert.ok(engine.place(order({ clientId: "b1", price: "100", qty: "1" })).ok);
  assert.ok(engine.place(order({ clientId: "b2", price: "100.5", qty: "1" })).ok);
  assert.ok(engine.place(order({ clientId: "b3", price: "99.5", qty: "1" })).ok);
  assert.ok(engine.place(order({ clientId: "s1", side: "sell", price: "100.2" })).ok);
  events.length = 0;
  engine.onMarketTrade("BTC-USDT", "100", "1.5");
  // b1 (older) before b2 though b2 bids more; b3 is not crossed; s1 is above the print.
  assert.deepEqual(summary(events), [
    "trade 1@100 filled cum=1 maker=true",
    "trade 0.5@100.5 partially_filled cum=0.5 maker=true",
  ]);
  assert.equal(engine.get("acct", { clientId: "b3" })?.state, "new");
  events.length = 0;
  engine.onMarketTrade("BTC-USDT", "100.2", "5");
  assert.deepEqual(summary(events), [
    "trade 0.5@100.5 filled cum=1 maker=true",
    "trade 1@100.2 filled cum=1 maker=true",
  ]);
  engine.onMarketTrade("ETH-USDT", "1", "1"); // unknown symbol: nothing
  assert.throws(() => engine.onMarketTrade("BTC-USDT", "x", "1"), /price: expected/);
});

Deno.test("expire ends a resting order as expired", () => {
  const { engine, events } = setup();
  assert.ok(engine.place(order()).ok);
  assert.ok(engine.fillResting("acct", { clientId: "c1" }, "0.25"));
  const expired = engine.expire("acct", { clientId: "c1" });
  assert.equal(expired?.state, "expired");
  assert.equal(expired?.endReason, "expired");
  assert.equal(expired?.cumQty, "0.25");
  assert.deepEqual(summary(events), [
    "new new",
    "trade 0.25@100 partially_filled cum=0.25 maker=true",
    "expired expired expired",
  ]);
  assert.equal(engine.expire("acct", { clientId: "c1" }), undefined);
  assert.equal(engine.balances("acct").USDT.locked, "0");
});

Deno.test("closed orders are kept up to closedOrdersMax, oldest evicted first", () => {
  const { engine } = setup({ closedOrdersMax: 2 });
  for (const id of ["a", "b", "a"]) {
    assert.ok(engine.place(order({ clientId: id })).ok);
    assert.ok(engine.cancel("acct", { clientId: id }).ok);
  }
  // Order 1 (a) evicted; order 3 (a) and 2 (b) remain.
  assert.equal(engine.get("acct", { orderId: 1 }), undefined);
  assert.equal(engine.get("acct", { clientId: "a" })?.orderId, 3);
  assert.equal(engine.get("acct", { clientId: "b" })?.orderId, 2);
  assert.ok(engine.place(order({ clientId: "c" })).ok);
  assert.ok(engine.cancel("acct", { clientId: "c" }).ok);
  assert.equal(engine.get("acct", { clientId: "b" }), undefined);
  assert.equal(engine.get("acct", { clientId: "a" })?.orderId, 3);
});

Deno.test("events go only to the account's current subscribers, in order, also re-entrantly", () => {
  const { engine, events } = setup();
  const other: SimOrderEvent[] = [];
  const unsubscribe = engine.subscribe("other", (e) => other.push(e));
  const nested: string[] = [];
  engine.subscribe("acct", (e) => {
    nested.push(`${e.kind}:${e.order.orderId}`);
    // A listener placing an order: its events follow the current ones.
    if (e.kind === "new" && e.order.clientId === "c1") {
      engine.place(order({ clientId: "c2", price: "101", qty: "0.5" }));
    }
  });
  assert.ok(engine.place(order({ price: "101", qty: "0.5" })).ok);
  assert.deepEqual(nested, ["new:1", "trade:1", "new:2", "trade:2"]);
  assert.equal(events.length, 4);
  assert.deepEqual(other, []);
  unsubscribe();
  assert.ok(engine.place(order({ account: "other" })).ok);
  assert.deepEqual(other, []);
});

Deno.test("sub-atom products round down: quote and fee stay exact strings", () => {
  const book = new FakeBook();
  const ethBtc: SimInstrument = {
    symbol: "BTC-USDT",
    base: "ETH",
    quote: "BTC",
    tickSize: "0.00001",
    stepSize: "0.0001",
    minQty: "0.0001",
    minNotional: "0",
  };
  const engine = new SimOrderEngine({
    instruments: [ethBtc],
    book,
    initialBalances: { BTC: "1", ETH: "1" },
  });
  book.bids = [{ price: "0.03401", qty: "1" }];
  const events: SimOrderEvent[] = [];
  engine.subscribe("acct", (e) => events.push(e));
  const placed = engine.place(order({ side: "sell", price: "0.034", qty: "0.0003" }));
  assert.ok(placed.ok);
  const trade = events[1];
  assert.ok(trade.kind === "trade");
  assert.equal(trade.quote, "0.0000102"); // 0.03401 × 0.0003 = 0.000010203 → 8 decimals
  assert.equal(trade.fee, "0.00000001");
});

Deno.test("works over the real market generator's book", () => {
  const market = new MarketGenerator({ seed: 3 });
  market.generate(200, 0, () => {});
  const source = new MarketBookSource(market);
  const asks = source.levels("BTC-USDT", "ask", 3);
  const bids = source.levels("BTC-USDT", "bid", 3);
  assert.equal(asks.length, 3);
  assert.ok(Number(asks[0].price) < Number(asks[1].price));
  assert.ok(Number(bids[0].price) > Number(bids[1].price));
  assert.ok(Number(bids[0].price) < Number(asks[0].price));
  assert.deepEqual(source.levels("NOPE-USDT", "ask", 3), []);
  const instruments = simInstrumentsFromMarket(market);
  assert.equal(instruments.length, market.symbols.length);
  const engine = new SimOrderEngine({
    instruments,
    book: source,
    initialBalances: { USDT: "10000000", BTC: "100" },
  });
  assert.equal(engine.instrument("BTC-USDT")?.tickSize, "0.01");
  const qty = (Number(asks[0].qty) + Number(asks[1].qty) / 2).toFixed(5);
  const placed = engine.place(order({ orderType: "market", price: "", qty, clientId: "m1" }));
  assert.ok(placed.ok, JSON.stringify(placed));
  assert.equal(placed.order.state, "filled");
  const events: SimOrderEvent[] = [];
  engine.subscribe("acct", (e) => events.push(e));
  const rest = engine.place(order({ clientId: "r1", price: bids[2].price, qty: "0.01" }));
  assert.ok(rest.ok);
  assert.equal(rest.order.state, "new");
  engine.onMarketTrade("BTC-USDT", bids[2].price, "0.004");
  assert.equal(engine.get("acct", { clientId: "r1" })?.cumQty, "0.004");
  assert.equal(events.filter((e) => e.kind === "trade").length, 1);
});

Deno.test("fillResting fills at a given price only when it is at or better than the limit", () => {
  const { engine, events } = setup();
  assert.ok(engine.place(order({ clientId: "b" })).ok);
  assert.ok(engine.place(order({ clientId: "s", side: "sell", price: "100.5" })).ok);
  assert.throws(() => engine.fillResting("acct", { clientId: "b" }, "0.1", "100.01"), /buy limit/);
  assert.throws(() => engine.fillResting("acct", { clientId: "s" }, "0.1", "100.49"), /sell limit/);
  assert.equal(engine.fillResting("acct", { clientId: "b" }, "5", "99.5")?.state, "filled");
  const trade = events.at(-1)!;
  assert.ok(trade.kind === "trade");
  assert.equal(trade.price, "99.5");
  assert.equal(trade.qty, "1"); // clamped to what was left
  assert.equal(engine.balances("acct").USDT.locked, "0"); // the better price released the rest
});
