import assert from "node:assert/strict";
import { BinanceRest, BinanceRestError } from "../../src/adapter/binance/binance_rest.ts";

type Handler = (url: string) => Response | Promise<Response>;

function rest(handler: Handler, opts: { depthRequestsMax?: number } = {}) {
  const urls: string[] = [];
  const fetchFn = ((input: string | URL | Request) => {
    const url = String(input);
    urls.push(url);
    return Promise.resolve(handler(url));
  }) as typeof fetch;
  return {
    client: new BinanceRest({ baseUrl: "http://127.0.0.1:1/", fetch: fetchFn, ...opts }),
    urls,
  };
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), { status: 200, ...init });

Deno.test("exchangeInfo maps symbols to canonical names and exact filters", async () => {
  const { client, urls } = rest(() =>
    json({
      symbols: [{
        symbol: "BTCUSDT",
        status: "TRADING",
        baseAsset: "BTC",
        quoteAsset: "USDT",
        filters: [
          { filterType: "PRICE_FILTER", tickSize: "0.01000000" },
          { filterType: "LOT_SIZE", stepSize: "0.00001000", minQty: "0.00001000" },
          { filterType: "NOTIONAL", minNotional: "5.00000000" },
        ],
      }],
    }, { headers: { "x-mbx-used-weight-1m": "20" } })
  );
  const infos = await client.exchangeInfo();
  assert.deepEqual(urls, ["http://127.0.0.1:1/api/v3/exchangeInfo"]);
  assert.deepEqual(infos, [{
    symbol: "BTCUSDT",
    canonical: "BTC-USDT",
    status: "TRADING",
    baseAsset: "BTC",
    quoteAsset: "USDT",
    tickSize: "0.01000000",
    stepSize: "0.00001000",
    minQty: "0.00001000",
    minNotional: "5.00000000",
  }]);
  assert.equal(client.usedWeight1m, 20);
});

Deno.test("depth flattens levels and keeps the exchange's strings", async () => {
  const { client, urls } = rest(() =>
    json({ lastUpdateId: 42, bids: [["1.10", "2.00"]], asks: [["1.20", "0.50"], ["1.30", "1"]] })
  );
  const snap = await client.depth("BTCUSDT", { limit: 9000 });
  assert.equal(urls[0], "http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=5000");
  assert.deepEqual(snap, {
    lastUpdateId: 42,
    bids: ["1.10", "2.00"],
    asks: ["1.20", "0.50", "1.30", "1"],
  });
});

Deno.test("malformed replies become BinanceRestError with what was expected", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["no symbols", {}, /expected a symbols array/],
    ["no lastUpdateId", { bids: [], asks: [] }, /expected an integer lastUpdateId/],
    [
      "bad level",
      { lastUpdateId: 1, bids: [["1e3", "1"]], asks: [] },
      /expected bids levels as \[price, qty\] decimal strings/,
    ],
  ];
  for (const [name, body, re] of cases) {
    await t.step(name, async () => {
      const { client } = rest(() => json(body));
      const call = name === "no symbols" ? client.exchangeInfo() : client.depth("X");
      await assert.rejects(
        call,
        (e: unknown) => e instanceof BinanceRestError && re.test(e.message),
      );
    });
  }
});

Deno.test("a 429 carries Binance's code and Retry-After and blocks further calls locally", async () => {
  let calls = 0;
  const { client } = rest(() => {
    calls++;
    return new Response('{"code":-1003,"msg":"Too much request weight used"}', {
      status: 429,
      headers: { "retry-after": "2" },
    });
  });
  const err = await client.depth("BTCUSDT").catch((e) => e);
  assert.ok(err instanceof BinanceRestError);
  assert.equal(err.status, 429);
  assert.equal(err.code, -1003);
  assert.equal(err.retryAfterMs, 2000);
  assert.match(err.message, /HTTP 429 code -1003: Too much request weight used/);
  const refused = await client.depth("BTCUSDT").catch((e) => e);
  assert.ok(refused instanceof BinanceRestError);
  assert.match(refused.message, /not sent: rate limited for another \d+ ms/);
  assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 2000);
  assert.equal(calls, 1, "nothing may be sent inside a Retry-After block");
  assert.equal(client.stats.refusedWhileBlocked, 1);
});

Deno.test("a non-JSON error body is kept in the message", async () => {
  const { client } = rest(() => new Response("<html>bad gateway</html>", { status: 502 }));
  await assert.rejects(client.exchangeInfo(), /HTTP 502: <html>bad gateway<\/html>/);
});

Deno.test("depth requests are serialised to depthRequestsMax at once", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { client } = rest(async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return json({ lastUpdateId: 1, bids: [], asks: [] });
  }, { depthRequestsMax: 2 });
  await Promise.all(["A", "B", "C", "D", "E"].map((s) => client.depth(s)));
  assert.equal(maxInFlight, 2);
});

Deno.test("a depth request waiting for a slot can be aborted", async () => {
  const gate = Promise.withResolvers<void>();
  const { client } = rest(async () => {
    await gate.promise;
    return json({ lastUpdateId: 1, bids: [], asks: [] });
  }, { depthRequestsMax: 1 });
  const first = client.depth("A");
  const abort = new AbortController();
  const second = client.depth("B", { signal: abort.signal });
  abort.abort(new Error("resync abandoned"));
  await assert.rejects(second, /resync abandoned/);
  gate.resolve();
  assert.equal((await first).lastUpdateId, 1);
});
