/**
 * Ops face of a running gateway: an injected sequence gap shows up as `book.resync` telemetry on
 * `/v1/telemetry` and as a counter on `/metrics`; `/v1/dlq` answers; shutdown drains the pools.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

Deno.test("gateway ops: gap -> book.resync telemetry, metrics, DLQ route", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", format: "json", write: (l) => lines.push(l) });
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
    "BTC-USDT,ETH-USDT",
  ], {
    env: {},
  });
  assert.equal(r.kind, "run");
  if (r.kind !== "run") return;
  const gw = await Gateway.start(r.config);
  try {
    const base = `http://127.0.0.1:${gw.httpAddress.port}`;
    await waitFor("books LIVE", () => gw.adapter!.books().every((b) => b.state === "LIVE"), {
      timeoutMs: 5000,
    });
    gw.sim!.faults.sequenceGap("ETHUSDT");
    await waitFor(
      "book.resync telemetry",
      () => gw.telemetry.count("book.resync") > 0,
      { timeoutMs: 5000 },
    );
    const tel = await (await fetch(`${base}/v1/telemetry?type=book.resync`)).json();
    assert.ok(tel.events.length >= 1, JSON.stringify(tel).slice(0, 300));
    const ev = tel.events[0];
    assert.equal(ev.type, "book.resync");
    assert.equal(ev.symbol, "ETH-USDT");
    assert.equal(ev.reason, "gap");
    assert.match(ev.decision_id, /^d-/);
    const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    assert.equal(
      metrics.get(
        'switchyard_book_resync_total{provider="binance",symbol="ETH-USDT",reason="gap"}',
      ),
      1,
    );
    assert.ok((metrics.get('switchyard_telemetry_events_total{type="book.resync"}') ?? 0) >= 1);
    const dlq = await fetch(`${base}/v1/dlq?limit=5`);
    assert.equal(dlq.status, 200);
    assert.ok("entries" in await dlq.json());
    const bad = await fetch(`${base}/v1/dlq?prio=high`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    await waitFor("ETH LIVE again", () => gw.adapter!.books().every((b) => b.state === "LIVE"), {
      timeoutMs: 5000,
    });
  } finally {
    await gw.shutdown("test");
    await teardownLogging();
  }
  assert.equal(gw.poolManager.totalInFlight(), 0);
  assert.ok(lines.some((l) => l.includes('"msg":"pools drained: clean=true')));
});
