import assert from "node:assert/strict";
import {
  execStateOf,
  type IntentRow,
  planExecUpdate,
  updateOfStatus,
  type VenueExecUpdate,
} from "../../src/orders/mod.ts";

function row(fields?: Partial<IntentRow>): IntentRow {
  return {
    id: 1,
    consumerId: "strat-a",
    clientOrderId: "o1",
    provider: "fakex",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price: "100",
    qty: "10",
    venueClientId: "sy00000000001",
    exchangeOrderId: "9",
    state: "ACK",
    cumQty: "0",
    cumQuote: "0",
    reasonCode: "",
    reasonText: "",
    createdMs: 1,
    updatedMs: 1,
    traceId: "",
    ...fields,
  };
}

function update(fields: Partial<VenueExecUpdate>): VenueExecUpdate {
  return {
    venueClientId: "sy00000000001",
    exchangeOrderId: "9",
    symbol: "BTC-USDT",
    state: "partially_filled",
    cumQty: "0",
    cumQuote: "",
    lastQty: "0",
    lastPrice: "",
    fee: "",
    feeAsset: "",
    tradeId: "",
    reasonCode: "",
    reasonText: "",
    exchangeTsMs: 7,
    ...fields,
  };
}

function lines(plan: ReturnType<typeof planExecUpdate>): string[] {
  return plan.reports.map((r) =>
    [r.state, r.cumQty, r.lastQty, r.lastPx, r.cumQuote, r.exchangeTradeId, r.synthesized].join(" ")
  );
}

Deno.test("update plan maps venue states to canonical ones", () => {
  assert.deepEqual(
    (["new", "partially_filled", "filled", "canceled", "rejected", "expired"] as const).map(
      execStateOf,
    ),
    ["ACK", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"],
  );
});

Deno.test("update plan: a fill after missed fills reports the gap first, sums stay exact", () => {
  // Journal at 1 (quote 100); the exchange says 4 with quote 412 after a fill of 1 @ 106:
  // the gap is 2 with quote 412 - 106 - 100 = 206, so 103 each.
  const plan = planExecUpdate(
    row({ state: "PARTIAL", cumQty: "1", cumQuote: "100" }),
    update({ cumQty: "4", cumQuote: "412", lastQty: "1", lastPrice: "106", tradeId: "t4" }),
  );
  assert.deepEqual(lines(plan), [
    "PARTIAL 3 2 103 306  true",
    "PARTIAL 4 1 106 412 t4 false",
  ]);
  assert.deepEqual(plan.change, {
    state: "PARTIAL",
    exchangeOrderId: "9",
    cumQty: "4",
    cumQuote: "412",
    reasonCode: "",
    reasonText: "",
  });
});

Deno.test("update plan: a fill overlapping reported quantity reports only the growth", () => {
  const plan = planExecUpdate(
    row({ state: "PARTIAL", cumQty: "3", cumQuote: "300" }),
    update({ cumQty: "4", cumQuote: "400", lastQty: "2", lastPrice: "100", tradeId: "t" }),
  );
  assert.deepEqual(lines(plan), ["PARTIAL 4 1 100 400 t false"]);
});

Deno.test("update plan: reaching the order quantity is FILLED even if the venue says partial", () => {
  const plan = planExecUpdate(
    row(),
    update({ cumQty: "10", cumQuote: "1000", lastQty: "10", lastPrice: "100", tradeId: "t" }),
  );
  assert.deepEqual(lines(plan), ["FILLED 10 10 100 1000 t false"]);
});

Deno.test("update plan: PENDING gets an ACK first; a reject does not", () => {
  const filled = planExecUpdate(
    row({ state: "PENDING" }),
    update({ state: "canceled", reasonCode: "ioc" }),
  );
  assert.deepEqual(filled.reports.map((r) => `${r.state} ${r.synthesized} ${r.reasonCode}`), [
    "ACK true ",
    "CANCELLED false ioc",
  ]);
  const rejected = planExecUpdate(
    row({ state: "SENT" }),
    update({ state: "rejected", reasonCode: "51008", reasonText: "insufficient" }),
  );
  assert.deepEqual(rejected.reports.map((r) => r.state), ["REJECTED"]);
  assert.equal(rejected.change?.reasonCode, "51008");
});

Deno.test("update plan ignores terminal intents, replays, repeats and inconsistent FILLED", () => {
  assert.equal(
    planExecUpdate(row({ state: "FILLED" }), update({ state: "new" })).ignored,
    "terminal",
  );
  assert.equal(
    planExecUpdate(
      row({ state: "PARTIAL", cumQty: "2" }),
      update({ cumQty: "2", lastQty: "1", lastPrice: "1", tradeId: "x" }),
    ).ignored,
    "replay",
  );
  const repeat = planExecUpdate(row(), update({ state: "new" }));
  assert.deepEqual([repeat.reports.length, repeat.change, repeat.ignored], [0, null, ""]);
  assert.equal(
    planExecUpdate(row({ state: "PARTIAL", cumQty: "2" }), update({ state: "filled", cumQty: "2" }))
      .ignored,
    "inconsistent",
  );
});

Deno.test("update plan: a status without quote amounts is priced from its average price", () => {
  const u = updateOfStatus({
    venueClientId: "sy00000000001",
    exchangeOrderId: "9",
    symbol: "BTC-USDT",
    state: "filled",
    cumQty: "10",
    cumQuote: "",
    avgPrice: "101.5",
    reasonCode: "",
    reasonText: "",
    updateTsMs: 3,
  });
  assert.equal(u.cumQuote, "1015.0");
  const plan = planExecUpdate(row({ state: "PARTIAL", cumQty: "4", cumQuote: "400" }), u, {
    avgPrice: "101.5",
  });
  // 6 more for 615: 102.5 each
  assert.deepEqual(lines(plan), ["FILLED 10 6 102.5 1015.0  true"]);
});
