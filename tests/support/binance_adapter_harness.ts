/**
 * Test support: a Binance simulator on 127.0.0.1 (port 0) with a {@linkcode BinanceAdapter}
 * connected to it, pools from a {@linkcode PoolManager}, and a sink that checks what the adapter
 * emits (trade and book sequence rules per symbol) before releasing each event to its pool.
 *
 * @module
 */

import {
  BinanceAdapter,
  type BinanceAdapterEvent,
  type BinanceAdapterOptions,
} from "../../src/adapter/binance/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import type { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { createSchemaPools, type SchemaPools } from "../../src/schema/mod.ts";
import { type BinanceSim, type BinanceSimOptions, startBinanceSim } from "../../src/sim/mod.ts";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `cond` every few ms until it holds; resolves with the time waited in ms. Rejects naming
 * `what` after `timeoutMs`.
 */
export async function waitFor(
  what: string,
  cond: () => boolean,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const start = performance.now();
  while (!cond()) {
    const waitedMs = performance.now() - start;
    if (waitedMs > timeoutMs) {
      throw new Error(`expected ${what} within ${timeoutMs} ms, found it still false`);
    }
    await sleep(opts.pollMs ?? 5);
  }
  return performance.now() - start;
}

/** Per-symbol checks of what a sink receives, and counts by kind. */
export class EventLedger {
  /** Events received, by kind. */
  readonly byKind: Record<string, number> = {};
  /** Events received, by `symbol kind`. */
  readonly byStream: Record<string, number> = {};
  /** Every rule broken, in order (empty when all is well). */
  readonly violations: string[] = [];
  readonly #lastTrade = new Map<string, number>();
  readonly #lastBook = new Map<string, { seq: number; afterSnapshot: boolean }>();

  /** Records one event (reads it; never keeps it). */
  receive(ev: CanonicalEvent): void {
    this.byKind[ev.kind] = (this.byKind[ev.kind] ?? 0) + 1;
    const stream = `${ev.symbol} ${ev.kind}`;
    this.byStream[stream] = (this.byStream[stream] ?? 0) + 1;
    switch (ev.kind) {
      case "trade": {
        const last = this.#lastTrade.get(ev.symbol) ?? -1;
        if (ev.seq <= last) {
          this.violations.push(`${ev.symbol} trade ${ev.seq} after ${last}: not increasing`);
        }
        this.#lastTrade.set(ev.symbol, Math.max(last, ev.seq));
        return;
      }
      case "book_snapshot":
        if (ev.bidsLength === 0 || ev.asksLength === 0) {
          this.violations.push(`${ev.symbol} snapshot ${ev.seq} with an empty side`);
        }
        this.#lastBook.set(ev.symbol, { seq: ev.seq, afterSnapshot: true });
        return;
      case "book_update": {
        const last = this.#lastBook.get(ev.symbol);
        if (last === undefined) {
          this.violations.push(`${ev.symbol} update ${ev.seqFirst}..${ev.seq} before a snapshot`);
          return;
        }
        // Binance's rule: the first diff after a snapshot at L has U <= L + 1 <= u; later
        // diffs chain exactly (U = previous u + 1).
        const ok = last.afterSnapshot
          ? ev.seqFirst <= last.seq + 1 && ev.seq >= last.seq + 1
          : ev.seqFirst === last.seq + 1;
        if (!ok) {
          this.violations.push(
            `${ev.symbol} update ${ev.seqFirst}..${ev.seq} after ${last.seq}: not continuous`,
          );
        }
        this.#lastBook.set(ev.symbol, { seq: ev.seq, afterSnapshot: false });
        return;
      }
    }
  }

  /** Events of `symbol` and `kind` received so far. */
  count(symbol: string, kind: string): number {
    return this.byStream[`${symbol} ${kind}`] ?? 0;
  }
}

/** A resync or state change stamped with `performance.now()`. */
export type Stamped<T> = T & { atMs: number };

/** Options of {@linkcode startAdapterHarness}. */
export interface AdapterHarnessOptions {
  /** Canonical symbols the adapter carries (the simulator serves exactly these). */
  symbols: readonly string[];
  /** Canonical symbols the simulator serves (default: `symbols`). */
  simSymbols?: readonly string[];
  /** Simulator options (its symbols come from `simSymbols`). */
  sim?: Omit<BinanceSimOptions, "symbols">;
  /** Adapter overrides on top of the harness's short test timings. */
  adapter?: Partial<Omit<BinanceAdapterOptions, "restUrl" | "wsUrl" | "symbols" | "pools">>;
  /** Debug pools (poisoning, stacks). Default true. */
  poolDebug?: boolean;
  /** Start the adapter (default true). */
  start?: boolean;
  /** Called with the simulator before the adapter starts (arm faults here). */
  beforeStart?: (sim: BinanceSim) => void | Promise<void>;
}

/** A running simulator and adapter; always `await harness.close()`. */
export interface AdapterHarness {
  /** The simulator (faults: `sim.faults`). */
  readonly sim: BinanceSim;
  /** The adapter under test. */
  readonly adapter: BinanceAdapter;
  /** Registry of the pools (debug mode unless `poolDebug: false`). */
  readonly poolManager: PoolManager;
  /** The six schema pools; the adapter uses three of them. */
  readonly pools: SchemaPools;
  /** What the sink received, checked. */
  readonly ledger: EventLedger;
  /** Every `onResync`, in order. */
  readonly resyncs: Stamped<BookResyncEvent>[];
  /** Every `onStateChange`, in order. */
  readonly stateChanges: Stamped<BookStateChange>[];
  /** Every `onEvent` (connection events, decode errors, acks, ...), in order. */
  readonly events: BinanceAdapterEvent[];
  /** Resolves once every book of the adapter is LIVE; returns the time waited in ms. */
  allLive(timeoutMs?: number): Promise<number>;
  /** Closes the adapter, then the simulator. Idempotent. */
  close(): Promise<void>;
}

/** Short timings so that recovery paths run in milliseconds instead of seconds. */
const TEST_ADAPTER_DEFAULTS = {
  tickIntervalMs: 20,
  restTimeoutMs: 3000,
  connection: {
    backoff: { initialMs: 50, maxMs: 400 },
    connectTimeoutMs: 3000,
    closeTimeoutMs: 500,
    switchoverTimeoutMs: 1000,
  },
  book: {
    snapshotBackoffMsMin: 50,
    snapshotBackoffMsMax: 400,
    snapshotTimeoutMs: 3000,
  },
} as const;

/** Exchange symbol of a canonical one (`BTC-USDT` -> `BTCUSDT`). */
export function exchangeSymbol(canonical: string): string {
  return canonical.replace("-", "");
}

/** Starts a simulator and an adapter on it (see the module doc). */
export async function startAdapterHarness(opts: AdapterHarnessOptions): Promise<AdapterHarness> {
  const sim = await startBinanceSim({
    seed: 7,
    eventsPerSecond: 2000,
    timeScale: 0.2,
    ...opts.sim,
    symbols: (opts.simSymbols ?? opts.symbols).map(exchangeSymbol),
  });
  const poolManager = new PoolManager({ debug: opts.poolDebug ?? true });
  const pools = createSchemaPools(poolManager, { CanonicalEvent: 2000 });
  const ledger = new EventLedger();
  const resyncs: Stamped<BookResyncEvent>[] = [];
  const stateChanges: Stamped<BookStateChange>[] = [];
  const events: BinanceAdapterEvent[] = [];
  const extra = opts.adapter ?? {};
  const adapter = new BinanceAdapter({
    ...TEST_ADAPTER_DEFAULTS,
    ...extra,
    connection: { ...TEST_ADAPTER_DEFAULTS.connection, ...extra.connection },
    book: { ...TEST_ADAPTER_DEFAULTS.book, ...extra.book },
    restUrl: sim.restUrl,
    wsUrl: sim.wsUrl,
    symbols: opts.symbols,
    pools,
    sink: (ev) => {
      try {
        ledger.receive(ev);
        extra.sink?.(ev);
      } finally {
        pools.canonicalEvent.release(ev);
      }
    },
    onResync: (e) => {
      resyncs.push({ ...e, atMs: performance.now() });
      extra.onResync?.(e);
    },
    onStateChange: (c) => {
      stateChanges.push({ ...c, atMs: performance.now() });
      extra.onStateChange?.(c);
    },
    onEvent: (e) => {
      events.push(e);
      extra.onEvent?.(e);
    },
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
    await opts.beforeStart?.(sim);
    if (opts.start ?? true) await adapter.start();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    sim,
    adapter,
    poolManager,
    pools,
    ledger,
    resyncs,
    stateChanges,
    events,
    allLive: (timeoutMs = 5000) =>
      waitFor(
        "every book LIVE",
        () => {
          const books = adapter.books();
          return books.length === adapter.activeSymbols().length &&
            books.every((b) => b.state === "LIVE");
        },
        { timeoutMs },
      ),
    close,
  };
}
