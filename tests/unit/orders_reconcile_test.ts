import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecReportData } from "../../src/schema/exec_report.ts";
import { validateExecReport } from "../../src/schema/exec_report.ts";
import { IntentJournal } from "../../src/orders/mod.ts";
import {
  createOrderHarness,
  FakeOrderVenue,
  type OrderHarness,
} from "../support/fake_order_venue.ts";

function brief(r: ExecReportData): string {
  return [r.clientOrderId, r.state, r.cumQty, r.lastQty, r.lastPx, r.cumQuote, r.exchangeTradeId]
    .join(" ");
}

async function finish(h: OrderHarness, opts?: { keepJournal?: boolean }): Promise<void> {
  await h.settle();
  assert.deepEqual(h.inFlight(), { orderRequests: 0, execReports: 0 });
  for (const r of h.reports) assert.equal(validateExecReport(r), null, JSON.stringify(r));
  await h.close(opts);
}

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "orders_reconcile_" });
    try {
      await body(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test("timeout: the order is queried before anything else and adopted when found", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({ kind: "timeout", known: true });
  assert.deepEqual(h.gateway.submit(h.newOrder()), { ok: true });
  assert.equal(h.inFlight().orderRequests, 1, "pooled until the answer");
  await h.settle();
  assert.equal(h.inFlight().orderRequests, 0, "released at the timeout");
  const vcid = h.venue.placeCalls[0].venueClientId;
  assert.deepEqual(h.venue.queryCalls, [vcid]);
  assert.deepEqual(h.reports.map((r) => `${r.state} ${r.exchangeOrderId}`), ["ACK 1000"]);
  h.venue.fill(vcid, "0.001", "30000", { final: true });
  await h.settle();
  assert.deepEqual(h.reports.map((r) => r.state), ["ACK", "FILLED"]);
  assert.deepEqual([...h.venue.placeCountByClientId().values()], [1], "placed exactly once");
  const s = h.gateway.stats();
  assert.equal(s.timeouts, 1);
  assert.equal(s.reconciled, 1);
  await finish(h);
});

Deno.test("timeout: not found means REJECTED timeout_not_found, never a resend", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({ kind: "timeout", known: false });
  h.gateway.submit(h.newOrder());
  await h.settle();
  assert.equal(h.venue.placeCalls.length, 1);
  assert.equal(h.venue.queryCalls.length, 1);
  assert.equal(h.reports.length, 1);
  assert.equal(h.reports[0].state, "REJECTED");
  assert.equal(h.reports[0].reasonCode, "timeout_not_found");
  assert.match(h.reports[0].reasonText, /not resent/);
  // The consumer retrying the same id gets the journaled answer, still no second send.
  const again = h.gateway.submit(h.newOrder());
  assert.equal(!again.ok && again.code, "duplicate_client_order_id");
  assert.equal(h.venue.placeCalls.length, 1);
  await finish(h);
});

Deno.test("timeout: a failing query leaves SENT until the next reconcile", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({ kind: "timeout", known: true });
  h.venue.queriesFail = true;
  h.gateway.submit(h.newOrder());
  await h.settle();
  assert.equal(h.gateway.orders("strat-a")[0].state, "SENT");
  assert.equal(h.reports.length, 0);
  h.venue.queriesFail = false;
  h.venue.comeBack();
  await h.settle();
  assert.deepEqual(h.reports.map((r) => r.state), ["ACK"]);
  assert.equal(h.venue.placeCalls.length, 1);
  await finish(h);
});

Deno.test("a lost connection while placing is treated like a timeout", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.venue.answers.push({ kind: "hold" });
  h.gateway.submit(h.newOrder());
  await h.settle();
  assert.equal(h.inFlight().orderRequests, 1);
  h.venue.settleHeld({ kind: "timeout", known: false });
  await h.settle();
  assert.deepEqual(h.reports.map((r) => `${r.state} ${r.reasonCode}`), [
    "REJECTED timeout_not_found",
  ]);
  await finish(h);
});

Deno.test(
  "reconcile after a restart emits a fill missed while down exactly once",
  withTempDir(async (dir) => {
    const journalPath = join(dir, "orders.db");
    const venue = new FakeOrderVenue();
    const h1 = createOrderHarness({ journalPath, venue });
    await h1.gateway.start();
    h1.gateway.submit(h1.newOrder({ qty: "0.003" }));
    await h1.settle();
    const vcid = venue.placeCalls[0].venueClientId;
    venue.fill(vcid, "0.001", "30000.00");
    await h1.settle();
    assert.deepEqual(h1.reports.map((r) => r.state), ["ACK", "PARTIAL"]);
    await finish(h1);

    // While the gateway is down the exchange fills 0.0015 more in two trades.
    const lostA = venue.fill(vcid, "0.0005", "30010.00", { deliver: false });
    const lostB = venue.fill(vcid, "0.001", "30020.00", { deliver: false });

    const h2 = createOrderHarness({ journalPath, venue });
    await h2.gateway.start();
    await h2.settle();
    assert.deepEqual(h2.reports.map(brief), [
      // one synthesized report for the growth; lastPx from the quote amounts: 45.025 / 0.0015
      "o1 PARTIAL 0.0025 0.0015 30016.666666666666 75.025000 ",
    ]);
    // The exchange replays the two trades after the restart: both are already counted.
    venue.push(lostA);
    venue.push(lostB);
    // A resync reconciles again: nothing new.
    venue.comeBack();
    await h2.settle();
    assert.equal(h2.reports.length, 1);
    assert.equal(h2.gateway.stats().fillsDeduplicated, 2);
    // The last fill still arrives normally.
    venue.fill(vcid, "0.0005", "30000.00", { final: true });
    await h2.settle();
    assert.deepEqual(h2.reports.slice(1).map(brief), [
      "o1 FILLED 0.0030 0.0005 30000.00 90.025000 4",
    ]);
    assert.equal(venue.placeCalls.length, 1, "placed exactly once across the restart");
    await finish(h2);
  }),
);

Deno.test(
  "an intent PENDING at startup is queried: unknown means not_sent_before_restart, known is adopted",
  withTempDir(async (dir) => {
    const journalPath = join(dir, "orders.db");
    // Simulates kill -9 between the journal write and the send (o-lost), and after the send
    // (o-sent): both intents stay PENDING in the journal.
    const j = new IntentJournal({ path: journalPath });
    const base = {
      consumerId: "strat-a",
      provider: "fakex",
      symbol: "BTC-USDT",
      side: "buy" as const,
      orderType: "limit" as const,
      timeInForce: "GTC" as const,
      price: "30000.00",
      qty: "0.001",
      createdMs: 1,
      traceId: "",
    };
    const lost = j.record({ ...base, clientOrderId: "o-lost" });
    const sent = j.record({ ...base, clientOrderId: "o-sent" });
    assert.ok(!("duplicate" in lost) && !("duplicate" in sent));
    j.close();
    const venue = new FakeOrderVenue();
    // The exchange got o-sent, and it even filled while the gateway was down.
    venue.orders.set(sent.venueClientId, {
      venueClientId: sent.venueClientId,
      exchangeOrderId: "555",
      symbol: "BTC-USDT",
      state: "filled",
      cumQty: "0.001",
      cumQuote: "",
      avgPrice: "29990.5",
      reasonCode: "",
      reasonText: "",
      updateTsMs: 5,
    });

    const h = createOrderHarness({ journalPath, venue });
    await h.gateway.start();
    await h.settle();
    assert.equal(venue.placeCalls.length, 0, "never sent again");
    assert.deepEqual(venue.queryCalls.sort(), [lost.venueClientId, sent.venueClientId].sort());
    assert.deepEqual(h.reports.map((r) => `${r.clientOrderId} ${r.state} ${r.reasonCode}`), [
      "o-lost REJECTED not_sent_before_restart",
      "o-sent ACK ",
      "o-sent FILLED ",
    ]);
    const filled = h.reports[2];
    assert.equal(filled.lastQty, "0.001");
    assert.equal(filled.lastPx, "29990.5");
    assert.equal(filled.exchangeOrderId, "555");
    assert.equal(h.journal.open().length, 0);
    await finish(h);
  }),
);

Deno.test("resync: fills missed during a disconnect are emitted once with derived prices", async () => {
  const h = createOrderHarness();
  await h.gateway.start();
  h.gateway.submit(h.newOrder({ clientOrderId: "a", qty: "0.002" }));
  h.gateway.submit(h.newOrder({ clientOrderId: "b", qty: "0.002" }));
  await h.settle();
  const [a, b] = h.venue.placeCalls.map((o) => o.venueClientId);
  h.venue.goAway();
  h.venue.fill(a, "0.002", "30000.00", { deliver: false, final: true });
  h.venue.push({ venueClientId: b, state: "canceled", reasonCode: "user" }, { deliver: false });
  // A filled order is no longer open: the gateway finds it with a query.
  h.venue.comeBack();
  await h.settle();
  assert.deepEqual(h.reports.map((r) => `${r.clientOrderId} ${r.state} ${r.lastQty}`), [
    "a ACK ",
    "b ACK ",
    "a FILLED 0.002",
    "b CANCELLED ",
  ]);
  assert.equal(h.reports[2].lastPx, "30000");
  assert.equal(h.reports[2].exchangeTradeId, "");
  assert.equal(h.reports[3].reasonCode, "user");
  assert.equal(h.venue.openOrdersCalls, 1, "start had nothing open to reconcile");
  assert.equal(h.gateway.stats().reconciled, 2);
  await finish(h);
});

Deno.test("a venue that fails to start does not stop the gateway", async () => {
  const venue = new FakeOrderVenue();
  venue.startFails = true;
  const h = createOrderHarness({ venue });
  await h.gateway.start();
  const out = h.gateway.submit(h.newOrder());
  assert.equal(!out.ok && out.code, "venue_unavailable");
  assert.equal(h.gateway.stats().venueRequestErrors, 0, "nothing open: no reconcile request");
  await finish(h);
});

Deno.test("closing with a send in flight releases the request and keeps the intent SENT", async () => {
  const dirH = createOrderHarness();
  await dirH.gateway.start();
  dirH.venue.answers.push({ kind: "hold" });
  dirH.gateway.submit(dirH.newOrder());
  await dirH.settle();
  await dirH.gateway.close();
  assert.equal(dirH.inFlight().orderRequests, 0);
  assert.equal(dirH.journal.byConsumerClientId("strat-a", "o1")?.state, "SENT");
  const late = dirH.gateway.submit(dirH.newOrder({ clientOrderId: "late" }));
  assert.equal(!late.ok && late.code, "venue_unavailable");
  await finish(dirH);
});

Deno.test(
  "a startup reconcile that fails is retried without waiting for a reconnect",
  withTempDir(async (dir) => {
    const journalPath = join(dir, "orders.db");
    const venue = new FakeOrderVenue();
    const h1 = createOrderHarness({ journalPath, venue });
    await h1.gateway.start();
    h1.gateway.submit(h1.newOrder({ qty: "0.002" }));
    await h1.settle();
    const vcid = venue.placeCalls[0].venueClientId;
    await finish(h1);
    // While the gateway is down the exchange fills the order.
    venue.fill(vcid, "0.002", "30000.00", { deliver: false, final: true });
    // Restart: the venue is up, but its first queries fail (timeout, rate limit, nonce...).
    venue.queriesFail = true;
    const h2 = createOrderHarness({ journalPath, venue });
    await h2.gateway.start();
    await h2.settle();
    assert.equal(h2.reports.length, 0, "nothing could be compared yet");
    venue.queriesFail = false;
    const deadline = Date.now() + 5000;
    while (h2.reports.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(h2.reports.map((r) => r.state), ["FILLED"], "the fill missed while down");
    assert.equal(venue.placeCalls.length, 1);
    await finish(h2);
  }),
);
