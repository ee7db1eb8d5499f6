import assert from "node:assert/strict";
import {
  binanceCredentialsFromEnv,
  binancePercentEncode,
  binanceQueryString,
  binanceRestSignature,
  binanceWsApiPayload,
  binanceWsApiSignature,
  execUpdateFromReport,
  hmacSha256Hex,
  orderStatusFromQuery,
} from "../../src/adapter/binance/orders/mod.ts";
import {
  BINANCE_SIM_CREDENTIALS,
  BinanceApiError,
  verifyRestRequest,
  verifyWsApiRequest,
} from "../../src/sim/binance/orders/mod.ts";

const API_KEY = "fakeApiKeyAAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKKLLLLMMMM";
const SECRET = "fakeSecret0123456789abcdefFAKEsecretForLocalTestsOnly0000000000000";
const TS = 1767225600000;

Deno.test("the simulator's default credentials are the protocol notes' §4.4 fake pair", () => {
  assert.equal(BINANCE_SIM_CREDENTIALS.apiKey, API_KEY);
  assert.equal(BINANCE_SIM_CREDENTIALS.secret, SECRET);
});

Deno.test("REST signatures match the §4.4 vectors", async (t) => {
  await t.step("(a) everything in the query string", () => {
    const query = binanceQueryString([
      ["symbol", "BTCUSDT"],
      ["side", "BUY"],
      ["type", "LIMIT"],
      ["timeInForce", "GTC"],
      ["quantity", "0.00100000"],
      ["price", "60000.00"],
      ["newClientOrderId", "adapter-0001"],
      ["recvWindow", 5000],
      ["timestamp", TS],
    ]);
    assert.equal(
      query,
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100000&price=60000.00&newClientOrderId=adapter-0001&recvWindow=5000&timestamp=1767225600000",
    );
    assert.equal(
      binanceRestSignature(SECRET, { query }),
      "c916a88bba23ab739574b238aeb0a1836efa8ec2dc56b22a8458e70b0a0eec23",
    );
  });
  await t.step("(b) split between query and body, no separator", () => {
    assert.equal(
      binanceRestSignature(SECRET, {
        query: "symbol=BTCUSDT&side=BUY",
        body: "type=MARKET&quoteOrderQty=25&timestamp=1767225600000",
      }),
      "d63efafe8268059b2ac7b0f1ebd4a84301186eecab8737302bac4a415b52763a",
    );
  });
  await t.step("(c) the smallest signed GET", () => {
    assert.equal(
      binanceRestSignature(SECRET, { query: "timestamp=1767225600000" }),
      "470cb21c6446637e59d3d9c9b93cc079bd4cda501d01fcfebca5bf9bb47f25b1",
    );
  });
  await t.step("the Binance docs' own key", () => {
    assert.equal(
      hmacSha256Hex(
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
      ),
      "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
    );
  });
  await t.step("non-ASCII values are percent-encoded before signing", () => {
    assert.equal(binancePercentEncode("１２３"), "%EF%BC%91%EF%BC%92%EF%BC%93");
    assert.equal(binanceQueryString([["a", "x y!*'()"]]), "a=x%20y%21%2A%27%28%29");
  });
});

Deno.test("WS API signatures match the §7.2 and §6.2 vectors", async (t) => {
  await t.step("§7.2 order.place: sorted, raw, apiKey included", () => {
    const params = {
      symbol: "BTCUSDT",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      price: "60000.00",
      quantity: "0.00100000",
      newClientOrderId: "adapter-0001",
      recvWindow: 5000,
      timestamp: TS,
      apiKey: API_KEY,
      signature: "ignored",
    };
    assert.equal(
      binanceWsApiPayload(params),
      `apiKey=${API_KEY}&newClientOrderId=adapter-0001&price=60000.00&quantity=0.00100000&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1767225600000&type=LIMIT`,
    );
    assert.equal(
      binanceWsApiSignature(SECRET, params),
      "b386a22bd36a7f651a485bc4b03cee46be747d58904d4b54cc9fe249aa2e0cb1",
    );
  });
  await t.step("§6.2 userDataStream.subscribe.signature", () => {
    assert.equal(
      binanceWsApiSignature(SECRET, { apiKey: API_KEY, timestamp: TS }),
      "c1eba5a2b31a9c0d7b12287671d16dcda07bf58e4139641956111e3e733c97e3",
    );
  });
});

Deno.test("the simulator verifies the §4.4 and §7.3 requests as Binance does", async (t) => {
  const accounts = new Map([[API_KEY, BINANCE_SIM_CREDENTIALS]]);
  const query =
    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100000&price=60000.00&newClientOrderId=adapter-0001&recvWindow=5000&timestamp=1767225600000";
  const params = new Map(new URLSearchParams(query));
  const code = (fn: () => unknown): number => {
    try {
      fn();
    } catch (err) {
      if (err instanceof BinanceApiError) return err.code;
      throw err;
    }
    return 0;
  };
  await t.step("(a) accepted, case-insensitive hex", () => {
    const sig = "C916A88BBA23AB739574B238AEB0A1836EFA8EC2DC56B22A8458E70B0A0EEC23";
    const account = verifyRestRequest(accounts, {
      apiKey: API_KEY,
      rawQuery: `${query}&signature=${sig}`,
      rawBody: "",
      params,
      nowMs: TS + 10,
    });
    assert.equal(account.apiKey, API_KEY);
  });
  await t.step("(b) signature in the body", () => {
    const body =
      "type=MARKET&quoteOrderQty=25&timestamp=1767225600000&signature=d63efafe8268059b2ac7b0f1ebd4a84301186eecab8737302bac4a415b52763a";
    assert.equal(
      code(() =>
        verifyRestRequest(accounts, {
          apiKey: API_KEY,
          rawQuery: "symbol=BTCUSDT&side=BUY",
          rawBody: body,
          params: new Map([["timestamp", String(TS)]]),
          nowMs: TS,
        })
      ),
      0,
    );
  });
  await t.step("errors: -1022, -2014, -2015, -1021, -1102", () => {
    const base = { rawBody: "", params, nowMs: TS };
    const bad = `${query}&signature=${"0".repeat(64)}`;
    const good =
      `${query}&signature=c916a88bba23ab739574b238aeb0a1836efa8ec2dc56b22a8458e70b0a0eec23`;
    assert.equal(
      code(() => verifyRestRequest(accounts, { ...base, apiKey: API_KEY, rawQuery: bad })),
      -1022,
    );
    assert.equal(
      code(() => verifyRestRequest(accounts, { ...base, apiKey: null, rawQuery: good })),
      -2014,
    );
    assert.equal(
      code(() => verifyRestRequest(accounts, { ...base, apiKey: "nope", rawQuery: good })),
      -2015,
    );
    assert.equal(
      code(() =>
        verifyRestRequest(accounts, { ...base, apiKey: API_KEY, rawQuery: good, nowMs: TS + 5001 })
      ),
      -1021,
    );
    assert.equal(
      code(() =>
        verifyRestRequest(accounts, { ...base, apiKey: API_KEY, rawQuery: good, nowMs: TS - 1000 })
      ),
      -1021,
    );
    assert.equal(
      code(() =>
        verifyRestRequest(accounts, { ...base, apiKey: API_KEY, rawQuery: good, nowMs: TS - 999 })
      ),
      0,
    );
    assert.equal(
      code(() => verifyRestRequest(accounts, { ...base, apiKey: API_KEY, rawQuery: query })),
      -1102,
    );
  });
  await t.step("§7.3 WS API order.place", () => {
    const wsParams = {
      symbol: "BTCUSDT",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      price: "60000.00",
      quantity: "0.00100000",
      newClientOrderId: "adapter-0001",
      recvWindow: 5000,
      timestamp: TS,
      apiKey: API_KEY,
      signature: "b386a22bd36a7f651a485bc4b03cee46be747d58904d4b54cc9fe249aa2e0cb1",
    };
    assert.equal(verifyWsApiRequest(accounts, { params: wsParams, nowMs: TS }).apiKey, API_KEY);
    assert.equal(
      code(() =>
        verifyWsApiRequest(accounts, { params: { ...wsParams, price: "60000.01" }, nowMs: TS })
      ),
      -1022,
    );
    assert.equal(
      code(() => verifyWsApiRequest(accounts, { params: wsParams, nowMs: TS + 6000 })),
      -1021,
    );
  });
});

Deno.test("credentials come from SWITCHYARD_BINANCE_API_KEY / _API_SECRET or are null", () => {
  const env = new Map([["SWITCHYARD_BINANCE_API_KEY", "k"], [
    "SWITCHYARD_BINANCE_API_SECRET",
    "s",
  ]]);
  assert.deepEqual(binanceCredentialsFromEnv((n) => env.get(n)), { apiKey: "k", secret: "s" });
  assert.equal(binanceCredentialsFromEnv(() => undefined), null);
  assert.equal(binanceCredentialsFromEnv((n) => (n.endsWith("KEY") ? "k" : "")), null);
});

Deno.test("executionReports of §6.4 map onto venue updates", async (t) => {
  const canonical = (s: string) => (s === "BTCUSDT" ? "BTC-USDT" : s);
  await t.step("partial then full fill", () => {
    const partial = JSON.parse(
      '{"e":"executionReport","E":1767225630001,"s":"BTCUSDT","c":"adapter-0003","S":"BUY","o":"LIMIT","f":"GTC","q":"0.00200000","p":"60000.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":28459,"l":"0.00100000","z":"0.00100000","L":"60000.00000000","n":"0.00000100","N":"BTC","T":1767225630000,"t":5012400001,"I":900002,"w":true,"m":true,"M":true,"O":1767225600015,"Z":"60.00000000","Y":"60.00000000","Q":"0.00000000","W":1767225600015,"V":"EXPIRE_MAKER"}',
    );
    assert.deepEqual(execUpdateFromReport(partial, canonical), {
      venueClientId: "adapter-0003",
      exchangeOrderId: "28459",
      symbol: "BTC-USDT",
      state: "partially_filled",
      cumQty: "0.00100000",
      cumQuote: "60.00000000",
      lastQty: "0.00100000",
      lastPrice: "60000.00000000",
      fee: "0.00000100",
      feeAsset: "BTC",
      tradeId: "5012400001",
      reasonCode: "",
      reasonText: "",
      exchangeTsMs: 1767225630001,
    });
  });
  await t.step("a cancel reports the order's own id from C", () => {
    const update = execUpdateFromReport({
      e: "executionReport",
      E: 1,
      s: "BTCUSDT",
      c: "cancel-0001",
      C: "adapter-0001",
      x: "CANCELED",
      X: "CANCELED",
      r: "NONE",
      i: 28457,
      l: "0.00000000",
      z: "0.00000000",
      L: "0.00000000",
      n: "0",
      N: null,
      t: -1,
      Z: "0.00000000",
    }, canonical)!;
    assert.equal(update.venueClientId, "adapter-0001");
    assert.equal(update.state, "canceled");
    assert.equal(update.tradeId, "");
    assert.equal(update.lastQty, "0");
  });
  await t.step("an expiry carries eR", () => {
    const update = execUpdateFromReport({
      e: "executionReport",
      E: 1,
      s: "BTCUSDT",
      c: "a1",
      C: "",
      x: "EXPIRED",
      X: "EXPIRED",
      r: "NONE",
      i: 1,
      z: "0.00000000",
      Z: "0.00000000",
      t: -1,
      eR: "UNFILLED_IOC_QUANTITY_EXPIRED",
    }, canonical)!;
    assert.equal(update.state, "expired");
    assert.equal(update.reasonCode, "UNFILLED_IOC_QUANTITY_EXPIRED");
  });
  await t.step("a query result with the cummulativeQuoteQty spelling", () => {
    const status = orderStatusFromQuery({
      symbol: "BTCUSDT",
      orderId: 28457,
      clientOrderId: "adapter-0001",
      executedQty: "0.00200000",
      cummulativeQuoteQty: "120.00000000",
      status: "FILLED",
      updateTime: 5,
    }, canonical)!;
    assert.equal(status.avgPrice, "60000.00000000");
    assert.equal(status.cumQuote, "120.00000000");
    assert.equal(status.state, "filled");
  });
});
