/**
 * The default run with all three exchanges: the embedded Binance, OKX and Kraken simulators,
 * their adapters, every book LIVE, a remote consumer receiving trades of one symbol from all
 * three, and a clean shutdown.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";

Deno.test("gateway with binance, okx and kraken: all books LIVE, trades from each", async () => {
  await setupLogging({ level: "warning", format: "json", write: () => {} });
  const r = loadConfig([
    "--data-dir",
    ":memory:",
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
    // Every discovered provider, in alphabetical (registry) order.
    assert.deepEqual(gw.feeds.map((f) => f.provider), ["binance", "kraken", "okx"]);
    const base = `http://127.0.0.1:${gw.httpAddress.port}`;
    await waitFor("6 books LIVE", () => {
      const books = gw.feeds.flatMap((f) => f.books());
      return books.length === 6 && books.every((b) => b.state === "LIVE");
    }, { timeoutMs: 8000 });
    const listed = (await (await fetch(`${base}/v1/books`)).json()).books as { provider: string }[];
    assert.deepEqual([...new Set(listed.map((b) => b.provider))].sort(), [
      "binance",
      "kraken",
      "okx",
    ]);
    const c = gw.consumers.create("three-venues");
    c.subscribe({ provider: "*", symbol: "BTC-USDT", kind: "trade" });
    const seen = new Set<string>();
    const done = (async () => {
      for await (const ev of c.events()) {
        if (ev.type === undefined) seen.add(ev.provider);
        if (seen.size === 3) return;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`trades only from ${[...seen]}`)), 8000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual([...seen].sort(), ["binance", "kraken", "okx"]);
    c.close();

    // A late book subscriber on each venue gets a snapshot its next updates continue.
    for (const provider of ["okx", "kraken", "binance"]) {
      const b = gw.consumers.create(`late-${provider}`);
      b.subscribe({ provider, symbol: "BTC-USDT", kind: "book_snapshot" });
      b.subscribe({ provider, symbol: "BTC-USDT", kind: "book_update" });
      let last = -1;
      let updates = 0;
      const chained = (async () => {
        for await (const ev of b.events()) {
          if (ev.type !== undefined) continue;
          if (ev.kind === "book_snapshot") {
            assert.ok(ev.bids.length > 0 && ev.asks.length > 0, `${provider} snapshot has levels`);
            last = ev.seq;
          } else if (last >= 0) {
            assert.equal(ev.seqFirst, last + 1, `${provider} update continues the snapshot`);
            last = ev.seq;
            if (++updates === 3) return;
          }
        }
      })();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          chained,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${provider}: no chained updates`)), 8000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        b.close();
      }
    }
  } finally {
    await gw.shutdown("test");
    await teardownLogging();
  }
  assert.equal(gw.poolManager.totalInFlight(), 0);
});
