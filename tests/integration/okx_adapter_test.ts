import assert from "node:assert/strict";
import {
  OkxAdapter,
  type OkxAdapterEvent,
  type OkxAdapterOptions,
} from "../../src/adapter/okx/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools, type SchemaPools } from "../../src/schema/mod.ts";
import { type OkxSim, type OkxSimOptions, startOkxSim } from "../../src/sim/okx/mod.ts";

const SYMBOLS = ["BTC-USDT", "ETH-USDT"] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`expected ${what} within ${timeoutMs} ms, found it still false`);
    }
    await sleep(5);
  }
  return performance.now() - start;
}

interface Harness {
  sim: OkxSim;
  adapter: OkxAdapter;
  poolManager: PoolManager;
  pools: SchemaPools;
  byKind: Record<string, number>;
  resyncs: (BookResyncEvent & { atMs: number })[];
  stateChanges: BookStateChange[];
  events: OkxAdapterEvent[];
  allLive(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

async function startHarness(
  opts: { sim?: OkxSimOptions; adapter?: Partial<OkxAdapterOptions> } = {},
): Promise<Harness> {
  const sim = await startOkxSim({ seed: 7, eventsPerSecond: 2000, symbols: SYMBOLS, ...opts.sim });
  const poolManager = new PoolManager({ debug: true });
  const pools = createSchemaPools(poolManager, { CanonicalEvent: 2000 });
  const byKind: Record<string, number> = {};
  const resyncs: (BookResyncEvent & { atMs: number })[] = [];
  const stateChanges: BookStateChange[] = [];
  const events: OkxAdapterEvent[] = [];
  const adapter = new OkxAdapter({
    tickIntervalMs: 20,
    restTimeoutMs: 3000,
    connection: {
      backoff: { initialMs: 50, maxMs: 400 },
      connectTimeoutMs: 3000,
      closeTimeoutMs: 500,
      switchoverTimeoutMs: 1000,
    },
    book: { snapshotTimeoutMs: 2000 },
    ...opts.adapter,
    restUrl: sim.restUrl,
    wsUrl: sim.wsUrl,
    businessWsUrl: sim.businessWsUrl,
    symbols: SYMBOLS,
    pools,
    sink: (ev) => {
      byKind[ev.kind] = (byKind[ev.kind] ?? 0) + 1;
      pools.canonicalEvent.release(ev);
    },
    onResync: (e) => resyncs.push({ ...e, atMs: performance.now() }),
    onStateChange: (c) => stateChanges.push(c),
    onEvent: (e) => events.push(e),
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await adapter.close();
      await sim.close();
    })();
    return closing;
  };
  try {
    await adapter.start();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    sim,
    adapter,
    poolManager,
    pools,
    byKind,
    resyncs,
    stateChanges,
    events,
    allLive: (timeoutMs = 5000) =>
      waitFor("every book LIVE", () => {
        const books = adapter.books();
        return books.length === SYMBOLS.length && books.every((b) => b.state === "LIVE");
      }, timeoutMs),
    close,
  };
}

/** Pauses the simulator and waits until the adapter holds exactly the simulator's books. */
async function assertBooksEqualSim(h: Harness): Promise<void> {
  h.sim.pause();
  for (const symbol of SYMBOLS) {
    const expected = h.sim.bookSnapshot(symbol);
    await waitFor(`${symbol} at seqId ${expected.seqId}`, () => {
      const b = h.adapter.books().find((s) => s.symbol === symbol);
      return b?.state === "LIVE" && b.seqId === expected.seqId;
    });
    const view = h.adapter.bookView(symbol, 400)!;
    assert.deepEqual(view.bids, expected.bids.map((l) => [l[0], l[1]]), `${symbol} bids`);
    assert.deepEqual(view.asks, expected.asks.map((l) => [l[0], l[1]]), `${symbol} asks`);
  }
  h.sim.resume();
}

Deno.test("okx adapter syncs every book and matches the simulator", async () => {
  const h = await startHarness();
  try {
    assert.deepEqual(h.adapter.activeSymbols().sort(), [...SYMBOLS].sort());
    await h.allLive();
    await waitFor(
      "trades and tickers",
      () => (h.byKind.trade ?? 0) > 0 && (h.byKind.ticker ?? 0) > 0,
    );
    await waitFor("book updates", () => (h.byKind.book_update ?? 0) > 10);
    await assertBooksEqualSim(h);
    assert.equal(h.byKind.book_snapshot, SYMBOLS.length);
    assert.equal(h.resyncs.length, 0);
    assert.equal(h.adapter.stats().decodeErrors, 0);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter recovers one book from a gap within 5 s", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    const other = h.adapter.books().find((b) => b.symbol === "ETH-USDT")!;
    h.sim.faults.gap("BTC-USDT");
    await waitFor("a gap resync", () => h.resyncs.some((r) => r.reason === "gap"));
    const resyncAt = h.resyncs.find((r) => r.reason === "gap")!.atMs;
    assert.equal(h.resyncs.find((r) => r.reason === "gap")!.symbol, "BTC-USDT");
    await h.allLive(5000);
    assert.ok(performance.now() - resyncAt < 5000);
    const eth = h.adapter.books().find((b) => b.symbol === "ETH-USDT")!;
    assert.equal(eth.snapshots, other.snapshots, "ETH-USDT was not re-snapshotted");
    assert.ok(h.resyncs.every((r) => r.symbol === "BTC-USDT"));
    assert.equal(h.adapter.stats().connection?.connects, 1, "resynced without reconnecting");
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter verifies legacy checksums and resyncs on a corrupt one", async () => {
  const h = await startHarness({ sim: { checksumMode: "legacy" } });
  try {
    await h.allLive();
    await waitFor(
      "verified checksums",
      () => h.adapter.books().every((b) => b.checksumsVerified > 2),
    );
    assert.equal(h.resyncs.length, 0);
    h.sim.faults.corruptChecksum("ETH-USDT");
    await waitFor(
      "a checksum_mismatch resync",
      () => h.resyncs.some((r) => r.reason === "checksum_mismatch" && r.symbol === "ETH-USDT"),
    );
    await h.allLive(5000);
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter accepts a sequence reset without resync", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    h.sim.faults.resetSequence("BTC-USDT");
    await waitFor("a reset", () => h.adapter.books().some((b) => b.sequenceResets > 0));
    await assertBooksEqualSim(h);
    assert.equal(h.resyncs.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter reconnects after a disconnect and re-snapshots", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    assert.equal(h.sim.faults.disconnect(), 1);
    await waitFor(
      "reconnect resyncs",
      () => h.resyncs.filter((r) => r.reason === "reconnect").length === 2,
    );
    await h.allLive(5000);
    await assertBooksEqualSim(h);
    assert.ok((h.adapter.stats().connection?.connects ?? 0) >= 2);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter keeps an idle connection alive with ping", async () => {
  const h = await startHarness({
    sim: { idleTimeoutMs: 600, booksHeartbeatMs: 60_000 },
    adapter: { pingAfterMs: 200, pongTimeoutMs: 300 },
  });
  try {
    await h.allLive();
    h.sim.pause();
    await waitFor("pongs", () => h.adapter.stats().pongs >= 3, 5000);
    assert.equal(h.adapter.stats().connection?.connects, 1);
    assert.equal(h.sim.stats().idleCloses, 0);
    h.sim.resume();
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter recovers from a 4004 idle close", async () => {
  const h = await startHarness({
    sim: { idleTimeoutMs: 400, booksHeartbeatMs: 60_000 },
    adapter: { pingAfterMs: 60_000 },
  });
  try {
    await h.allLive();
    h.sim.pause();
    await waitFor("an idle close", () => h.sim.stats().idleCloses >= 1);
    h.sim.resume();
    await waitFor("a reconnect", () => (h.adapter.stats().connection?.connects ?? 0) >= 2);
    await h.allLive(5000);
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx adapter leaves no pooled object in flight after close", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    await waitFor("traffic", () => (h.byKind.book_update ?? 0) > 10);
  } finally {
    await h.close();
  }
  assert.ok(h.poolManager.debug);
  for (const pool of [h.pools.wsFrame, h.pools.providerRaw, h.pools.canonicalEvent]) {
    assert.equal(pool.stats().inFlight, 0, pool.name);
  }
  assert.equal(h.poolManager.totalInFlight(), 0);
});
