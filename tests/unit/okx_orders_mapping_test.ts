import assert from "node:assert/strict";
import {
  mapOkxOrderPush,
  mapOkxOrderStatus,
  OkxQuoteTracker,
} from "../../src/adapter/okx/orders/mod.ts";

function ctx() {
  const symbols = new Map([["BTC-USDT", "BTC-USDT"]]);
  return { symbolOf: (i: string) => symbols.get(i), tracker: new OkxQuoteTracker() };
}

function row(extra: Record<string, string>): Record<string, string> {
  return {
    instId: "BTC-USDT",
    ordId: "735511198274000001",
    clOrdId: "sy0001",
    state: "live",
    fillSz: "0",
    fillPx: "",
    tradeId: "",
    fillFee: "0",
    fillFeeCcy: "",
    accFillSz: "0",
    avgPx: "0",
    cancelSource: "",
    uTime: "1767225600210",
    ...extra,
  };
}

Deno.test("okx push mapping: fills carry exact last/cumulative amounts and a positive fee", () => {
  const c = ctx();
  const live = mapOkxOrderPush(row({}), c)!;
  assert.equal(live.state, "new");
  assert.equal(live.lastQty, "0");
  assert.equal(live.tradeId, "");
  assert.equal(live.cumQuote, "0");
  const p1 = mapOkxOrderPush(
    row({
      state: "partially_filled",
      fillSz: "0.004",
      fillPx: "63000",
      tradeId: "9001",
      fillFee: "-0.000004",
      fillFeeCcy: "BTC",
      accFillSz: "0.004",
      avgPx: "63000",
    }),
    c,
  )!;
  assert.deepEqual(
    [p1.state, p1.lastQty, p1.lastPrice, p1.tradeId, p1.cumQty, p1.cumQuote, p1.fee, p1.feeAsset],
    ["partially_filled", "0.004", "63000", "9001", "0.004", "252", "0.000004", "BTC"],
  );
  const p2 = mapOkxOrderPush(
    row({
      state: "filled",
      fillSz: "0.006",
      fillPx: "62999.9",
      tradeId: "9002",
      accFillSz: "0.01",
      avgPx: "62999.94",
    }),
    c,
  )!;
  assert.equal(p2.cumQuote, "629.9994");
  assert.equal(p2.exchangeTsMs, 1767225600210);
});

Deno.test("okx push mapping: a repeated fill does not change the tracked quote", () => {
  const c = ctx();
  const fill = row({
    state: "partially_filled",
    fillSz: "1",
    fillPx: "10",
    tradeId: "7",
    accFillSz: "1",
  });
  mapOkxOrderPush(fill, c);
  const again = mapOkxOrderPush({ ...fill, uTime: "1767225600211" }, c)!;
  assert.equal(again.tradeId, "7");
  assert.equal(again.cumQuote, "10");
});

Deno.test("okx push mapping: filled with fillSz 0 and no tradeId is not a fill", () => {
  const u = mapOkxOrderPush(
    row({ state: "filled", fillSz: "0", tradeId: "", accFillSz: "0.5", avgPx: "100" }),
    ctx(),
  )!;
  assert.equal(u.state, "filled");
  assert.equal(u.lastQty, "0");
  assert.equal(u.lastPrice, "");
  assert.equal(u.tradeId, "");
  assert.equal(u.cumQty, "0.5");
  assert.equal(u.cumQuote, ""); // fills were not seen: unknown, not guessed from avgPx
});

Deno.test("okx cancelSource: user cancel is canceled, system ends are expired", () => {
  const c = ctx();
  const state = (source: string) =>
    mapOkxOrderPush(row({ state: "canceled", cancelSource: source }), c)!;
  assert.equal(state("1").state, "canceled");
  assert.equal(state("1").reasonCode, "1");
  for (const source of ["0", "13", "14", "31"]) {
    const u = state(source);
    assert.equal(u.state, "expired", source);
    assert.equal(u.reasonCode, source);
    assert.notEqual(u.reasonText, "");
  }
});

Deno.test("okx mapping skips rows it cannot use and maps REST rows to statuses", () => {
  const c = ctx();
  assert.equal(mapOkxOrderPush(row({ instId: "FOO-BAR" }), c), null);
  assert.equal(mapOkxOrderPush(row({ clOrdId: "" }), c), null);
  assert.equal(mapOkxOrderPush(row({ state: "weird" }), c), null);
  const s = mapOkxOrderStatus(row({ state: "partially_filled", accFillSz: "0.1", avgPx: "5" }), c)!;
  assert.deepEqual(
    [s.venueClientId, s.state, s.cumQty, s.cumQuote, s.avgPrice, s.updateTsMs],
    ["sy0001", "partially_filled", "0.1", "", "5", 1767225600210],
  );
});
