/**
 * KrakenAdapter against the Kraken v2 simulator on 127.0.0.1 (port 0): books verified by
 * checksum and equal to the simulator's, recovery from corrupted checksums, dropped updates,
 * silent subscriptions and disconnects, and pool balance.
 */
import assert from "node:assert/strict";
import {
  KrakenAdapter,
  type KrakenAdapterEvent,
  type KrakenAdapterOptions,
} from "../../src/adapter/kraken/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools, type SchemaPools } from "../../src/schema/mod.ts";
import { type KrakenSim, type KrakenSimOptions, startKrakenSim } from "../../src/sim/kraken/mod.ts";
import { EventLedger, sleep, waitFor } from "../support/binance_adapter_harness.ts";

const SYMBOLS = ["BTC-USDT", "ETH-USDT"];

interface Harness {
  sim: KrakenSim;
  adapter: KrakenAdapter;
  pools: SchemaPools;
  ledger: EventLedger;
  resyncs: BookResyncEvent[];
  stateChanges: BookStateChange[];
  events: KrakenAdapterEvent[];
  allLive(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

async function startHarness(
  opts: {
    sim?: KrakenSimOptions;
    adapter?: Partial<KrakenAdapterOptions>;
    beforeStart?: (sim: KrakenSim) => void;
  } = {},
): Promise<Harness> {
  const sim = await startKrakenSim({
    seed: 7,
    eventsPerSecond: 400,
    symbols: SYMBOLS.map((s) => s.replace("-", "/")),
    timing: { tickMs: 20, heartbeatIntervalMs: 200 },
    ...opts.sim,
  });
  const poolManager = new PoolManager({ debug: true });
  const pools = createSchemaPools(poolManager, { CanonicalEvent: 2000 });
  const ledger = new EventLedger();
  const resyncs: BookResyncEvent[] = [];
  const stateChanges: BookStateChange[] = [];
  const events: KrakenAdapterEvent[] = [];
  const adapter = new KrakenAdapter({
    wsUrl: sim.wsUrl,
    symbols: SYMBOLS,
    pools,
    tickIntervalMs: 20,
    pingIntervalMs: 200,
    connection: {
      backoff: { initialMs: 50, maxMs: 400 },
      connectTimeoutMs: 3000,
      closeTimeoutMs: 500,
    },
    book: { staleMs: 500 },
    ...opts.adapter,
    sink: (ev) => {
      try {
        ledger.receive(ev);
      } finally {
        pools.canonicalEvent.release(ev);
      }
    },
    onResync: (e) => resyncs.push(e),
    onStateChange: (c) => stateChanges.push(c),
    onEvent: (e) => events.push(e),
  });
  opts.beforeStart?.(sim);
  await adapter.start();
  let closing: Promise<void> | null = null;
  return {
    sim,
    adapter,
    pools,
    ledger,
    resyncs,
    stateChanges,
    events,
    allLive: (timeoutMs = 5000) =>
      waitFor("every book LIVE", () => adapter.books().every((b) => b.state === "LIVE"), {
        timeoutMs,
      }),
    close: () => {
      closing ??= (async () => {
        await adapter.close();
        await sim.close();
      })();
      return closing;
    },
  };
}

/** Pauses the market and waits until each adapter book equals the simulator's (top 25). */
async function assertBooksEqualSim(h: Harness): Promise<void> {
  h.sim.setRate(0);
  for (const canonical of SYMBOLS) {
    const expected = () => {
      const s = h.sim.bookSnapshot(canonical.replace("-", "/"), 25);
      return {
        bids: s.bids.map((l) => [l.price, l.qty]),
        asks: s.asks.map((l) => [l.price, l.qty]),
      };
    };
    await waitFor(`${canonical} equal to the simulator's book`, () => {
      const v = h.adapter.bookView(canonical, 25)!;
      const e = expected();
      return v.state === "LIVE" &&
        JSON.stringify([v.bids, v.asks]) === JSON.stringify([e.bids, e.asks]);
    });
    const v = h.adapter.bookView(canonical, 25)!;
    assert.equal(v.bids.length, 25);
    assert.equal(v.asks.length, 25);
  }
}

/** Waits for `n` more book updates on every symbol. */
async function moreUpdates(h: Harness, n: number): Promise<void> {
  const start = SYMBOLS.map((s) => h.ledger.count(s, "book_update"));
  await waitFor(
    `${n} more book updates per symbol`,
    () => SYMBOLS.every((s, i) => h.ledger.count(s, "book_update") >= start[i] + n),
  );
}

function assertNoViolations(h: Harness): void {
  assert.deepEqual(h.ledger.violations, []);
  assert.equal(h.adapter.stats().decodeErrors, 0);
}

for (const numberStyle of ["fixed", "trimmed"] as const) {
  Deno.test(`books go LIVE and equal the simulator's book (${numberStyle} numbers)`, async () => {
    const h = await startHarness({ sim: { numberStyle } });
    try {
      await h.allLive();
      await moreUpdates(h, 20);
      await assertBooksEqualSim(h);
      for (const b of h.adapter.books()) assert.equal(b.checksumMismatches, 0, b.symbol);
      assert.deepEqual(h.resyncs, []);
      for (const s of SYMBOLS) {
        assert.ok(h.ledger.count(s, "book_snapshot") === 1, `${s} one snapshot`);
        assert.ok(h.ledger.count(s, "trade") > 0, `${s} trades`);
        assert.ok(h.ledger.count(s, "ticker") > 0, `${s} tickers`);
      }
      assert.deepEqual(h.adapter.activeSymbols(), SYMBOLS);
      await waitFor("a pong", () => h.adapter.stats().pongs > 0);
      assert.ok(h.adapter.stats().heartbeats >= 0);
      assertNoViolations(h);
    } finally {
      await h.close();
    }
  });
}

Deno.test("a corrupted checksum resyncs that symbol once and it is LIVE again within 5 s", async () => {
  const h = await startHarness({ sim: { numberStyle: "trimmed" } });
  try {
    await h.allLive();
    await moreUpdates(h, 5);
    const changesBefore = h.stateChanges.length;
    h.sim.faults.corruptChecksums(1);
    await waitFor("a checksum resync", () => h.resyncs.length >= 1);
    const hit = h.resyncs[0];
    assert.equal(hit.reason, "checksum_mismatch");
    assert.equal(hit.provider, "kraken");
    await h.allLive(5000);
    await moreUpdates(h, 10);
    assert.equal(h.resyncs.length, 1, JSON.stringify(h.resyncs));
    const changed = new Set(h.stateChanges.slice(changesBefore).map((c) => c.symbol));
    assert.deepEqual([...changed], [hit.symbol], "other symbols untouched");
    assert.equal(h.sim.stats().checksumsCorrupted, 1);
    await assertBooksEqualSim(h);
    assertNoViolations(h);
  } finally {
    await h.close();
  }
});

Deno.test("a dropped book update is caught by the next checksum and resynced", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    await moreUpdates(h, 5);
    h.sim.faults.dropBookUpdates(1);
    await waitFor("a checksum resync", () => h.resyncs.length >= 1);
    assert.equal(h.resyncs[0].reason, "checksum_mismatch");
    await h.allLive(5000);
    await moreUpdates(h, 10);
    assert.equal(h.sim.stats().bookUpdatesDropped, 1);
    await assertBooksEqualSim(h);
    assertNoViolations(h);
  } finally {
    await h.close();
  }
});

Deno.test("a connection silent after its subscribe acks is caught by the watchdog", async () => {
  const h = await startHarness({ beforeStart: (sim) => sim.faults.silentAfterAck(1) });
  try {
    await waitFor("a stale resync", () => h.resyncs.some((r) => r.reason === "stale"));
    await h.allLive(5000);
    const stats = h.adapter.stats();
    assert.ok(stats.resubscribes >= 1, "resubscribed on the silent socket first");
    assert.equal(stats.staleReconnects, 1);
    assert.equal(stats.connection!.connects, 2);
    await moreUpdates(h, 5);
    await assertBooksEqualSim(h);
    assertNoViolations(h);
  } finally {
    await h.close();
  }
});

Deno.test("a disconnect reconnects, resubscribes and the books go LIVE again", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    await moreUpdates(h, 5);
    assert.equal(h.sim.faults.disconnectAll(), 1);
    await waitFor("a reconnect", () => h.adapter.stats().connection!.connects === 2);
    await h.allLive(5000);
    await moreUpdates(h, 5);
    assert.deepEqual(
      h.resyncs.map((r) => r.reason).sort(),
      SYMBOLS.map(() => "reconnect"),
    );
    assert.ok(h.adapter.stats().heartbeats + h.adapter.stats().pongs > 0);
    await assertBooksEqualSim(h);
    assertNoViolations(h);
  } finally {
    await h.close();
  }
});

Deno.test("pools balance after close (debug pools): nothing in flight", async () => {
  const h = await startHarness({ sim: { numberStyle: "trimmed" } });
  try {
    await h.allLive();
    await moreUpdates(h, 5);
    h.sim.faults.corruptChecksums(2);
    h.sim.faults.dropBookUpdates(1);
    h.sim.faults.disconnectAll();
    await waitFor("a reconnect", () => h.adapter.stats().connection!.connects === 2);
    await h.allLive(5000);
    await moreUpdates(h, 5);
    h.sim.faults.corruptChecksums(1);
    await sleep(50);
    await h.adapter.close();
    for (const pool of [h.pools.wsFrame, h.pools.providerRaw, h.pools.canonicalEvent]) {
      const s = pool.stats();
      assert.equal(s.inFlight, 0, `${s.name} in flight`);
      assert.equal(s.acquires, s.releases, `${s.name} acquires = releases`);
      assert.ok(s.acquires > 0, `${s.name} used`);
    }
    assertNoViolations(h);
  } finally {
    await h.close();
  }
});
