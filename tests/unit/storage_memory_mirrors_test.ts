/**
 * The in-memory mirrors of the order path's SQLite tables (the journal's open intents, the
 * exec-report log's recent reports and coalesced acks) never disagree with the database: a
 * rolled-back transaction empties them, and coalesced acks are written by the end of the task.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ExecReportLog } from "../../src/consumer/exec_report_log.ts";
import { type IntentInput, IntentJournal, type IntentRow } from "../../src/orders/mod.ts";
import type { ExecReportData } from "../../src/schema/mod.ts";
import { inTransaction, onRollback } from "../../src/storage/mod.ts";
import { sampleExecReport } from "../support/schema_samples.ts";

function intent(clientOrderId: string): IntentInput {
  return {
    consumerId: "strat-a",
    clientOrderId,
    provider: "fakex",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price: "30000.00",
    qty: "0.001",
    createdMs: 1_700_000_000_000,
    traceId: "t1",
  };
}

function report(n: number): ExecReportData {
  return sampleExecReport({ consumerId: "a", clientOrderId: `o${n}`, state: "ACK" });
}

Deno.test("inTransaction runs rollback hooks only when the transaction rolls back", () => {
  const db = new DatabaseSync(":memory:");
  try {
    const calls: string[] = [];
    assert.equal(onRollback(db, () => calls.push("outside")), false, "no transaction: no hook");
    inTransaction(db, () => {
      assert.equal(onRollback(db, () => calls.push("committed")), true);
    });
    assert.throws(() =>
      inTransaction(db, () => {
        onRollback(db, () => calls.push("rolled back"));
        throw new Error("boom");
      }), /boom/);
    assert.deepEqual(calls, ["rolled back"]);
    assert.equal(db.isTransaction, false);
  } finally {
    db.close();
  }
});

Deno.test("intent journal: a rolled-back change is not served from its open-intent mirror", () => {
  const j = new IntentJournal();
  try {
    const a = j.record(intent("o1")) as IntentRow;
    assert.throws(() =>
      j.transaction(() => {
        j.applyState(a.id, { state: "ACK", exchangeOrderId: "9", updatedMs: 2 });
        assert.equal(j.byId(a.id)?.state, "ACK", "inside the transaction the change shows");
        throw new Error("deliver failed");
      }), /deliver failed/);
    const row = j.byId(a.id);
    assert.equal(row?.state, "PENDING");
    assert.equal(row?.exchangeOrderId, "");
    assert.throws(() =>
      j.transaction(() => {
        j.record(intent("o2"));
        throw new Error("later step failed");
      }), /later step failed/);
    assert.equal(j.byConsumerClientId("strat-a", "o2"), undefined);
    assert.equal(j.open().length, 1);
    const filled = j.applyState(a.id, { state: "FILLED", cumQty: "0.001", updatedMs: 3 });
    assert.deepEqual({ ...j.byId(a.id) }, filled, "a terminal row is read back from the database");
  } finally {
    j.close();
  }
});

Deno.test("exec report log: acks of one task are written together, before any read", async () => {
  const db = new DatabaseSync(":memory:");
  const log = new ExecReportLog({ database: db });
  try {
    for (let n = 1; n <= 4; n++) log.append("a", report(n));
    assert.equal(log.ack("a", 2), 2);
    assert.equal(log.ack("a", 3), 3);
    assert.equal(log.ack("a", 1), 3, "the cursor never moves back, pending or written");
    const stored = () =>
      (db.prepare("SELECT acked_seq FROM exec_report_cursor WHERE consumer_id = 'a'").get() as {
        acked_seq: number;
      }).acked_seq;
    assert.equal(stored(), 0, "not yet written within the task");
    await Promise.resolve();
    assert.equal(stored(), 3, "written at the end of the task");
    log.ack("a", 4);
    assert.equal(log.cursor("a"), 4, "a read writes pending acks first");
    assert.equal(stored(), 4);
    assert.throws(() => log.ack("a", 5), /expected an ack at most head 4, found 5/);
  } finally {
    log.close();
    db.close();
  }
});

Deno.test("exec report log: a rolled-back append is not served from its recent reports", () => {
  const db = new DatabaseSync(":memory:");
  const log = new ExecReportLog({ database: db });
  try {
    log.append("a", report(1));
    assert.throws(() =>
      inTransaction(db, () => {
        assert.equal(log.append("a", report(2)).seq, 2);
        throw new Error("journal change failed");
      }), /journal change failed/);
    assert.deepEqual(log.read("a", 0, 10).map((r) => r.seq), [1]);
    assert.deepEqual(log.read("a", 1, 10), []);
    const again = log.append("a", report(3));
    assert.equal(again.seq, 2, "the rolled-back seq is assigned again");
    assert.deepEqual(log.read("a", 1, 10).map((r) => r.clientOrderId), ["o3"]);
  } finally {
    log.close();
    db.close();
  }
});
