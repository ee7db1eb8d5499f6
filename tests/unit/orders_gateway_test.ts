import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecReportData } from "../../src/schema/exec_report.ts";
import { validateExecReport } from "../../src/schema/exec_report.ts";
import { createOrderHarness, type OrderHarness } from "../support/fake_order_venue.ts";

/** The fields of reports a test compares. */
function brief(r: ExecReportData): string {
  return [r.clientOrderId, r.state, r.cumQty, r.lastQty, r.lastPx, r.cumQuote, r.exchangeTradeId]
    .join(" ");
}

async function finish(h: OrderHarness): Promise<void> {
  await h.settle();
  assert.deepEqual(h.inFlight(), { orderRequests: 0, execReports: 0 });
  for (const r of h.reports) assert.equal(validateExecReport(r), null, JSON.stringify(r));
  await h.close();
}

Deno.test("order gateway: ACK, PARTIAL, FILLED with exact cumulative and last amounts", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  assert.deepEqual(h.gateway.submit(h.newOrder({ qty: "0.00300" })), { ok: true });
  await h.settle();
  const vcid = h.venue.placeCalls[0].venueClientId;
  assert.match(vcid, /^sy[0-9a-z]{11}$/);
  h.venue.fill(vcid, "0.001", "30000.00");
  h.venue.fill(vcid, "0.002", "29999.99", { final: true });
  await h.settle();
  assert.deepEqual(h.reports.map(brief), [
    "o1 ACK 0   0 ",
    "o1 PARTIAL 0.001 0.001 30000.00 30.00000 1",
    "o1 FILLED 0.003 0.002 29999.99 89.99998 2",
  ]);
  const filled = h.reports[2];
  assert.equal(filled.consumerId, "strat-a");
  assert.equal(filled.exchangeOrderId, "1000");
  assert.equal(filled.fee, "0.0001");
  assert.equal(filled.feeAsset, "USDT");
  assert.equal(filled.traceId, "t1");
  assert.equal(filled.side, "buy");
  assert.equal(filled.price, "30000.00");
  assert.equal(filled.qty, "0.00300");
  assert.equal(h.gateway.orders("strat-a")[0].state, "FILLED");
  const s = h.gateway.stats();
  assert.equal(s.submitted, 1);
  assert.equal(s.sent, 1);
  assert.equal(s.acked, 1);
  assert.equal(s.reportsEmitted, 3);
  await finish(h);
});

Deno.test("order gateway: two consumers may use the same client order id", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  assert.deepEqual(h.gateway.submit(h.newOrder({ consumerId: "strat-a" })), { ok: true });
  assert.deepEqual(h.gateway.submit(h.newOrder({ consumerId: "strat-b" })), { ok: true });
  await h.settle();
  assert.equal(h.venue.placeCalls.length, 2);
  assert.notEqual(h.venue.placeCalls[0].venueClientId, h.venue.placeCalls[1].venueClientId);
  assert.deepEqual(h.reports.map((r) => `${r.consumerId} ${r.clientOrderId} ${r.state}`), [
    "strat-a o1 ACK",
    "strat-b o1 ACK",
  ]);
  await finish(h);
});

Deno.test("order gateway: trading switch off means nothing reaches the exchange", async (t) => {
  const h = createOrderHarness({ tradingOn: [] });
  await h.gateway.start();
  await t.step("a consumer without a stored switch may not trade by default", () => {
    const out = h.gateway.submit(h.newOrder());
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.code, "trading_disabled");
  });
  await t.step("switched on, then off again", async () => {
    h.gateway.setTrading("strat-a", true);
    assert.deepEqual(h.gateway.submit(h.newOrder({ clientOrderId: "on1" })), { ok: true });
    await h.settle();
    h.gateway.setTrading("strat-a", false);
    const out = h.gateway.submit(h.newOrder({ clientOrderId: "off1" }));
    assert.equal(!out.ok && out.code, "trading_disabled");
    const cancel = h.gateway.cancel(h.cancelOrder({ clientOrderId: "on1" }));
    assert.equal(!cancel.ok && cancel.code, "trading_disabled");
  });
  assert.equal(h.venue.placeCalls.length, 1);
  assert.equal(h.venue.cancelCalls.length, 0);
  assert.equal(h.gateway.stats().refusedTradingDisabled, 3);
  assert.equal(
    h.journal.byConsumerClientId("strat-a", "off1"),
    undefined,
    "refused: not journaled",
  );
  await finish(h);
});

Deno.test("order gateway: tradingDefault true lets unknown consumers trade", async () => {
  const h = createOrderHarness({ tradingOn: [], tradingDefault: true });
  await h.gateway.start();
  assert.equal(h.gateway.tradingEnabled("strat-z"), true);
  assert.deepEqual(h.gateway.submit(h.newOrder({ consumerId: "strat-z" })), { ok: true });
  await finish(h);
});

Deno.test("order gateway: a duplicate is answered from the journal, also after a restart", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "orders_gateway_" });
  try {
    const journalPath = join(dir, "orders.db");
    const h1 = createOrderHarness({ journalPath });
    await h1.gateway.start();
    assert.deepEqual(h1.gateway.submit(h1.newOrder()), { ok: true });
    await h1.settle();
    const again = h1.gateway.submit(h1.newOrder({ qty: "0.5" }));
    assert.equal(!again.ok && again.code, "duplicate_client_order_id");
    assert.equal(!again.ok && again.existing?.state, "ACK");
    assert.equal(!again.ok && again.existing?.qty, "0.00100");
    assert.equal(h1.venue.placeCalls.length, 1);
    await finish(h1);

    // A new process: same journal file, the exchange keeps its orders.
    const venue = h1.venue;
    const h2 = createOrderHarness({ journalPath, venue });
    await h2.gateway.start();
    const placesBefore = venue.placeCalls.length;
    const dup = h2.gateway.submit(h2.newOrder());
    assert.equal(!dup.ok && dup.code, "duplicate_client_order_id");
    assert.match(!dup.ok ? dup.message : "", /found "o1" already used \(ACK\); not sent again/);
    assert.equal(venue.placeCalls.length - placesBefore, 0, "zero place calls after restart");
    assert.equal(h2.gateway.stats().duplicates, 1);
    await finish(h2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("order gateway: local refusals send nothing and release the request", async (t) => {
  const h = createOrderHarness();
  await h.gateway.start();
  const cases: [string, () => ReturnType<typeof h.gateway.submit>, string, RegExp][] = [
    ["invalid", () => h.gateway.submit(h.newOrder({ qty: "-1" })), "invalid_order", /qty/],
    [
      "bad client id",
      () => h.gateway.submit(h.newOrder({ clientOrderId: "a b" })),
      "invalid_order",
      /1\.\.36/,
    ],
    [
      "cancel via submit",
      () => h.gateway.submit(h.cancelOrder({ clientOrderId: "x" })),
      "invalid_order",
      /expected action new/,
    ],
    [
      "provider",
      () => h.gateway.submit(h.newOrder({ provider: "nope" })),
      "unknown_provider",
      /expected one of the providers fakex, found "nope"/,
    ],
    [
      "symbol",
      () => h.gateway.submit(h.newOrder({ symbol: "ETH-USDT" })),
      "unknown_symbol",
      /found "ETH-USDT"/,
    ],
    [
      "tick",
      () => h.gateway.submit(h.newOrder({ price: "30000.001" })),
      "filter_violation",
      /price: expected a multiple of tick size 0\.01, found 30000\.001/,
    ],
    [
      "notional",
      () => h.gateway.submit(h.newOrder({ qty: "0.00001" })),
      "filter_violation",
      /min notional 5, found 0\.3/,
    ],
  ];
  for (const [name, run, code, message] of cases) {
    await t.step(name, () => {
      const out = run();
      assert.equal(out.ok, false);
      if (!out.ok) {
        assert.equal(out.code, code);
        assert.match(out.message, message);
      }
      assert.equal(h.inFlight().orderRequests, 0);
    });
  }
  await t.step("venue unavailable", () => {
    h.venue.goAway();
    const out = h.gateway.submit(h.newOrder());
    assert.equal(!out.ok && out.code, "venue_unavailable");
    h.venue.ready = true;
  });
  assert.equal(h.venue.placeCalls.length, 0);
  assert.equal(h.journal.open().length, 0, "nothing journaled");
  assert.equal(h.gateway.stats().filterRejects, 2);
  await finish(h);
});

Deno.test("order gateway: the exchange's reject code and text reach the consumer", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({
    kind: "reject",
    code: "-2010",
    text: "Account has insufficient balance for requested action.",
  });
  assert.deepEqual(h.gateway.submit(h.newOrder()), { ok: true });
  await h.settle();
  assert.equal(h.reports.length, 1);
  const r = h.reports[0];
  assert.equal(r.state, "REJECTED");
  assert.equal(r.reasonCode, "-2010");
  assert.equal(r.reasonText, "Account has insufficient balance for requested action.");
  assert.equal(r.exchangeOrderId, "");
  assert.equal(h.gateway.orders("strat-a")[0].state, "REJECTED");
  assert.equal(h.gateway.stats().rejected, 1);
  await finish(h);
});

Deno.test("order gateway: replayed fills and cumulative regressions are ignored", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.gateway.submit(h.newOrder({ qty: "0.003" }));
  await h.settle();
  const vcid = h.venue.placeCalls[0].venueClientId;
  const first = h.venue.fill(vcid, "0.001", "30000");
  h.venue.push(first); // same trade id again
  const second = h.venue.fill(vcid, "0.001", "30001");
  // A stale update with a new trade id but a lower cumulative quantity (the exchange replayed
  // an old state under another id): dropped by monotonicity.
  h.venue.push({ ...first, tradeId: "999" });
  h.venue.push({ ...second, tradeId: "1000" }); // equal cumulative: also a replay
  h.venue.push({ venueClientId: vcid, state: "new" }); // states never go backwards
  await h.settle();
  assert.deepEqual(h.reports.map(brief), [
    "o1 ACK 0   0 ",
    "o1 PARTIAL 0.001 0.001 30000 30.000 1",
    "o1 PARTIAL 0.002 0.001 30001 60.001 2",
  ]);
  assert.equal(h.gateway.stats().fillsDeduplicated, 3);
  await finish(h);
});

Deno.test("order gateway: ACK is synthesized when the first update is already a fill", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({ kind: "accept", pushNew: false });
  h.gateway.submit(h.newOrder());
  await h.settle();
  assert.equal(h.reports.length, 0, "accepted, but no `new` update: no ACK yet");
  const vcid = h.venue.placeCalls[0].venueClientId;
  h.venue.fill(vcid, "0.001", "30000", { final: true });
  h.venue.push({ venueClientId: vcid, state: "new" }); // late `new`: no second ACK
  await h.settle();
  assert.deepEqual(h.reports.map((r) => r.state), ["ACK", "FILLED"]);
  assert.equal(h.reports[0].exchangeOrderId, "1000", "the accept stored the exchange id");
  await finish(h);
});

Deno.test("order gateway: cancel by the consumer's client order id", async (t) => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.gateway.submit(h.newOrder());
  await h.settle();
  await t.step("unknown order", () => {
    const out = h.gateway.cancel(h.cancelOrder({ clientOrderId: "nope" }));
    assert.equal(!out.ok && out.code, "unknown_order");
  });
  await t.step("an order of another consumer is unknown", () => {
    const out = h.gateway.cancel(h.cancelOrder({ consumerId: "strat-b", clientOrderId: "o1" }));
    assert.equal(!out.ok && out.code, "unknown_order");
  });
  await t.step("cancel reaches the exchange and CANCELLED follows", async () => {
    assert.deepEqual(h.gateway.cancel(h.cancelOrder({ clientOrderId: "o1" })), { ok: true });
    await h.settle();
    assert.deepEqual(h.reports.map((r) => r.state), ["ACK", "CANCELLED"]);
    assert.equal(h.venue.cancelCalls.length, 1);
  });
  await t.step("a closed order cannot be cancelled", () => {
    const out = h.gateway.cancel(h.cancelOrder({ clientOrderId: "o1" }));
    assert.equal(!out.ok && out.code, "order_closed");
    assert.equal(!out.ok && out.existing?.state, "CANCELLED");
  });
  await t.step("an exchange refusal is counted, no report", async () => {
    h.gateway.submit(h.newOrder({ clientOrderId: "o2" }));
    await h.settle();
    h.venue.cancelAnswer = { kind: "rejected", code: "-2011", text: "Unknown order sent." };
    assert.deepEqual(h.gateway.cancel(h.cancelOrder({ clientOrderId: "o2" })), { ok: true });
    await h.settle();
    assert.equal(h.gateway.stats().cancelsRejected, 1);
    assert.deepEqual(h.reports.map((r) => r.state), ["ACK", "CANCELLED", "ACK"]);
  });
  await finish(h);
});

Deno.test("order gateway: updates for orders it does not know are counted and ignored", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.push({ venueClientId: "web12345", state: "new" });
  h.venue.push({ venueClientId: "sy0000000zzzz", state: "new" });
  assert.equal(h.gateway.stats().unknownUpdates, 2);
  assert.equal(h.reports.length, 0);
  await finish(h);
});

Deno.test("order gateway: reports stay lossless when the report pool is exhausted", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  const held = [];
  for (let r = h.pools.execReport.tryAcquire(); r !== null; r = h.pools.execReport.tryAcquire()) {
    held.push(r);
  }
  h.gateway.submit(h.newOrder());
  await h.settle();
  assert.deepEqual(h.reports.map((r) => r.state), ["ACK"]);
  assert.equal(h.gateway.stats().reportPoolMisses, 1);
  for (const r of held) h.pools.execReport.release(r);
  await finish(h);
});
