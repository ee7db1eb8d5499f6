import assert from "node:assert/strict";
import {
  bookChecksum,
  type ChecksumLevel,
  type KrakenSim,
  type KrakenSimOptions,
  startKrakenSim,
} from "../../src/sim/kraken/mod.ts";

type Msg = Record<string, unknown>;

/** A v2 client that keeps every message; `price`/`qty` keep their JSON source text. */
class Client {
  readonly messages: Msg[] = [];
  readonly #ws: WebSocket;
  readonly closed: Promise<CloseEvent>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.onclose = resolve);
    ws.onmessage = (event) => {
      this.messages.push(
        JSON.parse(
          event.data as string,
          (key, value, context?: { source?: string }) =>
            (key === "price" || key === "qty") && typeof value === "number"
              ? context?.source
              : value,
        ),
      );
    };
  }

  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    const client = new Client(ws);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return client;
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The first message at or after index `from` matching `match`. */
  async waitFor(match: (m: Msg) => boolean, from = 0, timeoutMs = 3000): Promise<Msg> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const found = this.messages.slice(from).find(match);
      if (found !== undefined) return found;
      if (performance.now() > deadline) {
        throw new Error(`expected a matching message within ${timeoutMs} ms, found none`);
      }
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    this.#ws.close();
    await this.closed;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withSim(
  options: KrakenSimOptions,
  body: (sim: KrakenSim) => Promise<void>,
): Promise<void> {
  const sim = await startKrakenSim({ port: 0, seed: 42, ...options });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

/** A local book built from v2 book messages; checks each checksum. */
class LocalBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  verified = 0;
  mismatched = 0;
  constructor(readonly depth: number, readonly pp: number, readonly qp: number) {}

  apply(item: Msg, type: string): boolean {
    if (type === "snapshot") {
      this.bids.clear();
      this.asks.clear();
    }
    for (const [side, map] of [["bids", this.bids], ["asks", this.asks]] as const) {
      for (const level of item[side] as { price: string; qty: string }[]) {
        const key = Number(level.price).toFixed(this.pp);
        if (Number(level.qty) === 0) map.delete(key);
        else map.set(key, level.qty);
      }
    }
    this.#truncate();
    const ok = bookChecksum(this.levels(10), { pricePrecision: this.pp, qtyPrecision: this.qp }) ===
      item.checksum;
    if (ok) this.verified++;
    else this.mismatched++;
    return ok;
  }

  levels(count: number): { bids: ChecksumLevel[]; asks: ChecksumLevel[] } {
    const sorted = (map: Map<string, string>, descending: boolean) =>
      [...map].sort((a, b) =>
        descending ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])
      )
        .slice(0, count).map(([price, qty]) => ({ price, qty }));
    return { bids: sorted(this.bids, true), asks: sorted(this.asks, false) };
  }

  #truncate(): void {
    const all = this.levels(this.depth);
    this.bids = new Map(all.bids.map((l) => [l.price, l.qty]));
    this.asks = new Map(all.asks.map((l) => [l.price, l.qty]));
  }
}

const isBook = (symbol: string) => (m: Msg) =>
  m.channel === "book" && (m.data as Msg[])[0].symbol === symbol;

Deno.test("status, ping, acks and errors follow the v2 shapes", async () => {
  await withSim({ eventsPerSecond: 0, symbols: ["BTC/USDT", "ETH/USDT"] }, async (sim) => {
    assert.match(sim.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/v2$/);
    const c = await Client.open(sim.wsUrl);
    try {
      const status = await c.waitFor((m) => m.channel === "status");
      assert.equal(status.type, "update");
      const info = (status.data as Msg[])[0];
      assert.equal(info.api_version, "v2");
      assert.equal(info.system, "online");

      c.send({ method: "ping", req_id: 101 });
      const pong = await c.waitFor((m) => m.method === "pong");
      assert.equal(pong.req_id, 101);
      assert.match(pong.time_in as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(pong.time_out as string, /\.\d{6}Z$/);

      const mark = c.messages.length;
      c.send({
        method: "subscribe",
        params: { channel: "book", symbol: ["BTC/USDT", "XBT/USD", "ETH/USDT"], depth: 25 },
        req_id: 7,
      });
      await c.waitFor(isBook("ETH/USDT"), mark);
      const responses = c.messages.slice(mark).filter((m) => m.method === "subscribe");
      assert.equal(responses.length, 3);
      const [btc, xbt, eth] = responses;
      assert.deepEqual(Object.keys(btc), [
        "method",
        "result",
        "success",
        "time_in",
        "time_out",
        "req_id",
      ]);
      assert.deepEqual(btc.result, {
        channel: "book",
        depth: 25,
        snapshot: true,
        symbol: "BTC/USDT",
      });
      assert.equal(btc.success, true);
      assert.equal(btc.req_id, 7);
      assert.deepEqual(
        { ...xbt, time_in: 0, time_out: 0 },
        {
          error: "Currency pair not supported XBT/USD",
          method: "subscribe",
          success: false,
          symbol: "XBT/USD",
          time_in: 0,
          time_out: 0,
          req_id: 7,
        },
      );
      assert.equal((eth.result as Msg).symbol, "ETH/USDT");

      const errorCases: [unknown, string, string][] = [
        [
          {
            method: "subscribe",
            params: { channel: "book", symbol: ["BTC/USDT"], depth: 7 },
            req_id: 8,
          },
          "subscribe",
          "Invalid depth",
        ],
        [
          {
            method: "subscribe",
            params: { channel: "ohlc", symbol: ["BTC/USDT"], interval: 2 },
            req_id: 9,
          },
          "subscribe",
          "Invalid interval",
        ],
        [
          { method: "subscribe", params: { channel: "executions" }, req_id: 10 },
          "subscribe",
          "Channel executions not supported",
        ],
        [{ method: "add_order", params: {}, req_id: 11 }, "add_order", "Method not found"],
        ["{not json", "error", "Malformed request"],
      ];
      for (const [request, method, error] of errorCases) {
        const at = c.messages.length;
        c.send(request);
        const answer = await c.waitFor((m) => m.success === false, at);
        assert.equal(answer.method, method);
        assert.equal(answer.error, error);
      }

      const at = c.messages.length;
      c.send({
        method: "unsubscribe",
        params: { channel: "book", symbol: ["BTC/USDT"], depth: 25 },
        req_id: 12,
      });
      const unsub = await c.waitFor((m) => m.method === "unsubscribe", at);
      assert.equal(unsub.success, true);
      assert.deepEqual(unsub.result, { channel: "book", depth: 25, symbol: "BTC/USDT" });
      assert.equal(sim.stats().subscriptions, 1);
      const again = c.messages.length;
      c.send({
        method: "unsubscribe",
        params: { channel: "book", symbol: ["BTC/USDT"], depth: 25 },
      });
      const missing = await c.waitFor((m) => m.method === "unsubscribe", again);
      assert.equal(missing.success, false);
      assert.equal("req_id" in missing, false);
    } finally {
      await c.close();
    }
  });
});

Deno.test("heartbeats flow only while a subscription is active", async () => {
  await withSim({
    eventsPerSecond: 0,
    symbols: ["BTC/USDT"],
    timing: { tickMs: 10, heartbeatIntervalMs: 100 },
  }, async (sim) => {
    const c = await Client.open(sim.wsUrl);
    try {
      await c.waitFor((m) => m.channel === "status");
      await sleep(300);
      assert.equal(c.messages.some((m) => m.channel === "heartbeat"), false);
      const mark = c.messages.length;
      c.send({ method: "subscribe", params: { channel: "ticker", symbol: ["BTC/USDT"] } });
      await c.waitFor((m) => m.channel === "heartbeat", mark);
      await sleep(350);
      const beats = c.messages.slice(mark).filter((m) => m.channel === "heartbeat").length;
      assert.ok(beats >= 2, `expected >= 2 heartbeats, found ${beats}`);
      assert.deepEqual(c.messages.find((m) => m.channel === "heartbeat"), { channel: "heartbeat" });
    } finally {
      await c.close();
    }
  });
});

async function followBooks(
  options: KrakenSimOptions,
  subscriptions: { symbol: string; depth: number }[],
): Promise<void> {
  await withSim({ eventsPerSecond: 3000, timing: { tickMs: 20 }, ...options }, async (sim) => {
    const c = await Client.open(sim.wsUrl);
    try {
      c.send({ method: "subscribe", params: { channel: "instrument" }, req_id: 1 });
      const instrument = await c.waitFor((m) => m.channel === "instrument");
      const pairs = (instrument.data as { pairs: Msg[] }).pairs;
      const books = new Map<string, LocalBook>();
      for (const { symbol, depth } of subscriptions) {
        const pair = pairs.find((p) => p.symbol === symbol)!;
        books.set(
          `${symbol}|${depth}`,
          new LocalBook(depth, pair.price_precision as number, pair.qty_precision as number),
        );
        c.send({ method: "subscribe", params: { channel: "book", symbol: [symbol], depth } });
      }
      await sleep(1200);
      sim.setRate(0);
      await sleep(200);
      // Book messages name only the symbol, so each symbol is subscribed at one depth here.
      for (const m of c.messages) {
        if (m.channel !== "book") continue;
        const item = (m.data as Msg[])[0];
        const entry = [...books].find(([key]) => key.startsWith(`${item.symbol}|`))!;
        assert.ok(entry[1].apply(item, m.type as string), `checksum mismatch on ${item.symbol}`);
      }
      for (const [key, book] of books) {
        const [symbol, depth] = key.split("|");
        assert.ok(
          book.verified > 20,
          `expected many book messages on ${key}, found ${book.verified}`,
        );
        const truth = sim.bookSnapshot(symbol, Number(depth));
        const mine = book.levels(Number(depth));
        assert.deepEqual(
          mine.bids.map((l) => [l.price, Number(l.qty)]),
          truth.bids.map((l) => [l.price, Number(l.qty)]),
        );
        assert.deepEqual(
          mine.asks.map((l) => [l.price, Number(l.qty)]),
          truth.asks.map((l) => [l.price, Number(l.qty)]),
        );
        assert.ok(mine.bids.length >= 10 && mine.asks.length >= 10);
      }
    } finally {
      await c.close();
    }
  });
}

Deno.test("book snapshot + updates rebuild the simulator's book and every checksum verifies", async (t) => {
  await t.step(
    "fixed-precision numbers, depths 10, 25 and 100",
    () =>
      followBooks({ symbols: ["BTC/USDT", "ETH/USDT", "XRP/USDT"] }, [
        { symbol: "BTC/USDT", depth: 10 },
        { symbol: "ETH/USDT", depth: 25 },
        { symbol: "XRP/USDT", depth: 100 },
      ]),
  );
  await t.step(
    "trimmed numbers need the instrument precisions",
    () =>
      followBooks({ symbols: ["BTC/USDT", "DOGE/USDT"], numberStyle: "trimmed", seed: 9 }, [
        { symbol: "BTC/USDT", depth: 10 },
        { symbol: "DOGE/USDT", depth: 25 },
      ]),
  );
});

Deno.test("checksum faults are observable and a resubscribe recovers", async (t) => {
  await withSim(
    { eventsPerSecond: 2000, timing: { tickMs: 20 }, symbols: ["BTC/USDT"] },
    async (sim) => {
      const c = await Client.open(sim.wsUrl);
      try {
        const sub = { channel: "book", symbol: ["BTC/USDT"], depth: 10 };
        c.send({ method: "subscribe", params: sub });
        const book = new LocalBook(10, 2, 5);
        let seen = 0;
        const drain = () => {
          for (; seen < c.messages.length; seen++) {
            const m = c.messages[seen];
            if (m.channel === "book") book.apply((m.data as Msg[])[0], m.type as string);
          }
        };
        await sleep(300);
        drain();
        assert.equal(book.mismatched, 0);
        await t.step("corrupt checksum: exactly one mismatch, the book stays right", async () => {
          sim.faults.corruptChecksums(1);
          await sleep(300);
          drain();
          assert.equal(book.mismatched, 1);
          assert.equal(sim.stats().checksumsCorrupted, 1);
          const before = book.verified;
          await sleep(200);
          drain();
          assert.equal(book.mismatched, 1);
          assert.ok(book.verified > before);
        });
        await t.step("dropped update: the next checksum fails until resubscribe", async () => {
          book.mismatched = 0;
          // A later update can overwrite every level the lost one touched, which hides that gap;
          // a few attempts make a visible gap practically certain.
          for (let attempt = 0; attempt < 5 && book.mismatched === 0; attempt++) {
            sim.faults.dropBookUpdates(1);
            await sleep(300);
            drain();
          }
          assert.ok(sim.stats().bookUpdatesDropped >= 1);
          assert.ok(book.mismatched >= 1, "expected the gap to break the checksum");
          const mark = c.messages.length;
          c.send({ method: "unsubscribe", params: sub });
          await c.waitFor((m) => m.method === "unsubscribe", mark);
          c.send({ method: "subscribe", params: sub });
          const snapshot = await c.waitFor(
            (m) => m.channel === "book" && m.type === "snapshot",
            mark,
          );
          seen = c.messages.indexOf(snapshot);
          book.mismatched = 0;
          await sleep(300);
          drain();
          assert.equal(book.mismatched, 0);
        });
      } finally {
        await c.close();
      }
    },
  );
});

Deno.test("silent-after-ack connection gets its ack and then nothing", async () => {
  await withSim({
    eventsPerSecond: 2000,
    symbols: ["BTC/USDT"],
    timing: { tickMs: 20, heartbeatIntervalMs: 100 },
  }, async (sim) => {
    sim.faults.silentAfterAck(1);
    const quiet = await Client.open(sim.wsUrl);
    const normal = await Client.open(sim.wsUrl);
    try {
      const sub = { method: "subscribe", params: { channel: "book", symbol: ["BTC/USDT"] } };
      quiet.send(sub);
      const ack = await quiet.waitFor((m) => m.method === "subscribe");
      assert.equal(ack.success, true);
      const mark = quiet.messages.length;
      normal.send(sub);
      await normal.waitFor((m) => m.channel === "book" && m.type === "update");
      await sleep(400);
      assert.equal(quiet.messages.length, mark, "expected no data and no heartbeats");
      assert.ok(sim.stats().framesDropped > 0);
      quiet.send({ method: "ping", req_id: 5 });
      await quiet.waitFor((m) => m.method === "pong", mark);
    } finally {
      await quiet.close();
      await normal.close();
    }
  });
});

Deno.test("stall withholds data, disconnect cuts the socket abruptly", async () => {
  await withSim(
    { eventsPerSecond: 2000, symbols: ["BTC/USDT"], timing: { tickMs: 20 } },
    async (sim) => {
      const c = await Client.open(sim.wsUrl);
      c.send({ method: "subscribe", params: { channel: "trade", symbol: ["BTC/USDT"] } });
      await c.waitFor((m) => m.channel === "trade" && m.type === "update");
      sim.faults.stall(300);
      await sleep(60);
      const mark = c.messages.length;
      await sleep(150);
      assert.equal(c.messages.length, mark);
      await c.waitFor((m) => m.channel === "trade", mark);
      assert.equal(sim.faults.disconnectAll(), 1);
      const closed = await c.closed;
      assert.equal(closed.wasClean, false);
    },
  );
});

Deno.test("trade, ticker and ohlc channels carry the documented fields", async () => {
  await withSim(
    { eventsPerSecond: 2000, symbols: ["ETH/USDT"], timing: { tickMs: 20 } },
    async (sim) => {
      const c = await Client.open(sim.wsUrl);
      try {
        c.send({ method: "subscribe", params: { channel: "trade", symbol: ["ETH/USDT"] } });
        const trade = await c.waitFor((m) => m.channel === "trade");
        assert.equal(trade.type, "update");
        const t0 = (trade.data as Msg[])[0];
        assert.deepEqual(Object.keys(t0), [
          "symbol",
          "side",
          "price",
          "qty",
          "ord_type",
          "trade_id",
          "timestamp",
        ]);
        c.send({
          method: "subscribe",
          params: { channel: "ticker", symbol: ["ETH/USDT"], event_trigger: "bbo" },
        });
        const ticker = await c.waitFor((m) => m.channel === "ticker" && m.type === "snapshot");
        assert.deepEqual(Object.keys((ticker.data as Msg[])[0]), [
          "symbol",
          "bid",
          "bid_qty",
          "ask",
          "ask_qty",
          "last",
          "volume",
          "vwap",
          "low",
          "high",
          "change",
          "change_pct",
          "timestamp",
        ]);
        await c.waitFor((m) => m.channel === "ticker" && m.type === "update");
        c.send({
          method: "subscribe",
          params: { channel: "ohlc", symbol: ["ETH/USDT"], interval: 5 },
          req_id: 3,
        });
        const ack = await c.waitFor((m) =>
          m.method === "subscribe" && (m.result as Msg).channel === "ohlc"
        );
        assert.deepEqual(ack.result, {
          channel: "ohlc",
          interval: 5,
          snapshot: true,
          symbol: "ETH/USDT",
        });
        const bar = await c.waitFor((m) => m.channel === "ohlc" && m.type === "update");
        const b0 = (bar.data as Msg[])[0];
        assert.equal(b0.interval, 5);
        assert.equal(typeof bar.timestamp, "string");
        assert.ok((b0.trades as number) >= 1);
        // Trade ids are sequential per pair.
        const ids = c.messages.filter((m) => m.channel === "trade").flatMap((m) =>
          (m.data as Msg[]).map((d) => d.trade_id as number)
        );
        for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
      } finally {
        await c.close();
      }
    },
  );
});

Deno.test("same seed and offset 0 give the shared market's prices; the offset shifts them", async () => {
  await withSim({ eventsPerSecond: 0, symbols: ["BTC/USDT"], priceOffsetBps: 0 }, async (a) => {
    await withSim({ eventsPerSecond: 0, symbols: ["BTC/USDT"], priceOffsetBps: 5 }, async (b) => {
      const pa = Number(a.bookSnapshot("BTC/USDT", 1).bids[0].price);
      const pb = Number(b.bookSnapshot("BTC/USDT", 1).bids[0].price);
      assert.ok(pb > pa && pb < pa * 1.001, `expected a 5 bps shift, found ${pa} -> ${pb}`);
      const depth = await fetch(`${a.restUrl}/0/public/Depth?pair=BTC/USDT&count=3`);
      const body = await depth.json();
      assert.deepEqual(body.error, []);
      assert.equal(body.result["BTC/USDT"].bids.length, 3);
    });
  });
});
