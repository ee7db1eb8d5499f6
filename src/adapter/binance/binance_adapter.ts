/**
 * Binance Spot market-data adapter: one combined-stream WebSocket (Deno's built-in client via
 * {@linkcode WsConnection}), REST for exchangeInfo and depth snapshots, and one
 * {@linkcode BinanceBookAssembler} per symbol. Emits pooled CanonicalEvents to `sink`.
 *
 * Hot path and ownership (ARCHITECTURE.md):
 *   frame text -> WsFrame (acquired on receive, released right after decode)
 *              -> ProviderRaw (acquired before decode, released after normalization)
 *              -> CanonicalEvent (acquired in normalization; ownership passes to `sink`, or to
 *                 the book assembler for depth diffs, which forwards or releases it).
 * The classic WebSocket client cannot pause reading, so an exhausted pool cannot push back on
 * the socket: the event is dropped, counted, and the symbol's book is resynchronised so no book
 * is ever silently wrong.
 *
 * @module
 */

import { decodeBinanceFrame, type DecodeError, type JsonEngine } from "../../codec/mod.ts";
import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type { ProviderRaw } from "../../schema/provider_raw.ts";
import type { SchemaPools } from "../../schema/schema_pools.ts";
import type { BookResyncEvent, BookStateChange, BookSyncState } from "../shared/book_sync_state.ts";
import type { TradeGapEvent } from "../shared/trade_gap.ts";
import {
  WsConnection,
  type WsConnectionEvent,
  type WsConnectionOptions,
  type WsOpenInfo,
} from "../shared/ws_connection.ts";
import { FrameIntake } from "../shared/frame_intake.ts";
import { loadWithRetries } from "../shared/startup_retry.ts";
import {
  BinanceBookAssembler,
  type BinanceBookAssemblerOptions,
  type BinanceBookAssemblerStats,
  BOOK_TICK_INTERVAL_MS_RECOMMENDED,
} from "./book_assembler.ts";
import { BinanceRest, type BinanceSymbolInfo } from "./binance_rest.ts";
import { normalizeBinance } from "./normalize.ts";

/** Binance's public production endpoints (used with `--live`). */
export const BINANCE_LIVE_ENDPOINTS = Object.freeze({
  rest: "https://api.binance.com",
  ws: "wss://stream.binance.com:9443",
  /** WebSocket API: orders and the user-data subscription (the order venue). */
  wsApi: "wss://ws-api.binance.com:443/ws-api/v3",
});

/** Streams the adapter can carry per symbol. */
export type BinanceStreamKind =
  | "trade"
  | "aggTrade"
  | "depth"
  | "bookTicker"
  | "kline_1m"
  | "ticker"
  | "miniTicker";

/** Default streams per symbol: trades, the 100 ms diff book, best bid/ask, 1 m klines. */
export const BINANCE_STREAMS_DEFAULT: readonly BinanceStreamKind[] = [
  "trade",
  "depth",
  "bookTicker",
  "kline_1m",
];

/** Binance's per-connection stream cap. */
export const BINANCE_STREAMS_PER_CONNECTION_MAX = 1024;
/** Binance forces a disconnect at 24 h; rotate (make-before-break) 10 minutes earlier. */
export const BINANCE_ROTATE_AFTER_MS = 24 * 3_600_000 - 10 * 60_000;
/** How long a SUBSCRIBE/UNSUBSCRIBE may wait for its `{"result":null,"id":N}`, ms. */
export const SUBSCRIBE_ACK_TIMEOUT_MS = 10_000;
/** Attempts at exchangeInfo before start() gives up. */
export const EXCHANGE_INFO_ATTEMPTS_MAX = 8;

/** Something worth a log line; the gateway maps these onto its structured logger. */
export type BinanceAdapterEvent =
  | { type: "connection"; event: WsConnectionEvent }
  | { type: "decode_error"; message: string; sample: string }
  | { type: "exchange_error"; code: number; msg: string; id: unknown }
  | { type: "unknown_symbol"; symbol: string; eventType: string }
  | { type: "subscribe_ack"; id: number; ok: boolean; latencyMs: number; error?: string }
  | { type: "subscribe_timeout"; id: number; streams: string[] }
  | { type: "pool_exhausted"; pool: string; symbol: string }
  | { type: "server_shutdown" }
  | { type: "exchange_info"; symbols: number; attempt: number; error?: string };

/** Options of {@linkcode BinanceAdapter}. */
export interface BinanceAdapterOptions {
  /** REST base URL (simulator or {@linkcode BINANCE_LIVE_ENDPOINTS}.rest). */
  restUrl: string;
  /** WebSocket base URL; the adapter appends `/stream?streams=...`. */
  wsUrl: string;
  /**
   * Canonical symbols to carry (`BTC-USDT`); unknown ones are reported and skipped. Empty means
   * every TRADING symbol exchangeInfo lists (meant for simulators: Binance lists thousands).
   */
  symbols: readonly string[];
  streams?: readonly BinanceStreamKind[];
  pools: Pick<SchemaPools, "wsFrame" | "providerRaw" | "canonicalEvent">;
  /** Receives every emitted event; ownership of the pooled event passes with the call. */
  sink: (ev: CanonicalEvent) => void;
  onResync?: (e: BookResyncEvent) => void;
  onStateChange?: (c: BookStateChange) => void;
  /** A trade id was skipped: Binance trade ids (`t`) are consecutive per symbol. */
  onTradeGap?: (e: TradeGapEvent) => void;
  onEvent?: (e: BinanceAdapterEvent) => void;
  engine?: JsonEngine;
  /** Snapshot depth (default 1000: weight 50). */
  depthLimit?: number;
  /** Overrides for the connection (tests shorten timeouts). */
  connection?: Partial<Omit<WsConnectionOptions, "name" | "url" | "onMessage" | "onOpen">>;
  /** Overrides for every book assembler (tests shorten staleness). */
  book?: Partial<
    Omit<
      BinanceBookAssemblerOptions,
      "symbol" | "canonicalSymbol" | "eventPool" | "fetchSnapshot" | "emit"
    >
  >;
  /** Book tick period, ms. Default 100. */
  tickIntervalMs?: number;
  /** REST request bound, ms. Default 10 000. */
  restTimeoutMs?: number;
}

/** Counters of one adapter. */
export interface BinanceAdapterStats {
  frames: number;
  decodeErrors: number;
  events: number;
  eventsByKind: Record<string, number>;
  duplicatesDropped: number;
  /** Times a trade id was skipped (one per jump, whatever its size). */
  tradeIdGaps: number;
  /** Trade ids skipped in total. */
  tradeIdsSkipped: number;
  unknownSymbols: number;
  nonMarketFrames: number;
  poolExhausted: number;
  exchangeErrors: number;
  subscribeAcks: number;
  subscribeTimeouts: number;
  serverShutdowns: number;
}

/** A read-only copy of the top of one book ({@linkcode BinanceAdapter.bookView}). */
export interface BinanceBookView {
  /** Canonical symbol. */
  symbol: string;
  /** Sync state of the book. */
  state: BookSyncState;
  /** The book's update id (0 when no book is held). */
  bookId: number;
  /** Best bids first, `[price, qty]`. */
  bids: [string, string][];
  /** Best asks first, `[price, qty]`. */
  asks: [string, string][];
}

interface PendingRequest {
  id: number;
  streams: string[];
  sentAtMs: number;
}

/** The Binance adapter. */
export class BinanceAdapter {
  readonly provider = "binance";
  readonly rest: BinanceRest;
  readonly #opts: BinanceAdapterOptions;
  readonly #streamsPerSymbol: readonly BinanceStreamKind[];
  /** Exchange symbol -> canonical symbol, for every symbol exchangeInfo listed. */
  readonly #symbolMap = new Map<string, string>();
  readonly #infoByCanonical = new Map<string, BinanceSymbolInfo>();
  /** Exchange symbols currently carried. */
  readonly #active = new Set<string>();
  readonly #assemblers = new Map<string, BinanceBookAssembler>();
  /** Last trade sequence per exchange symbol: drops duplicates during make-before-break. */
  readonly #lastTradeSeq = new Map<string, number>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #intake: FrameIntake;
  #nextRequestId = 1;
  #conn: WsConnection | null = null;
  #tick: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #closed = false;
  readonly #closing = new AbortController();
  readonly #stats: BinanceAdapterStats = {
    frames: 0,
    decodeErrors: 0,
    events: 0,
    eventsByKind: {},
    duplicatesDropped: 0,
    tradeIdGaps: 0,
    tradeIdsSkipped: 0,
    unknownSymbols: 0,
    nonMarketFrames: 0,
    poolExhausted: 0,
    exchangeErrors: 0,
    subscribeAcks: 0,
    subscribeTimeouts: 0,
    serverShutdowns: 0,
  };

  constructor(opts: BinanceAdapterOptions) {
    this.#opts = opts;
    this.#streamsPerSymbol = opts.streams ?? BINANCE_STREAMS_DEFAULT;
    this.rest = new BinanceRest({ baseUrl: opts.restUrl, requestTimeoutMs: opts.restTimeoutMs });
    this.#intake = new FrameIntake({
      provider: "binance",
      pools: opts.pools,
      decode: (text, raw) => decodeBinanceFrame(text, raw, { engine: opts.engine }),
      route: (raw) => this.#route(raw),
      onPoolExhausted: (pool) => this.#poolExhausted(pool, "*"),
      onDecodeError: (err) => this.#decodeError(err),
    });
  }

  /** Canonical symbols known from exchangeInfo, with their trading rules. */
  symbolInfo(canonical: string): BinanceSymbolInfo | undefined {
    return this.#infoByCanonical.get(canonical);
  }

  /**
   * Loads exchangeInfo (bounded retries with backoff), then connects and subscribes.
   * Throws when exchangeInfo never comes, none of the requested symbols exists, the adapter was
   * started before, or {@linkcode BinanceAdapter.close} was called meanwhile (then nothing is
   * left running).
   */
  async start(): Promise<void> {
    if (this.#started) {
      throw new Error("binance: expected an adapter not started yet, found it started");
    }
    this.#started = true;
    await this.#loadExchangeInfo();
    // close() may have run while exchangeInfo was loading: connecting now would leak a socket
    // and the tick timer that nobody closes.
    if (this.#closed) {
      throw new Error("binance: expected an open adapter after exchangeInfo, found it closed");
    }
    const requested = this.#opts.symbols.length > 0
      ? this.#resolve(this.#opts.symbols)
      : [...this.#infoByCanonical.values()].filter((i) => i.status === "TRADING").map((i) =>
        i.symbol
      );
    if (requested.length === 0) {
      throw new Error(
        `binance: expected at least one known symbol, found none of ${
          this.#opts.symbols.join(", ")
        }`,
      );
    }
    for (const s of requested) this.#activate(s);
    this.#checkStreamCap();
    this.#conn = new WsConnection({
      backoff: { initialMs: 250, maxMs: 30_000 },
      maxLifetimeMs: BINANCE_ROTATE_AFTER_MS,
      idleTimeoutMs: 60_000,
      ...this.#opts.connection,
      name: "binance",
      url: () => this.#streamUrl(),
      onMessage: (text, recvTsMs, connId) => this.#onMessage(text, recvTsMs, connId),
      onOpen: (info) => this.#onOpen(info),
      onEvent: (event) => this.#emitEvent({ type: "connection", event }),
    });
    this.#conn.start();
    this.#tick = setInterval(
      () => this.#onTick(),
      this.#opts.tickIntervalMs ?? BOOK_TICK_INTERVAL_MS_RECOMMENDED,
    );
  }

  /** Adds symbols at run time (live SUBSCRIBE, paced); returns the ones accepted. */
  addSymbols(canonical: readonly string[]): string[] {
    const added = this.#resolve(canonical).filter((s) => !this.#active.has(s));
    if (added.length === 0) return [];
    for (const s of added) this.#activate(s);
    this.#checkStreamCap();
    this.#sendRequest("SUBSCRIBE", added.flatMap((s) => this.#streamsOf(s)));
    return added.map((s) => this.#symbolMap.get(s)!);
  }

  /** Removes symbols at run time (live UNSUBSCRIBE); their books are dropped. */
  removeSymbols(canonical: readonly string[]): string[] {
    const removed = this.#resolve(canonical).filter((s) => this.#active.has(s));
    if (removed.length === 0) return [];
    this.#sendRequest("UNSUBSCRIBE", removed.flatMap((s) => this.#streamsOf(s)));
    for (const s of removed) {
      this.#active.delete(s);
      this.#assemblers.get(s)?.close();
      this.#assemblers.delete(s);
      this.#lastTradeSeq.delete(s);
    }
    return removed.map((s) => this.#symbolMap.get(s)!);
  }

  /** Canonical symbols carried now. */
  activeSymbols(): string[] {
    return [...this.#active].map((s) => this.#symbolMap.get(s)!);
  }

  /** Per-symbol book state. */
  books(): BinanceBookAssemblerStats[] {
    return [...this.#assemblers.values()].map((a) => a.stats());
  }

  /**
   * A copy of the best `levelsMax` levels per side of `canonical`'s book, or null when the
   * symbol has no book (not carried, or no depth stream). Allocates: diagnostics and tests.
   */
  bookView(canonical: string, levelsMax: number): BinanceBookView | null {
    const info = this.#infoByCanonical.get(canonical);
    const assembler = info === undefined ? undefined : this.#assemblers.get(info.symbol);
    if (assembler === undefined) return null;
    const top = assembler.book.top(levelsMax);
    return {
      symbol: canonical,
      state: assembler.state,
      bookId: assembler.bookId,
      bids: top.bids,
      asks: top.asks,
    };
  }

  /**
   * Emits a `book_snapshot` of `canonical`'s live book through the sink, built from the local
   * book (no REST request): the gateway calls it when a consumer subscribes to snapshots after
   * the book went live, since the snapshot of the sync went out before that consumer was there.
   * Its `seq` is the book id, so the next `book_update` continues it (`seq_first = seq + 1`).
   * Returns false when there is no live book (its snapshot comes when it syncs) or no pooled
   * event is free (counted as pool exhaustion).
   */
  publishBookSnapshot(canonical: string): boolean {
    if (this.#closed) return false;
    const info = this.#infoByCanonical.get(canonical);
    const assembler = info === undefined ? undefined : this.#assemblers.get(info.symbol);
    if (assembler === undefined || assembler.state !== "LIVE") return false;
    const ev = this.#opts.pools.canonicalEvent.tryAcquire();
    if (ev === null) {
      this.#poolExhausted("canonical_event", info!.symbol);
      return false;
    }
    const last = assembler.stats();
    ev.kind = "book_snapshot";
    ev.provider = this.provider;
    ev.symbol = canonical;
    ev.seq = assembler.bookId;
    ev.seqFirst = assembler.bookId;
    ev.exchangeTsMs = last.lastUpdateExchangeTsMs;
    ev.recvTsMs = last.lastUpdateRecvTsMs > 0 ? last.lastUpdateRecvTsMs : Date.now();
    const book = assembler.book;
    ev.setBidsLength(2 * book.writeFlat(ev.bidStore, "bid", book.levelsMax));
    ev.setAsksLength(2 * book.writeFlat(ev.askStore, "ask", book.levelsMax));
    this.#deliver(ev);
    return true;
  }

  /** Counters, plus the connection's. */
  stats(): BinanceAdapterStats & { connection: ReturnType<WsConnection["stats"]> | null } {
    return {
      ...this.#stats,
      eventsByKind: { ...this.#stats.eventsByKind },
      connection: this.#conn?.stats() ?? null,
    };
  }

  /** Stops the connection (bounded), the tick and every book; releases buffered events. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await this.#conn?.close();
    for (const a of this.#assemblers.values()) a.close();
    await Promise.all([...this.#assemblers.values()].map((a) => a.whenSettled()));
    this.#assemblers.clear();
  }

  async #loadExchangeInfo(): Promise<void> {
    const { value: infos, attempt } = await loadWithRetries(() => this.rest.exchangeInfo(), {
      provider: "binance",
      what: "exchangeInfo",
      attemptsMax: EXCHANGE_INFO_ATTEMPTS_MAX,
      signal: this.#closing.signal,
      onFailure: (n, error) =>
        this.#emitEvent({ type: "exchange_info", symbols: 0, attempt: n, error }),
    });
    for (const i of infos) {
      this.#symbolMap.set(i.symbol, i.canonical);
      this.#infoByCanonical.set(i.canonical, i);
    }
    this.#emitEvent({ type: "exchange_info", symbols: infos.length, attempt });
  }

  /** Canonical -> exchange symbols, reporting unknown ones. */
  #resolve(canonical: readonly string[]): string[] {
    const out: string[] = [];
    for (const c of canonical) {
      const info = this.#infoByCanonical.get(c);
      if (!info) {
        this.#stats.unknownSymbols++;
        this.#emitEvent({ type: "unknown_symbol", symbol: c, eventType: "config" });
        continue;
      }
      out.push(info.symbol);
    }
    return out;
  }

  #activate(symbol: string): void {
    this.#active.add(symbol);
    if (!this.#streamsPerSymbol.includes("depth")) return;
    const canonical = this.#symbolMap.get(symbol)!;
    this.#assemblers.set(
      symbol,
      new BinanceBookAssembler({
        ...this.#opts.book,
        symbol,
        canonicalSymbol: canonical,
        eventPool: this.#opts.pools.canonicalEvent,
        fetchSnapshot: (sym, { signal }) =>
          this.rest.depth(sym, { limit: this.#opts.depthLimit, signal }),
        emit: (ev) => this.#deliver(ev),
        onResync: this.#opts.onResync,
        onStateChange: this.#opts.onStateChange,
      }),
    );
  }

  #streamsOf(symbol: string): string[] {
    const s = symbol.toLowerCase();
    return this.#streamsPerSymbol.map((k) => (k === "depth" ? `${s}@depth@100ms` : `${s}@${k}`));
  }

  #streamUrl(): string {
    const streams = [...this.#active].flatMap((s) => this.#streamsOf(s));
    return `${this.#opts.wsUrl.replace(/\/+$/, "")}/stream?streams=${streams.join("/")}`;
  }

  #checkStreamCap(): void {
    const n = this.#active.size * this.#streamsPerSymbol.length;
    if (n > BINANCE_STREAMS_PER_CONNECTION_MAX) {
      throw new Error(
        `binance: expected at most ${BINANCE_STREAMS_PER_CONNECTION_MAX} streams per connection, ` +
          `found ${n} (${this.#active.size} symbols x ${this.#streamsPerSymbol.length} streams)`,
      );
    }
  }

  #sendRequest(method: "SUBSCRIBE" | "UNSUBSCRIBE", streams: string[]): void {
    if (!this.#conn || this.#conn.state !== "open") return; // the next connect's URL carries them
    const id = this.#nextRequestId++;
    this.#pending.set(id, { id, streams, sentAtMs: performance.now() });
    this.#conn.enqueue(`{"method":"${method}","params":["${streams.join('","')}"],"id":${id}}`);
  }

  #onOpen(info: WsOpenInfo): void {
    // Requests in flight on the old socket will never be answered; the URL of the new one
    // already carries every active stream.
    this.#pending.clear();
    if (info.reason === "initial" || info.rotation) return;
    // A real reconnect lost diffs: every book re-snapshots.
    for (const a of this.#assemblers.values()) a.requestResync("reconnect");
  }

  #onTick(): void {
    const now = performance.now();
    for (const a of this.#assemblers.values()) a.tick(now);
    for (const p of this.#pending.values()) {
      if (now - p.sentAtMs > SUBSCRIBE_ACK_TIMEOUT_MS) {
        this.#pending.delete(p.id);
        this.#stats.subscribeTimeouts++;
        this.#emitEvent({ type: "subscribe_timeout", id: p.id, streams: p.streams });
      }
    }
  }

  #onMessage(text: string, recvTsMs: number, connId: number): void {
    this.#stats.frames++;
    this.#intake.receive(text, recvTsMs, connId);
  }

  #decodeError(err: DecodeError): void {
    this.#stats.decodeErrors++;
    this.#emitEvent({ type: "decode_error", message: err.message, sample: err.sample });
  }

  #route(raw: ProviderRaw): void {
    switch (raw.eventType) {
      case "result":
        return this.#onAck(raw.body, null);
      case "error":
        return this.#onAck(raw.body, raw.body);
      case "serverShutdown":
        this.#stats.serverShutdowns++;
        this.#emitEvent({ type: "server_shutdown" });
        this.#conn?.reconnect("server_shutdown");
        return;
    }
    const ev = this.#opts.pools.canonicalEvent.tryAcquire();
    if (!ev) {
      this.#poolExhausted("canonical_event", raw.symbol);
      if (raw.eventType === "depthUpdate") {
        this.#assemblers.get(raw.symbol)?.requestResync("pool_exhausted");
      }
      return;
    }
    const skip = normalizeBinance(raw, ev, this.#symbolMap);
    if (skip !== null || !this.#active.has(raw.symbol)) {
      this.#opts.pools.canonicalEvent.release(ev);
      if (skip === "not_market_data") this.#stats.nonMarketFrames++;
      else {
        this.#stats.unknownSymbols++;
        this.#emitEvent({ type: "unknown_symbol", symbol: raw.symbol, eventType: raw.eventType });
      }
      return;
    }
    if (ev.kind === "book_update") {
      const assembler = this.#assemblers.get(raw.symbol);
      if (assembler) return assembler.onDiff(ev); // ownership passes to the assembler
      this.#opts.pools.canonicalEvent.release(ev);
      return;
    }
    if (ev.kind === "trade") {
      const last = this.#lastTradeSeq.get(raw.symbol) ?? -1;
      if (ev.seq <= last) {
        // Same trade from the outgoing and the incoming socket of a rotation.
        this.#stats.duplicatesDropped++;
        this.#opts.pools.canonicalEvent.release(ev);
        return;
      }
      // Trade ids are consecutive per symbol, so a jump is lost trades. The first trade after
      // (re)subscribing has nothing to compare with; a reconnect keeps the last id, so trades
      // missed while disconnected are reported too.
      if (last >= 0 && ev.seq > last + 1) this.#tradeGap(ev.symbol, last + 1, ev.seq - 1);
      this.#lastTradeSeq.set(raw.symbol, ev.seq);
    }
    this.#deliver(ev);
  }

  #deliver(ev: CanonicalEvent): void {
    this.#stats.events++;
    this.#stats.eventsByKind[ev.kind] = (this.#stats.eventsByKind[ev.kind] ?? 0) + 1;
    this.#opts.sink(ev);
  }

  #onAck(body: unknown, error: unknown): void {
    const b = body as { id?: unknown; error?: { code?: unknown; msg?: unknown } } | null;
    const id = typeof b?.id === "number" ? b.id : -1;
    const pending = this.#pending.get(id);
    if (error !== null) {
      this.#stats.exchangeErrors++;
      this.#emitEvent({
        type: "exchange_error",
        code: typeof b?.error?.code === "number" ? b.error.code : -1,
        msg: typeof b?.error?.msg === "string" ? b.error.msg : "",
        id: b?.id,
      });
    }
    if (!pending) return;
    this.#pending.delete(id);
    this.#stats.subscribeAcks++;
    this.#emitEvent({
      type: "subscribe_ack",
      id,
      ok: error === null,
      latencyMs: performance.now() - pending.sentAtMs,
      error: error === null ? undefined : String(b?.error?.msg ?? ""),
    });
  }

  #tradeGap(canonical: string, fromSeq: number, toSeq: number): void {
    const count = toSeq - fromSeq + 1;
    this.#stats.tradeIdGaps++;
    this.#stats.tradeIdsSkipped += count;
    try {
      this.#opts.onTradeGap?.({
        provider: this.provider,
        symbol: canonical,
        fromSeq,
        toSeq,
        count,
      });
    } catch {
      // a telemetry callback must never break the hot path
    }
  }

  #poolExhausted(pool: string, symbol: string): void {
    this.#stats.poolExhausted++;
    this.#emitEvent({ type: "pool_exhausted", pool, symbol });
  }

  #emitEvent(e: BinanceAdapterEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch {
      // a logging callback must never break the hot path
    }
  }
}
