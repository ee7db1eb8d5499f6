/**
 * A real third-party client against the Binance simulator: ccxt's `pro.binance` class (REST
 * `loadMarkets`, WebSocket `watchTrades` and `watchOrderBook`, with ccxt's own book
 * synchronisation) pointed at the loopback simulator, with nothing sent anywhere else.
 *
 * @module
 */

import assert from "node:assert/strict";
import ccxt from "ccxt";
import { startBinanceSim } from "../../src/sim/mod.ts";

const SYMBOL = "BTC/USDT";
const SYMBOL_ID = "BTCUSDT";
/** Levels per side compared between ccxt's book and the simulator's. */
const LEVELS_COMPARED = 25;
/** Bound on any single wait for ccxt. */
const STEP_TIMEOUT_MS = 5_000;
/** Bound on ccxt catching up with the paused simulator. */
const CATCH_UP_TIMEOUT_MS = 5_000;

/** Resolves with `promise`, or rejects once `timeoutMs` has passed (the timer is always cleared). */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: expected within ${timeoutMs} ms, found no answer`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** True for a URL on the loopback interface. */
function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

/** `[price, qty]` decimal strings as numbers, the way ccxt parses them. */
function asNumbers(levels: readonly (readonly [string, string])[]): [number, number][] {
  return levels.map(([price, qty]) => [Number(price), Number(qty)]);
}

/** The first `count` `[price, amount]` pairs of a ccxt book side (ccxt types them `Num`). */
function topOf(
  side: readonly (readonly (number | undefined)[])[],
  count: number,
): [number | undefined, number | undefined][] {
  // Array.from: ccxt sides are Array subclasses (Bids/Asks), which slice() would keep.
  return Array.from(side).slice(0, count).map((level) => [level[0], level[1]]);
}

Deno.test({
  name: "ccxt's binance client loads markets, watches trades and keeps the simulator's book",
  fn: async (t) => {
    const sim = await startBinanceSim({ port: 0, seed: 21, eventsPerSecond: 3000 });
    // Every HTTP request ccxt makes goes through globalThis.fetch (Deno is not "node" to ccxt,
    // so it picks the platform fetch, read on its first request). Refuse anything off-loopback.
    const realFetch = globalThis.fetch;
    const requested: string[] = [];
    const refused: string[] = [];
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      requested.push(url);
      if (!isLoopback(url)) {
        refused.push(url);
        return Promise.reject(new TypeError(`fetch: expected a loopback URL, found ${url}`));
      }
      return realFetch(input, init);
    }) as typeof fetch;
    const exchange = new ccxt.pro.binance({
      enableRateLimit: true,
      urls: {
        api: {
          // exchangeInfo and depth: the only REST endpoints the calls below use.
          public: `${sim.restUrl}/api/v3`,
          // ccxt appends `/<connection index>` (`/ws/0`, `/ws/1`) and then SUBSCRIBEs.
          ws: { spot: `${sim.wsUrl}/ws` },
        },
      },
      options: {
        // Spot exchangeInfo only: no fapi/dapi/eapi exchangeInfo, no sapi margin pairs.
        fetchMarkets: { types: ["spot"] },
        fetchMargins: false,
        // No sapi capital/config call (it needs keys anyway; this makes it explicit).
        fetchCurrencies: false,
        // No /api/v3/time call from loadMarkets.
        adjustForTimeDifference: false,
      },
    });
    try {
      await t.step("loadMarkets lists the simulator's symbols from its exchangeInfo", async () => {
        const markets = await within(exchange.loadMarkets(), STEP_TIMEOUT_MS, "loadMarkets");
        const ids = Object.values(markets).map((m) => m?.id).sort();
        assert.deepEqual(ids, [...sim.symbols].sort());
        const market = markets[SYMBOL];
        assert.ok(market !== undefined, `expected ${SYMBOL} among ${Object.keys(markets)}`);
        assert.equal(market.id, SYMBOL_ID);
        assert.equal(market.spot, true);
        assert.equal(market.active, true);
        assert.equal(market.base, "BTC");
        assert.equal(market.quote, "USDT");
        // Precision and limits come from the PRICE_FILTER / LOT_SIZE filters.
        const info = await (await realFetch(
          `${sim.restUrl}/api/v3/exchangeInfo?symbol=${SYMBOL_ID}`,
        )).json() as { symbols: { filters: Record<string, string>[] }[] };
        const filters = new Map(info.symbols[0].filters.map((f) => [f.filterType, f]));
        assert.equal(market.precision.price, Number(filters.get("PRICE_FILTER")!.tickSize));
        assert.equal(market.precision.amount, Number(filters.get("LOT_SIZE")!.stepSize));
        assert.equal(market.limits.amount?.min, Number(filters.get("LOT_SIZE")!.minQty));
      });

      await t.step("watchTrades returns parsed trades from the trade stream", async () => {
        const trades = await within(exchange.watchTrades(SYMBOL), STEP_TIMEOUT_MS, "watchTrades");
        assert.ok(trades.length > 0, "expected at least one trade");
        for (const trade of trades) {
          assert.equal(trade.symbol, SYMBOL);
          assert.ok(typeof trade.price === "number" && trade.price > 0, `price ${trade.price}`);
          assert.ok(typeof trade.amount === "number" && trade.amount > 0, `amount ${trade.amount}`);
          assert.ok(trade.side === "buy" || trade.side === "sell", `side ${trade.side}`);
          assert.equal(typeof trade.id, "string");
          assert.equal(typeof trade.timestamp, "number");
          assert.equal((trade.info as { e: string }).e, "trade");
          assert.equal(trade.price, Number((trade.info as { p: string }).p));
          assert.equal(trade.amount, Number((trade.info as { q: string }).q));
        }
      });

      await t.step("watchOrderBook converges on the simulator's book once it pauses", async () => {
        let book = await within(
          exchange.watchOrderBook(SYMBOL),
          STEP_TIMEOUT_MS,
          "first watchOrderBook",
        );
        assert.equal(book.symbol, SYMBOL);
        assert.ok(book.bids.length > 0 && book.asks.length > 0, "expected both sides");
        assert.equal(typeof book.nonce, "number");
        // Let ccxt apply a few more diff events on top of its REST snapshot.
        for (let i = 0; i < 3; i++) {
          book = await within(exchange.watchOrderBook(SYMBOL), STEP_TIMEOUT_MS, "watchOrderBook");
        }
        sim.pause();
        const lastUpdateId = sim.lastUpdateId(SYMBOL_ID);
        const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
        // The book ccxt returns is its live object; each call waits for the next applied event.
        while (book.nonce !== lastUpdateId) {
          assert.ok(
            (book.nonce ?? 0) < lastUpdateId,
            `ccxt nonce ${book.nonce} passed the simulator's last update id ${lastUpdateId}`,
          );
          const leftMs = deadline - performance.now();
          assert.ok(leftMs > 0, `ccxt stuck at nonce ${book.nonce}, expected ${lastUpdateId}`);
          book = await within(exchange.watchOrderBook(SYMBOL), leftMs, "ccxt catching up");
        }
        const expected = sim.bookSnapshot(SYMBOL_ID, LEVELS_COMPARED);
        assert.equal(expected.lastUpdateId, lastUpdateId);
        assert.ok(expected.bids.length === LEVELS_COMPARED, "expected a deep enough book");
        assert.deepEqual(topOf(book.bids, LEVELS_COMPARED), asNumbers(expected.bids));
        assert.deepEqual(topOf(book.asks, LEVELS_COMPARED), asNumbers(expected.asks));
        const [bestBid, bestAsk] = [Number(book.bids[0]?.[0]), Number(book.asks[0]?.[0])];
        assert.ok(bestBid < bestAsk, `expected an uncrossed book, found ${bestBid} / ${bestAsk}`);
      });

      await t.step("the simulator saw ccxt's /ws/<n> connections and subscriptions", () => {
        // ccxt opens `/ws/0`, `/ws/1`, ... (a listenKey-shaped segment, not a stream name) and
        // adds streams with SUBSCRIBE; the simulator must accept that URL form as Binance does.
        const seen = sim.connections();
        assert.ok(seen.every((c) => /^\/ws\/[0-9]+$/.test(c.path) && !c.combined), "raw /ws/<n>");
        const streams = seen.flatMap((c) => c.streams).sort();
        assert.deepEqual(streams, ["btcusdt@depth@100ms", "btcusdt@trade"]);
      });

      await t.step("nothing left the loopback interface", () => {
        assert.deepEqual(refused, []);
        assert.ok(requested.length > 0, "expected ccxt's REST calls to go through fetch");
        assert.ok(requested.every(isLoopback), `requested ${requested.join(", ")}`);
        const sockets = Object.keys(exchange.clients);
        assert.ok(sockets.length > 0, "expected ccxt WebSocket clients");
        for (const url of sockets) assert.ok(url.startsWith(`${sim.wsUrl}/ws/`), url);
      });
    } finally {
      globalThis.fetch = realFetch;
      await exchange.close();
      await sim.close();
    }
  },
});
