/**
 * KrakenOrderVenue against the Kraken simulator's order side on 127.0.0.1: the documented
 * update sequences, rejects, IOC remainders, duplicate client ids, signature and nonce checks,
 * response-vs-update order, sequence gaps, dropped responses, reconnects and secret hygiene.
 */
import assert from "node:assert/strict";
import {
  krakenApiSign,
  KrakenOrderVenue,
  type KrakenOrderVenueOptions,
  type KrakenVenueLogger,
} from "../../src/adapter/kraken/orders/mod.ts";
import {
  type VenueExecUpdate,
  type VenueOrder,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../src/orders/order_venue.ts";
import {
  KRAKEN_SIM_CREDENTIALS,
  type KrakenSim,
  type KrakenSimOptions,
  startKrakenSim,
} from "../../src/sim/kraken/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";
import { Client, type Msg } from "../support/frame_client.ts";

const TIMEOUT = { timeoutMs: 3000 };

interface Harness {
  sim: KrakenSim;
  venue: KrakenOrderVenue;
  updates: VenueExecUpdate[];
  logs: string[];
  resyncs(): number;
  bidBelow(ticks: number): string;
  close(): Promise<void>;
}

async function startHarness(
  opts: { sim?: KrakenSimOptions; venue?: Partial<KrakenOrderVenueOptions> } = {},
): Promise<Harness> {
  const sim = await startKrakenSim({
    seed: 7,
    eventsPerSecond: 0, // a still market: only the test's knobs fill orders
    symbols: ["BTC/USDT", "ETH/USDT"],
    timing: { tickMs: 20, heartbeatIntervalMs: 200 },
    ...opts.sim,
    orders: { responseOrder: "response_first", ...opts.sim?.orders },
  });
  const updates: VenueExecUpdate[] = [];
  const logs: string[] = [];
  let resyncs = 0;
  const record = (level: string) => (message: string, properties?: Record<string, unknown>) => {
    logs.push(`${level} ${message} ${JSON.stringify(properties ?? {})}`);
  };
  const logger: KrakenVenueLogger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
  const venue = new KrakenOrderVenue({
    restUrl: sim.restUrl,
    authWsUrl: sim.authWsUrl,
    credentials: { ...KRAKEN_SIM_CREDENTIALS },
    logger,
    connection: {
      backoff: { initialMs: 50, maxMs: 200 },
      connectTimeoutMs: 3000,
      closeTimeoutMs: 500,
      idleTimeoutMs: 3000,
    },
    startTimeoutMs: 5000,
    ...opts.venue,
  });
  venue.setListener({ onUpdate: (u) => updates.push(u), onResynced: () => resyncs++ });
  try {
    await venue.start();
  } catch (error) {
    await venue.close();
    await sim.close();
    throw error;
  }
  return {
    sim,
    venue,
    updates,
    logs,
    resyncs: () => resyncs,
    bidBelow(ticks: number) {
      const best = sim.bookSnapshot("BTC/USDT", 1).bids[0].price;
      return (Number(best) - ticks * 0.01).toFixed(2);
    },
    async close() {
      await venue.close();
      await sim.close();
    },
  };
}

function limitBuy(id: string, price: string, qty = "0.01000"): VenueOrder {
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

function updatesOf(h: Harness, id: string): VenueExecUpdate[] {
  return h.updates.filter((u) => u.venueClientId === id);
}

async function admin(sim: KrakenSim, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${sim.restUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

Deno.test("accepted order: new, then trades with the fill, then a separate filled", async () => {
  const h = await startHarness();
  try {
    const price = h.bidBelow(50000);
    const placed = await h.venue.place(limitBuy("sy01", price), TIMEOUT);
    assert.equal(placed.kind, "accepted");
    await waitFor("new", () => updatesOf(h, "sy01").length >= 1);
    const fill1 = await admin(h.sim, "/_sim/orders/fill", { client_id: "sy01", qty: "0.004" });
    assert.equal(fill1.status, 200);
    await fill1.body?.cancel();
    const fill2 = await admin(h.sim, "/_sim/orders/fill", { client_id: "sy01" });
    await fill2.body?.cancel();
    await waitFor("filled", () => updatesOf(h, "sy01").some((u) => u.state === "filled"));
    const list = updatesOf(h, "sy01");
    assert.deepEqual(list.map((u) => u.state), [
      "new",
      "partially_filled",
      "partially_filled",
      "filled",
    ]);
    const [ack, t1, t2, done] = list;
    assert.equal(placed.kind === "accepted" && placed.exchangeOrderId, ack.exchangeOrderId);
    assert.equal(ack.symbol, "BTC-USDT");
    assert.equal(ack.cumQty, "0.00000");
    assert.equal(t1.lastQty, "0.00400");
    assert.equal(t1.cumQty, "0.00400");
    assert.notEqual(t1.tradeId, "");
    assert.equal(t1.lastPrice, price); // maker fill at the limit, with the pair's 2 decimals
    // The completing trade still says partially_filled; completion comes from `filled`.
    assert.equal(t2.lastQty, "0.00600");
    assert.equal(t2.cumQty, "0.01000");
    assert.equal(t2.symbol, "BTC-USDT"); // abbreviated update: identity from the order id
    assert.notEqual(t2.tradeId, t1.tradeId);
    assert.equal(t2.feeAsset, "USDT");
    assert.equal(done.cumQty, "0.01000");
    assert.equal(done.lastQty, "0.00000");
    assert.equal(done.tradeId, "");
    const stats = await (await admin(h.sim, "/_sim/orders/stats")).json();
    assert.equal(stats.place_requests_by_client_id.sy01, 1);
    assert.equal(stats.accepted, 1);
  } finally {
    await h.close();
  }
});

Deno.test("cancel by cl_ord_id: accepted, then canceled with the exchange's reason", async () => {
  const h = await startHarness();
  try {
    await h.venue.place(limitBuy("sy02", h.bidBelow(40000)), TIMEOUT);
    await waitFor("new", () => updatesOf(h, "sy02").length >= 1);
    assert.deepEqual(await h.venue.cancel({ venueClientId: "sy02", symbol: "BTC-USDT" }, TIMEOUT), {
      kind: "accepted",
    });
    await waitFor("canceled", () => updatesOf(h, "sy02").some((u) => u.state === "canceled"));
    const canceled = updatesOf(h, "sy02").find((u) => u.state === "canceled")!;
    assert.equal(canceled.reasonText, "User requested");
    const again = await h.venue.cancel({ venueClientId: "sy02", symbol: "BTC-USDT" }, TIMEOUT);
    assert.deepEqual(again, {
      kind: "rejected",
      code: "EOrder:Unknown order",
      text: "EOrder:Unknown order",
    });
    const status = await h.venue.query({ venueClientId: "sy02", symbol: "BTC-USDT" }, TIMEOUT);
    assert.equal(status?.state, "canceled");
    assert.equal(status?.reasonText, "User requested");
  } finally {
    await h.close();
  }
});

Deno.test("rejects carry Kraken's own error: insufficient funds, duplicate cl_ord_id", async (t) => {
  const h = await startHarness();
  try {
    await t.step("EOrder:Insufficient funds", async () => {
      const r = await h.venue.place(limitBuy("sy03", h.bidBelow(100), "5000.00000"), TIMEOUT);
      assert.deepEqual(r, {
        kind: "rejected",
        code: "EOrder:Insufficient funds",
        text: "EOrder:Insufficient funds",
      });
    });
    await t.step("EOrder:Duplicate order for an open cl_ord_id, reusable once closed", async () => {
      const first = await h.venue.place(limitBuy("sy04", h.bidBelow(30000)), TIMEOUT);
      assert.equal(first.kind, "accepted");
      const dup = await h.venue.place(limitBuy("sy04", h.bidBelow(30001)), TIMEOUT);
      assert.deepEqual(dup, {
        kind: "rejected",
        code: "EOrder:Duplicate order",
        text: "EOrder:Duplicate order",
      });
      await h.venue.cancel({ venueClientId: "sy04", symbol: "BTC-USDT" }, TIMEOUT);
      await waitFor("canceled", () => updatesOf(h, "sy04").some((u) => u.state === "canceled"));
      const reuse = await h.venue.place(limitBuy("sy04", h.bidBelow(30002)), TIMEOUT);
      assert.equal(reuse.kind, "accepted");
    });
    await t.step("a price off the tick is refused by the exchange", async () => {
      const r = await h.venue.place(limitBuy("sy05", "1000.001"), TIMEOUT);
      assert.equal(r.kind, "rejected");
      assert.match(r.kind === "rejected" ? r.code : "", /^EOrder:Invalid price/);
    });
    await t.step("FOK is refused locally: Kraken spot has no FOK", async () => {
      const before = (await (await admin(h.sim, "/_sim/orders/stats")).json()).place_requests;
      const r = await h.venue.place(
        { ...limitBuy("sy06", h.bidBelow(10)), timeInForce: "FOK" },
        TIMEOUT,
      );
      assert.equal(r.kind, "rejected");
      const after = (await (await admin(h.sim, "/_sim/orders/stats")).json()).place_requests;
      assert.equal(after, before);
    });
  } finally {
    await h.close();
  }
});

Deno.test("IOC takes what the book offers and the remainder is canceled", async () => {
  const h = await startHarness();
  try {
    const best = h.sim.bookSnapshot("BTC/USDT", 1).asks[0];
    const qty = (Number(best.qty) + 0.5).toFixed(5);
    const r = await h.venue.place({
      ...limitBuy("sy07", best.price, qty),
      timeInForce: "IOC",
    }, TIMEOUT);
    assert.equal(r.kind, "accepted");
    await waitFor("canceled", () => updatesOf(h, "sy07").some((u) => u.state === "canceled"));
    const list = updatesOf(h, "sy07");
    const trades = list.filter((u) => u.tradeId !== "");
    assert.equal(trades.length, 1);
    assert.equal(trades[0].lastQty, best.qty);
    assert.equal(trades[0].lastPrice, best.price);
    const end = list[list.length - 1];
    assert.equal(end.state, "canceled");
    assert.equal(end.cumQty, best.qty);
    assert.equal(end.reasonText, "Insufficient liquidity");
  } finally {
    await h.close();
  }
});

Deno.test("bad key, bad signature and a reused nonce are refused with EAPI errors", async (t) => {
  const sim = await startKrakenSim({ seed: 7, eventsPerSecond: 0, symbols: ["BTC/USDT"] });
  try {
    const base = {
      restUrl: sim.restUrl,
      authWsUrl: sim.authWsUrl,
      startTimeoutMs: 3000,
      connection: { backoff: { initialMs: 50, maxMs: 100 }, closeTimeoutMs: 300 },
    };
    await t.step("EAPI:Invalid signature", async () => {
      const venue = new KrakenOrderVenue({
        ...base,
        credentials: { apiKey: KRAKEN_SIM_CREDENTIALS.apiKey, secret: btoa("wrong secret") },
      });
      await assert.rejects(
        venue.start(),
        (e: Error) =>
          e instanceof VenueUnavailableError && /EAPI:Invalid signature/.test(e.message),
      );
      await venue.close();
    });
    await t.step("EAPI:Invalid key", async () => {
      const venue = new KrakenOrderVenue({
        ...base,
        credentials: { apiKey: "unknownKey", secret: KRAKEN_SIM_CREDENTIALS.secret },
      });
      await assert.rejects(
        venue.start(),
        (e: Error) => e instanceof VenueUnavailableError && /EAPI:Invalid key/.test(e.message),
      );
      await venue.close();
    });
    await t.step("EAPI:Invalid nonce on a repeated or lower nonce", async () => {
      const call = async (nonce: string) => {
        const path = "/0/private/GetWebSocketsToken";
        const postData = `nonce=${nonce}`;
        const sign = await krakenApiSign(path, {
          nonce,
          postData,
          secret: KRAKEN_SIM_CREDENTIALS.secret,
        });
        const res = await fetch(sim.restUrl + path, {
          method: "POST",
          headers: { "API-Key": KRAKEN_SIM_CREDENTIALS.apiKey, "API-Sign": sign },
          body: postData,
        });
        return await res.json();
      };
      const ok = await call("5000");
      assert.deepEqual(ok.error, []);
      assert.equal(ok.result.expires, 900);
      assert.equal(typeof ok.result.token, "string");
      assert.deepEqual((await call("5000")).error, ["EAPI:Invalid nonce"]);
      assert.deepEqual((await call("4999")).error, ["EAPI:Invalid nonce"]);
      assert.deepEqual((await call("5001")).error, []);
    });
  } finally {
    await sim.close();
  }
});

Deno.test("the simulator's wire: response vs pending_new order and the §6.3 sequence", async (t) => {
  const sim = await startKrakenSim({ seed: 7, eventsPerSecond: 0, symbols: ["BTC/USDT"] });
  const tokenOf = async (nonce: number) => {
    const path = "/0/private/GetWebSocketsToken";
    const postData = `nonce=${nonce}`;
    const sign = await krakenApiSign(path, {
      nonce: String(nonce),
      postData,
      secret: KRAKEN_SIM_CREDENTIALS.secret,
    });
    const res = await fetch(sim.restUrl + path, {
      method: "POST",
      headers: { "API-Key": KRAKEN_SIM_CREDENTIALS.apiKey, "API-Sign": sign },
      body: postData,
    });
    return (await res.json()).result.token as string;
  };
  const ws = await Client.open(sim.authWsUrl);
  const pub = await Client.open(sim.wsUrl);
  try {
    const token = await tokenOf(1);
    const price = (Number(sim.bookSnapshot("BTC/USDT", 1).bids[0].price) - 500).toFixed(2);
    const add = (id: string, reqId: number, extra = "") =>
      ws.send(
        `{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":0.01000,` +
          `"symbol":"BTC/USDT","limit_price":${price},"cl_ord_id":"${id}"${extra},` +
          `"token":"${token}"},"req_id":${reqId}}`,
      );
    await t.step("unknown token: ESession:Invalid session", async () => {
      ws.send({
        method: "subscribe",
        params: { channel: "executions", token: "nope" },
        req_id: 1,
      });
      const r = await ws.waitFor((f) => (f as Msg).req_id === 1) as Msg;
      assert.equal(r.success, false);
      assert.equal(r.error, "ESession:Invalid session");
    });
    await t.step("private methods fail on the public endpoint", async () => {
      pub.send({ method: "add_order", params: { token }, req_id: 2 });
      const r = await pub.waitFor((f) => (f as Msg).req_id === 2) as Msg;
      assert.equal(r.success, false);
    });
    ws.send({
      method: "subscribe",
      params: { channel: "executions", token, snap_orders: true },
      req_id: 3,
    });
    const ack = await ws.waitFor((f) => (f as Msg).req_id === 3) as Msg;
    assert.equal(ack.success, true);
    assert.equal((ack.result as Msg).maxratecount, 125);
    await ws.waitFor((f) => (f as Msg).type === "snapshot");
    const indexOf = (pred: (f: Msg | string) => boolean) => ws.frames.findIndex(pred);
    const execOf = (id: string, type: string) => (frame: Msg | string) => {
      const f = frame as Msg;
      return f.channel === "executions" &&
        (f.data as Msg[]).some((d) =>
          d.exec_type === type && (d.cl_ord_id === id || type !== "pending_new")
        );
    };
    for (
      const [mode, id, reqId] of [["response_first", "a1", 10], ["update_first", "a2", 11]] as const
    ) {
      await t.step(mode, async () => {
        sim.orders.setResponseOrder(mode);
        add(id, reqId);
        await ws.waitFor((f) => (f as Msg).req_id === reqId);
        await ws.waitFor(execOf(id, "pending_new"));
        const response = indexOf((f) => (f as Msg).req_id === reqId);
        const pending = indexOf(execOf(id, "pending_new"));
        if (mode === "response_first") assert.ok(response < pending);
        else assert.ok(pending < response);
      });
    }
    await t.step("cl_ord_id with order_userref: EGeneral:Invalid arguments", async () => {
      add("a3", 12, `,"order_userref":5`);
      const r = await ws.waitFor((f) => (f as Msg).req_id === 12) as Msg;
      assert.equal(r.error, "EGeneral:Invalid arguments");
    });
    await t.step("validate:true succeeds with no executions", async () => {
      const before = ws.frames.length;
      add("a4", 13, `,"validate":true`);
      const r = await ws.waitFor((f) => (f as Msg).req_id === 13) as Msg;
      assert.equal(r.success, true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(
        !ws.frames.slice(before).some((f) =>
          JSON.stringify(f).includes('"a4"') && (f as Msg).channel === "executions"
        ),
      );
    });
    await t.step(
      "fill: trade partially_filled on every fill, then filled; sequence +1",
      async () => {
        sim.orders.fill("a1");
        await ws.waitFor((f) =>
          (f as Msg).channel === "executions" &&
          ((f as Msg).data as Msg[]).some((d) => d.exec_type === "filled")
        );
        const exec = ws.frames.filter((f) => (f as Msg).channel === "executions") as Msg[];
        const seqs = exec.map((m) => m.sequence as number);
        seqs.forEach((s, i) => assert.equal(s, i + 1));
        const types = exec.flatMap((m) =>
          (m.data as Msg[]).map((d) => `${d.exec_type}/${d.order_status}`)
        );
        const tail = types.slice(-2);
        assert.deepEqual(tail, ["trade/partially_filled", "filled/filled"]);
        assert.ok(types.includes("pending_new/pending_new"));
        assert.ok(types.includes("new/new"));
      },
    );
  } finally {
    await ws.close();
    await pub.close();
    await sim.close();
  }
});

Deno.test("a sequence gap resubscribes executions and reports onResynced", async () => {
  const h = await startHarness();
  try {
    const tokensBefore = h.sim.orders.tokensIssued.length;
    h.sim.orders.skipSequence(1);
    await h.venue.place(limitBuy("sy08", h.bidBelow(20000)), TIMEOUT);
    await waitFor("resynced", () => h.resyncs() === 1);
    assert.equal(h.sim.orders.tokensIssued.length, tokensBefore); // same socket, same token
    assert.ok(h.logs.some((l) => l.includes("sequence gap")));
    // Updates keep flowing on the new subscription.
    await h.venue.cancel({ venueClientId: "sy08", symbol: "BTC-USDT" }, TIMEOUT);
    await waitFor("canceled", () => updatesOf(h, "sy08").some((u) => u.state === "canceled"));
    assert.ok(h.venue.ready);
  } finally {
    await h.close();
  }
});

Deno.test("a dropped response times out; the query by client id finds the order", async () => {
  const h = await startHarness();
  try {
    h.sim.orders.dropResponses(1);
    await assert.rejects(
      h.venue.place(limitBuy("sy09", h.bidBelow(25000)), { timeoutMs: 300 }),
      VenueTimeoutError,
    );
    const status = await h.venue.query({ venueClientId: "sy09", symbol: "BTC-USDT" }, TIMEOUT);
    assert.ok(status !== null);
    assert.equal(status.state, "new");
    assert.equal(status.symbol, "BTC-USDT");
    assert.equal(status.cumQty, "0.00000");
    assert.match(status.exchangeOrderId, /^O[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{6}$/);
    const stats = await (await admin(h.sim, "/_sim/orders/stats")).json();
    assert.equal(stats.place_requests_by_client_id.sy09, 1); // never resent
    assert.equal(
      await h.venue.query({ venueClientId: "nosuch", symbol: "BTC-USDT" }, TIMEOUT),
      null,
    );
  } finally {
    await h.close();
  }
});

Deno.test("openOrders lists resting orders; a filled order is found by query", async () => {
  const h = await startHarness();
  try {
    await h.venue.place(limitBuy("sy10", h.bidBelow(10000)), TIMEOUT);
    await h.venue.place({ ...limitBuy("sy11", h.bidBelow(10001)), symbol: "BTC-USDT" }, TIMEOUT);
    const open = await h.venue.openOrders(TIMEOUT);
    assert.deepEqual(open.map((o) => o.venueClientId).sort(), ["sy10", "sy11"]);
    assert.ok(open.every((o) => o.state === "new" && o.symbol === "BTC-USDT"));
    const expired = await admin(h.sim, "/_sim/orders/expire", { client_id: "sy11" });
    await expired.body?.cancel();
    await waitFor("expired", () => updatesOf(h, "sy11").some((u) => u.state === "expired"));
    h.sim.orders.fill("sy10");
    await waitFor("filled", () => updatesOf(h, "sy10").some((u) => u.state === "filled"));
    const q = await h.venue.query({ venueClientId: "sy10", symbol: "BTC-USDT" }, TIMEOUT);
    assert.equal(q?.state, "filled");
    assert.equal(q?.cumQty, "0.01000");
    assert.deepEqual(await h.venue.openOrders(TIMEOUT), []);
  } finally {
    await h.close();
  }
});

Deno.test("a cut connection reconnects with a fresh token and reports onResynced", async () => {
  const h = await startHarness();
  try {
    await h.venue.place(limitBuy("sy12", h.bidBelow(15000)), TIMEOUT);
    const tokens = h.sim.orders.tokensIssued.length;
    assert.ok(h.sim.orders.disconnectAll() >= 1);
    await waitFor("resynced", () => h.resyncs() === 1, { timeoutMs: 8000 });
    assert.equal(h.sim.orders.tokensIssued.length, tokens + 1);
    assert.ok(h.venue.ready);
    h.sim.orders.fill("sy12");
    await waitFor("filled", () => updatesOf(h, "sy12").some((u) => u.state === "filled"));
  } finally {
    await h.close();
  }
});

Deno.test("nothing logged carries the API key, the secret, a token or a signature", async () => {
  const h = await startHarness();
  try {
    h.sim.orders.skipSequence(1);
    await h.venue.place(limitBuy("sy13", h.bidBelow(12000)), TIMEOUT);
    await waitFor("resynced", () => h.resyncs() === 1);
    await h.venue.query({ venueClientId: "sy13", symbol: "BTC-USDT" }, TIMEOUT);
    await h.venue.place(limitBuy("sy13", h.bidBelow(12000)), TIMEOUT); // a reject
    h.sim.orders.disconnectAll();
    await waitFor("resynced twice", () => h.resyncs() === 2, { timeoutMs: 8000 });
    const secrets = [
      KRAKEN_SIM_CREDENTIALS.apiKey,
      KRAKEN_SIM_CREDENTIALS.secret,
      ...h.sim.orders.tokensIssued,
      ...h.sim.orders.signaturesSeen,
    ];
    assert.ok(h.logs.length > 5);
    assert.ok(h.sim.orders.signaturesSeen.length >= 3);
    for (const line of h.logs) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `leaked in: ${line}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("requests before start or after close are refused as unavailable", async () => {
  const h = await startHarness();
  await h.close();
  await assert.rejects(h.venue.place(limitBuy("sy14", "100.00"), TIMEOUT), VenueUnavailableError);
  await assert.rejects(h.venue.openOrders(TIMEOUT), VenueUnavailableError);
});
