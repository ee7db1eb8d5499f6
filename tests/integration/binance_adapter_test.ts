/**
 * The Binance market-data path end to end below the gateway: the real simulator on 127.0.0.1
 * (port 0) -> Deno's WebSocket client -> BinanceAdapter (codec, normalizer, one book assembler
 * per symbol) -> a checking sink. Faults are injected through `sim.faults`; timings are
 * shortened through the adapter's `connection` / `book` options and the simulator's timeScale.
 */

import assert from "node:assert/strict";
import { BinanceAdapter, type BinanceRestError } from "../../src/adapter/binance/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools } from "../../src/schema/mod.ts";
import {
  type AdapterHarness,
  exchangeSymbol,
  sleep,
  startAdapterHarness,
  waitFor,
} from "../support/binance_adapter_harness.ts";

const SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"] as const;
/** Levels per side compared between the adapter's books and the simulator's. */
const LEVELS_COMPARED = 20;

/** Waits until the adapter's book of every symbol reflects the simulator's last update. */
async function caughtUp(h: AdapterHarness, symbols: readonly string[]): Promise<void> {
  await waitFor(
    "the adapter's books caught up with the paused simulator",
    () =>
      symbols.every((s) => {
        const view = h.adapter.bookView(s, 0);
        return view !== null && view.state === "LIVE" &&
          view.bookId === h.sim.lastUpdateId(exchangeSymbol(s));
      }),
  );
}

/** Asserts the adapter's top levels equal the simulator's, for each symbol. */
function assertBooksMatch(h: AdapterHarness, symbols: readonly string[]): void {
  for (const s of symbols) {
    const view = h.adapter.bookView(s, LEVELS_COMPARED)!;
    const truth = h.sim.bookSnapshot(exchangeSymbol(s), LEVELS_COMPARED);
    assert.equal(view.bookId, truth.lastUpdateId, `${s} book id`);
    assert.deepEqual(view.bids, truth.bids.map(([p, q]) => [p, q]), `${s} bids`);
    assert.deepEqual(view.asks, truth.asks.map(([p, q]) => [p, q]), `${s} asks`);
    const stats = h.adapter.books().find((b) => b.symbol === s)!;
    assert.equal(stats.bestBid, truth.bids[0][0], `${s} best bid`);
    assert.equal(stats.bestAsk, truth.asks[0][0], `${s} best ask`);
  }
}

Deno.test("adapter syncs several books to LIVE and they equal the simulator's books", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS });
  try {
    const liveMs = await h.allLive();
    await waitFor(
      "book updates of every symbol",
      () => SYMBOLS.every((s) => h.ledger.count(s, "book_update") >= 20),
    );
    h.sim.pause();
    await caughtUp(h, SYMBOLS);
    assertBooksMatch(h, SYMBOLS);
    assert.deepEqual(h.ledger.violations, []);
    for (const s of SYMBOLS) {
      assert.equal(h.ledger.count(s, "book_snapshot"), 1, `${s}: one snapshot`);
      assert.ok(h.ledger.count(s, "trade") > 0, `${s}: trades`);
    }
    assert.equal(h.resyncs.length, 0, JSON.stringify(h.resyncs));
    console.log(`all ${SYMBOLS.length} books LIVE after ${liveMs.toFixed(0)} ms`);
  } finally {
    await h.close();
  }
});

/** Checks shared by every scenario: sink rules held and no callback threw. */
function assertHealthy(h: AdapterHarness): void {
  assert.deepEqual(h.ledger.violations, []);
  const conn = h.adapter.stats().connection!;
  assert.equal(conn.callbackErrors, 0, "no adapter callback threw");
}

/** Waits until every symbol received `n` more book updates than it had when called. */
async function moreUpdates(h: AdapterHarness, symbols: readonly string[], n: number) {
  const base = new Map(symbols.map((s) => [s, h.ledger.count(s, "book_update")]));
  await waitFor(
    `${n} more book updates per symbol`,
    () => symbols.every((s) => h.ledger.count(s, "book_update") >= base.get(s)! + n),
  );
}

/** Pauses the simulator, waits until the adapter caught up, and compares every book. */
async function pauseAndCompare(h: AdapterHarness, symbols: readonly string[]): Promise<void> {
  h.sim.pause();
  await caughtUp(h, symbols);
  assertBooksMatch(h, symbols);
}

Deno.test("a sequence gap resyncs that symbol only, LIVE again within 5 s", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 10);
    const changesBefore = h.stateChanges.length;
    const faultAt = performance.now();
    h.sim.faults.sequenceGap("ETHUSDT", { eventsDropped: 2 });
    await waitFor(
      "ETH-USDT resynced and LIVE again",
      () =>
        h.stateChanges.slice(changesBefore).some((c) => c.symbol === "ETH-USDT" && c.to === "LIVE"),
    );
    const after = h.stateChanges.slice(changesBefore);
    const gap = h.resyncs.find((r) => r.symbol === "ETH-USDT" && r.reason === "gap");
    assert.ok(gap, `a gap resync of ETH-USDT, found ${JSON.stringify(h.resyncs)}`);
    const live = after.find((c) => c.symbol === "ETH-USDT" && c.to === "LIVE")!;
    assert.deepEqual(
      after.filter((c) => c.symbol === "ETH-USDT").map((c) => `${c.from}->${c.to}:${c.cause}`),
      ["LIVE->RESYNCING:gap", "RESYNCING->LIVE:synced"],
    );
    const recoveryMs = live.atMs - faultAt;
    assert.ok(recoveryMs < 5000, `recovered in ${recoveryMs} ms`);
    assert.deepEqual(after.filter((c) => c.symbol !== "ETH-USDT"), [], "others never left LIVE");
    assert.ok(h.resyncs.every((r) => r.symbol === "ETH-USDT"));
    await moreUpdates(h, SYMBOLS, 5);
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
    console.log(
      `gap -> LIVE in ${recoveryMs.toFixed(0)} ms (detected after ${
        (gap.atMs - faultAt).toFixed(0)
      } ms)`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("an abrupt disconnect reconnects, resubscribes, re-snapshots every book", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    const tradesBefore = h.ledger.byKind.trade ?? 0;
    const firstConn = h.sim.connections()[0].id;
    const faultAt = performance.now();
    assert.equal(h.sim.faults.dropConnections({ abrupt: true }), 1);
    await waitFor(
      "a reconnect resync of every book",
      () => SYMBOLS.every((s) => h.resyncs.some((r) => r.symbol === s && r.reason === "reconnect")),
    );
    await waitFor(
      "every book LIVE after the reconnect",
      () => h.adapter.books().every((b) => b.state === "LIVE" && b.syncs >= 2),
    );
    const recoveredMs = performance.now() - faultAt;
    const conns = h.sim.connections();
    assert.equal(conns.length, 1);
    assert.notEqual(conns[0].id, firstConn);
    const expected = SYMBOLS.flatMap((s) => {
      const x = exchangeSymbol(s).toLowerCase();
      return [`${x}@trade`, `${x}@depth@100ms`, `${x}@bookTicker`, `${x}@kline_1m`];
    });
    assert.deepEqual([...conns[0].streams].sort(), expected.sort(), "the URL carried the streams");
    const conn = h.adapter.stats().connection!;
    assert.equal(conn.reconnects.remote_close, 1);
    assert.equal(conn.connects, 2);
    await waitFor("trades flowing again", () => (h.ledger.byKind.trade ?? 0) > tradesBefore + 20);
    await moreUpdates(h, SYMBOLS, 5);
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
    console.log(`abrupt drop -> all LIVE in ${recoveredMs.toFixed(0)} ms`);
  } finally {
    await h.close();
  }
});

Deno.test("malformed frames are counted as decode errors and change nothing else", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    assert.equal(h.sim.faults.malformedFrame({ malformed: "truncated", count: 3 }), 1);
    assert.equal(h.sim.faults.malformedFrame({ malformed: "invalidJson", count: 2 }), 1);
    await waitFor("five decode errors", () => h.adapter.stats().decodeErrors === 5);
    assert.equal(h.events.filter((e) => e.type === "decode_error").length, 5);
    await moreUpdates(h, SYMBOLS, 5);
    assert.ok(h.adapter.books().every((b) => b.state === "LIVE"));
    assert.equal(h.resyncs.length, 0);
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
  } finally {
    await h.close();
  }
});

Deno.test("a stale snapshot is fetched again until it bridges the buffer, then LIVE", async () => {
  const h = await startAdapterHarness({
    symbols: SYMBOLS,
    beforeStart: async (sim) => {
      sim.faults.staleSnapshot({ symbol: "BTCUSDT", responses: 2 });
      // Stale means a hole: at least one diff the adapter never sees lies between the captured
      // snapshot and the first diff it buffers (a snapshot at firstU - 1 is bridged, not stale).
      const captured = sim.lastUpdateId("BTCUSDT");
      await waitFor(
        "the book moved past the stale snapshot",
        () => sim.lastUpdateId("BTCUSDT") > captured + 1,
        {
          timeoutMs: 5000,
        },
      );
      await sleep(300); // and a 100 ms diff window carrying that move was sent, to nobody
    },
  });
  try {
    await h.allLive();
    const byStats = new Map(h.adapter.books().map((b) => [b.symbol, b]));
    assert.equal(byStats.get("BTC-USDT")!.snapshotsBehind, 2);
    assert.equal(byStats.get("BTC-USDT")!.snapshotsRequested, 3);
    assert.equal(byStats.get("ETH-USDT")!.snapshotsBehind, 0);
    assert.equal(byStats.get("SOL-USDT")!.snapshotsBehind, 0);
    assert.equal(h.ledger.count("BTC-USDT", "book_snapshot"), 1);
    await moreUpdates(h, SYMBOLS, 5);
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
  } finally {
    await h.close();
  }
});

Deno.test("a silent stall is caught by the idle watchdog; books recover", async () => {
  const h = await startAdapterHarness({
    symbols: SYMBOLS,
    adapter: { connection: { idleTimeoutMs: 300 } },
  });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    const faultAt = performance.now();
    assert.equal(h.sim.faults.stall(), 1);
    await waitFor("an idle reconnect", () => h.adapter.stats().connection!.reconnects.idle === 1);
    const idleMs = performance.now() - faultAt;
    assert.ok(idleMs >= 250, `idle detected after ${idleMs} ms`);
    await moreUpdates(h, SYMBOLS, 10);
    await waitFor("every book LIVE", () => h.adapter.books().every((b) => b.state === "LIVE"));
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
    assert.equal(h.sim.connections().length, 1, "the stalled socket was closed");
    console.log(
      `stall -> idle reconnect after ${idleMs.toFixed(0)} ms; resyncs: ${
        h.resyncs.map((r) => `${r.symbol}:${r.reason}`).join(", ")
      }`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a silent stall without the watchdog marks books STALE; they recover after it", async () => {
  const h = await startAdapterHarness({
    symbols: SYMBOLS,
    adapter: { connection: { idleTimeoutMs: 0 }, book: { staleAfterMs: 300 } },
  });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    const changesBefore = h.stateChanges.length;
    h.sim.faults.stall();
    await waitFor(
      "every book STALE",
      () =>
        SYMBOLS.every((s) =>
          h.stateChanges.slice(changesBefore).some((c) => c.symbol === s && c.to === "STALE")
        ),
    );
    h.sim.faults.unstall();
    await moreUpdates(h, SYMBOLS, 10);
    await waitFor("every book LIVE", () => h.adapter.books().every((b) => b.state === "LIVE"));
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
  } finally {
    await h.close();
  }
});

Deno.test("serverShutdown switches sockets make-before-break: no resync, no duplicates", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    const firstConn = h.sim.connections()[0].id;
    const tradesBefore = h.ledger.byKind.trade ?? 0;
    assert.equal(h.sim.faults.serverShutdown(), 1);
    await waitFor("the switch to a new socket", () => {
      const conns = h.sim.connections();
      return conns.length === 1 && conns[0].id !== firstConn;
    });
    const connectionEvents = () =>
      h.events.flatMap((e) => (e.type === "connection" ? [e.event] : []));
    assert.ok(
      connectionEvents().some((e) => e.type === "rotation" && e.phase === "switched"),
      "the new socket took over while the old one was still open",
    );
    await waitFor(
      "the old socket closed by us, cleanly",
      () =>
        connectionEvents().some((e) =>
          e.type === "close" && e.socket === "rotated_out" && e.wasClean && e.willReconnect
        ),
    );
    const stats = h.adapter.stats();
    assert.equal(stats.serverShutdowns, 1);
    assert.equal(stats.connection!.reconnects.server_shutdown, 1);
    assert.equal(stats.connection!.reconnects.remote_close ?? 0, 0);
    await waitFor(
      "trades flowing on the new socket",
      () => (h.ledger.byKind.trade ?? 0) > tradesBefore + 50,
    );
    await moreUpdates(h, SYMBOLS, 5);
    assert.deepEqual(h.resyncs, [], "no resync");
    assert.deepEqual(h.stateChanges.filter((c) => c.to !== "LIVE"), [], "books stayed LIVE");
    for (const s of SYMBOLS) assert.equal(h.ledger.count(s, "book_snapshot"), 1);
    await pauseAndCompare(h, SYMBOLS);
    assertHealthy(h);
    console.log(
      `serverShutdown: ${h.adapter.stats().duplicatesDropped} duplicate trades dropped`,
    );
  } finally {
    await h.close();
  }
});

interface RecordedRestError {
  message: string;
  status: number;
  retryAfterMs: number;
}

/** Records every error of the adapter's depth requests (the REST client is a public field). */
function recordDepthErrors(h: AdapterHarness): RecordedRestError[] {
  const errors: RecordedRestError[] = [];
  const rest = h.adapter.rest;
  const depth = rest.depth.bind(rest);
  rest.depth = async (symbol, opts) => {
    try {
      return await depth(symbol, opts);
    } catch (err) {
      const e = err as BinanceRestError;
      errors.push({ message: e.message, status: e.status, retryAfterMs: e.retryAfterMs });
      throw err;
    }
  };
  return errors;
}

Deno.test("HTTP 429 on snapshots: clear error, counted, retried after Retry-After", async () => {
  const symbols = ["BTC-USDT", "ETH-USDT"];
  const h = await startAdapterHarness({
    symbols,
    // Two snapshot requests leave together; the one still on the wire when the other's 429 is
    // answered must not count as ignoring the 429 (this simulator bans at once by default).
    sim: { weightWindowMs: 1000, requestsAfter429Max: 2 },
    adapter: { depthLimit: 100 }, // weight 5 per snapshot
  });
  try {
    await h.allLive();
    await moreUpdates(h, symbols, 5);
    const errors = recordDepthErrors(h);
    h.sim.faults.setWeightLimit(5); // one snapshot per 1 s window at most
    const faultAt = performance.now();
    h.sim.faults.sequenceGap("BTCUSDT");
    h.sim.faults.sequenceGap("ETHUSDT");
    await waitFor(
      "both books resynced and LIVE",
      () => h.adapter.books().every((b) => b.state === "LIVE" && b.syncs === 2),
      { timeoutMs: 6000 },
    );
    const recoveredMs = performance.now() - faultAt;
    const limited = errors.filter((e) => e.status === 429);
    assert.ok(limited.length >= 1, `a 429, found ${JSON.stringify(errors)}`);
    assert.match(
      limited[0].message,
      /^GET \/api\/v3\/depth\?symbol=[A-Z]+&limit=100: HTTP 429 code -1003: Too much request weight/,
    );
    assert.ok(limited[0].retryAfterMs >= 1000, "Retry-After read (whole seconds)");
    const rest = h.adapter.rest;
    assert.ok(rest.stats.rateLimited >= 1);
    // The assembler waits out Retry-After itself; a request that was already queued behind the
    // 429 is refused locally, never sent.
    for (const e of errors.filter((e) => e.status === 0)) {
      assert.match(
        e.message,
        /^GET \/api\/v3\/depth\?symbol=[A-Z]+&limit=100 not sent: rate limited for another \d+ ms$/,
      );
    }
    assert.ok(rest.stats.refusedWhileBlocked <= 1, "no retry loop inside the Retry-After block");
    assert.equal(h.sim.stats().rest418, 0, "never banned");
    assert.ok(h.resyncs.some((r) => r.reason === "snapshot_failed"), "failures counted");
    assert.ok(recoveredMs >= 1000, `recovery waited out Retry-After (${recoveredMs} ms)`);
    await pauseAndCompare(h, symbols);
    assertHealthy(h);
    console.log(
      `429: ${limited.length} rate-limited, ${rest.stats.refusedWhileBlocked} refused locally, ` +
        `recovered in ${recoveredMs.toFixed(0)} ms`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("HTTP 418 (IP ban) on a snapshot: nothing is sent until the ban ends", async () => {
  const banMs = 2000;
  const h = await startAdapterHarness({
    symbols: ["BTC-USDT"],
    sim: { weightWindowMs: 1000, banMs },
    adapter: { depthLimit: 100 },
  });
  try {
    await h.allLive();
    const errors = recordDepthErrors(h);
    // Get the IP banned: over the limit (429), then a request during the back-off (418).
    h.sim.faults.setWeightLimit(5);
    const url = `${h.sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=100`;
    const statuses: number[] = [];
    for (let i = 0; i < 3 && !statuses.includes(418); i++) {
      const res = await fetch(url);
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.ok(statuses.includes(418), `banned, found ${statuses}`);
    const bannedAt = performance.now();
    const requestsBefore = h.sim.stats().restRequests;
    h.sim.faults.sequenceGap("BTCUSDT");
    await waitFor("the book resynced after the ban", () => h.adapter.books()[0].syncs === 2, {
      timeoutMs: banMs + 3000,
    });
    const recoveredMs = performance.now() - bannedAt;
    assert.equal(errors[0].status, 418, JSON.stringify(errors[0]));
    assert.match(errors[0].message, /HTTP 418 code -1003: Way too much request weight used/);
    assert.ok(errors.slice(1).every((e) => e.status === 0), "nothing sent during the ban");
    assert.equal(h.sim.stats().restRequests, requestsBefore + 2, "the 418 and the success");
    assert.ok(recoveredMs >= banMs - 100, `waited out the ban (${recoveredMs} ms)`);
    await pauseAndCompare(h, ["BTC-USDT"]);
    assertHealthy(h);
  } finally {
    await h.close();
  }
});

Deno.test("pools balance after close: nothing in flight, nothing released twice", async () => {
  const h = await startAdapterHarness({ symbols: SYMBOLS, start: false });
  const misuse: string[] = [];
  for (const pool of [h.pools.wsFrame, h.pools.providerRaw, h.pools.canonicalEvent]) {
    const release = pool.release.bind(pool) as (obj: unknown) => void;
    (pool as { release: (obj: unknown) => void }).release = (obj) => {
      try {
        release(obj);
      } catch (err) {
        misuse.push(`${pool.name}: ${(err as Error).message}`);
        throw err;
      }
    };
  }
  try {
    assert.ok(h.poolManager.debug);
    await h.adapter.start();
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    h.sim.faults.sequenceGap("BTCUSDT");
    h.sim.faults.malformedFrame({ count: 2 });
    h.sim.faults.dropConnections({ abrupt: true });
    await waitFor("a reconnect", () => h.adapter.stats().connection!.connects === 2);
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 5);
    assertHealthy(h);
    // Close while events are flowing and snapshots may be in flight.
    h.sim.faults.sequenceGap("ETHUSDT");
    await h.adapter.close();
    for (const pool of [h.pools.wsFrame, h.pools.providerRaw, h.pools.canonicalEvent]) {
      const s = pool.stats();
      assert.equal(s.inFlight, 0, `${s.name} in flight`);
      assert.equal(s.acquires, s.releases, `${s.name} acquires = releases`);
      assert.ok(s.acquires > 0, `${s.name} used`);
    }
    assert.deepEqual(misuse, []);
    assert.equal(h.poolManager.totalInFlight(), 0);
    const report = await h.poolManager.shutdown({ timeoutMs: 0 });
    assert.equal(report.clean, true);
  } finally {
    await h.close();
  }
});

Deno.test("publishBookSnapshot sends the live book; the next update continues it", async () => {
  const seen: { kind: string; seq: number; seqFirst: number; levels: number }[] = [];
  const h = await startAdapterHarness({
    symbols: SYMBOLS,
    adapter: {
      sink: (ev) => {
        if (ev.symbol === "BTC-USDT" && ev.kind.startsWith("book_")) {
          seen.push({ kind: ev.kind, seq: ev.seq, seqFirst: ev.seqFirst, levels: ev.bidsLength });
        }
      },
    },
  });
  try {
    await h.allLive();
    await moreUpdates(h, SYMBOLS, 3);
    assert.equal(h.adapter.publishBookSnapshot("BTC-USDT"), true);
    const at = seen.length - 1;
    assert.equal(seen[at].kind, "book_snapshot");
    assert.equal(seen[at].seq, h.adapter.bookView("BTC-USDT", 0)!.bookId);
    assert.ok(seen[at].levels > 0);
    await waitFor("an update after the published snapshot", () => seen.length > at + 1);
    assert.equal(seen[at + 1].kind, "book_update");
    assert.equal(seen[at + 1].seqFirst, seen[at].seq + 1, "continues the snapshot exactly");
    assert.equal(h.adapter.publishBookSnapshot("XRP-USDT"), false, "a symbol not carried");
    assertHealthy(h);
  } finally {
    await h.close();
  }
});

Deno.test("close() during start() leaves nothing running and start() rejects", async (t) => {
  await t.step("while exchangeInfo is in flight", async () => {
    const h = await startAdapterHarness({ symbols: SYMBOLS, start: false });
    try {
      const starting = h.adapter.start();
      await h.adapter.close();
      await assert.rejects(starting, /found it closed/);
      await assert.rejects(h.adapter.start(), /found it started/);
      assert.equal(h.sim.stats().connectionsOpened, 0, "never connected");
    } finally {
      await h.close();
    }
  });
  await t.step("while waiting to retry exchangeInfo", async () => {
    const pools = createSchemaPools(new PoolManager());
    const adapter = new BinanceAdapter({
      restUrl: "http://127.0.0.1:1", // nothing listens: every attempt fails at once
      wsUrl: "ws://127.0.0.1:1",
      symbols: ["BTC-USDT"],
      pools,
      sink: (ev) => pools.canonicalEvent.release(ev),
    });
    const starting = adapter.start();
    // The first attempt fails at once; then start() sleeps (250 ms and more) before the next.
    await waitFor("the first failed attempt", () => adapter.rest.stats.failures >= 1);
    const requests = adapter.rest.stats.requests;
    const closedAt = performance.now();
    await adapter.close();
    await assert.rejects(starting, /found it closed/);
    assert.ok(performance.now() - closedAt < 200, "the back-off sleep was cut short");
    assert.equal(adapter.rest.stats.requests, requests, "no request after close()");
  });
});

Deno.test("symbols added and removed at run time: live SUBSCRIBE / UNSUBSCRIBE", async () => {
  const h = await startAdapterHarness({
    symbols: ["BTC-USDT"],
    simSymbols: ["BTC-USDT", "ETH-USDT", "SOL-USDT"],
  });
  try {
    await h.allLive();
    assert.deepEqual(h.adapter.addSymbols(["ETH-USDT", "SOL-USDT", "XRP-USDT"]), [
      "ETH-USDT",
      "SOL-USDT",
    ]);
    assert.equal(h.adapter.stats().unknownSymbols, 1, "XRP-USDT is not listed");
    await waitFor("the SUBSCRIBE acked", () => h.adapter.stats().subscribeAcks === 1);
    const ack = h.events.find((e) => e.type === "subscribe_ack");
    assert.ok(ack?.type === "subscribe_ack" && ack.ok, JSON.stringify(ack));
    await waitFor(
      "three books LIVE",
      () => h.adapter.books().length === 3 && h.adapter.books().every((b) => b.state === "LIVE"),
    );
    assert.equal(h.sim.connections()[0].streams.length, 12);
    await moreUpdates(h, SYMBOLS, 5);

    assert.deepEqual(h.adapter.removeSymbols(["ETH-USDT"]), ["ETH-USDT"]);
    assert.deepEqual(h.adapter.activeSymbols().sort(), ["BTC-USDT", "SOL-USDT"]);
    assert.equal(h.adapter.bookView("ETH-USDT", 1), null, "its book is dropped");
    await waitFor("the UNSUBSCRIBE acked", () => h.adapter.stats().subscribeAcks === 2);
    await waitFor(
      "the simulator stopped sending ETH",
      () => !h.sim.connections()[0].streams.some((s) => s.startsWith("ethusdt@")),
    );
    const ethEvents = h.ledger.count("ETH-USDT", "trade") +
      h.ledger.count("ETH-USDT", "book_update");
    await moreUpdates(h, ["BTC-USDT", "SOL-USDT"], 5);
    assert.equal(
      h.ledger.count("ETH-USDT", "trade") + h.ledger.count("ETH-USDT", "book_update"),
      ethEvents,
      "no ETH event after the UNSUBSCRIBE took effect",
    );
    await pauseAndCompare(h, ["BTC-USDT", "SOL-USDT"]);
    assertHealthy(h);
  } finally {
    await h.close();
  }
});
