import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Consumer,
  type ConsumerMessage,
  ConsumerRegistry,
  ExecReportLog,
} from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import type { ExecReportData, ExecState } from "../../src/schema/mod.ts";
import { execReportToWire } from "../../src/schema/mod.ts";
import { sampleExecReport, sampleTrade } from "../support/schema_samples.ts";

function report(consumerId: string, n: number, state: ExecState = "ACK"): ExecReportData {
  return sampleExecReport({ consumerId, clientOrderId: `o${n}`, state, seq: 0 });
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard_exec_log_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The exec report sequences in `msgs`. */
function execSeqs(msgs: ConsumerMessage[]): number[] {
  return msgs.map((m) => {
    assert.equal(m.type, "exec_report");
    return m.seq;
  });
}

/** Takes `n` messages from the consumer's iterator, then detaches it. */
async function take(c: Consumer, n: number): Promise<ConsumerMessage[]> {
  const out: ConsumerMessage[] = [];
  if (n === 0) return out;
  for await (const msg of c.events()) {
    out.push(msg);
    if (out.length === n) break;
  }
  return out;
}

Deno.test("exec report log: append assigns per-consumer sequences, read returns them in order", () => {
  const log = new ExecReportLog();
  try {
    assert.deepEqual(log.position("a"), { head: 0, cursor: 0, oldest: 1 });
    assert.deepEqual(log.read("a", 0, 10), [], "an unwritten memory log holds nothing");
    const a1 = log.append("a", report("a", 1));
    const b1 = log.append("b", report("b", 1));
    const a2 = log.append("a", report("", 2)); // an empty consumer id is filled in
    assert.deepEqual([a1.seq, b1.seq, a2.seq], [1, 1, 2], "each consumer has its own sequence");
    assert.equal(a2.consumerId, "a");
    assert.deepEqual(log.read("a", 0, 10), [a1, a2]);
    assert.deepEqual(log.read("a", 1, 10), [a2]);
    assert.deepEqual(log.read("a", 0, 1), [a1]);
    assert.deepEqual(log.read("b", 0, 10), [b1]);
    assert.deepEqual(log.read("a", 0, 10)[1], { ...report("a", 2), seq: 2 }, "every field kept");
    assert.throws(
      () => log.append("a", report("b", 3)),
      /exec report log: expected a report of consumer "a", found one of "b"/,
    );
    assert.equal(log.head("a"), 2, "a refused append assigns nothing");
    assert.throws(() => log.read("a", 0, 0), /expected an integer limit in 1\.\.4096, found 0/);
  } finally {
    log.close();
  }
});

Deno.test("exec report log: the cursor is persisted, never moves back, and acking prunes", async (t) => {
  const log = new ExecReportLog({ replayEntriesMax: 2 });
  try {
    for (let n = 1; n <= 10; n++) log.append("a", report("a", n));

    await t.step("ack moves the cursor and prunes beyond the replay window", () => {
      assert.equal(log.ack("a", 6), 6);
      assert.deepEqual(log.position("a"), { head: 10, cursor: 6, oldest: 5 });
      assert.equal(log.size("a"), 6, "entries 5..10: two acknowledged kept for a rewind");
      assert.equal(log.ack("a", 3), 6, "the cursor never moves back");
      assert.equal(log.cursor("a"), 6);
    });

    await t.step("prune with an explicit window", () => {
      assert.equal(log.prune("a", 0), 2);
      assert.deepEqual(log.read("a", 0, 100).map((r) => r.seq), [7, 8, 9, 10]);
    });

    await t.step("acking beyond the head throws", () => {
      assert.throws(
        () => log.ack("a", 11),
        /consumer "a": expected an ack at most head 10, found 11/,
      );
    });

    await t.step("after everything is acked and pruned the head still counts on", () => {
      log.ack("a", 10);
      log.prune("a", 0);
      assert.equal(log.size("a"), 0);
      assert.deepEqual(log.position("a"), { head: 10, cursor: 10, oldest: 11 });
      assert.equal(log.append("a", report("a", 11)).seq, 11, "sequences are never reused");
    });

    await t.step("forget drops a consumer for good", () => {
      log.forget("a");
      assert.deepEqual(log.position("a"), { head: 0, cursor: 0, oldest: 1 });
    });
  } finally {
    log.close();
  }
  assert.throws(() => log.read("a", 0, 1), /expected an open log, found it closed/);
});

Deno.test("exec report log survives reopening the same sqlite file", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "exec.db");
    const first = new ExecReportLog({ path });
    for (let n = 1; n <= 5; n++) first.append("a", report("a", n, n === 5 ? "FILLED" : "PARTIAL"));
    first.ack("a", 2);
    first.close();

    const second = new ExecReportLog({ path, synchronous: "full" });
    try {
      assert.deepEqual(second.position("a"), { head: 5, cursor: 2, oldest: 1 });
      const rows = second.read("a", second.cursor("a"), 100);
      assert.deepEqual(rows.map((r) => [r.seq, r.clientOrderId, r.state]), [
        [3, "o3", "PARTIAL"],
        [4, "o4", "PARTIAL"],
        [5, "o5", "FILLED"],
      ]);
      assert.equal(second.append("a", report("a", 6)).seq, 6, "the head survived the restart");
    } finally {
      second.close();
    }
  });
});

Deno.test("a consumer closed mid-stream and re-created receives every exec report exactly once, in order", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "exec.db");
    let log = new ExecReportLog({ path });
    let routes = new RoutingTable<Consumer>();
    let registry = new ConsumerRegistry({ routes, execLog: log });
    const received: number[] = [];
    try {
      // Session 1: six reports arrive, the consumer reads three, then disconnects.
      let c = registry.create("strat-a");
      c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
      for (let n = 1; n <= 6; n++) registry.enqueueExecReport(report("strat-a", n));
      c.enqueue(sampleTrade({ seq: 1 }));
      received.push(...execSeqs(await take(c, 3)));
      c.close();

      // While nobody is connected, reports keep coming: they are stored, not dropped.
      for (let n = 7; n <= 8; n++) {
        assert.equal(registry.enqueueExecReport(report("strat-a", n)), n);
      }

      // Session 2, same id: continues after the last acknowledged report.
      c = registry.create("strat-a");
      assert.equal(c.stats().execNextSeq, 4);
      received.push(...execSeqs(await take(c, 2)));
      c.close();

      // A gateway restart: new log object on the same file, new registry.
      registry.close();
      log.close();
      log = new ExecReportLog({ path });
      routes = new RoutingTable<Consumer>();
      registry = new ConsumerRegistry({ routes, execLog: log });
      c = registry.create("strat-a");
      registry.enqueueExecReport(report("strat-a", 9, "FILLED"));
      const rest = await take(c, 4);
      received.push(...execSeqs(rest));
      const last = rest.at(-1)!;
      assert.ok(last.type === "exec_report");
      assert.equal(last.state, "FILLED");
      assert.equal(last.clientOrderId, "o9");

      assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(log.position("strat-a").cursor, 9);
    } finally {
      registry.close();
      log.close();
    }
  });
});

Deno.test("resume: a reconnecting client rewinds to what it last saw, within the replay window", async (t) => {
  const log = new ExecReportLog({ replayEntriesMax: 3 });
  const registry = new ConsumerRegistry({ routes: new RoutingTable<Consumer>(), execLog: log });
  try {
    const c = registry.create("strat-a");
    for (let n = 1; n <= 8; n++) c.enqueueExecReport(report("strat-a", n));
    const first = await take(c, 8);
    assert.deepEqual(execSeqs(first), [1, 2, 3, 4, 5, 6, 7, 8]);
    // The client's connection dropped after it had seen 6: 7 and 8 were lost in transit.

    await t.step("rewind within the window replays what the client missed", async () => {
      assert.deepEqual(c.resume(6), { nextSeq: 7, headSeq: 8, unavailable: 0 });
      assert.deepEqual(execSeqs(await take(c, 2)), [7, 8]);
    });

    await t.step("a rewind beyond the window says how many cannot be replayed", async () => {
      // Acked 8, window 3: 6..8 are kept, 1..5 pruned.
      assert.deepEqual(c.resume(2), { nextSeq: 6, headSeq: 8, unavailable: 3 });
      assert.deepEqual(execSeqs(await take(c, 3)), [6, 7, 8]);
    });

    await t.step("a last seen seq beyond the head is refused", () => {
      assert.throws(
        () => c.resume(9),
        /consumer "strat-a": expected a last seen exec report seq at most 8, found 9/,
      );
      assert.throws(() => c.resume(-1), /expected an integer last seen exec report seq >= 0/);
    });

    await t.step("the wire form of a delivered report is the exec_report message", async () => {
      c.enqueueExecReport(report("strat-a", 9, "CANCELLED"));
      const [msg] = await take(c, 1);
      assert.ok(msg.type === "exec_report");
      const wire = execReportToWire(msg);
      assert.equal(wire.type, "exec_report");
      assert.equal(wire.seq, 9);
      assert.equal(wire.state, "CANCELLED");
    });
  } finally {
    registry.close();
    log.close();
  }
});

Deno.test("manual ack mode: only acknowledged reports are skipped by the next consumer", async () => {
  const log = new ExecReportLog();
  const registry = new ConsumerRegistry({ routes: new RoutingTable<Consumer>(), execLog: log });
  try {
    let c = registry.create("strat-a", { execAck: "manual" });
    for (let n = 1; n <= 4; n++) c.enqueueExecReport(report("strat-a", n));
    assert.deepEqual(execSeqs(await take(c, 4)), [1, 2, 3, 4]);
    assert.equal(log.cursor("strat-a"), 0, "delivery alone does not acknowledge");
    assert.equal(c.ackExecReports(2), 2);
    assert.throws(
      () => c.ackExecReports(5),
      /expected an ack of a delivered exec report \(< 5\), found 5/,
    );
    c.close();
    c = registry.create("strat-a");
    assert.deepEqual(execSeqs(await take(c, 2)), [3, 4]);
  } finally {
    registry.close();
    log.close();
  }
});

Deno.test("a consumer made without a log keeps exec reports in a private one, closed with it", () => {
  const routes = new RoutingTable<Consumer>();
  const c = new Consumer({ id: "solo", routes });
  assert.equal(c.enqueueExecReport(report("solo", 1)), 1);
  assert.deepEqual(execSeqs([c.poll()!]), [1]);
  c.close();
  assert.throws(
    () => c.enqueueExecReport(report("solo", 2)),
    /consumer "solo": expected an open consumer or a shared exec report log, found it closed with a private log/,
  );
});

Deno.test("registry consumers share the registry's log, which keeps reports across close", () => {
  const registry = new ConsumerRegistry({ routes: new RoutingTable<Consumer>() });
  const c = registry.create("strat-a");
  c.enqueueExecReport(report("strat-a", 1));
  assert.equal(registry.execLog.head("strat-a"), 1, "the registry's own :memory: log");
  c.close();
  // Closed, but the log is the registry's: the report is kept for the next consumer.
  assert.equal(c.enqueueExecReport(report("strat-a", 2)), 2);
  assert.throws(
    () => registry.enqueueExecReport(report("bad id", 3)),
    /expected an exec report with a consumer id, found "bad id"/,
  );
  registry.close();
  assert.equal(registry.execLog.closed, true);
});
