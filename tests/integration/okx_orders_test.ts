import assert from "node:assert/strict";
import { Client, type Msg } from "../support/frame_client.ts";
import { OKX_SIM_CREDENTIALS, type OkxSim, startOkxSim } from "../../src/sim/okx/mod.ts";
import { MarketBookSource } from "../../src/sim/order_engine/mod.ts";
import {
  okxLoginArg,
  OkxOrderVenue,
  type OkxOrderVenueOptions,
  okxRestHeaders,
} from "../../src/adapter/okx/orders/mod.ts";
import {
  type VenueExecUpdate,
  type VenueOrder,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../src/orders/order_venue.ts";

const T = { timeoutMs: 3000 };
const SECRETS = [
  OKX_SIM_CREDENTIALS.apiKey,
  OKX_SIM_CREDENTIALS.secret,
  OKX_SIM_CREDENTIALS.passphrase,
];

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Harness {
  sim: OkxSim;
  venue: OkxOrderVenue;
  updates: VenueExecUpdate[];
  resynced: { count: number };
  logs: string[];
  of(id: string): VenueExecUpdate[];
  limitBuy(id: string, price: string, qty: string, tif?: "GTC" | "IOC" | "FOK"): VenueOrder;
  bestAsk(): { price: string; qty: string };
}

async function withVenue(
  body: (h: Harness) => Promise<void>,
  venueOptions: Partial<OkxOrderVenueOptions> = {},
): Promise<void> {
  const sim = await startOkxSim({ seed: 5, paused: true, symbols: ["BTC-USDT", "ETH-USDT"] });
  const updates: VenueExecUpdate[] = [];
  const resynced = { count: 0 };
  const logs: string[] = [];
  const record = (level: string) => (message: string, properties?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify(properties ?? {})}`);
  const venue = new OkxOrderVenue({
    privateWsUrl: sim.privateWsUrl,
    restUrl: sim.restUrl,
    credentials: { ...OKX_SIM_CREDENTIALS },
    logger: {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    },
    backoff: { initialMs: 20, maxMs: 100 },
    ...venueOptions,
  });
  venue.setListener({
    onUpdate: (u) => updates.push(u),
    onResynced: () => resynced.count++,
  });
  const book = new MarketBookSource(sim.market);
  try {
    await venue.start();
    await body({
      sim,
      venue,
      updates,
      resynced,
      logs,
      of: (id) => updates.filter((u) => u.venueClientId === id),
      limitBuy: (id, price, qty, tif = "GTC") => ({
        venueClientId: id,
        symbol: "BTC-USDT",
        side: "buy",
        orderType: "limit",
        timeInForce: tif,
        price,
        qty,
      }),
      bestAsk: () => book.levels("BTC-USDT", "ask", 1)[0],
    });
  } finally {
    await venue.close();
    await sim.close();
  }
  // Whatever happened, nothing secret reached the logger.
  const all = logs.join("\n");
  for (const secret of SECRETS) assert.ok(!all.includes(secret), "a secret was logged");
  assert.ok(!/sign/i.test(all.replace(/okx orders: /g, "")), "a signature was logged");
}

Deno.test("okx venue: limit order ACK -> PARTIAL -> FILLED through the fill knob", async () => {
  await withVenue(async (h) => {
    assert.ok(h.venue.ready);
    assert.deepEqual(h.venue.rules("BTC-USDT"), {
      symbol: "BTC-USDT",
      tickSize: "0.01",
      stepSize: "0.00001",
      minQty: "0.00001",
      minNotional: "0",
    });
    const placed = await h.venue.place(h.limitBuy("sy01", "50000.00", "0.01"), T);
    assert.equal(placed.kind, "accepted");
    await until("live", () => h.of("sy01").length === 1);
    assert.equal(h.of("sy01")[0].state, "new");
    assert.equal(
      h.of("sy01")[0].exchangeOrderId,
      placed.kind === "accepted" ? placed.exchangeOrderId : "",
    );
    h.sim.orders.fill("sy01", { qty: "0.004" });
    await until("partial", () => h.of("sy01").length === 2);
    const partial = h.of("sy01")[1];
    assert.deepEqual(
      [partial.state, partial.lastQty, partial.lastPrice, partial.cumQty, partial.cumQuote],
      ["partially_filled", "0.004", "50000", "0.004", "200"],
    );
    assert.notEqual(partial.tradeId, "");
    // The shared engine charges 0.1 % of the quote amount; reported positive when charged.
    assert.equal(partial.fee, "0.2");
    assert.equal(partial.feeAsset, "USDT");
    // The rest through the admin HTTP endpoint.
    const res = await fetch(`${h.sim.restUrl}/_sim/orders/fill`, {
      method: "POST",
      body: JSON.stringify({ client_id: "sy01" }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await until("filled", () => h.of("sy01").length === 3);
    const filled = h.of("sy01")[2];
    assert.deepEqual(
      [filled.state, filled.lastQty, filled.cumQty, filled.cumQuote],
      ["filled", "0.006", "0.01", "500"],
    );
    assert.notEqual(filled.tradeId, partial.tradeId);
    const status = await h.venue.query({ venueClientId: "sy01", symbol: "BTC-USDT" }, T);
    assert.deepEqual(
      [status?.state, status?.cumQty, status?.cumQuote, status?.avgPrice],
      ["filled", "0.01", "500", "50000"],
    );
    const stats = await (await fetch(`${h.sim.restUrl}/_sim/orders/stats`)).json();
    assert.deepEqual(stats, {
      place_requests: 1,
      accepted: 1,
      rejected: 0,
      place_requests_by_client_id: { sy01: 1 },
    });
  });
});

Deno.test("okx venue: cancel by clOrdId, and a second cancel is refused with 51400", async () => {
  await withVenue(async (h) => {
    await h.venue.place(h.limitBuy("sy02", "50000.00", "0.01"), T);
    const ref = { venueClientId: "sy02", symbol: "BTC-USDT" };
    assert.deepEqual(await h.venue.cancel(ref, T), { kind: "accepted" });
    await until("canceled", () => h.of("sy02").some((u) => u.state === "canceled"));
    const canceled = h.of("sy02").at(-1)!;
    assert.equal(canceled.reasonCode, "1");
    const again = await h.venue.cancel(ref, T);
    assert.equal(again.kind, "rejected");
    assert.equal(again.kind === "rejected" ? again.code : "", "51400");
  });
});

Deno.test("okx venue: rejects carry OKX's sCode and sMsg", async (t) => {
  await withVenue(async (h) => {
    await t.step("price off the tick grid -> 51000 Parameter px error", async () => {
      const r = await h.venue.place(h.limitBuy("sy03", "50000.001", "0.01"), T);
      assert.equal(r.kind, "rejected");
      if (r.kind !== "rejected") return;
      assert.equal(r.code, "51000");
      assert.match(r.text, /^Parameter px error/);
    });
    await t.step("not enough USDT -> 51008", async () => {
      const r = await h.venue.place(h.limitBuy("sy04", "50000.00", "1000"), T);
      assert.deepEqual(r, {
        kind: "rejected",
        code: "51008",
        text: "Order failed. Insufficient USDT balance in account",
      });
    });
    await t.step("duplicate pending clOrdId -> 51016 Duplicated clOrdId", async () => {
      assert.equal(
        (await h.venue.place(h.limitBuy("sy05", "50000.00", "0.01"), T)).kind,
        "accepted",
      );
      const r = await h.venue.place(h.limitBuy("sy05", "50000.00", "0.01"), T);
      assert.deepEqual(r, { kind: "rejected", code: "51016", text: "Duplicated clOrdId" });
    });
    assert.equal(h.sim.orders.stats().place_requests_by_client_id.sy05, 2);
    assert.equal(h.of("sy03").length + h.of("sy04").length, 0);
  });
});

Deno.test("okx venue: IOC remainder and FOK ends map to expired with cancelSource 14 / 13", async () => {
  await withVenue(async (h) => {
    const ask = h.bestAsk();
    const more = (Number(ask.qty) + 5).toFixed(5);
    await h.venue.place(h.limitBuy("sy06", ask.price, more, "IOC"), T);
    await until("ioc end", () => h.of("sy06").some((u) => u.state === "expired"));
    const ioc = h.of("sy06");
    const fills = ioc.filter((u) => u.tradeId !== "");
    assert.ok(fills.length >= 1);
    assert.equal(fills[0].lastPrice, ask.price.replace(/\.?0+$/, ""));
    const end = ioc.at(-1)!;
    assert.deepEqual([end.state, end.reasonCode, end.cumQty], [
      "expired",
      "14",
      fills.at(-1)!.cumQty,
    ]);

    await h.venue.place(h.limitBuy("sy07", ask.price, more, "FOK"), T);
    await until("fok end", () => h.of("sy07").some((u) => u.state === "expired"));
    const fok = h.of("sy07").at(-1)!;
    assert.deepEqual([fok.reasonCode, fok.cumQty], ["13", "0"]);
    assert.ok(h.of("sy07").every((u) => u.tradeId === ""));
  });
});

Deno.test("okx venue: pushes before the ack, duplicate pushes and a zero-size final fill", async (t) => {
  await withVenue(async (h) => {
    await t.step("push before ack is correlated by clOrdId", async () => {
      h.sim.orders.faults.pushBeforeAck();
      let seenBeforeAck = false;
      const r = await h.venue.place(h.limitBuy("sy08", "50000.00", "0.01"), T).then((r) => {
        seenBeforeAck = h.of("sy08").length > 0;
        return r;
      });
      assert.equal(r.kind, "accepted");
      assert.ok(seenBeforeAck);
    });
    await t.step("the same fill pushed twice keeps its tradeId", async () => {
      h.sim.orders.faults.duplicatePush();
      h.sim.orders.fill("sy08");
      await until("two fills", () => h.of("sy08").filter((u) => u.tradeId !== "").length === 2);
      const [a, b] = h.of("sy08").filter((u) => u.tradeId !== "");
      assert.equal(a.tradeId, b.tradeId);
      assert.equal(a.lastQty, b.lastQty);
      assert.equal(b.exchangeTsMs, a.exchangeTsMs + 1);
    });
    await t.step("market order filled with fillSz 0 carries no fill", async () => {
      h.sim.orders.faults.marketZeroFill();
      const r = await h.venue.place({
        venueClientId: "sy09",
        symbol: "BTC-USDT",
        side: "buy",
        orderType: "market",
        timeInForce: "",
        price: "",
        qty: "0.001",
      }, T);
      assert.equal(r.kind, "accepted");
      await until("filled", () => h.of("sy09").some((u) => u.state === "filled"));
      const last = h.of("sy09").at(-1)!;
      assert.deepEqual([last.state, last.lastQty, last.tradeId, last.cumQty], [
        "filled",
        "0",
        "",
        "0.001",
      ]);
      assert.ok(h.of("sy09").some((u) => u.tradeId !== "" && u.state === "partially_filled"));
      assert.notEqual(last.cumQuote, "");
    });
  });
});

Deno.test("okx venue: a dropped private socket reconnects, re-logs in and resyncs", async () => {
  await withVenue(async (h) => {
    assert.equal(h.sim.orders.disconnect(), 1);
    await until("resync", () => h.resynced.count === 1 && h.venue.ready, 5000);
    const r = await h.venue.place(h.limitBuy("sy10", "50000.00", "0.01"), T);
    assert.equal(r.kind, "accepted");
    await until("live after reconnect", () => h.of("sy10").length === 1);
  });
});

Deno.test("okx venue: a dropped ack times out and the query finds the order", async () => {
  await withVenue(async (h) => {
    h.sim.orders.faults.dropAck();
    await assert.rejects(
      h.venue.place(h.limitBuy("sy11", "50000.00", "0.01"), { timeoutMs: 200 }),
      VenueTimeoutError,
    );
    const status = await h.venue.query({ venueClientId: "sy11", symbol: "BTC-USDT" }, T);
    assert.equal(status?.state, "new");
    assert.equal(status?.venueClientId, "sy11");
    assert.equal(h.sim.orders.stats().place_requests_by_client_id.sy11, 1);
    assert.equal(await h.venue.query({ venueClientId: "nope", symbol: "BTC-USDT" }, T), null);
  });
});

Deno.test("okx venue: openOrders lists every open order across symbols", async () => {
  await withVenue(async (h) => {
    await h.venue.place(h.limitBuy("sy12", "50000.00", "0.01"), T);
    await h.venue.place({ ...h.limitBuy("sy13", "1000.00", "0.1"), symbol: "ETH-USDT" }, T);
    await h.venue.place(h.limitBuy("sy14", "50000.00", "0.01"), T);
    await h.venue.cancel({ venueClientId: "sy14", symbol: "BTC-USDT" }, T);
    const open = await h.venue.openOrders(T);
    assert.deepEqual(open.map((o) => `${o.symbol}/${o.venueClientId}/${o.state}`).sort(), [
      "BTC-USDT/sy12/new",
      "ETH-USDT/sy13/new",
    ]);
  });
});

Deno.test("okx venue: text ping keeps a quiet private socket past the idle rule", async () => {
  const sim = await startOkxSim({
    seed: 5,
    paused: true,
    symbols: ["BTC-USDT"],
    idleTimeoutMs: 300,
  });
  let resynced = 0;
  const venue = new OkxOrderVenue({
    privateWsUrl: sim.privateWsUrl,
    restUrl: sim.restUrl,
    credentials: OKX_SIM_CREDENTIALS,
    pingAfterMs: 100,
    pongTimeoutMs: 150,
    tickIntervalMs: 20,
  });
  venue.setListener({ onUpdate: () => {}, onResynced: () => resynced++ });
  try {
    await venue.start();
    await new Promise((resolve) => setTimeout(resolve, 900));
    assert.equal(venue.ready, true);
    assert.equal(resynced, 0);
    assert.equal(sim.stats().idleCloses, 0);
  } finally {
    await venue.close();
    await sim.close();
  }
});

Deno.test("okx venue: a refused login fails start with the OKX code", async (t) => {
  const cases: [string, Partial<typeof OKX_SIM_CREDENTIALS>, string][] = [
    ["wrong secret", { secret: "00000000000000000000000000000000" }, "60007"],
    ["wrong passphrase", { passphrase: "nope" }, "60024"],
    ["unknown key", { apiKey: "unknownKey" }, "60005"],
  ];
  const sim = await startOkxSim({ seed: 5, paused: true, symbols: ["BTC-USDT"] });
  try {
    for (const [name, change, code] of cases) {
      await t.step(name, async () => {
        const venue = new OkxOrderVenue({
          privateWsUrl: sim.privateWsUrl,
          restUrl: sim.restUrl,
          credentials: { ...OKX_SIM_CREDENTIALS, ...change },
        });
        await assert.rejects(venue.start(), (err: Error) => {
          assert.ok(err instanceof VenueUnavailableError);
          assert.match(err.message, new RegExp(code));
          return true;
        });
        assert.equal(venue.ready, false);
        await venue.close();
      });
    }
    await t.step("a stale login timestamp is refused with 60006", async () => {
      const venue = new OkxOrderVenue({
        privateWsUrl: sim.privateWsUrl,
        restUrl: sim.restUrl,
        credentials: OKX_SIM_CREDENTIALS,
        clock: () => Date.now() - 60_000,
      });
      await assert.rejects(venue.start(), /60006/);
      await venue.close();
    });
  } finally {
    await sim.close();
  }
});

Deno.test("okx sim private protocol: login order, op validation and REST auth", async (t) => {
  const sim = await startOkxSim({ seed: 5, paused: true, symbols: ["BTC-USDT"] });
  const c = await Client.open(sim.privateWsUrl);
  const byId = (id: string) => (f: Msg | string) => typeof f === "object" && f.id === id;
  try {
    await t.step("subscribe before login -> 60011", async () => {
      c.send({ id: "s0", op: "subscribe", args: [{ channel: "orders", instType: "SPOT" }] });
      const f = await c.waitFor(byId("s0")) as Msg;
      assert.deepEqual([f.event, f.code, f.msg], ["error", "60011", "Please log in"]);
    });
    await t.step("login, then orders without instType -> 60013", async () => {
      c.send({ id: "l1", op: "login", args: [okxLoginArg(OKX_SIM_CREDENTIALS, Date.now())] });
      const f = await c.waitFor(byId("l1")) as Msg;
      assert.deepEqual([f.event, f.code], ["login", "0"]);
      c.send({ id: "s1", op: "subscribe", args: [{ channel: "orders" }] });
      assert.equal((await c.waitFor(byId("s1")) as Msg).code, "60013");
    });
    await t.step("subscribe ack then channel-conn-count", async () => {
      c.send({ id: "s2", op: "subscribe", args: [{ channel: "orders", instType: "SPOT" }] });
      const ack = await c.waitFor(byId("s2")) as Msg;
      assert.deepEqual(ack.arg, { channel: "orders", instType: "SPOT" });
      const count = await c.waitFor((f) =>
        typeof f === "object" && f.event === "channel-conn-count"
      ) as Msg;
      assert.deepEqual([count.channel, count.connCount], ["orders", "1"]);
    });
    await t.step("order without instIdCode -> 60013, unknown code -> sCode 51001", async () => {
      c.send({
        id: "o1",
        op: "order",
        args: [{ tdMode: "cash", side: "buy", ordType: "limit", px: "1", sz: "1" }],
      });
      const f = await c.waitFor(byId("o1")) as Msg;
      assert.deepEqual([f.code, f.msg, f.data], [
        "60013",
        "Parameter instIdCode can not be empty",
        [],
      ]);
      c.send({
        id: "o2",
        op: "order",
        args: [{
          instIdCode: 99,
          tdMode: "cash",
          side: "buy",
          ordType: "limit",
          px: "1",
          sz: "1",
          clOrdId: "a1",
        }],
      });
      const g = await c.waitFor(byId("o2")) as Msg;
      assert.equal(g.code, "1");
      assert.equal((g.data as Msg[])[0].sCode, "51001");
    });
    await t.step("push has arg.uid and OKX fields; cancel push has cancelSource 1", async () => {
      const arg = {
        instIdCode: 10001,
        tdMode: "cash",
        side: "buy",
        ordType: "limit",
        px: "50000",
        sz: "0.01",
        clOrdId: "p1",
      };
      c.send({ id: "o3", op: "order", args: [arg] });
      const ack = await c.waitFor(byId("o3")) as Msg;
      assert.equal((ack.data as Msg[])[0].sMsg, "Order placed");
      const push = await c.waitFor((f) =>
        typeof f === "object" && Array.isArray(f.data) && f.arg !== undefined &&
        (f.data as Msg[])[0]?.clOrdId === "p1"
      ) as Msg;
      assert.equal((push.arg as Msg).uid, "44558800");
      const row = (push.data as Msg[])[0];
      assert.deepEqual([row.state, row.accFillSz, row.avgPx, row.fillSz], ["live", "0", "0", "0"]);
      c.send({ id: "c1", op: "cancel-order", args: [{ instIdCode: 10001, clOrdId: "p1" }] });
      await c.waitFor(byId("c1"));
      const canceled = await c.waitFor((f) =>
        typeof f === "object" && Array.isArray(f.data) &&
        (f.data as Msg[])[0]?.state === "canceled"
      ) as Msg;
      assert.equal((canceled.data as Msg[])[0].cancelSource, "1");
    });
    await t.step("REST: unsigned -> 50103, bad sign -> 50113, signed -> 0", async () => {
      const path = "/api/v5/trade/order?instId=BTC-USDT&clOrdId=p1";
      const unsigned = await fetch(sim.restUrl + path);
      assert.equal(unsigned.status, 401);
      assert.equal((await unsigned.json()).code, "50103");
      const headers = okxRestHeaders(OKX_SIM_CREDENTIALS, {
        method: "GET",
        requestPath: path,
        nowMs: Date.now(),
      });
      const bad = await fetch(sim.restUrl + path, {
        headers: { ...headers, "OK-ACCESS-SIGN": "AAAA" },
      });
      assert.equal((await bad.json()).code, "50113");
      const ok = await fetch(sim.restUrl + path, { headers });
      const body = await ok.json();
      assert.equal(body.code, "0");
      assert.equal(body.data[0].state, "canceled");
    });
    await t.step("expire knob -> canceled with cancelSource 0", async () => {
      c.send({
        id: "o4",
        op: "order",
        args: [{
          instIdCode: 10001,
          tdMode: "cash",
          side: "sell",
          ordType: "limit",
          px: "200000",
          sz: "0.01",
          clOrdId: "p2",
        }],
      });
      await c.waitFor(byId("o4"));
      const res = await fetch(`${sim.restUrl}/_sim/orders/expire`, {
        method: "POST",
        body: JSON.stringify({ client_id: "p2" }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const pushed = await c.waitFor((f) =>
        typeof f === "object" && Array.isArray(f.data) &&
        (f.data as Msg[])[0]?.clOrdId === "p2" && (f.data as Msg[])[0]?.state === "canceled"
      ) as Msg;
      assert.equal((pushed.data as Msg[])[0].cancelSource, "0");
    });
    await t.step("post-only that would take -> canceled with cancelSource 31", async () => {
      c.send({
        id: "o5",
        op: "order",
        args: [{
          instIdCode: 10001,
          tdMode: "cash",
          side: "buy",
          ordType: "post_only",
          px: "200000",
          sz: "0.001",
          clOrdId: "p3",
        }],
      });
      const ack = await c.waitFor(byId("o5")) as Msg;
      assert.equal((ack.data as Msg[])[0].sCode, "0");
      const pushed = await c.waitFor((f) =>
        typeof f === "object" && Array.isArray(f.data) &&
        (f.data as Msg[])[0]?.clOrdId === "p3" && (f.data as Msg[])[0]?.state === "canceled"
      ) as Msg;
      assert.equal((pushed.data as Msg[])[0].cancelSource, "31");
    });
  } finally {
    await c.close();
    await sim.close();
  }
});
