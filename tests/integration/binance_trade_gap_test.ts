/**
 * Binance trade ids are consecutive per symbol, and the dispatcher orders trades only as
 * increasing: the adapter itself reports skipped ids, and the gateway turns that into
 * `switchyard_trade_id_gaps_total{provider,symbol}` and `trade.gap` telemetry. The stream comes
 * from a scripted WebSocket (exchangeInfo from the Binance simulator's REST side).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";

function tradeFrame(symbol: string, id: number): string {
  const data =
    `{"e":"trade","E":1700000000000,"s":"${symbol}","t":${id},"p":"87250.01","q":"0.001","T":1700000000000,"m":false,"M":true}`;
  return `{"stream":"${symbol.toLowerCase()}@trade","data":${data}}`;
}

/** BTCUSDT skips 102..103 and 106..109 (and repeats 105); ETHUSDT skips nothing. */
const SCRIPT: [string, number][] = [
  ["BTCUSDT", 100],
  ["BTCUSDT", 101],
  ["ETHUSDT", 7],
  ["BTCUSDT", 104],
  ["BTCUSDT", 105],
  ["BTCUSDT", 105],
  ["ETHUSDT", 8],
  ["BTCUSDT", 110],
];

Deno.test("skipped Binance trade ids are counted per symbol: metric, telemetry, stats", async () => {
  await setupLogging({ level: "error", format: "json", write: () => {} });
  const sim = await startBinanceSim({ hostname: "127.0.0.1", port: 0, eventsPerSecond: 0 });
  const sockets = new Set<WebSocket>();
  const ws = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    sockets.add(socket);
    socket.onopen = () => {
      for (const [symbol, id] of SCRIPT) socket.send(tradeFrame(symbol, id));
    };
    socket.onclose = () => sockets.delete(socket);
    return response;
  });
  let gw: Gateway | null = null;
  try {
    const r = loadConfig([
      "--data-dir",
      ":memory:",
      "--port",
      "0",
      "--view",
      "off",
      "--providers",
      "binance",
      "--symbols",
      "BTC-USDT,ETH-USDT",
      "--binance-rest",
      sim.restUrl,
      "--binance-ws",
      `ws://127.0.0.1:${ws.addr.port}`,
    ], { env: {} });
    assert.equal(r.kind, "run");
    if (r.kind !== "run") return;
    gw = await Gateway.start(r.config);
    const adapter = gw.adapter!;
    await waitFor("7 trades", () => (adapter.stats().eventsByKind.trade ?? 0) === 7);
    const stats = adapter.stats();
    assert.equal(stats.tradeIdGaps, 2);
    assert.equal(stats.tradeIdsSkipped, 6);
    assert.equal(stats.duplicatesDropped, 1);
    const gaps = gw.telemetry.recent(10, { type: "trade.gap" }).map((rec) => rec.event).reverse();
    assert.deepEqual(
      gaps.map((e) =>
        e.type === "trade.gap" && [e.provider, e.symbol, e.from_seq, e.to_seq, e.count]
      ),
      [["binance", "BTC-USDT", 102, 103, 2], ["binance", "BTC-USDT", 106, 109, 4]],
    );
    const text = await (await fetch(`http://127.0.0.1:${gw.httpAddress.port}/metrics`)).text();
    assert.match(text, /switchyard_trade_id_gaps_total\{provider="binance",symbol="BTC-USDT"\} 6/);
    assert.doesNotMatch(
      text,
      /switchyard_trade_id_gaps_total\{provider="binance",symbol="ETH-USDT"\}/,
    );
  } finally {
    await gw?.shutdown("test");
    for (const s of sockets) s.close();
    await ws.shutdown();
    await sim.close();
    await teardownLogging();
  }
});
