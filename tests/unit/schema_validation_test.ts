import assert from "node:assert/strict";
import fc from "fast-check";
import {
  isClientOrderId,
  isDecimalString,
  isKlineInterval,
  isPositiveDecimalString,
  isTerminalExecState,
  validateCanonicalEvent,
  validateExecReport,
  validateMergedEvent,
  validateOrderRequest,
  validateProviderRaw,
  validateWsFrame,
} from "../../src/schema/mod.ts";
import {
  sampleEvents,
  sampleExecReport,
  sampleFrame,
  sampleKline,
  sampleMerged,
  sampleOrder,
  sampleRaw,
  sampleTicker,
  sampleTrade,
} from "../support/schema_samples.ts";

/** Asserts `error` is a message matching `pattern` (and in the house style: lower-case start). */
function assertError(error: string | null, pattern: RegExp): void {
  assert.notStrictEqual(error, null, `expected an error matching ${pattern}, found none`);
  assert.match(error!, pattern);
  assert.doesNotMatch(error!, /\.$/, "error messages have no trailing period");
}

Deno.test("exact values: positive decimals are decided on the digits", () => {
  for (
    const good of ["1", "0.1", "0.00000001", "000.0001", "60000.00", "0.000000000000000000001"]
  ) {
    assert.strictEqual(isPositiveDecimalString(good), true, good);
  }
  for (const bad of ["0", "0.0", "-0", "-1", "-0.1", "1e-8", "+1", " 1", "1.", ".5", "", "0x1"]) {
    assert.strictEqual(isPositiveDecimalString(bad), false, bad);
  }
});

Deno.test("exact values: the JSON Schema positive-decimal pattern agrees with the code", () => {
  // The same pattern is in docs/schema/*.schema.json; clients without our code rely on it.
  const pattern = /^(0*[1-9][0-9]*(\.[0-9]+)?|0+\.[0-9]*[1-9][0-9]*)$/;
  const decimalLike = fc.stringMatching(/^-?[0-9]{1,6}(\.[0-9]{1,6})?$/);
  fc.assert(fc.property(decimalLike, (s) => {
    assert.strictEqual(isDecimalString(s), true);
    assert.strictEqual(pattern.test(s), isPositiveDecimalString(s), s);
  }));
});

Deno.test("exact values: kline intervals", () => {
  for (const good of ["1s", "1m", "15m", "4h", "1d", "1w", "1M", "21600m"]) {
    assert.strictEqual(isKlineInterval(good), true, good);
  }
  for (const bad of ["", "1", "60", "0m", "1min", "m1", "1H"]) {
    assert.strictEqual(isKlineInterval(bad), false, bad);
  }
});

Deno.test("client order ids: 1..36 of A-Z a-z 0-9 . _ : - in the consumer's namespace", () => {
  const good = [
    "a",
    "order0001",
    "ABCdef123456789012",
    "6d1b345e282140e2ad834ecb18a06876",
    "6d1b345e-2821-40e2-ad83-4ecb18a06876", // dashed UUID: 36 characters
    "order-1",
    "order_1",
    "order.1",
    "strat-a:2026-01-01:17",
    "x".repeat(36),
  ];
  for (const id of good) assert.strictEqual(isClientOrderId(id), true, id);
  const bad = [
    "", // empty
    "x".repeat(37), // over 36
    "order 1",
    "ordér1",
    "order/1",
    "order#1",
  ];
  for (const id of bad) assert.strictEqual(isClientOrderId(id), false, id);
});

Deno.test("validateWsFrame and validateProviderRaw", async (t) => {
  await t.step("good samples pass", () => {
    assert.strictEqual(validateWsFrame(sampleFrame()), null);
    assert.strictEqual(validateProviderRaw(sampleRaw()), null);
  });
  await t.step("missing provider or time fails", () => {
    assertError(validateWsFrame({ ...sampleFrame(), provider: "" }), /expected a provider/);
    assertError(validateWsFrame({ ...sampleFrame(), recvTsMs: 0 }), /positive recvTsMs, found 0/);
    assertError(validateProviderRaw({ ...sampleRaw(), eventType: "" }), /expected an event type/);
    assertError(
      validateProviderRaw({ ...sampleRaw(), recvTsMs: Number.NaN }),
      /expected finite recvTsMs/,
    );
  });
});

Deno.test("validateCanonicalEvent", async (t) => {
  await t.step("every sample kind passes", () => {
    for (const e of sampleEvents()) assert.strictEqual(validateCanonicalEvent(e), null, e.kind);
  });
  const cases: [string, () => string | null, RegExp][] = [
    ["empty kind", () => validateCanonicalEvent(sampleTrade({ kind: "" })), /market event kind/],
    [
      "upper-case provider",
      () => validateCanonicalEvent(sampleTrade({ provider: "Binance" })),
      /provider name, found "Binance"/,
    ],
    [
      "exchange symbol",
      () => validateCanonicalEvent(sampleTrade({ symbol: "BTCUSDT" })),
      /BASE-QUOTE symbol, found "BTCUSDT"/,
    ],
    [
      "negative seq",
      () => validateCanonicalEvent(sampleTrade({ seq: -1 })),
      /non-negative integers, found -1/,
    ],
    [
      "fractional seq",
      () => validateCanonicalEvent(sampleTrade({ seq: 1.5 })),
      /non-negative integers/,
    ],
    [
      "NaN recv time",
      () => validateCanonicalEvent(sampleTrade({ recvTsMs: Number.NaN })),
      /ms timestamps, found .* and NaN/,
    ],
    [
      "float-formatted price",
      () => validateCanonicalEvent(sampleTrade({ price: "1e-7" })),
      /trade: expected decimal price and qty, found "1e-7"/,
    ],
    ["trade without side", () => validateCanonicalEvent(sampleTrade({ side: "" })), /buy or sell/],
    [
      "odd book levels",
      () => validateCanonicalEvent(sampleTrade({ kind: "book_update", bids: ["1", "2", "3"] })),
      /bids as price\/qty pairs, found 3 values/,
    ],
    [
      "bad book level",
      () => validateCanonicalEvent(sampleTrade({ kind: "book_snapshot", asks: ["1", "x"] })),
      /decimal at asks\[1\], found "x"/,
    ],
    [
      "ticker with a bad volume",
      () => validateCanonicalEvent(sampleTicker({ volume: "12,5" })),
      /ticker: expected decimal or empty volume, found "12,5"/,
    ],
    [
      "kline with an exchange interval",
      () => validateCanonicalEvent(sampleKline({ interval: "60" })),
      /kline: expected an interval such as 1m or 4h, found "60"/,
    ],
    [
      "kline without close",
      () => validateCanonicalEvent(sampleKline({ price: "" })),
      /kline: expected decimal close, found ""/,
    ],
    [
      "kline with fractional trade count",
      () => validateCanonicalEvent(sampleKline({ tradeCount: 2.5 })),
      /tradeCount as a non-negative integer, found 2.5/,
    ],
  ];
  for (const [name, run, pattern] of cases) {
    await t.step(name, () => assertError(run(), pattern));
  }
});

Deno.test("validateMergedEvent", async (t) => {
  await t.step("a full window passes; a count-closed one too", () => {
    assert.strictEqual(validateMergedEvent(sampleMerged()), null);
    assert.strictEqual(validateMergedEvent(sampleMerged({ closeReason: "count" })), null);
  });
  const m = sampleMerged;
  const cases: [string, () => string | null, RegExp][] = [
    ["empty merge id", () => validateMergedEvent(m({ mergeId: "" })), /merge id of 1\.\.64/],
    ["merge id with a space", () => validateMergedEvent(m({ mergeId: "a b" })), /found "a b"/],
    [
      "negative routing version",
      () => validateMergedEvent(m({ routingVersion: -1 })),
      /routingVersion as a non-negative integer, found -1/,
    ],
    ["no providers", () => validateMergedEvent(m({ providers: [], fragments: [] })), /provider/],
    [
      "duplicate providers",
      () => validateMergedEvent(m({ providers: ["binance", "binance"] })),
      /distinct providers, found "binance" twice/,
    ],
    [
      "missing provider not expected",
      () => validateMergedEvent(m({ missing: ["kraken"] })),
      /missing providers among \[binance, okx\], found "kraken"/,
    ],
    [
      "window closes before it opens",
      () => validateMergedEvent(m({ windowCloseMs: 1 })),
      /windowCloseMs >= windowOpenMs/,
    ],
    [
      "no close reason",
      () => validateMergedEvent(m({ closeReason: "" })),
      /closeReason time or count, found ""/,
    ],
    ["no fragments", () => validateMergedEvent(m({ fragments: [] })), /at least one fragment/],
    [
      "fragment of another symbol",
      () => validateMergedEvent(m({ fragments: [sampleTrade({ symbol: "ETH-USDT" })] })),
      /fragments\[0\]: expected trade BTC-USDT, found trade ETH-USDT/,
    ],
    [
      "fragment from an unexpected provider",
      () => validateMergedEvent(m({ fragments: [sampleTrade({ provider: "kraken" })] })),
      /fragments\[0\]: expected a provider among \[binance, okx\], found "kraken"/,
    ],
    [
      "fragment from a provider listed as missing",
      () => validateMergedEvent(m({ missing: ["binance"] })),
      /no fragment from missing provider "binance"/,
    ],
    [
      "invalid fragment",
      () => validateMergedEvent(m({ fragments: [sampleTrade({ qty: "" })] })),
      /fragments\[0\]: trade: expected decimal price and qty/,
    ],
  ];
  for (const [name, run, pattern] of cases) {
    await t.step(name, () => assertError(run(), pattern));
  }
});

Deno.test("validateOrderRequest", async (t) => {
  await t.step("limit, market and cancel requests pass", () => {
    assert.strictEqual(validateOrderRequest(sampleOrder()), null);
    const market = sampleOrder({ orderType: "market", price: "", timeInForce: "" });
    assert.strictEqual(validateOrderRequest(market), null);
    const cancel = sampleOrder({
      action: "cancel",
      side: "",
      orderType: "",
      timeInForce: "",
      price: "",
      qty: "",
    });
    assert.strictEqual(validateOrderRequest(cancel), null);
  });
  const o = sampleOrder;
  const cases: [string, () => string | null, RegExp][] = [
    ["no consumer", () => validateOrderRequest(o({ consumerId: "" })), /consumer id of 1\.\.64/],
    [
      "no client order id",
      () => validateOrderRequest(o({ clientOrderId: "" })),
      /client order id of 1\.\.36 of A-Z a-z 0-9 \. _ : -, found ""/,
    ],
    [
      "client order id too long",
      () => validateOrderRequest(o({ clientOrderId: "x".repeat(37) })),
      /client order id/,
    ],
    ["unknown action", () => validateOrderRequest(o({ action: "" })), /action new or cancel/],
    ["bad symbol", () => validateOrderRequest(o({ symbol: "btc-usdt" })), /BASE-QUOTE/],
    [
      "no creation time",
      () => validateOrderRequest(o({ createdTsMs: 0 })),
      /createdTsMs as a positive ms timestamp, found 0/,
    ],
    ["no side", () => validateOrderRequest(o({ side: "" })), /side buy or sell, found ""/],
    [
      "zero quantity",
      () => validateOrderRequest(o({ qty: "0.000" })),
      /qty as a decimal string greater than 0, found "0.000"/,
    ],
    ["negative quantity", () => validateOrderRequest(o({ qty: "-1" })), /greater than 0/],
    ["float-formatted quantity", () => validateOrderRequest(o({ qty: "1e-3" })), /found "1e-3"/],
    [
      "limit without price",
      () => validateOrderRequest(o({ price: "" })),
      /limit order: expected price as a decimal string greater than 0, found ""/,
    ],
    [
      "limit without time in force",
      () => validateOrderRequest(o({ timeInForce: "" })),
      /limit order: expected timeInForce GTC, IOC or FOK/,
    ],
    [
      "market with a price",
      () => validateOrderRequest(o({ orderType: "market", timeInForce: "" })),
      /market order: expected no price, found "60000.00"/,
    ],
    [
      "market with a time in force",
      () => validateOrderRequest(o({ orderType: "market", price: "" })),
      /market order: expected no timeInForce, found "GTC"/,
    ],
    ["no order type", () => validateOrderRequest(o({ orderType: "" })), /limit or market/],
  ];
  for (const [name, run, pattern] of cases) {
    await t.step(name, () => assertError(run(), pattern));
  }
});

Deno.test("validateExecReport", async (t) => {
  await t.step("every lifecycle state passes with its required fields", () => {
    const noFill = { lastQty: "", lastPx: "" };
    assert.strictEqual(validateExecReport(sampleExecReport({ state: "ACK", ...noFill })), null);
    assert.strictEqual(validateExecReport(sampleExecReport()), null);
    assert.strictEqual(validateExecReport(sampleExecReport({ state: "FILLED" })), null);
    assert.strictEqual(validateExecReport(sampleExecReport({ state: "CANCELLED" })), null);
    assert.strictEqual(validateExecReport(sampleExecReport({ state: "EXPIRED" })), null);
    const rejected = sampleExecReport({
      state: "REJECTED",
      exchangeOrderId: "",
      reasonCode: "51016",
      reasonText: "Duplicated clOrdId",
      ...noFill,
    });
    assert.strictEqual(validateExecReport(rejected), null);
    assert.strictEqual(validateExecReport(sampleExecReport({ seq: 0 })), null, "seq 0: unassigned");
  });
  const r = sampleExecReport;
  const cases: [string, () => string | null, RegExp][] = [
    [
      "REJECTED without a reason",
      () => validateExecReport(r({ state: "REJECTED" })),
      /REJECTED: expected the exchange's reason code or text, found neither/,
    ],
    [
      "PARTIAL without last fill",
      () => validateExecReport(r({ lastQty: "" })),
      /PARTIAL: expected lastQty and lastPx as decimals greater than 0, found "" and "63000"/,
    ],
    [
      "FILLED with a zero last price",
      () => validateExecReport(r({ state: "FILLED", lastPx: "0" })),
      /FILLED: expected lastQty and lastPx/,
    ],
    ["no state", () => validateExecReport(r({ state: "" })), /state one of ACK, PARTIAL/],
    ["negative seq", () => validateExecReport(r({ seq: -1 })), /seq as a non-negative integer/],
    ["bad cumQty", () => validateExecReport(r({ cumQty: "abc" })), /cumQty as a decimal/],
    ["bad side", () => validateExecReport(r({ side: "long" as never })), /side buy, sell or empty/],
    ["bad client id", () => validateExecReport(r({ clientOrderId: "a b" })), /client order id/],
    ["NaN time", () => validateExecReport(r({ recvTsMs: Number.NaN })), /ms timestamps/],
  ];
  for (const [name, run, pattern] of cases) {
    await t.step(name, () => assertError(run(), pattern));
  }
  await t.step("terminal states", () => {
    assert.deepStrictEqual(
      (["ACK", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"] as const).map(
        isTerminalExecState,
      ),
      [false, false, true, true, true, true],
    );
  });
});
