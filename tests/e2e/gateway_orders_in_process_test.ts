/**
 * Orders from an in-process strategy: `gateway.desk` (no token; the trading switch still
 * applies) and the strategy's `Consumer` from the registry, which receives its execution reports.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import type { ExecReportMessage } from "../../src/consumer/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import type { OrderSubmitCommand } from "../../src/schema/mod.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";

const STRATEGY = "inproc-a";

function submit(clientOrderId: string): OrderSubmitCommand {
  return {
    type: "order_submit",
    reqId: `r-${clientOrderId}`,
    clientOrderId,
    provider: "binance",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price: "40000.00",
    qty: "0.00100",
  };
}

Deno.test("an in-process strategy trades through gateway.desk and reads its reports", async () => {
  await setupLogging({ level: "warning", format: "json", write: () => {} });
  const r = loadConfig([
    "--data-dir",
    ":memory:",
    "--providers",
    "binance",
    "--port",
    "0",
    "--view",
    "off",
    "--symbols",
    "BTC-USDT",
  ], { env: {} });
  assert.equal(r.kind, "run");
  if (r.kind !== "run") return;
  const gw = await Gateway.start(r.config, { view: false });
  try {
    const desk = gw.desk!;
    const consumer = gw.consumers.create(STRATEGY);
    const ctx = { consumerId: STRATEGY, traceId: "" };

    // Off by default: refused locally.
    const off = desk.submit(submit("o-1"), ctx);
    assert.equal(!off.ok && off.code, "trading_disabled");

    desk.setTrading(STRATEGY, true);
    // The venue logs in shortly after start: venue_unavailable until then, retried with the same id.
    let out = desk.submit(submit("o-1"), ctx);
    await waitFor("the venue accepts orders", () => {
      if (out.ok) return true;
      assert.equal(out.code, "venue_unavailable", JSON.stringify(out));
      out = desk.submit(submit("o-1"), ctx);
      return out.ok;
    }, { timeoutMs: 10_000 });

    const reports: ExecReportMessage[] = [];
    await waitFor("the ACK report", () => {
      for (let m = consumer.poll(); m !== undefined; m = consumer.poll()) {
        if (m.type === "exec_report") reports.push(m);
      }
      return reports.length >= 1;
    }, { timeoutMs: 10_000 });
    assert.equal(reports[0].state, "ACK");
    assert.equal(reports[0].clientOrderId, "o-1");
    assert.equal(reports[0].seq, 1);

    const dup = desk.submit(submit("o-1"), ctx);
    assert.equal(!dup.ok && dup.code, "duplicate_client_order_id");
    assert.equal(gw.orders!.stats().sent, 1, "sent once");
  } finally {
    await gw.shutdown("test done");
    await teardownLogging();
  }
});
