/**
 * One market-data feed per exchange, behind one shape the gateway can loop over: the adapter,
 * plus (in sim mode) the embedded simulator it connects to. Adding an exchange means one adapter
 * folder, one simulator folder and one builder here.
 *
 * @module
 */

import {
  BINANCE_LIVE_ENDPOINTS,
  BinanceAdapter,
  type BinanceAdapterEvent,
} from "../adapter/binance/mod.ts";
import {
  canonicalSymbolOf,
  KRAKEN_LIVE_ENDPOINTS,
  KrakenAdapter,
  type KrakenAdapterEvent,
} from "../adapter/kraken/mod.ts";
import { OKX_LIVE_ENDPOINTS, OkxAdapter, type OkxAdapterEvent } from "../adapter/okx/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../adapter/shared/mod.ts";
import type { CanonicalEvent } from "../schema/canonical_event.ts";
import type { SchemaPools } from "../schema/mod.ts";
import type { BookStateView } from "../server/mod.ts";
import { type BinanceSim, startBinanceSim } from "../sim/binance/mod.ts";
import { type KrakenSim, startKrakenSim } from "../sim/kraken/mod.ts";
import { type OkxSim, startOkxSim } from "../sim/okx/mod.ts";
import { componentLogger, type Logger } from "../telemetry/mod.ts";

/** Symbols carried in live mode when none are configured. */
export const LIVE_SYMBOLS_DEFAULT = ["BTC-USDT", "ETH-USDT"];

/** A running exchange feed. */
export interface MarketFeed {
  readonly provider: string;
  /** Base URLs it connects to (simulator or exchange), for the log. */
  readonly endpoints: { rest: string; ws: string };
  start(): Promise<void>;
  /** Closes the adapter, then its embedded simulator if any. */
  close(): Promise<void>;
  books(): BookStateView[];
  eventsByKind(): Record<string, number>;
  counters(): { frames: number; decodeErrors: number };
  activeSymbols(): string[];
  /** Re-sends the live book of `symbol` as a snapshot; false when not live or not supported. */
  publishBookSnapshot(symbol: string): boolean;
}

/** The Binance feed, with its adapter and simulator exposed (tests, fault injection). */
export interface BinanceFeed extends MarketFeed {
  readonly adapter: BinanceAdapter;
  readonly sim: BinanceSim | null;
}

/** The Kraken feed, with its adapter and simulator exposed. */
export interface KrakenFeed extends MarketFeed {
  readonly adapter: KrakenAdapter;
  readonly sim: KrakenSim | null;
}

/** The OKX feed, with its adapter and simulator exposed. */
export interface OkxFeed extends MarketFeed {
  readonly adapter: OkxAdapter;
  readonly sim: OkxSim | null;
}

/** What every feed shares. */
export interface FeedContext {
  pools: SchemaPools;
  sink: (ev: CanonicalEvent) => void;
  onResync: (e: BookResyncEvent) => void;
  onStateChange: (c: BookStateChange) => void;
  /** Simulator mode: start the embedded simulator on loopback. */
  sim: { seed: number; eventsPerSecond: number } | null;
  /** Canonical symbols; empty: every simulator symbol (sim) or {@linkcode LIVE_SYMBOLS_DEFAULT}. */
  symbols: string[];
  /** Binance endpoint override (e.g. a `deno task sim` elsewhere). */
  binanceUrls?: { rest: string; ws: string };
}

const SIM_HOST = "127.0.0.1";
/** Levels per side re-sent to a late subscriber (OKX pushes 400; Kraken's book is 25 deep). */
const RESEND_LEVELS_MAX = 400;

/** A live book as an adapter shows it. */
interface LiveBookView {
  symbol: string;
  state: string;
  bids: [string, string][];
  asks: [string, string][];
}

/**
 * Re-sends a LIVE book as a `book_snapshot` through the sink, so a consumer that subscribes late
 * gets a book its next update continues (`seq` = the book's current sequence). False when the
 * book is not live or no pooled event is free.
 */
function publishFromView(
  ctx: FeedContext,
  provider: string,
  view: LiveBookView | null,
  seq: number,
): boolean {
  if (view === null || view.state !== "LIVE") return false;
  const ev = ctx.pools.canonicalEvent.tryAcquire();
  if (ev === null) return false;
  ev.kind = "book_snapshot";
  ev.provider = provider;
  ev.symbol = view.symbol;
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.recvTsMs = performance.timeOrigin + performance.now();
  for (const [p, q] of view.bids) ev.bids.push(p, q);
  for (const [p, q] of view.asks) ev.asks.push(p, q);
  ctx.sink(ev); // ownership passes, as for every emitted event
  return true;
}
/** Venue price offsets of the embedded simulators, so the same market differs a little. */
const OKX_PRICE_OFFSET_BPS = 3;
const KRAKEN_PRICE_OFFSET_BPS = -4;

function connectionLogger(log: Logger) {
  return (ev: { type: string }) => {
    if (ev.type === "error" || ev.type === "close_timeout") {
      log.warning("connection {type}", { ...ev });
    } else if (["open", "close", "reconnect_scheduled", "rotation"].includes(ev.type)) {
      log.info("connection {type}", { ...ev });
    } else log.debug("connection {type}", { ...ev });
  };
}

function logAdapterEvent(
  log: Logger,
  e: BinanceAdapterEvent | OkxAdapterEvent | KrakenAdapterEvent,
): void {
  if (e.type === "connection") return connectionLogger(log)(e.event);
  if (
    e.type === "decode_error" || e.type === "exchange_error" || e.type === "pool_exhausted" ||
    e.type === "unknown_symbol" || e.type === "subscribe_timeout" || e.type === "pong_timeout"
  ) {
    return log.warning("{type}", { ...e });
  }
  if ((e.type === "exchange_info" || e.type === "instruments") && e.error) {
    return log.warning("{type} attempt {attempt} failed: {error}", { ...e });
  }
  log.info("{type}", { ...e });
}

/** The adapter methods every feed forwards unchanged. */
interface AdapterCore {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): { frames: number; decodeErrors: number; eventsByKind: Record<string, number> };
  activeSymbols(): string[];
}

/** The parts of a feed that do not depend on the exchange. */
function coreFeed(
  provider: string,
  endpoints: { rest: string; ws: string },
  adapter: AdapterCore,
  sim: { close(): Promise<void> } | null,
): Omit<MarketFeed, "books" | "publishBookSnapshot"> {
  return {
    provider,
    endpoints,
    start: () => adapter.start(),
    close: async () => {
      await adapter.close();
      await sim?.close();
    },
    eventsByKind: () => adapter.stats().eventsByKind,
    counters: () => adapter.stats(),
    activeSymbols: () => adapter.activeSymbols(),
  };
}

/** Book rows of an adapter whose stats lack the top of book: read it from a 1-level view. */
function booksWithTop(
  provider: string,
  books: readonly {
    symbol: string;
    state: BookStateView["state"];
    resyncs: Partial<Record<string, number>>;
    lastUpdateRecvTsMs: number;
  }[],
  bookId: (index: number) => number,
  view: (symbol: string) => LiveBookView | null,
): BookStateView[] {
  return books.map((b, i) => {
    const top = view(b.symbol);
    return {
      provider,
      symbol: b.symbol,
      state: b.state,
      bookId: bookId(i),
      bestBid: top?.bids[0]?.[0] ?? "",
      bestAsk: top?.asks[0]?.[0] ?? "",
      resyncs: { ...b.resyncs } as Record<string, number>,
      lastUpdateMs: b.lastUpdateRecvTsMs,
    };
  });
}

/** What every adapter takes from the gateway: pools, the sink, book and log callbacks. */
function adapterHooks(ctx: FeedContext, log: Logger) {
  return {
    pools: ctx.pools,
    sink: ctx.sink,
    onResync: ctx.onResync,
    onStateChange: ctx.onStateChange,
    onEvent: (e: BinanceAdapterEvent | OkxAdapterEvent | KrakenAdapterEvent) =>
      logAdapterEvent(log, e),
  };
}

/** Binance: the adapter, and the embedded simulator in sim mode. */
export async function binanceFeed(ctx: FeedContext): Promise<BinanceFeed> {
  const log = componentLogger("adapter.binance");
  let sim: BinanceSim | null = null;
  let urls = ctx.binanceUrls;
  let symbols = ctx.symbols;
  if (!urls && ctx.sim) {
    sim = await startBinanceSim({ hostname: SIM_HOST, port: 0, ...ctx.sim });
    urls = { rest: sim.restUrl, ws: sim.wsUrl };
  } else if (!urls) {
    urls = { rest: BINANCE_LIVE_ENDPOINTS.rest, ws: BINANCE_LIVE_ENDPOINTS.ws };
    if (symbols.length === 0) symbols = LIVE_SYMBOLS_DEFAULT;
  }
  const adapter = new BinanceAdapter({
    restUrl: urls.rest,
    wsUrl: urls.ws,
    symbols,
    ...adapterHooks(ctx, log),
  });
  return {
    ...coreFeed("binance", urls, adapter, sim),
    adapter,
    sim,
    books: () =>
      adapter.books().map((b) => ({
        provider: b.provider,
        symbol: b.symbol,
        state: b.state,
        bookId: b.bookId,
        bestBid: b.bestBid,
        bestAsk: b.bestAsk,
        resyncs: { ...b.resyncs },
        lastUpdateMs: b.lastUpdateRecvTsMs,
      })),
    publishBookSnapshot: (symbol) => adapter.publishBookSnapshot(symbol),
  };
}

/** OKX: the adapter, and the embedded simulator in sim mode. */
export async function okxFeed(ctx: FeedContext): Promise<OkxFeed> {
  const log = componentLogger("adapter.okx");
  let sim: OkxSim | null = null;
  let urls: { rest: string; ws: string; businessWs: string };
  let symbols = ctx.symbols;
  if (ctx.sim) {
    sim = await startOkxSim({
      hostname: SIM_HOST,
      port: 0,
      ...ctx.sim,
      priceOffsetBps: OKX_PRICE_OFFSET_BPS,
    });
    urls = { rest: sim.restUrl, ws: sim.wsUrl, businessWs: sim.businessWsUrl };
  } else {
    urls = {
      rest: OKX_LIVE_ENDPOINTS.rest,
      ws: OKX_LIVE_ENDPOINTS.ws,
      businessWs: OKX_LIVE_ENDPOINTS.businessWs,
    };
    if (symbols.length === 0) symbols = LIVE_SYMBOLS_DEFAULT;
  }
  const adapter = new OkxAdapter({
    restUrl: urls.rest,
    wsUrl: urls.ws,
    businessWsUrl: urls.businessWs,
    symbols,
    ...adapterHooks(ctx, log),
  });
  return {
    ...coreFeed("okx", { rest: urls.rest, ws: urls.ws }, adapter, sim),
    adapter,
    sim,
    books: () => {
      const all = adapter.books();
      return booksWithTop("okx", all, (i) => all[i].seqId, (sym) => adapter.bookView(sym, 1));
    },
    publishBookSnapshot: (symbol) => {
      const view = adapter.bookView(symbol, RESEND_LEVELS_MAX);
      return publishFromView(ctx, "okx", view, view?.seqId ?? 0);
    },
  };
}

/** Kraken (WebSocket v2): the adapter, and the embedded simulator in sim mode. */
export async function krakenFeed(ctx: FeedContext): Promise<KrakenFeed> {
  const log = componentLogger("adapter.kraken");
  let sim: KrakenSim | null = null;
  let urls: { rest: string; ws: string };
  let symbols = ctx.symbols;
  if (ctx.sim) {
    sim = await startKrakenSim({
      hostname: SIM_HOST,
      port: 0,
      ...ctx.sim,
      priceOffsetBps: KRAKEN_PRICE_OFFSET_BPS,
    });
    urls = { rest: sim.restUrl, ws: sim.wsUrl };
    if (symbols.length === 0) symbols = sim.pairs.map((p) => canonicalSymbolOf(p.name));
  } else {
    urls = { rest: KRAKEN_LIVE_ENDPOINTS.rest, ws: KRAKEN_LIVE_ENDPOINTS.ws };
    if (symbols.length === 0) symbols = LIVE_SYMBOLS_DEFAULT;
  }
  const adapter = new KrakenAdapter({
    wsUrl: urls.ws,
    restUrl: urls.rest,
    symbols,
    ...adapterHooks(ctx, log),
  });
  return {
    ...coreFeed("kraken", urls, adapter, sim),
    adapter,
    sim,
    books: () => {
      const all = adapter.books();
      return booksWithTop("kraken", all, (i) => all[i].seq, (sym) => adapter.bookView(sym, 1));
    },
    publishBookSnapshot: (symbol) => {
      const view = adapter.bookView(symbol, RESEND_LEVELS_MAX);
      return publishFromView(ctx, "kraken", view, view?.seq ?? 0);
    },
  };
}

/** Builds the feed of `provider` (one of the config's PROVIDER_NAMES). */
export function buildFeed(provider: string, ctx: FeedContext): Promise<MarketFeed> {
  switch (provider) {
    case "binance":
      return binanceFeed(ctx);
    case "okx":
      return okxFeed(ctx);
    case "kraken":
      return krakenFeed(ctx);
    default:
      throw new Error(`expected a provider binance, okx or kraken, found "${provider}"`);
  }
}
