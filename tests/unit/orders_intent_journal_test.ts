import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  type IntentInput,
  IntentJournal,
  type IntentRow,
  venueClientIdOf,
} from "../../src/orders/mod.ts";

function intent(fields?: Partial<IntentInput>): IntentInput {
  return {
    consumerId: "strat-a",
    clientOrderId: "o1",
    provider: "fakex",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price: "30000.00",
    qty: "0.001",
    createdMs: 1_700_000_000_000,
    traceId: "t1",
    ...fields,
  };
}

function recorded(r: IntentRow | { duplicate: IntentRow }): IntentRow {
  assert.ok(!("duplicate" in r), "expected a new intent, found a duplicate");
  return r;
}

Deno.test("intent journal records PENDING intents and answers duplicates per consumer", () => {
  const j = new IntentJournal();
  const a = recorded(j.record(intent()));
  assert.equal(a.state, "PENDING");
  assert.equal(a.venueClientId, venueClientIdOf(a.id));
  assert.equal(a.cumQty, "0");
  const dup = j.record(intent({ qty: "5" }));
  assert.ok("duplicate" in dup);
  assert.equal(dup.duplicate.id, a.id);
  assert.equal(dup.duplicate.qty, "0.001", "the duplicate is answered with the first intent");
  const b = recorded(j.record(intent({ consumerId: "strat-b" })));
  assert.notEqual(b.venueClientId, a.venueClientId, "same client id, other consumer: new order");
  assert.equal(j.byVenueClientId(b.venueClientId)?.consumerId, "strat-b");
  assert.equal(j.byConsumerClientId("strat-a", "o1")?.id, a.id);
  assert.equal(j.byVenueClientId("sy0000000zzzz"), undefined);
  assert.equal(j.byVenueClientId("not-ours"), undefined);
  j.close();
  assert.throws(() => j.open(), /expected an open journal, found it closed/);
});

Deno.test("intent journal survives close and reopen of a file database", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orders_journal_" });
  try {
    const path = join(dir, "orders.db");
    const j1 = new IntentJournal({ path });
    const a = recorded(j1.record(intent()));
    j1.applyState(a.id, { state: "ACK", exchangeOrderId: "777", updatedMs: 2 });
    assert.equal(
      j1.recordFill("fakex", "t-1", {
        venueClientId: a.venueClientId,
        qty: "0.001",
        price: "1",
        tsMs: 3,
      }),
      true,
    );
    j1.setTrading("strat-a", true, 4);
    j1.close();

    const j2 = new IntentJournal({ path });
    const dup = j2.record(intent());
    assert.ok("duplicate" in dup);
    assert.equal(dup.duplicate.state, "ACK");
    assert.equal(dup.duplicate.exchangeOrderId, "777");
    assert.equal(
      j2.recordFill("fakex", "t-1", {
        venueClientId: a.venueClientId,
        qty: "0.001",
        price: "1",
        tsMs: 3,
      }),
      false,
    );
    assert.equal(j2.tradingEnabled("strat-a"), true);
    assert.equal(j2.tradingEnabled("strat-x"), null);
    j2.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("intent journal never reuses a row id (venue client id), even after deletes", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orders_journal_" });
  try {
    const path = join(dir, "orders.db");
    const j1 = new IntentJournal({ path });
    const a = recorded(j1.record(intent({ clientOrderId: "a" })));
    const b = recorded(j1.record(intent({ clientOrderId: "b" })));
    j1.close();
    const raw = new DatabaseSync(path);
    raw.exec("DELETE FROM intents");
    raw.close();
    const j2 = new IntentJournal({ path });
    const c = recorded(j2.record(intent({ clientOrderId: "c" })));
    assert.ok(c.id > b.id && b.id > a.id, `ids ${a.id}, ${b.id}, ${c.id}`);
    j2.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("intent journal: open intents, forward-only states, fills, trading, list", async (t) => {
  const j = new IntentJournal();
  const a = recorded(j.record(intent({ clientOrderId: "a" })));
  const b = recorded(j.record(intent({ clientOrderId: "b" })));
  const c = recorded(j.record(intent({ clientOrderId: "c", provider: "other" })));
  await t.step("open lists PENDING, SENT, ACK, PARTIAL, by provider", () => {
    j.applyState(b.id, { state: "SENT", updatedMs: 1 });
    assert.deepEqual(j.open("fakex").map((r) => r.id), [a.id, b.id]);
    assert.deepEqual(j.open().map((r) => r.id), [a.id, b.id, c.id]);
    j.applyState(a.id, { state: "FILLED", cumQty: "0.001", updatedMs: 2 });
    assert.deepEqual(j.open("fakex").map((r) => r.id), [b.id]);
  });
  await t.step("states never go backwards and terminal is final", () => {
    j.applyState(b.id, { state: "PARTIAL", updatedMs: 3 });
    assert.throws(
      () => j.applyState(b.id, { state: "ACK", updatedMs: 4 }),
      /expected intent \d+ to move forward from PARTIAL, found ACK/,
    );
    assert.throws(
      () => j.applyState(a.id, { state: "CANCELLED", updatedMs: 4 }),
      /expected terminal intent \d+ to stay FILLED, found a change to CANCELLED/,
    );
    assert.throws(() => j.applyState(999, { updatedMs: 4 }), /expected intent 999 to exist/);
  });
  await t.step("fills are recorded once per (provider, venue client id, trade id)", () => {
    const fill = { venueClientId: b.venueClientId, qty: "1", price: "2", tsMs: 5 };
    assert.equal(j.recordFill("fakex", "9", fill), true);
    assert.equal(j.recordFill("fakex", "9", fill), false);
    assert.equal(
      j.recordFill("fakex", "9", { ...fill, venueClientId: a.venueClientId }),
      true,
      "self-trade: other order",
    );
    assert.equal(j.recordFill("other", "9", fill), true);
    assert.equal(j.fillSeen("fakex", b.venueClientId, "9"), true);
  });
  await t.step("transaction rolls back on throw", () => {
    assert.throws(() =>
      j.transaction(() => {
        j.recordFill("fakex", "rolled-back", {
          venueClientId: b.venueClientId,
          qty: "1",
          price: "1",
          tsMs: 1,
        });
        throw new Error("boom");
      }), /boom/);
    assert.equal(j.fillSeen("fakex", b.venueClientId, "rolled-back"), false);
  });
  await t.step("trading switch and list", () => {
    assert.equal(j.tradingEnabled("strat-a"), null);
    j.setTrading("strat-a", false, 1);
    assert.equal(j.tradingEnabled("strat-a"), false);
    j.setTrading("strat-a", true, 2);
    assert.equal(j.tradingEnabled("strat-a"), true);
    assert.deepEqual(j.list("strat-a", 2).map((r) => r.clientOrderId), ["c", "b"]);
    assert.throws(() => j.list("strat-a", 0), /expected an integer limit in 1\.\.1000, found 0/);
  });
  j.close();
});

Deno.test("intent journal refuses a database with another schema version", () => {
  const dir = Deno.makeTempDirSync({ prefix: "orders_journal_" });
  try {
    const path = join(dir, "orders.db");
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE schema_component (name TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    raw.exec("INSERT INTO schema_component VALUES ('intent_journal', 7)");
    raw.close();
    assert.throws(
      () => new IntentJournal({ path }),
      /expected schema version 1 of intent_journal, found 7/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
