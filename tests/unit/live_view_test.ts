import assert from "node:assert/strict";
import { ConsumerRegistry } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import { LiveView, type LiveViewSource } from "../../src/gateway/live_view.ts";

function source(counts: Record<string, number>): LiveViewSource {
  return {
    eventsByKind: () => counts,
    books: () => [
      {
        provider: "binance",
        symbol: "BTC-USDT",
        state: "LIVE",
        bestBid: "100.00",
        bestAsk: "100.01",
      },
      { provider: "binance", symbol: "ETH-USDT", state: "RESYNCING", bestBid: "", bestAsk: "" },
    ],
    symbols: () => ["BTC-USDT", "ETH-USDT"],
  };
}

Deno.test("live view subscribes a consumer to trades and renders rates and books", () => {
  const consumers = new ConsumerRegistry({ routes: new RoutingTable() });
  const counts: Record<string, number> = { trade: 0 };
  const view = new LiveView({ source: source(counts), consumers, table: true, write: () => {} });
  view.start();
  try {
    const c = consumers.get("switchyard-live-view");
    assert.ok(c, "expected the view's consumer to be registered");
    assert.equal(c.subscriptions().length, 2);
    counts.trade = 1_000_000; // a large jump shows up as a positive rate
    const text = view.render();
    assert.match(text, /events\/s: trade \d+/);
    assert.match(text, /books LIVE 1\/2/);
    assert.match(text, /BTC-USDT +binance +LIVE +100\.00 \/ 100\.01/);
    assert.match(text, /ETH-USDT +binance +RESYNCING +- \/ -/);
  } finally {
    view.stop();
  }
  assert.equal(consumers.get("switchyard-live-view"), undefined);
});

Deno.test("live view without a TTY prints one summary line", () => {
  const consumers = new ConsumerRegistry({ routes: new RoutingTable() });
  const view = new LiveView({ source: source({}), consumers, table: false, write: () => {} });
  view.start();
  try {
    const text = view.render();
    assert.equal(text.split("\n").length, 1);
    assert.match(text, /^switchyard \d\d:\d\d:\d\d +events\/s: trade 0/);
  } finally {
    view.stop();
  }
});
