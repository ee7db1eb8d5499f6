/**
 * Kraken Spot WebSocket v2 market-data adapter: one public WebSocket ({@linkcode WsConnection})
 * carrying `instrument` (pair precisions), `book` (L2 with a CRC32 on every message), `trade`
 * and `ticker` for the configured symbols. Emits pooled CanonicalEvents to `sink`.
 *
 * Hot path and ownership (ARCHITECTURE.md), as in the Binance adapter:
 *   frame text -> WsFrame (acquired on receive, released right after decode)
 *              -> ProviderRaw (acquired before decode, holds the parse in `body`; released
 *                 after routing)
 *              -> CanonicalEvent (acquired per data item; ownership passes to `sink`, or is
 *                 released when a book message fails its checksum).
 *
 * Book integrity: v2 books have no sequence numbers, so the checksum is verified on every
 * snapshot and update, with prices and quantities padded to the pair's `instrument` precisions
 * (kraken.md §0, §4). A mismatch throws the book away, emits nothing for that message and
 * unsubscribes + subscribes that symbol's book again (`checksum_mismatch`); other symbols are
 * untouched. Kraken can ack a subscription and then stay silent (kraken.md §0): a watchdog
 * resubscribes a book that got no snapshot within `staleMs` of its ack (`stale`), and a second
 * consecutive stale on the same symbol reconnects the whole socket.
 *
 * @module
 */

import { type DecodeError, decodeJson, encodeJson, type JsonEngine } from "../../codec/mod.ts";
import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type { ProviderRaw } from "../../schema/provider_raw.ts";
import type { SchemaPools } from "../../schema/schema_pools.ts";
import type { BookResyncEvent, BookStateChange, BookSyncState } from "../shared/book_sync_state.ts";
import {
  WsConnection,
  type WsConnectionEvent,
  type WsConnectionOptions,
  type WsOpenInfo,
} from "../shared/ws_connection.ts";
import { FrameIntake } from "../shared/frame_intake.ts";
import { KrakenBook, type KrakenBookItem, type KrakenBookStats } from "./kraken_book.ts";
import { krakenSymbolOf, normalizeKrakenTicker, normalizeKrakenTrade } from "./normalize.ts";

/** Kraken's public production endpoints. */
export const KRAKEN_LIVE_ENDPOINTS = Object.freeze({
  rest: "https://api.kraken.com",
  ws: "wss://ws.kraken.com/v2",
  /** Authenticated socket: add_order, cancel_order, executions (the order venue). */
  authWs: "wss://ws-auth.kraken.com/v2",
});

/** Book depths v2 accepts. */
export const KRAKEN_BOOK_DEPTHS = [10, 25, 100, 500, 1000] as const;
/** Default subscribed book depth, levels per side. */
export const KRAKEN_BOOK_DEPTH_DEFAULT = 25;
/** Default wait for a book snapshot after its subscribe ack before resubscribing, ms. */
export const KRAKEN_STALE_MS_DEFAULT = 10_000;
/** Default silence of a LIVE book before it is resubscribed, ms (0 = off). */
export const KRAKEN_LIVE_IDLE_MS_DEFAULT = 60_000;
/** Default period of the application-level `ping`, ms. */
export const KRAKEN_PING_INTERVAL_MS_DEFAULT = 10_000;
/** Control messages per second sent on the socket (subscribes, resubscribes, pings). */
export const KRAKEN_SEND_RATE_PER_SEC = 20;
/** Control messages that may leave at once (the subscribes of a connect). */
export const KRAKEN_SEND_BURST_MAX = 10;
/** Consecutive stale resubscribes of one book after which the socket is reconnected. */
export const KRAKEN_STALE_STRIKES_MAX = 2;

/** Something worth a log line; the gateway maps these onto its structured logger. */
export type KrakenAdapterEvent =
  | { type: "connection"; event: WsConnectionEvent }
  | { type: "decode_error"; message: string; sample: string }
  | { type: "exchange_error"; method: string; error: string; symbol: string }
  | { type: "unknown_symbol"; symbol: string; eventType: string }
  | { type: "subscribe_ack"; channel: string; symbol: string }
  | { type: "pool_exhausted"; pool: string; symbol: string }
  | { type: "invalid_item"; channel: string; symbol: string }
  | { type: "stale_reconnect"; symbol: string }
  | { type: "system_status"; system: string };

/** Overrides for every book. */
export interface KrakenBookSettings {
  /** Subscribed depth, one of {@linkcode KRAKEN_BOOK_DEPTHS}. Default 25. */
  depth?: number;
  /** Wait for a snapshot after a subscribe ack, ms. Default 10 000. */
  staleMs?: number;
  /** Silence of a LIVE book before a resubscribe, ms; 0 = off. Default 60 000. */
  liveIdleMs?: number;
}

/** Options of {@linkcode KrakenAdapter}. */
export interface KrakenAdapterOptions {
  /** WebSocket URL of the public v2 endpoint (simulator or {@linkcode KRAKEN_LIVE_ENDPOINTS}). */
  wsUrl: string;
  /** REST base URL: accepted for symmetry, unused (the WS snapshot is the recovery path, §7). */
  restUrl?: string;
  /** Canonical symbols to carry (`BTC-USDT` is Kraken's `BTC/USDT`). */
  symbols: readonly string[];
  /** The pools of the hot path. */
  pools: Pick<SchemaPools, "wsFrame" | "providerRaw" | "canonicalEvent">;
  /** Receives every emitted event; ownership of the pooled event passes with the call. */
  sink: (ev: CanonicalEvent) => void;
  /** Telemetry of each book resync. */
  onResync?: (e: BookResyncEvent) => void;
  /** Telemetry of each book state transition. */
  onStateChange?: (c: BookStateChange) => void;
  /** Log-worthy events. */
  onEvent?: (e: KrakenAdapterEvent) => void;
  /** JSON engine of the decoder. Default V8. */
  engine?: JsonEngine;
  /** Overrides for the connection (tests shorten timeouts). */
  connection?: Partial<Omit<WsConnectionOptions, "name" | "url" | "onMessage" | "onOpen">>;
  /** Overrides for every book. */
  book?: KrakenBookSettings;
  /** Watchdog / ping tick period, ms. Default 100. */
  tickIntervalMs?: number;
  /** Application ping period, ms; 0 = off. Default 10 000. */
  pingIntervalMs?: number;
}

/** Counters of one adapter. */
export interface KrakenAdapterStats {
  /** Text frames received. */
  frames: number;
  /** Frames that were not JSON. */
  decodeErrors: number;
  /** Events delivered to the sink. */
  events: number;
  /** Events delivered, by kind. */
  eventsByKind: Record<string, number>;
  /** `heartbeat` messages. */
  heartbeats: number;
  /** `pong` responses. */
  pongs: number;
  /** Pings sent. */
  pings: number;
  /** Subscribe acks with `success:true`. */
  subscribeAcks: number;
  /** Responses with `success:false`. */
  exchangeErrors: number;
  /** Data items for symbols not carried. */
  unknownSymbols: number;
  /** Items dropped because a field was malformed or precisions were unknown. */
  invalidItems: number;
  /** Trades dropped as already delivered. */
  duplicatesDropped: number;
  /** Pool acquisitions that failed. */
  poolExhausted: number;
  /** Book resubscribes sent. */
  resubscribes: number;
  /** Reconnects asked for after repeated stale books. */
  staleReconnects: number;
}

/** A read-only copy of the top of one book ({@linkcode KrakenAdapter.bookView}). */
export interface KrakenBookView {
  /** Canonical symbol. */
  symbol: string;
  /** Sync state. */
  state: BookSyncState;
  /** Local sequence of the last book event. */
  seq: number;
  /** Best bids first, `[price, qty]` padded to the pair's precisions. */
  bids: [string, string][];
  /** Best asks first. */
  asks: [string, string][];
}

interface Carried {
  kraken: string;
  canonical: string;
  book: KrakenBook;
  staleStrikes: number;
  lastTradeId: number;
}

/** The Kraken v2 adapter. */
export class KrakenAdapter {
  /** Provider name written into events. */
  readonly provider = "kraken";
  readonly #opts: KrakenAdapterOptions;
  readonly #depth: number;
  readonly #staleMs: number;
  readonly #liveIdleMs: number;
  readonly #pingMs: number;
  /** Kraken symbol -> carried state. */
  readonly #bySymbol = new Map<string, Carried>();
  #conn: WsConnection | null = null;
  #tick: ReturnType<typeof setInterval> | undefined;
  #lastPingMs = 0;
  readonly #intake: FrameIntake;
  #reqId = 1;
  #started = false;
  #closed = false;
  readonly #stats: KrakenAdapterStats = {
    frames: 0,
    decodeErrors: 0,
    events: 0,
    eventsByKind: {},
    heartbeats: 0,
    pongs: 0,
    pings: 0,
    subscribeAcks: 0,
    exchangeErrors: 0,
    unknownSymbols: 0,
    invalidItems: 0,
    duplicatesDropped: 0,
    poolExhausted: 0,
    resubscribes: 0,
    staleReconnects: 0,
  };

  /** Validates the options; does not connect. */
  constructor(opts: KrakenAdapterOptions) {
    this.#opts = opts;
    this.#depth = opts.book?.depth ?? KRAKEN_BOOK_DEPTH_DEFAULT;
    if (!(KRAKEN_BOOK_DEPTHS as readonly number[]).includes(this.#depth)) {
      throw new RangeError(
        `kraken: expected a book depth in ${KRAKEN_BOOK_DEPTHS.join(", ")}, found ${this.#depth}`,
      );
    }
    this.#staleMs = opts.book?.staleMs ?? KRAKEN_STALE_MS_DEFAULT;
    this.#liveIdleMs = opts.book?.liveIdleMs ?? KRAKEN_LIVE_IDLE_MS_DEFAULT;
    this.#pingMs = opts.pingIntervalMs ?? KRAKEN_PING_INTERVAL_MS_DEFAULT;
    this.#intake = new FrameIntake({
      provider: this.provider,
      pools: opts.pools,
      decode: (text, raw) => {
        raw.body = decodeJson(text, { engine: opts.engine, provider: this.provider });
      },
      route: (raw) => this.#onFrame(raw),
      // A book message may be lost: only the checksum of the next one can tell, and it will.
      onPoolExhausted: (pool) => this.#poolExhausted(pool, "*"),
      onDecodeError: (err) => this.#decodeError(err),
    });
  }

  /**
   * Connects and subscribes. Throws when no symbol is valid or the adapter was started before.
   */
  start(): Promise<void> {
    if (this.#started) {
      throw new Error("kraken: expected an adapter not started yet, found it started");
    }
    this.#started = true;
    for (const canonical of this.#opts.symbols) {
      const kraken = krakenSymbolOf(canonical);
      if (kraken === null) {
        this.#stats.unknownSymbols++;
        this.#emitEvent({ type: "unknown_symbol", symbol: canonical, eventType: "config" });
        continue;
      }
      this.#bySymbol.set(kraken, {
        kraken,
        canonical,
        staleStrikes: 0,
        lastTradeId: -1,
        book: new KrakenBook({
          provider: this.provider,
          symbol: kraken,
          canonicalSymbol: canonical,
          depth: this.#depth,
          eventPool: this.#opts.pools.canonicalEvent,
          emit: (ev) => this.#deliver(ev),
          resubscribe: () => this.#resubscribeBook(kraken),
          onResync: this.#opts.onResync,
          onStateChange: this.#opts.onStateChange,
        }),
      });
    }
    if (this.#bySymbol.size === 0) {
      throw new Error(
        `kraken: expected at least one BASE-QUOTE symbol, found ${this.#opts.symbols.join(", ")}`,
      );
    }
    this.#conn = new WsConnection({
      backoff: { initialMs: 250, maxMs: 30_000 },
      idleTimeoutMs: 30_000, // heartbeats flow every second while subscribed
      // Kraken's message rate is dynamic; the Binance-sized default (4/s, burst 1) would delay
      // the four subscribes of a (re)connect by a second.
      pacer: { ratePerSec: KRAKEN_SEND_RATE_PER_SEC, burstMax: KRAKEN_SEND_BURST_MAX },
      ...this.#opts.connection,
      name: "kraken",
      url: this.#opts.wsUrl,
      onMessage: (text, recvTsMs, connId) => this.#onMessage(text, recvTsMs, connId),
      onOpen: (info) => this.#onOpen(info),
      onEvent: (event) => this.#emitEvent({ type: "connection", event }),
    });
    this.#conn.start();
    this.#tick = setInterval(() => this.#onTick(), this.#opts.tickIntervalMs ?? 100);
    return Promise.resolve();
  }

  /** Canonical symbols carried now. */
  activeSymbols(): string[] {
    return [...this.#bySymbol.values()].map((c) => c.canonical);
  }

  /** Per-symbol book state. */
  books(): KrakenBookStats[] {
    return [...this.#bySymbol.values()].map((c) => c.book.stats());
  }

  /** A copy of the best `levelsMax` levels per side of `canonical`'s book (tests, diagnostics). */
  bookView(canonical: string, levelsMax: number): KrakenBookView | null {
    const kraken = krakenSymbolOf(canonical);
    const c = kraken === null ? undefined : this.#bySymbol.get(kraken);
    if (c === undefined) return null;
    const top = c.book.book.top(levelsMax);
    return { symbol: canonical, state: c.book.state, seq: c.book.seq, ...top };
  }

  /** Asks for a resync of `canonical`'s book (operator / tests); false when not carried. */
  requestResync(canonical: string): boolean {
    const kraken = krakenSymbolOf(canonical);
    const c = kraken === null ? undefined : this.#bySymbol.get(kraken);
    if (c === undefined || this.#closed) return false;
    c.book.resync("requested", true);
    return true;
  }

  /** Counters, plus the connection's. */
  stats(): KrakenAdapterStats & { connection: ReturnType<WsConnection["stats"]> | null } {
    return {
      ...this.#stats,
      eventsByKind: { ...this.#stats.eventsByKind },
      connection: this.#conn?.stats() ?? null,
    };
  }

  /** Stops the tick and the connection (bounded); books stop emitting. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await this.#conn?.close();
    for (const c of this.#bySymbol.values()) c.book.close();
  }

  #onOpen(info: WsOpenInfo): void {
    if (info.reason !== "initial") {
      // Updates were lost with the old socket: every live book starts over from the snapshot
      // the subscriptions below bring.
      for (const c of this.#bySymbol.values()) {
        if (c.book.state === "LIVE") c.book.resync("reconnect", false);
      }
    }
    const symbols = [...this.#bySymbol.keys()];
    // instrument first: its snapshot (precisions) arrives before any book message.
    this.#send("subscribe", { channel: "instrument", snapshot: true });
    this.#send("subscribe", {
      channel: "book",
      symbol: symbols,
      depth: this.#depth,
      snapshot: true,
    });
    this.#send("subscribe", { channel: "trade", symbol: symbols, snapshot: false });
    this.#send("subscribe", { channel: "ticker", symbol: symbols, snapshot: true });
  }

  #send(method: string, params: Record<string, unknown> | null): void {
    const conn = this.#conn;
    if (conn === null || conn.state !== "open") return; // the next connect subscribes
    const body: Record<string, unknown> = { method };
    if (params !== null) body.params = params;
    body.req_id = this.#reqId++;
    conn.enqueue(encodeJson(body));
  }

  #resubscribeBook(kraken: string): void {
    if (this.#closed) return;
    this.#stats.resubscribes++;
    const params = { channel: "book", symbol: [kraken], depth: this.#depth };
    this.#send("unsubscribe", params);
    this.#send("subscribe", { ...params, snapshot: true });
  }

  #onTick(): void {
    const now = performance.now();
    let reconnect = "";
    for (const c of this.#bySymbol.values()) {
      if (c.book.state === "LIVE") c.staleStrikes = 0;
      if (c.book.tick(now, this.#staleMs, this.#liveIdleMs) === "stale") {
        c.staleStrikes++;
        if (c.staleStrikes >= KRAKEN_STALE_STRIKES_MAX) reconnect = c.canonical;
      }
    }
    if (reconnect !== "" && this.#conn !== null) {
      // Resubscribing on this socket did not help: the socket itself is silent.
      for (const c of this.#bySymbol.values()) c.staleStrikes = 0;
      this.#stats.staleReconnects++;
      this.#emitEvent({ type: "stale_reconnect", symbol: reconnect });
      this.#conn.reconnect("stale");
    }
    if (this.#pingMs > 0 && now - this.#lastPingMs >= this.#pingMs) {
      if (this.#conn?.state === "open") {
        this.#lastPingMs = now;
        this.#stats.pings++;
        this.#send("ping", null);
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

  /** Classifies a decoded message: a channel push (`channel`) or a method response (`method`). */
  #onFrame(raw: ProviderRaw): void {
    const body = raw.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    const b = body as Record<string, unknown>;
    raw.eventType = typeof b.channel === "string"
      ? b.channel
      : typeof b.method === "string"
      ? b.method
      : "";
    raw.stream = typeof b.type === "string" ? b.type : "";
    this.#route(raw, typeof b.channel === "string");
  }

  #route(raw: ProviderRaw, isChannel: boolean): void {
    const b = raw.body as Record<string, unknown>;
    if (!isChannel) return this.#onResponse(b);
    switch (raw.eventType) {
      case "heartbeat":
        this.#stats.heartbeats++;
        return;
      case "status":
        return this.#onStatus(b.data);
      case "instrument":
        return this.#onInstrument(b.data);
      case "book":
      case "trade":
      case "ticker":
        break;
      default:
        return;
    }
    if (!Array.isArray(b.data)) {
      this.#invalid(raw.eventType, "*");
      return;
    }
    const now = performance.now();
    for (const item of b.data as unknown[]) {
      if (item === null || typeof item !== "object") {
        this.#invalid(raw.eventType, "*");
        continue;
      }
      const it = item as Record<string, unknown>;
      const c = typeof it.symbol === "string" ? this.#bySymbol.get(it.symbol) : undefined;
      if (c === undefined) {
        this.#stats.unknownSymbols++;
        this.#emitEvent({
          type: "unknown_symbol",
          symbol: String(it.symbol),
          eventType: raw.eventType,
        });
        continue;
      }
      if (raw.eventType === "book") {
        if (raw.stream === "snapshot") c.book.onSnapshot(it as KrakenBookItem, raw.recvTsMs, now);
        else c.book.onUpdate(it as KrakenBookItem, raw.recvTsMs, now);
        continue;
      }
      this.#onTradeOrTicker(raw.eventType, it, c, raw.recvTsMs);
    }
  }

  #onTradeOrTicker(
    channel: string,
    item: Record<string, unknown>,
    c: Carried,
    recvTsMs: number,
  ): void {
    const precision = c.book.precision;
    if (precision === null) {
      this.#invalid(channel, c.canonical);
      return;
    }
    if (channel === "trade" && typeof item.trade_id === "number") {
      if (item.trade_id <= c.lastTradeId) {
        this.#stats.duplicatesDropped++;
        return;
      }
    }
    const pool = this.#opts.pools.canonicalEvent;
    const ev = pool.tryAcquire();
    if (ev === null) {
      this.#poolExhausted("canonical_event", c.canonical);
      return;
    }
    const ctx = { provider: this.provider, canonicalSymbol: c.canonical, precision, recvTsMs };
    const ok = channel === "trade"
      ? normalizeKrakenTrade(item, ev, ctx)
      : normalizeKrakenTicker(item, ev, ctx);
    if (!ok) {
      pool.release(ev);
      this.#invalid(channel, c.canonical);
      return;
    }
    if (channel === "trade") c.lastTradeId = ev.seq;
    this.#deliver(ev);
  }

  #onResponse(b: Record<string, unknown>): void {
    const method = typeof b.method === "string" ? b.method : "";
    if (method === "pong") {
      this.#stats.pongs++;
      return;
    }
    if (b.success !== true) {
      this.#stats.exchangeErrors++;
      this.#emitEvent({
        type: "exchange_error",
        method,
        error: typeof b.error === "string" ? b.error : "",
        symbol: typeof b.symbol === "string" ? b.symbol : "",
      });
      return;
    }
    if (method !== "subscribe") return;
    this.#stats.subscribeAcks++;
    const result = b.result as Record<string, unknown> | undefined;
    const channel = typeof result?.channel === "string" ? result.channel : "";
    const symbol = typeof result?.symbol === "string" ? result.symbol : "";
    this.#emitEvent({ type: "subscribe_ack", channel, symbol });
    if (channel === "book") this.#bySymbol.get(symbol)?.book.onAck(performance.now());
  }

  #onStatus(data: unknown): void {
    const first = Array.isArray(data) ? data[0] as Record<string, unknown> | undefined : undefined;
    if (typeof first?.system === "string") {
      this.#emitEvent({ type: "system_status", system: first.system });
    }
  }

  #onInstrument(data: unknown): void {
    const pairs = (data as { pairs?: unknown } | null)?.pairs;
    if (!Array.isArray(pairs)) return;
    for (const p of pairs as Record<string, unknown>[]) {
      const c = typeof p?.symbol === "string" ? this.#bySymbol.get(p.symbol) : undefined;
      if (c === undefined) continue;
      const price = p.price_precision;
      const qty = p.qty_precision;
      if (
        Number.isInteger(price) && (price as number) >= 0 && Number.isInteger(qty) &&
        (qty as number) >= 0
      ) {
        c.book.setPrecision({ price: price as number, qty: qty as number });
      } else {
        this.#invalid("instrument", c.canonical);
      }
    }
  }

  #deliver(ev: CanonicalEvent): void {
    this.#stats.events++;
    this.#stats.eventsByKind[ev.kind] = (this.#stats.eventsByKind[ev.kind] ?? 0) + 1;
    this.#opts.sink(ev);
  }

  #invalid(channel: string, symbol: string): void {
    this.#stats.invalidItems++;
    this.#emitEvent({ type: "invalid_item", channel, symbol });
  }

  #poolExhausted(pool: string, symbol: string): void {
    this.#stats.poolExhausted++;
    this.#emitEvent({ type: "pool_exhausted", pool, symbol });
  }

  #emitEvent(e: KrakenAdapterEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch {
      // a logging callback must never break the hot path
    }
  }
}
