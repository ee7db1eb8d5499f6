import assert from "node:assert/strict";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { getJson, LocalBook, TestWsClient, waitUntil } from "./sim_binance_ws_client.ts";

interface DepthEvent {
  e: string;
  s: string;
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

interface Snapshot {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

/** Every event's U is the previous event's u + 1. */
function assertContinuous(events: DepthEvent[], what: string): void {
  for (let i = 1; i < events.length; i++) {
    assert.equal(
      events[i].U,
      events[i - 1].u + 1,
      `${what}: event ${i} U=${events[i].U}, previous u=${events[i - 1].u}`,
    );
  }
}

Deno.test("a client following Binance's sync procedure ends with the simulator's book", async () => {
  const sim = await startBinanceSim({ seed: 12, eventsPerSecond: 20_000, timeScale: 0.2 });
  const symbols = ["BTCUSDT", "ETHUSDT", "DOGEUSDT"];
  const streams = symbols.flatMap((
    s,
  ) => [`${s.toLowerCase()}@depth@100ms`, `${s.toLowerCase()}@depth`]);
  const client = await TestWsClient.open(`${sim.wsUrl}/stream?streams=${streams.join("/")}`);
  try {
    const events = (stream: string) =>
      client.matching<{ data: DepthEvent }>((m) => m.stream === stream).map((m) => m.data);
    // 1. buffer; 2. snapshot once the first event is in.
    const books = new Map<string, LocalBook>();
    const slowBooks = new Map<string, LocalBook>();
    for (const symbol of symbols) {
      const stream = `${symbol.toLowerCase()}@depth@100ms`;
      await client.until(() => events(stream).length > 0, 3000, `first ${stream} event`);
      const firstU = events(stream)[0].U;
      const { status, headers, body } = await getJson(
        `${sim.restUrl}/api/v3/depth?symbol=${symbol}&limit=5000`,
      );
      assert.equal(status, 200);
      assert.equal(headers.get("x-mbx-used-weight-1m") !== null, true);
      const snapshot = body as Snapshot;
      // 3. the snapshot is not older than the stream.
      assert.ok(
        snapshot.lastUpdateId >= firstU,
        `snapshot ${snapshot.lastUpdateId} older than first U ${firstU}`,
      );
      const book = new LocalBook();
      book.load(snapshot);
      books.set(symbol, book);
      const slowBook = new LocalBook();
      slowBook.load(snapshot);
      slowBooks.set(symbol, slowBook);
    }
    // Let the market run, then stop it and let the last windows flush.
    await new Promise((resolve) => setTimeout(resolve, 600));
    sim.pause();
    for (const symbol of symbols) {
      const last = sim.lastUpdateId(symbol);
      const stream = `${symbol.toLowerCase()}@depth@100ms`;
      await client.until(
        () => events(stream).at(-1)?.u === last,
        3000,
        `${symbol} fast stream catching up`,
      );
      await client.until(
        () => events(`${symbol.toLowerCase()}@depth`).at(-1)?.u === last,
        3000,
        `${symbol} slow stream catching up`,
      );
    }
    for (const symbol of symbols) {
      const lower = symbol.toLowerCase();
      const fast = events(`${lower}@depth@100ms`);
      const slow = events(`${lower}@depth`);
      assertContinuous(fast, `${symbol} @depth@100ms`);
      assertContinuous(slow, `${symbol} @depth`);
      assert.ok(
        fast.length > slow.length,
        "the 100 ms stream sends more often than the 1000 ms one",
      );
      assert.ok(fast.every((e) => e.e === "depthUpdate" && e.s === symbol));
      // 4-6. drop u <= L, check the first event covers L, apply the rest.
      const book = books.get(symbol)!;
      const remaining = fast.filter((e) => e.u > book.id);
      assert.ok(remaining.length > 0);
      assert.ok(remaining[0].U <= book.id + 1 && remaining[0].u >= book.id + 1);
      for (const event of remaining) assert.equal(book.apply(event), "applied");
      const simBook = sim.bookSnapshot(symbol);
      assert.equal(book.id, simBook.lastUpdateId);
      const local = book.sorted();
      assert.deepEqual(local.bids, simBook.bids);
      assert.deepEqual(local.asks, simBook.asks);
      // The 1000 ms stream, applied to the same snapshot, reaches the same book.
      const slowBook = slowBooks.get(symbol)!;
      const slowRemaining = slow.filter((e) => e.u > slowBook.id);
      assert.ok(slowRemaining[0].U <= slowBook.id + 1);
      for (const event of slowRemaining) assert.equal(slowBook.apply(event), "applied");
      assert.equal(slowBook.id, simBook.lastUpdateId);
      assert.deepEqual(slowBook.sorted(), local);
    }
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("the REST snapshot reflects exactly the diffs with u <= lastUpdateId", async () => {
  const sim = await startBinanceSim({
    seed: 13,
    eventsPerSecond: 5000,
    timeScale: 0.2,
    symbols: ["BTCUSDT"],
  });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@depth@100ms`);
  try {
    await client.until(() => client.received.length >= 2, 3000, "two diff events");
    const first = client.received[0].json as DepthEvent;
    // A snapshot taken while events stream: rebuild it from an older snapshot plus diffs.
    const { body: early } = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    sim.pause();
    const last = sim.lastUpdateId("BTCUSDT");
    await client.until(
      () => (client.received.at(-1)?.json as DepthEvent).u === last,
      3000,
      "caught up",
    );
    const { body: late } = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`);
    const book = new LocalBook();
    book.load(early as Snapshot);
    const events = client.received.map((r) => r.json as DepthEvent);
    assert.ok(first.U <= book.id + 1);
    for (const event of events) book.apply(event);
    const rebuilt = book.sorted();
    assert.equal(book.id, (late as Snapshot).lastUpdateId);
    assert.deepEqual(rebuilt.bids, (late as Snapshot).bids);
    assert.deepEqual(rebuilt.asks, (late as Snapshot).asks);
    await waitUntil(() => sim.stats().framesSent > 0, 100, "frames counted");
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("partial depth and bookTicker agree with the book when the market is still", async () => {
  const sim = await startBinanceSim({
    seed: 14,
    eventsPerSecond: 3000,
    timeScale: 0.05,
    symbols: ["ETHUSDT"],
  });
  const client = await TestWsClient.open(
    `${sim.wsUrl}/stream?streams=ethusdt@depth10@100ms/ethusdt@bookTicker`,
  );
  try {
    await client.until(
      () => client.matching((m) => m.stream === "ethusdt@bookTicker").length > 0,
      3000,
      "bookTicker",
    );
    sim.pause();
    const last = sim.lastUpdateId("ETHUSDT");
    const partial = await client.next<{ data: Snapshot }>((m) =>
      m.stream === "ethusdt@depth10@100ms" && (m.data as Snapshot).lastUpdateId === last
    );
    const book = sim.bookSnapshot("ETHUSDT", 10);
    assert.deepEqual(partial.data.bids, book.bids);
    assert.deepEqual(partial.data.asks, book.asks);
    const tickers = client.matching<
      { data: { u: number; b: string; B: string; a: string; A: string } }
    >(
      (m) => m.stream === "ethusdt@bookTicker",
    );
    const top = tickers.at(-1)!.data;
    assert.ok(top.u <= last);
    assert.deepEqual([top.b, top.B, top.a, top.A], [...book.bids[0], ...book.asks[0]]);
    for (let i = 1; i < tickers.length; i++) assert.ok(tickers[i].data.u > tickers[i - 1].data.u);
  } finally {
    await client.close();
    await sim.close();
  }
});
