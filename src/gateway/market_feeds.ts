/**
 * The exchange-neutral parts of a market feed, shared by every `src/adapter/<name>/provider.ts`:
 * choosing endpoints (override, embedded simulator, or live), the adapter hooks and log mapping,
 * the core feed methods, starting a simulator, book rows and the late-subscriber snapshot. No
 * exchange is named here:
 * each provider's builder lives in its own folder and is found by `provider_registry.ts`.
 *
 * @module
 */

import type { BookStateView } from "../server/book_state_view.ts";
import { componentLogger, type Logger } from "../telemetry/mod.ts";
import type {
  EndpointUrls,
  FeedContext,
  MarketFeed,
  SimSettings,
  SimulatorHandle,
  SimulatorStartOptions,
} from "../adapter/shared/provider_module.ts";

export type {
  EndpointUrls,
  FeedContext,
  MarketFeed,
  SimSettings,
} from "../adapter/shared/provider_module.ts";

/** Symbols carried in live mode when none are configured. */
export const LIVE_SYMBOLS_DEFAULT: readonly string[] = ["BTC-USDT", "ETH-USDT"];

/** Address every embedded simulator binds. */
export const SIM_HOST = "127.0.0.1";

/** Levels per side re-sent to a late subscriber (OKX pushes 400; Kraken's book is 25 deep). */
export const RESEND_LEVELS_MAX = 400;

/** A live book as an adapter shows it. */
export interface LiveBookView {
  symbol: string;
  state: string;
  bids: [string, string][];
  asks: [string, string][];
}

/** Where a feed connects, and the simulator it started for that (null: none). */
export interface FeedEndpoints<S> {
  urls: EndpointUrls;
  sim: S | null;
  /** True when connecting to the exchange itself (live mode, no override). */
  live: boolean;
}

/**
 * How a provider runs its simulator: start it, and read back its URLs and symbols. One binding
 * serves both the embedded simulator of a feed ({@linkcode feedEndpoints}) and the simulator on
 * its own ({@linkcode startSimulatorHandle}).
 */
export interface SimBinding<S extends { close(): Promise<void> }> {
  /** Starts the simulator; `hostname` and `port` are always set (loopback, 0 by default). */
  start(opts: SimSettings & { hostname: string; port: number }): Promise<S>;
  /** Its URLs by role: exactly the roles of the module's `liveEndpoints`. */
  urls(sim: S): EndpointUrls;
  /** Canonical symbols it serves (`BTC-USDT`). */
  symbols(sim: S): readonly string[];
}

/**
 * Picks a feed's endpoints: the context's override when set (no simulator started), else the
 * embedded simulator in sim mode (started here on {@linkcode SIM_HOST}, handed to the feed to
 * close), else `liveUrls`.
 */
export async function feedEndpoints<S extends { close(): Promise<void> }>(
  ctx: FeedContext,
  opts: { liveUrls: EndpointUrls; sim: SimBinding<S> },
): Promise<FeedEndpoints<S>> {
  if (ctx.endpoints !== undefined) return { urls: ctx.endpoints, sim: null, live: false };
  if (ctx.sim !== null) {
    const sim = await opts.sim.start({ hostname: SIM_HOST, port: 0, ...ctx.sim });
    return { urls: opts.sim.urls(sim), sim, live: false };
  }
  return { urls: opts.liveUrls, sim: null, live: true };
}

/** Starts a provider's simulator on its own (`deno task sim`) and wraps it as a handle. */
export async function startSimulatorHandle<S extends { close(): Promise<void> }>(
  binding: SimBinding<S>,
  opts: SimulatorStartOptions,
): Promise<SimulatorHandle> {
  const sim = await binding.start(opts);
  return { urls: binding.urls(sim), symbols: binding.symbols(sim), close: () => sim.close() };
}

/** The URL of `role`; throws when a module's endpoints lack it (a registry bug). */
export function endpointOf(urls: EndpointUrls, role: string): string {
  const url = urls[role];
  if (typeof url !== "string" || url === "") {
    throw new Error(`expected an endpoint "${role}", found roles ${Object.keys(urls).join(", ")}`);
  }
  return url;
}

/**
 * Re-sends a LIVE book as a `book_snapshot` through the sink, so a consumer that subscribes late
 * gets a book its next update continues (`seq` = the book's current sequence). False when the
 * book is not live or no pooled event is free.
 */
export function publishFromView(
  ctx: FeedContext,
  book: { provider: string; view: LiveBookView | null; seq: number },
): boolean {
  const view = book.view;
  if (view === null || view.state !== "LIVE") return false;
  const ev = ctx.pools.canonicalEvent.tryAcquire();
  if (ev === null) return false;
  ev.kind = "book_snapshot";
  ev.provider = book.provider;
  ev.symbol = view.symbol;
  ev.seq = book.seq;
  ev.seqFirst = book.seq;
  ev.recvTsMs = performance.timeOrigin + performance.now();
  for (const [p, q] of view.bids) ev.pushBid(p, q);
  for (const [p, q] of view.asks) ev.pushAsk(p, q);
  ctx.sink(ev); // ownership passes, as for every emitted event
  return true;
}

/** What the log needs of an adapter's event (every adapter's event union fits). */
interface AdapterLogEvent {
  readonly type: string;
}

const CONNECTION_INFO_TYPES = new Set(["open", "close", "reconnect_scheduled", "rotation"]);
const WARNING_TYPES = new Set([
  "decode_error",
  "exchange_error",
  "pool_exhausted",
  "unknown_symbol",
  "subscribe_timeout",
  "pong_timeout",
]);

/** Maps one adapter event onto the component's log at the level it deserves. */
function logAdapterEvent(log: Logger, e: AdapterLogEvent): void {
  if (e.type === "connection") {
    const ev = (e as AdapterLogEvent & { event: AdapterLogEvent }).event;
    if (ev.type === "error" || ev.type === "close_timeout") {
      log.warning("connection {type}", { ...ev });
    } else if (CONNECTION_INFO_TYPES.has(ev.type)) log.info("connection {type}", { ...ev });
    else log.debug("connection {type}", { ...ev });
    return;
  }
  if (WARNING_TYPES.has(e.type)) return log.warning("{type}", { ...e });
  if ((e.type === "exchange_info" || e.type === "instruments") && "error" in e && e.error) {
    return log.warning("{type} attempt {attempt} failed: {error}", { ...e });
  }
  log.info("{type}", { ...e });
}

/** The adapter methods every feed forwards unchanged. */
export interface AdapterCore {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): { frames: number; decodeErrors: number; eventsByKind: Record<string, number> };
  activeSymbols(): string[];
}

/** The parts of a feed that do not depend on the exchange. */
export function coreFeed(
  provider: string,
  parts: {
    endpoints: EndpointUrls;
    adapter: AdapterCore;
    sim: { close(): Promise<void> } | null;
  },
): Omit<MarketFeed, "books" | "publishBookSnapshot"> {
  const { adapter, sim } = parts;
  return {
    provider,
    endpoints: parts.endpoints,
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

/** What {@linkcode booksWithTop} needs of one book row of an adapter's stats. */
export interface BookStatsRow {
  symbol: string;
  state: BookStateView["state"];
  resyncs: Partial<Record<string, number>>;
  lastUpdateRecvTsMs: number;
}

/** Book rows of an adapter whose stats lack the top of book: read it from a 1-level view. */
export function booksWithTop<R extends BookStatsRow>(
  provider: string,
  books: readonly R[],
  read: { bookId: (row: R) => number; view: (symbol: string) => LiveBookView | null },
): BookStateView[] {
  return books.map((b) => {
    const top = read.view(b.symbol);
    return {
      provider,
      symbol: b.symbol,
      state: b.state,
      bookId: read.bookId(b),
      bestBid: top?.bids[0]?.[0] ?? "",
      bestAsk: top?.asks[0]?.[0] ?? "",
      resyncs: { ...b.resyncs } as Record<string, number>,
      lastUpdateMs: b.lastUpdateRecvTsMs,
    };
  });
}

/** An adapter that shows its books as stats rows and as copied views ({@linkcode viewedBooks}). */
export interface ViewedBookSource<R extends BookStatsRow, V extends LiveBookView> {
  /** Per-symbol book state. */
  books(): readonly R[];
  /** A copy of the best `levelsMax` levels per side of `symbol`'s book, or null. */
  bookView(symbol: string, levelsMax: number): V | null;
}

/**
 * The `books` and `publishBookSnapshot` of a feed whose adapter has no snapshot publisher of its
 * own: rows take the top of book from a 1-level view, and a late subscriber gets the view of up
 * to {@linkcode RESEND_LEVELS_MAX} levels re-sent as a snapshot. `seqOf` reads the book's
 * sequence from a row and from a view (the same number).
 */
export function viewedBooks<R extends BookStatsRow, V extends LiveBookView>(
  ctx: FeedContext,
  parts: {
    provider: string;
    adapter: ViewedBookSource<R, V>;
    seqOf: { row: (row: R) => number; view: (view: V) => number };
  },
): Pick<MarketFeed, "books" | "publishBookSnapshot"> {
  const { provider, adapter, seqOf } = parts;
  return {
    books: () =>
      booksWithTop(provider, adapter.books(), {
        bookId: seqOf.row,
        view: (symbol) => adapter.bookView(symbol, 1),
      }),
    publishBookSnapshot: (symbol) => {
      const view = adapter.bookView(symbol, RESEND_LEVELS_MAX);
      return publishFromView(ctx, { provider, view, seq: view === null ? 0 : seqOf.view(view) });
    },
  };
}

/**
 * What every adapter takes from the gateway: pools, the sink, book callbacks, and its events
 * mapped onto the `adapter.<provider>` log component.
 */
export function adapterHooks(ctx: FeedContext, provider: string): {
  pools: FeedContext["pools"];
  sink: FeedContext["sink"];
  onResync: FeedContext["onResync"];
  onStateChange: FeedContext["onStateChange"];
  onEvent: (e: AdapterLogEvent) => void;
} {
  const log = componentLogger(`adapter.${provider}`);
  return {
    pools: ctx.pools,
    sink: ctx.sink,
    onResync: ctx.onResync,
    onStateChange: ctx.onStateChange,
    onEvent: (e) => logAdapterEvent(log, e),
  };
}
