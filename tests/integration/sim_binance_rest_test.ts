import assert from "node:assert/strict";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { getJson, sleep } from "./sim_binance_ws_client.ts";

const DEC8 = /^\d+\.\d{8}$/;

Deno.test("ping, time and exchangeInfo answer with Binance's shapes", async (t) => {
  const sim = await startBinanceSim({ seed: 2, eventsPerSecond: 0 });
  try {
    await t.step("ping and time", async () => {
      const ping = await getJson(`${sim.restUrl}/api/v3/ping`);
      assert.equal(ping.status, 200);
      assert.deepEqual(ping.body, {});
      assert.equal(ping.headers.get("content-type"), "application/json;charset=UTF-8");
      const before = Date.now();
      const time = await getJson(`${sim.restUrl}/api/v3/time`);
      const serverTime = (time.body as { serverTime: number }).serverTime;
      assert.deepEqual(Object.keys(time.body as object), ["serverTime"]);
      assert.ok(serverTime >= before - 5 && serverTime <= Date.now() + 5);
    });
    await t.step("exchangeInfo", async () => {
      const { status, body } = await getJson(`${sim.restUrl}/api/v3/exchangeInfo`);
      assert.equal(status, 200);
      const info = body as Record<string, unknown>;
      assert.deepEqual(Object.keys(info), [
        "timezone",
        "serverTime",
        "rateLimits",
        "exchangeFilters",
        "symbols",
      ]);
      const symbols = info.symbols as Record<string, unknown>[];
      assert.ok(symbols.length >= 10);
      const btc = symbols.find((s) => s.symbol === "BTCUSDT")!;
      assert.deepEqual(Object.keys(btc).slice(0, 9), [
        "symbol",
        "status",
        "baseAsset",
        "baseAssetPrecision",
        "quoteAsset",
        "quotePrecision",
        "quoteAssetPrecision",
        "baseCommissionPrecision",
        "quoteCommissionPrecision",
      ]);
      assert.equal(btc.status, "TRADING");
      assert.equal(btc.baseAsset, "BTC");
      assert.equal(btc.quoteAsset, "USDT");
      assert.equal(btc.baseAssetPrecision, 8);
      assert.equal(btc.quoteAssetPrecision, 8);
      assert.ok(Array.isArray(btc.orderTypes) && (btc.orderTypes as string[]).includes("LIMIT"));
      assert.ok(Array.isArray(btc.permissions));
      const filters = btc.filters as Record<string, unknown>[];
      const byType = new Map(filters.map((f) => [f.filterType, f]));
      assert.deepEqual(byType.get("PRICE_FILTER"), {
        filterType: "PRICE_FILTER",
        minPrice: "0.01000000",
        maxPrice: "1000000.00000000",
        tickSize: "0.01000000",
      });
      const lot = byType.get("LOT_SIZE")!;
      assert.deepEqual(Object.keys(lot), ["filterType", "minQty", "maxQty", "stepSize"]);
      assert.equal(lot.stepSize, "0.00001000");
      const notional = byType.get("NOTIONAL")!;
      assert.deepEqual(Object.keys(notional), [
        "filterType",
        "minNotional",
        "applyMinToMarket",
        "maxNotional",
        "applyMaxToMarket",
        "avgPriceMins",
      ]);
      assert.match(notional.minNotional as string, DEC8);
    });
    await t.step("symbol selectors and errors", async () => {
      const one = await getJson(`${sim.restUrl}/api/v3/exchangeInfo?symbol=ETHBTC`);
      assert.deepEqual(
        (one.body as { symbols: { symbol: string }[] }).symbols.map((s) => s.symbol),
        ["ETHBTC"],
      );
      const list = encodeURIComponent('["BTCUSDT","ETHUSDT"]');
      const two = await getJson(`${sim.restUrl}/api/v3/exchangeInfo?symbols=${list}`);
      assert.deepEqual(
        (two.body as { symbols: { symbol: string }[] }).symbols.map((s) => s.symbol),
        [
          "BTCUSDT",
          "ETHUSDT",
        ],
      );
      const unknown = await getJson(`${sim.restUrl}/api/v3/exchangeInfo?symbol=NOPE`);
      assert.equal(unknown.status, 400);
      assert.deepEqual(unknown.body, { code: -1121, msg: "Invalid symbol." });
      const both = await getJson(
        `${sim.restUrl}/api/v3/exchangeInfo?symbol=BTCUSDT&symbols=${list}`,
      );
      assert.equal((both.body as { code: number }).code, -1128);
      const bad = await getJson(`${sim.restUrl}/api/v3/exchangeInfo?symbols=BTCUSDT`);
      assert.equal((bad.body as { code: number }).code, -1100);
    });
  } finally {
    await sim.close();
  }
});

Deno.test("depth honours limit (default 100, cap 5000), weights and parameter errors", async () => {
  const sim = await startBinanceSim({
    seed: 3,
    eventsPerSecond: 0,
    symbols: ["BTCUSDT", "ETHUSDT"],
    levelsInitial: 5100,
    levelsMax: 6000,
  });
  try {
    let used = 0;
    const expectWeight = (headers: Headers, weight: number) => {
      used += weight;
      assert.equal(headers.get("x-mbx-used-weight-1m"), String(used));
    };
    const plain = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT`);
    expectWeight(plain.headers, 5);
    const body = plain.body as {
      lastUpdateId: number;
      bids: [string, string][];
      asks: [string, string][];
    };
    assert.deepEqual(Object.keys(body), ["lastUpdateId", "bids", "asks"]);
    assert.equal(body.bids.length, 100);
    assert.equal(body.asks.length, 100);
    assert.ok(body.bids.every(([p, q]) => DEC8.test(p) && DEC8.test(q)));
    for (let i = 1; i < 100; i++) {
      assert.ok(Number(body.bids[i - 1][0]) > Number(body.bids[i][0]));
      assert.ok(Number(body.asks[i - 1][0]) < Number(body.asks[i][0]));
    }
    assert.ok(Number(body.bids[0][0]) < Number(body.asks[0][0]));
    assert.equal(body.lastUpdateId, sim.lastUpdateId("BTCUSDT"));
    const weights: [number, number][] = [[1, 5], [101, 25], [500, 25], [1000, 50], [1001, 250], [
      9999,
      250,
    ]];
    for (const [limit, weight] of weights) {
      const r = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=${limit}`);
      expectWeight(r.headers, weight);
      const levels = (r.body as { bids: unknown[] }).bids.length;
      assert.equal(levels, Math.min(limit, 5000), `levels for limit=${limit}`);
    }
    const errors: [string, number, number, RegExp][] = [
      [
        "",
        400,
        -1102,
        /^Mandatory parameter 'symbol' was not sent, was empty\/null, or malformed\.$/,
      ],
      ["?symbol=", 400, -1102, /Mandatory parameter 'symbol'/],
      ["?symbol=btcusdt", 400, -1100, /^Illegal characters found in parameter 'symbol'/],
      ["?symbol=NOPEUSDT", 400, -1121, /^Invalid symbol\.$/],
      ["?symbol=BTCUSDT&limit=ten", 400, -1100, /parameter 'limit'/],
      ["?symbol=BTCUSDT&limit=0", 400, -1100, /parameter 'limit'/],
      ["?symbol=BTCUSDT&symbol=ETHUSDT", 400, -1101, /Duplicate values/],
      ["?symbol=BTCUSDT&symbolStatus=HALT", 400, -1220, /symbolStatus/],
    ];
    for (const [query, status, code, msg] of errors) {
      const r = await getJson(`${sim.restUrl}/api/v3/depth${query}`);
      assert.equal(r.status, status, query);
      const error = r.body as { code: number; msg: string };
      assert.deepEqual(Object.keys(error), ["code", "msg"]);
      assert.equal(error.code, code, query);
      assert.match(error.msg, msg);
      expectWeight(r.headers, 5);
    }
    const missing = await getJson(`${sim.restUrl}/api/v3/nothing`);
    assert.equal(missing.status, 404);
  } finally {
    await sim.close();
  }
});

Deno.test("going over the weight limit gets 429 with Retry-After, then 418 when ignored", async () => {
  const sim = await startBinanceSim({
    seed: 4,
    eventsPerSecond: 0,
    weightLimit: 10,
    weightWindowMs: 60_000,
  });
  try {
    for (let i = 1; i <= 10; i++) {
      const r = await getJson(`${sim.restUrl}/api/v3/ping`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-mbx-used-weight-1m"), String(i));
    }
    const limited = await getJson(`${sim.restUrl}/api/v3/ping`);
    assert.equal(limited.status, 429);
    assert.equal((limited.body as { code: number }).code, -1003);
    assert.match(
      (limited.body as { msg: string }).msg,
      /^Too much request weight used; current limit is 10 request weight/,
    );
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get("x-mbx-used-weight-1m"), "11");
    const banned = await getJson(`${sim.restUrl}/api/v3/time`);
    assert.equal(banned.status, 418);
    assert.equal((banned.body as { code: number }).code, -1003);
    assert.match((banned.body as { msg: string }).msg, /IP banned until \d+/);
    assert.ok(Number(banned.headers.get("retry-after")) >= 1);
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 418);
    assert.equal(sim.stats().rest429, 1);
    assert.equal(sim.stats().rest418, 2);
  } finally {
    await sim.close();
  }
});

Deno.test("a client that waits out the window after a 429 is served again", async () => {
  const sim = await startBinanceSim({
    seed: 4,
    eventsPerSecond: 0,
    weightLimit: 2,
    weightWindowMs: 300,
  });
  try {
    // Start right after a window boundary so the three requests share one window.
    await sleep(300 - (Date.now() % 300));
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 200);
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 200);
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 429);
    await sleep(350);
    const again = await getJson(`${sim.restUrl}/api/v3/ping`);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("x-mbx-used-weight-1m"), "1");
  } finally {
    await sim.close();
  }
});

Deno.test("a taken port makes start-up fail without leaking anything", async () => {
  const sim = await startBinanceSim({ seed: 5, eventsPerSecond: 0 });
  try {
    await assert.rejects(
      () => startBinanceSim({ port: sim.port, eventsPerSecond: 0 }),
      Deno.errors.AddrInUse,
    );
  } finally {
    await sim.close();
  }
});
