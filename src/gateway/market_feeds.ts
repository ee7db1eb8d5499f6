/**
 * The exchange-neutral parts of a market feed, shared by every `src/adapter/<name>/provider.ts`:
 * choosing endpoints (override, embedded simulator, or live), the adapter hooks and log mapping,
 * the core feed methods, book rows and the late-subscriber snapshot. No exchange is named here:
 * each provider's builder lives in its own folder and is found by `provider_registry.ts`.
 *
 * @module
 */

import type { BookStateView } from "../server/book_state_view.ts";
import { componentLogger, type Logger } from "../telemetry/mod.ts";
import type { EndpointUrls, FeedContext, MarketFeed } from "../adapter/shared/provider_module.ts";

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
 * Picks a feed's endpoints: the context's override when set (no simulator started), else the
 * embedded simulator in sim mode (started here, handed to the feed to close), else `liveUrls`.
 */
export async function feedEndpoints<S>(
  ctx: FeedContext,
  opts: {
    liveUrls: EndpointUrls;
    startSim: (
      settings: NonNullable<FeedContext["sim"]>,
    ) => Promise<{ sim: S; urls: EndpointUrls }>;
  },
): Promise<FeedEndpoints<S>> {
  if (ctx.endpoints !== undefined) return { urls: ctx.endpoints, sim: null, live: false };
  if (ctx.sim !== null) {
    const started = await opts.startSim(ctx.sim);
    return { urls: started.urls, sim: started.sim, live: false };
  }
  return { urls: opts.liveUrls, sim: null, live: true };
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
  for (const [p, q] of view.bids) ev.bids.push(p, q);
  for (const [p, q] of view.asks) ev.asks.push(p, q);
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

/** Book rows of an adapter whose stats lack the top of book: read it from a 1-level view. */
export function booksWithTop(
  provider: string,
  books: readonly {
    symbol: string;
    state: BookStateView["state"];
    resyncs: Partial<Record<string, number>>;
    lastUpdateRecvTsMs: number;
  }[],
  read: { bookId: (index: number) => number; view: (symbol: string) => LiveBookView | null },
): BookStateView[] {
  return books.map((b, i) => {
    const top = read.view(b.symbol);
    return {
      provider,
      symbol: b.symbol,
      state: b.state,
      bookId: read.bookId(i),
      bestBid: top?.bids[0]?.[0] ?? "",
      bestAsk: top?.asks[0]?.[0] ?? "",
      resyncs: { ...b.resyncs } as Record<string, number>,
      lastUpdateMs: b.lastUpdateRecvTsMs,
    };
  });
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
