import assert from "node:assert/strict";
import { Client, type Msg } from "../support/frame_client.ts";
import { type OkxSim, startOkxSim } from "../../src/sim/okx/mod.ts";

function isEvent(name: string): (f: Msg | string) => boolean {
  return (f) => typeof f === "object" && f.event === name;
}

async function withSim(
  options: Parameters<typeof startOkxSim>[0],
  body: (sim: OkxSim) => Promise<void>,
): Promise<void> {
  const sim = await startOkxSim(options);
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

Deno.test("okx sim acks each subscribe arg and reports errors with documented codes", async (t) => {
  await withSim({ seed: 3, symbols: ["BTC-USDT", "ETH-USDT"] }, async (sim) => {
    const c = await Client.open(sim.wsUrl);
    await t.step("subscribe acks per arg with id and connId", async () => {
      c.send({
        id: "s1",
        op: "subscribe",
        args: [{ channel: "trades", instId: "BTC-USDT" }, {
          channel: "tickers",
          instId: "ETH-USDT",
        }],
      });
      await c.waitFor((f) =>
        typeof f === "object" && f.event === "subscribe" &&
        (f.arg as Msg).channel === "tickers"
      );
      const acks = c.frames.filter(isEvent("subscribe")) as Msg[];
      assert.equal(acks.length, 2);
      assert.deepEqual(acks[0].arg, { channel: "trades", instId: "BTC-USDT" });
      assert.equal(acks[0].id, "s1");
      assert.match(String(acks[0].connId), /^[0-9a-f]{8}$/);
      assert.equal(acks[0].connId, acks[1].connId);
    });
    await t.step("unknown instId gives 60018 and subscribes nothing", async () => {
      const before = sim.stats().subscriptions;
      c.send({ id: "s2", op: "subscribe", args: [{ channel: "books", instId: "FOO-BAR" }] });
      const err = await c.waitFor((f) => typeof f === "object" && f.id === "s2") as Msg;
      assert.equal(err.event, "error");
      assert.equal(err.code, "60018");
      assert.match(String(err.msg), /instId:FOO-BAR/);
      assert.equal(sim.stats().subscriptions, before);
    });
    await t.step("invalid JSON gives 60012, unknown op 60019", async () => {
      c.send("{not json");
      const bad = await c.waitFor((f) => typeof f === "object" && f.code === "60012") as Msg;
      assert.equal(bad.event, "error");
      c.send({ id: "x1", op: "subscribee", args: [] });
      const op = await c.waitFor((f) => typeof f === "object" && f.id === "x1") as Msg;
      assert.equal(op.code, "60019");
    });
    await t.step("candles on the public URL give 64001", async () => {
      c.send({ id: "k1", op: "subscribe", args: [{ channel: "candle1m", instId: "BTC-USDT" }] });
      const err = await c.waitFor((f) => typeof f === "object" && f.id === "k1") as Msg;
      assert.equal(err.code, "64001");
    });
    await t.step("unsubscribe acks and stops the channel", async () => {
      c.send({ id: "u1", op: "unsubscribe", args: [{ channel: "trades", instId: "BTC-USDT" }] });
      const ack = await c.waitFor((f) => typeof f === "object" && f.id === "u1") as Msg;
      assert.equal(ack.event, "unsubscribe");
      assert.deepEqual(ack.arg, { channel: "trades", instId: "BTC-USDT" });
    });
    await t.step("ping gets a raw pong", async () => {
      c.send("ping");
      assert.equal(await c.waitFor((f) => f === "pong"), "pong");
    });
    await c.close();
  });
});

Deno.test("okx sim business endpoint pushes candle1m rows of nine strings", async () => {
  await withSim(
    { seed: 3, symbols: ["BTC-USDT"], candlePushMs: 50, eventsPerSecond: 2000 },
    async (sim) => {
      const c = await Client.open(sim.businessWsUrl);
      c.send({ op: "subscribe", args: [{ channel: "candle1m", instId: "BTC-USDT" }] });
      const push = await c.waitFor((f) => typeof f === "object" && Array.isArray(f.data)) as Msg;
      const row = (push.data as string[][])[0];
      assert.equal(row.length, 9);
      assert.ok(row.every((v) => typeof v === "string"));
      assert.equal(row[8], "0");
      c.send({ id: "b1", op: "subscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
      const err = await c.waitFor((f) => typeof f === "object" && f.id === "b1") as Msg;
      assert.equal(err.code, "64002");
      await c.close();
    },
  );
});

Deno.test("okx sim closes an idle connection with 4004", async (t) => {
  await withSim({ seed: 3, symbols: ["BTC-USDT"], idleTimeoutMs: 300 }, async (sim) => {
    await t.step("no subscription: closed after >= the idle time", async () => {
      const started = performance.now();
      const c = await Client.open(sim.wsUrl);
      const event = await c.closed;
      assert.equal(event.code, 4004);
      assert.ok(performance.now() - started >= 250);
      assert.equal(sim.stats().idleCloses, 1);
    });
    await t.step("a subscribed connection with data flowing stays open", async () => {
      const c = await Client.open(sim.wsUrl);
      c.send({ op: "subscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(sim.stats().connections, 1);
      await c.close();
    });
  });
});

Deno.test("okx sim REST lists instruments with tickSz, lotSz, minSz and instIdCode", async () => {
  await withSim({ seed: 3, symbols: ["BTC-USDT", "ETH-USDT"] }, async (sim) => {
    const res = await fetch(`${sim.restUrl}/api/v5/public/instruments?instType=SPOT`);
    const body = await res.json() as { code: string; data: Msg[] };
    assert.equal(body.code, "0");
    assert.deepEqual(body.data.map((d) => d.instId), ["BTC-USDT", "ETH-USDT"]);
    assert.equal(body.data[0].tickSz, "0.01");
    assert.equal(body.data[0].lotSz, "0.00001");
    assert.equal(body.data[0].minSz, "0.00001");
    assert.equal(typeof body.data[0].instIdCode, "number");
    const missing = await fetch(`${sim.restUrl}/api/v5/public/instruments`);
    assert.equal((await missing.json() as Msg).code, "50014");
  });
});

Deno.test("okx sim pushes trades and tickers in the documented shape", async () => {
  await withSim({ seed: 5, symbols: ["BTC-USDT"], eventsPerSecond: 3000 }, async (sim) => {
    const c = await Client.open(sim.wsUrl);
    c.send({
      op: "subscribe",
      args: [{ channel: "trades", instId: "BTC-USDT" }, { channel: "tickers", instId: "BTC-USDT" }],
    });
    const hasData = (channel: string) => (f: Msg | string) =>
      typeof f === "object" && (f.arg as Msg | undefined)?.channel === channel &&
      Array.isArray(f.data);
    const trade = ((await c.waitFor(hasData("trades")) as Msg).data as Msg[])[0];
    assert.equal(trade.instId, "BTC-USDT");
    assert.match(String(trade.px), /^\d+\.\d\d$/);
    assert.ok(trade.side === "buy" || trade.side === "sell");
    assert.equal(typeof trade.seqId, "number");
    assert.ok(Number(trade.count) >= 1);
    const ticker = ((await c.waitFor(hasData("tickers")) as Msg).data as Msg[])[0];
    assert.equal(ticker.instType, "SPOT");
    assert.ok(Number(ticker.bidPx) < Number(ticker.askPx));
    await c.close();
  });
});
