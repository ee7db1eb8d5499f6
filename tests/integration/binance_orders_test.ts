import assert from "node:assert/strict";
import {
  BinanceOrderVenue,
  binanceQueryString,
  binanceRestSignature,
  type BinanceVenueLogger,
  binanceWsApiSignature,
} from "../../src/adapter/binance/orders/mod.ts";
import {
  type VenueExecUpdate,
  type VenueOrder,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../src/orders/order_venue.ts";
import { BINANCE_SIM_CREDENTIALS, type BinanceSim, startBinanceSim } from "../../src/sim/mod.ts";

const SECRET = BINANCE_SIM_CREDENTIALS.secret;
const API_KEY = BINANCE_SIM_CREDENTIALS.apiKey;
const T = { timeoutMs: 3000 };

interface Harness {
  sim: BinanceSim;
  venue: BinanceOrderVenue;
  updates: VenueExecUpdate[];
  journal: string[];
  resynced: number;
  logs: string[];
}

function captureLogger(logs: string[]): BinanceVenueLogger {
  const put = (level: string) => (message: string, properties?: Record<string, unknown>) => {
    logs.push(`${level} ${message} ${JSON.stringify(properties ?? {})}`);
  };
  return { debug: put("debug"), info: put("info"), warn: put("warn"), error: put("error") };
}

async function withVenue(fn: (h: Harness) => Promise<void>): Promise<void> {
  const sim = await startBinanceSim({
    seed: 3,
    eventsPerSecond: 0,
    symbols: ["BTCUSDT", "ETHUSDT"],
  });
  const logs: string[] = [];
  const venue = new BinanceOrderVenue({
    wsApiUrl: sim.wsApiUrl,
    restUrl: sim.restUrl,
    credentials: { apiKey: API_KEY, secret: SECRET },
    logger: captureLogger(logs),
    connection: { backoff: { initialMs: 50, maxMs: 200 } },
  });
  const h: Harness = { sim, venue, updates: [], journal: [], resynced: 0, logs };
  venue.setListener({
    onUpdate: (u) => {
      h.updates.push(u);
      h.journal.push(`update ${u.venueClientId} ${u.state}`);
    },
    onResynced: () => {
      h.resynced++;
    },
  });
  try {
    await venue.start();
    await fn(h);
  } finally {
    await venue.close();
    await sim.close();
  }
  // Never a secret or a signature in the logs.
  const text = logs.join("\n");
  assert.ok(!text.includes(SECRET), "the secret leaked into the logs");
  assert.ok(!/[0-9a-f]{64}/i.test(text), "a signature leaked into the logs");
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function updatesOf(h: Harness, id: string): VenueExecUpdate[] {
  return h.updates.filter((u) => u.venueClientId === id);
}

function limitBuy(id: string, qty = "0.00200000", price = "80000.00"): VenueOrder {
  return {
    venueClientId: id,
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price,
    qty,
  };
}

async function admin(sim: BinanceSim, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.restUrl}/_sim/orders/${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await res.json();
}

Deno.test("venue: start loads rules and trades ACK → PARTIAL → FILLED with exact quantities", async () => {
  await withVenue(async (h) => {
    assert.ok(h.venue.ready);
    assert.deepEqual(h.venue.rules("BTC-USDT"), {
      symbol: "BTC-USDT",
      tickSize: "0.01000000",
      stepSize: "0.00001000",
      minQty: "0.00001000",
      minNotional: h.venue.rules("BTC-USDT")!.minNotional,
    });
    const placed = await h.venue.place(limitBuy("sy0000000001"), T);
    assert.equal(placed.kind, "accepted");
    await waitFor("new", () => updatesOf(h, "sy0000000001").length === 1);
    await admin(h.sim, "fill", { client_id: "sy0000000001", qty: "0.001" });
    await waitFor("partial", () => updatesOf(h, "sy0000000001").length === 2);
    await admin(h.sim, "fill", { client_id: "sy0000000001" });
    await waitFor("filled", () => updatesOf(h, "sy0000000001").length === 3);
    const [created, partial, filled] = updatesOf(h, "sy0000000001");
    assert.equal(created.state, "new");
    assert.equal(created.tradeId, "");
    assert.equal(created.lastQty, "0");
    assert.equal(
      created.exchangeOrderId,
      placed.kind === "accepted" ? placed.exchangeOrderId : "",
    );
    assert.equal(partial.state, "partially_filled");
    assert.equal(partial.cumQty, "0.00100000");
    assert.equal(partial.lastQty, "0.00100000");
    assert.equal(partial.lastPrice, "80000.00000000");
    assert.equal(partial.cumQuote, "80.00000000");
    assert.notEqual(partial.tradeId, "");
    assert.equal(filled.state, "filled");
    assert.equal(filled.cumQty, "0.00200000");
    assert.equal(filled.lastQty, "0.00100000");
    assert.equal(filled.cumQuote, "160.00000000");
    assert.notEqual(filled.tradeId, partial.tradeId);
    const status = await h.venue.query({ venueClientId: "sy0000000001", symbol: "BTC-USDT" }, T);
    assert.equal(status?.state, "filled");
    assert.equal(status?.avgPrice, "80000.00000000");
    assert.equal(
      await h.venue.query({ venueClientId: "sy0000000404", symbol: "BTC-USDT" }, T),
      null,
    );
  });
});

Deno.test("venue: cancel, duplicate client id, rejects with Binance codes, expire, openOrders", async (t) => {
  await withVenue(async (h) => {
    await t.step("cancel reports CANCELED under the order's own id", async () => {
      assert.equal((await h.venue.place(limitBuy("syc1"), T)).kind, "accepted");
      assert.deepEqual(
        await h.venue.cancel({ venueClientId: "syc1", symbol: "BTC-USDT" }, T),
        { kind: "accepted" },
      );
      await waitFor("canceled", () => updatesOf(h, "syc1").some((u) => u.state === "canceled"));
      assert.deepEqual(
        await h.venue.cancel({ venueClientId: "syc1", symbol: "BTC-USDT" }, T),
        { kind: "rejected", code: "-2011", text: "Unknown order sent." },
      );
    });
    await t.step("duplicate open client id → -2010, reusable once closed", async () => {
      assert.equal((await h.venue.place(limitBuy("syd1"), T)).kind, "accepted");
      assert.deepEqual(await h.venue.place(limitBuy("syd1"), T), {
        kind: "rejected",
        code: "-2010",
        text: "Duplicate order sent.",
      });
      await h.venue.cancel({ venueClientId: "syd1", symbol: "BTC-USDT" }, T);
      assert.equal((await h.venue.place(limitBuy("syd1"), T)).kind, "accepted");
    });
    await t.step("filter and balance rejects carry code and text, and no report", async () => {
      assert.deepEqual(await h.venue.place(limitBuy("syr1", "0.00200000", "80000.005"), T), {
        kind: "rejected",
        code: "-1013",
        text: "Filter failure: PRICE_FILTER",
      });
      assert.deepEqual(await h.venue.place(limitBuy("syr2", "0.000015"), T), {
        kind: "rejected",
        code: "-1013",
        text: "Filter failure: LOT_SIZE",
      });
      assert.deepEqual(await h.venue.place(limitBuy("syr3", "0.00001", "100.00"), T), {
        kind: "rejected",
        code: "-1013",
        text: "Filter failure: NOTIONAL",
      });
      assert.deepEqual(await h.venue.place(limitBuy("syr4", "200"), T), {
        kind: "rejected",
        code: "-2010",
        text: "Account has insufficient balance for requested action.",
      });
      await h.venue.place(limitBuy("syr5"), T); // a marker: its report comes after any stray one
      await waitFor("marker", () => updatesOf(h, "syr5").length === 1);
      assert.deepEqual(h.updates.filter((u) => /^syr[1-4]$/.test(u.venueClientId)), []);
    });
    await t.step("expire knob → EXPIRED with the reason", async () => {
      await h.venue.place(limitBuy("sye1"), T);
      await admin(h.sim, "expire", { client_id: "sye1" });
      await waitFor("expired", () => updatesOf(h, "sye1").some((u) => u.state === "expired"));
      const expired = updatesOf(h, "sye1").at(-1)!;
      assert.equal(expired.reasonCode, "EXCHANGE_CANCELED");
    });
    await t.step("market order: NEW, TRADE..., FILLED", async () => {
      const placed = await h.venue.place({
        venueClientId: "sym1",
        symbol: "BTC-USDT",
        side: "buy",
        orderType: "market",
        timeInForce: "",
        price: "",
        qty: "0.00100000",
      }, T);
      assert.equal(placed.kind, "accepted");
      await waitFor("filled", () => updatesOf(h, "sym1").some((u) => u.state === "filled"));
      const ups = updatesOf(h, "sym1");
      assert.equal(ups[0].state, "new");
      assert.ok(ups.slice(1).every((u) => u.tradeId !== "" && u.lastQty !== "0"));
      assert.equal(ups.at(-1)!.cumQty, "0.00100000");
    });
    await t.step("openOrders lists what rests", async () => {
      const open = await h.venue.openOrders(T);
      const ids = open.map((o) => o.venueClientId).sort();
      assert.deepEqual(ids, ["syd1", "syr5"]);
      assert.ok(open.every((o) => o.state === "new" && o.symbol === "BTC-USDT"));
    });
  });
});

Deno.test("venue: bad signature fails start; clock skew → -1021, then the offset is re-measured", async (t) => {
  const sim = await startBinanceSim({ seed: 3, eventsPerSecond: 0, symbols: ["BTCUSDT"] });
  try {
    await t.step("wrong secret: start throws VenueUnavailableError with -1022", async () => {
      const venue = new BinanceOrderVenue({
        wsApiUrl: sim.wsApiUrl,
        restUrl: sim.restUrl,
        credentials: { apiKey: API_KEY, secret: "wrong-secret" },
      });
      venue.setListener({ onUpdate: () => {}, onResynced: () => {} });
      await assert.rejects(venue.start(), (err: Error) => {
        assert.ok(err instanceof VenueUnavailableError);
        assert.match(err.message, /-1022/);
        return true;
      });
      await venue.close();
    });
    await t.step("server clock skew is corrected from /api/v3/time", async () => {
      sim.orders.faults.clockSkew(-20_000);
      const venue = new BinanceOrderVenue({
        wsApiUrl: sim.wsApiUrl,
        restUrl: sim.restUrl,
        credentials: BINANCE_SIM_CREDENTIALS,
      });
      venue.setListener({ onUpdate: () => {}, onResynced: () => {} });
      try {
        await venue.start();
        assert.ok(Math.abs(venue.clockOffsetMs + 20_000) < 1000);
        assert.equal((await venue.place(limitBuy("syt1"), T)).kind, "accepted");
        sim.orders.faults.clockSkew(+20_000);
        const refused = await venue.place(limitBuy("syt2"), T);
        assert.equal(refused.kind, "rejected");
        assert.equal(refused.kind === "rejected" ? refused.code : "", "-1021");
        await waitFor("offset", () => Math.abs(venue.clockOffsetMs - 20_000) < 1000);
        assert.equal((await venue.place(limitBuy("syt2"), T)).kind, "accepted");
      } finally {
        sim.orders.faults.clear();
        await venue.close();
      }
    });
  } finally {
    await sim.close();
  }
});

Deno.test("venue: report before response, repeated report, unknown status and timeouts", async (t) => {
  await withVenue(async (h) => {
    await t.step("executionReport before the place answer", async () => {
      h.sim.orders.faults.reportBeforeResponse();
      const placing = h.venue.place(limitBuy("syf1"), T).then((r) => {
        h.journal.push(`answer syf1 ${r.kind}`);
      });
      await placing;
      const i = h.journal.indexOf("update syf1 new");
      assert.ok(i >= 0 && i < h.journal.indexOf("answer syf1 accepted"), h.journal.join("\n"));
    });
    await t.step("a repeated executionReport arrives twice", async () => {
      assert.deepEqual(await admin(h.sim, "fault", { kind: "repeatReports", count: 1 }), {
        ok: true,
      });
      await h.venue.place(limitBuy("syf2"), T);
      await waitFor("repeat", () => updatesOf(h, "syf2").length === 2);
      const [a, b] = updatesOf(h, "syf2");
      assert.deepEqual(a, b);
    });
    for (const mode of ["http5xx", "code1007", "drop"] as const) {
      await t.step(`unknown status (${mode}) → VenueTimeoutError, the order exists`, async () => {
        h.sim.orders.faults.unknownStatus(mode);
        const id = `syu${mode.length}${mode.slice(0, 3)}`;
        await assert.rejects(
          h.venue.place(limitBuy(id), { timeoutMs: 300 }),
          VenueTimeoutError,
        );
        const status = await h.venue.query({ venueClientId: id, symbol: "BTC-USDT" }, T);
        assert.equal(status?.state, "new");
        const stats = await admin(h.sim, "stats") as {
          place_requests_by_client_id: Record<string, number>;
        };
        assert.equal(stats.place_requests_by_client_id[id], 1);
      });
    }
    await t.step("a late answer times out; the query finds the order", async () => {
      h.sim.orders.faults.responseDelay(800);
      await assert.rejects(
        h.venue.place(limitBuy("syl1"), { timeoutMs: 200 }),
        VenueTimeoutError,
      );
      const status = await h.venue.query({ venueClientId: "syl1", symbol: "BTC-USDT" }, T);
      assert.equal(status?.state, "new");
      await new Promise((r) => setTimeout(r, 700)); // the late answer arrives and is ignored
    });
  });
});

Deno.test("venue: user data socket drop → reconnect → onResynced; missed events not replayed", async (t) => {
  for (const abrupt of [false, true]) {
    await t.step(abrupt ? "abrupt TCP drop" : "close frame", async () => {
      await withVenue(async (h) => {
        await h.venue.place(limitBuy("syx1"), T);
        await waitFor("new", () => updatesOf(h, "syx1").length === 1);
        assert.equal(h.sim.orders.faults.dropWsApi(abrupt), 1);
        h.sim.orders.fill("syx1"); // happens while nobody is subscribed
        await waitFor("resync", () => h.resynced === 1, 5000);
        assert.ok(h.venue.ready);
        assert.equal(updatesOf(h, "syx1").length, 1, "a missed event was replayed");
        const status = await h.venue.query({ venueClientId: "syx1", symbol: "BTC-USDT" }, T);
        assert.equal(status?.state, "filled");
        await h.venue.place(limitBuy("syx2"), T);
        await waitFor("new after resync", () => updatesOf(h, "syx2").length === 1);
      });
    });
  }
});

// ---- the simulator's wire, directly -----------------------------------------------------

async function signedRest(
  sim: BinanceSim,
  method: string,
  path: string,
  params: [string, string | number][],
  opts: { apiKey?: string | null; secret?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = binanceQueryString(params);
  const signature = binanceRestSignature(opts.secret ?? SECRET, { query });
  const headers: Record<string, string> = {};
  const apiKey = opts.apiKey === undefined ? API_KEY : opts.apiKey;
  if (apiKey !== null) headers["X-MBX-APIKEY"] = apiKey;
  const res = await fetch(`${sim.restUrl}${path}?${query}&signature=${signature}`, {
    method,
    headers,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("sim REST: signed order endpoints, errors and response types", async (t) => {
  const sim = await startBinanceSim({ seed: 3, eventsPerSecond: 0, symbols: ["BTCUSDT"] });
  try {
    const ts = () => Date.now();
    const order = (id: string, resp: string): [string, string | number][] => [
      ["symbol", "BTCUSDT"],
      ["side", "BUY"],
      ["type", "LIMIT"],
      ["timeInForce", "GTC"],
      ["quantity", "0.00100000"],
      ["price", "80000.00"],
      ["newClientOrderId", id],
      ["newOrderRespType", resp],
      ["timestamp", ts()],
    ];
    await t.step("ACK, RESULT, FULL", async () => {
      const ack = await signedRest(sim, "POST", "/api/v3/order", order("r-ack", "ACK"));
      assert.equal(ack.status, 200);
      assert.deepEqual(Object.keys(ack.body), [
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
      ]);
      const result = await signedRest(sim, "POST", "/api/v3/order", order("r-res", "RESULT"));
      assert.equal(result.body.cummulativeQuoteQty, "0.00000000");
      assert.equal(result.body.status, "NEW");
      assert.equal(result.body.fills, undefined);
      const full = await signedRest(sim, "POST", "/api/v3/order", order("r-full", "FULL"));
      assert.deepEqual(full.body.fills, []);
    });
    await t.step("query, openOrders, cancel", async () => {
      const q = await signedRest(sim, "GET", "/api/v3/order", [
        ["symbol", "BTCUSDT"],
        ["origClientOrderId", "r-ack"],
        ["timestamp", ts()],
      ]);
      assert.equal(q.body.clientOrderId, "r-ack");
      assert.equal(q.body.isWorking, true);
      const open = await signedRest(sim, "GET", "/api/v3/openOrders", [["timestamp", ts()]]);
      assert.equal((open.body as unknown as unknown[]).length, 3);
      const c = await signedRest(sim, "DELETE", "/api/v3/order", [
        ["symbol", "BTCUSDT"],
        ["origClientOrderId", "r-ack"],
        ["newClientOrderId", "cancel-0001"],
        ["timestamp", ts()],
      ]);
      assert.equal(c.body.status, "CANCELED");
      assert.equal(c.body.origClientOrderId, "r-ack");
      assert.equal(c.body.clientOrderId, "cancel-0001");
      const again = await signedRest(sim, "DELETE", "/api/v3/order", [
        ["symbol", "BTCUSDT"],
        ["origClientOrderId", "r-ack"],
        ["timestamp", ts()],
      ]);
      assert.deepEqual([again.status, again.body], [400, {
        code: -2011,
        msg: "Unknown order sent.",
      }]);
      const neither = await signedRest(sim, "DELETE", "/api/v3/order", [
        ["symbol", "BTCUSDT"],
        ["timestamp", ts()],
      ]);
      assert.equal(neither.body.code, -1102);
      const missing = await signedRest(sim, "GET", "/api/v3/order", [
        ["symbol", "BTCUSDT"],
        ["origClientOrderId", "nope"],
        ["timestamp", ts()],
      ]);
      assert.deepEqual(missing.body, { code: -2013, msg: "Order does not exist." });
    });
    await t.step("auth and timing errors", async () => {
      const params: [string, string | number][] = [["timestamp", ts()]];
      const noKey = await signedRest(sim, "GET", "/api/v3/openOrders", params, { apiKey: null });
      assert.deepEqual([noKey.status, noKey.body.code], [401, -2014]);
      const badKey = await signedRest(sim, "GET", "/api/v3/openOrders", params, { apiKey: "x" });
      assert.deepEqual([badKey.status, badKey.body.code], [401, -2015]);
      const badSig = await signedRest(sim, "GET", "/api/v3/openOrders", params, { secret: "x" });
      assert.deepEqual([badSig.status, badSig.body], [400, {
        code: -1022,
        msg: "Signature for this request is not valid.",
      }]);
      const old = await signedRest(sim, "GET", "/api/v3/openOrders", [["timestamp", ts() - 6000]]);
      assert.deepEqual(old.body, {
        code: -1021,
        msg: "Timestamp for this request is outside of the recvWindow.",
      });
      const ahead = await signedRest(sim, "GET", "/api/v3/openOrders", [[
        "timestamp",
        ts() + 2000,
      ]]);
      assert.equal(ahead.body.code, -1021);
      const wide = await signedRest(sim, "GET", "/api/v3/openOrders", [
        ["recvWindow", 70000],
        ["timestamp", ts()],
      ]);
      assert.equal(wide.body.code, -1102);
      const noTs = await signedRest(sim, "GET", "/api/v3/openOrders", [["symbol", "BTCUSDT"]]);
      assert.equal(noTs.body.code, -1102);
    });
    await t.step("the signature may sit in the body (split payload)", async () => {
      const query = "symbol=BTCUSDT&side=BUY";
      const body = binanceQueryString([
        ["type", "LIMIT"],
        ["timeInForce", "GTC"],
        ["quantity", "0.001"],
        ["price", "80000"],
        ["newClientOrderId", "r-split"],
        ["timestamp", ts()],
      ]);
      const signature = binanceRestSignature(SECRET, { query, body });
      const res = await fetch(`${sim.restUrl}/api/v3/order?${query}`, {
        method: "POST",
        headers: {
          "X-MBX-APIKEY": API_KEY,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: `${body}&signature=${signature}`,
      });
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.equal(json.clientOrderId, "r-split");
    });
  } finally {
    await sim.close();
  }
});

Deno.test("sim WS API: wrapped executionReports exactly as §6.4, balances after each", async () => {
  const sim = await startBinanceSim({ seed: 3, eventsPerSecond: 0, symbols: ["BTCUSDT"] });
  const ws = new WebSocket(sim.wsApiUrl);
  const frames: Record<string, unknown>[] = [];
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    ws.onmessage = (e) => frames.push(JSON.parse(e.data));
    const signed = (params: Record<string, string | number>) => {
      const all = { ...params, apiKey: API_KEY, timestamp: Date.now() };
      return { ...all, signature: binanceWsApiSignature(SECRET, all) };
    };
    const call = async (id: string, method: string, params: Record<string, string | number>) => {
      ws.send(JSON.stringify({ id, method, params: signed(params) }));
      await waitFor(id, () => frames.some((f) => f.id === id));
      return frames.find((f) => f.id === id)!;
    };
    const sub = await call("s1", "userDataStream.subscribe.signature", {});
    assert.deepEqual(sub.result, { subscriptionId: 0 });
    const again = await call("s2", "userDataStream.subscribe.signature", {});
    assert.equal((again.error as { code: number }).code, -2035);
    const placed = await call("p1", "order.place", {
      symbol: "BTCUSDT",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      price: "80000.00",
      quantity: "0.00200000",
      newClientOrderId: "adapter-0003",
    });
    assert.equal(placed.status, 200);
    assert.ok(Array.isArray(placed.rateLimits));
    sim.orders.fill("adapter-0003", { qty: "0.001" });
    sim.orders.fill("adapter-0003");
    const cancelTarget = await call("p2", "order.place", {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "LIMIT",
      timeInForce: "GTC",
      price: "99000.00",
      quantity: "0.00100000",
      newClientOrderId: "adapter-0001",
    });
    assert.equal(cancelTarget.status, 200);
    const canceled = await call("c1", "order.cancel", {
      symbol: "BTCUSDT",
      origClientOrderId: "adapter-0001",
      newClientOrderId: "cancel-0001",
    });
    assert.equal((canceled.result as Record<string, unknown>).clientOrderId, "cancel-0001");
    await waitFor(
      "cancel report",
      () => frames.some((f) => (f.event as Record<string, unknown> | undefined)?.x === "CANCELED"),
    );
    const events = frames.filter((f) => f.subscriptionId === 0).map((f) =>
      f.event as Record<string, unknown>
    );
    assert.ok(
      frames.filter((f) => f.subscriptionId !== undefined).every((f) =>
        Object.keys(f).join() === "subscriptionId,event"
      ),
    );
    const reports = events.filter((e) => e.e === "executionReport");
    const positions = events.filter((e) => e.e === "outboundAccountPosition");
    assert.equal(positions.length, reports.length);
    const [created, partial, filled, created2, cancel] = reports;
    assert.deepEqual(Object.keys(created).slice(0, 20), [
      "e",
      "E",
      "s",
      "c",
      "S",
      "o",
      "f",
      "q",
      "p",
      "P",
      "F",
      "g",
      "C",
      "x",
      "X",
      "r",
      "i",
      "l",
      "z",
      "L",
    ]);
    assert.deepEqual([created.x, created.X, created.t, created.n, created.N, created.w], [
      "NEW",
      "NEW",
      -1,
      "0",
      null,
      true,
    ]);
    assert.deepEqual(
      [partial.x, partial.X, partial.l, partial.z, partial.L, partial.Y, partial.Z, partial.N],
      [
        "TRADE",
        "PARTIALLY_FILLED",
        "0.00100000",
        "0.00100000",
        "80000.00000000",
        "80.00000000",
        "80.00000000",
        "USDT", // the shared engine charges fees in the quote asset
      ],
    );
    assert.ok(typeof partial.t === "number" && partial.t > 0);
    assert.deepEqual([filled.X, filled.z, filled.Z, filled.w], [
      "FILLED",
      "0.00200000",
      "160.00000000",
      false,
    ]);
    assert.equal(created2.c, "adapter-0001");
    assert.deepEqual([cancel.x, cancel.X, cancel.c, cancel.C, cancel.l, cancel.w], [
      "CANCELED",
      "CANCELED",
      "cancel-0001",
      "adapter-0001",
      "0.00000000",
      false,
    ]);
    assert.ok(!events.some((e) => e.X === "PENDING_CANCEL"));
  } finally {
    ws.close();
    await new Promise((r) => (ws.onclose = r));
    await sim.close();
  }
});

Deno.test("sim: public trades of the generated market fill resting orders they cross", async () => {
  const sim = await startBinanceSim({ seed: 5, eventsPerSecond: 3000, symbols: ["BTCUSDT"] });
  const venue = new BinanceOrderVenue({
    wsApiUrl: sim.wsApiUrl,
    restUrl: sim.restUrl,
    credentials: BINANCE_SIM_CREDENTIALS,
  });
  const updates: VenueExecUpdate[] = [];
  venue.setListener({ onUpdate: (u) => updates.push(u), onResynced: () => {} });
  try {
    await venue.start();
    const book = sim.bookSnapshot("BTCUSDT", 1);
    // One tick under the best ask: it improves the bid, so sellers' prints cross it.
    const price = (Math.round(Number(book.asks[0][0]) * 100) - 1) / 100;
    const placed = await venue.place(limitBuy("sypub1", "0.05000", price.toFixed(2)), T);
    assert.equal(placed.kind, "accepted");
    await waitFor("a maker fill", () => updates.some((u) => u.tradeId !== ""), 10_000);
    const fill = updates.find((u) => u.tradeId !== "")!;
    assert.equal(fill.venueClientId, "sypub1");
    assert.ok(fill.state === "partially_filled" || fill.state === "filled");
  } finally {
    await venue.close();
    await sim.close();
  }
});
