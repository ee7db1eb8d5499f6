import assert from "node:assert/strict";
import { VenueSupervisor, VenueUnavailableError } from "../../src/orders/mod.ts";
import { createOrderHarness, FakeOrderVenue } from "../support/fake_order_venue.ts";

const RULES_REF = { venueClientId: "sy00000000001", symbol: "BTC-USDT" };

Deno.test("a venue whose start fails is rebuilt and started again, then reported resynced", async () => {
  const built: FakeOrderVenue[] = [];
  const supervisor = new VenueSupervisor({
    provider: "fakex",
    create: () => {
      const v = new FakeOrderVenue();
      v.startFails = built.length < 2; // the first two attempts fail
      built.push(v);
      return v;
    },
    retryDelayMs: 10,
    retryDelayMaxMs: 20,
  });
  let resyncs = 0;
  supervisor.setListener({ onUpdate: () => {}, onResynced: () => resyncs++ });
  await assert.rejects(() => supervisor.start(), VenueUnavailableError);
  assert.equal(supervisor.ready, false);
  assert.throws(
    () => supervisor.query(RULES_REF, { timeoutMs: 100 }),
    /expected a started order venue, found none yet/,
  );
  const deadline = Date.now() + 2000;
  while (!supervisor.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(supervisor.ready, true);
  assert.equal(supervisor.attempts, 3);
  assert.equal(resyncs, 1, "the gateway is told to reconcile once the venue is up");
  assert.ok(supervisor.rules("BTC-USDT") !== undefined);
  assert.equal(await supervisor.query(RULES_REF, { timeoutMs: 100 }), null);
  await supervisor.close();
});

Deno.test("closing stops the retries", async () => {
  let built = 0;
  const supervisor = new VenueSupervisor({
    provider: "fakex",
    create: () => {
      built++;
      const v = new FakeOrderVenue();
      v.startFails = true;
      return v;
    },
    retryDelayMs: 30,
  });
  supervisor.setListener({ onUpdate: () => {}, onResynced: () => {} });
  await assert.rejects(() => supervisor.start());
  await supervisor.close();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(built, 1, "no attempt after close");
});

Deno.test("the order gateway trades once a supervised venue comes up late", async () => {
  let fail = true;
  const inner: FakeOrderVenue[] = [];
  const supervisor = new VenueSupervisor({
    provider: "fakex",
    create: () => {
      const v = new FakeOrderVenue();
      v.startFails = fail;
      inner.push(v);
      return v;
    },
    retryDelayMs: 10,
  });
  // deno-lint-ignore no-explicit-any
  const h = createOrderHarness({ venue: supervisor as any });
  await h.gateway.start();
  const refused = h.gateway.submit(h.newOrder({ clientOrderId: "o-early" }));
  assert.equal(!refused.ok && refused.code, "venue_unavailable");
  fail = false;
  const deadline = Date.now() + 2000;
  while (!supervisor.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const out = h.gateway.submit(h.newOrder({ clientOrderId: "o-late" }));
  assert.deepEqual(out, { ok: true });
  await h.settle();
  assert.equal(inner.at(-1)!.placeCalls.length, 1);
  assert.deepEqual(h.reports.map((r) => r.state), ["ACK"]);
  await h.close();
});
