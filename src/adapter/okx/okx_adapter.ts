/**
 * OKX v5 public market-data adapter: one WebSocket on `/ws/v5/public` carrying `trades`,
 * `books` and `tickers` per instrument, REST for the instrument list, one
 * {@linkcode OkxBookAssembler} per instrument. Emits pooled CanonicalEvents to `sink`.
 *
 * Hot path and ownership (ARCHITECTURE.md):
 *   frame text -> WsFrame (acquired on receive, released right after decode)
 *              -> ProviderRaw (acquired before decode; `body` holds the generic parse of
 *                 {@linkcode decodeJson}; released after routing)
 *              -> CanonicalEvent (acquired while normalizing a row, or by the book assembler;
 *                 ownership passes to `sink`).
 * The literal `pong` keep-alive reply is not JSON and is handled before any pool is touched.
 *
 * Recovery: a broken `books` chain or checksum resubscribes that instrument only (unsubscribe +
 * subscribe, a fresh snapshot follows); a reconnect (including OKX's 4004 idle close and a
 * missing `pong`) resubscribes everything and every book waits for its new snapshot. When the
 * socket is quiet for `pingAfterMs` the adapter sends the text `ping`; without any answer within
 * `pongTimeoutMs` it reconnects.
 *
 * Bootstrap (`bootstrap`, protocol notes §0 and §4.4): `"ws"` (default) uses the WS snapshot as
 * above; `"rest"` buffers `books` updates and takes the snapshot from REST
 * `GET /api/v5/market/books` (seqId-checked, re-fetched while older than the buffer), and a chain
 * break resyncs that instrument through REST again without resubscribing; `"auto"` uses the WS
 * snapshot when one arrives and REST otherwise. REST snapshot requests share one paced client:
 * at most `restRequestsInFlightMax` (default 2) at a time, and a 429 blocks further requests for
 * its Retry-After.
 *
 * @module
 */

import { type DecodeError, decodeJson, type JsonEngine } from "../../codec/mod.ts";
import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type { ProviderRaw } from "../../schema/provider_raw.ts";
import type { SchemaPools } from "../../schema/schema_pools.ts";
import type { BookResyncEvent, BookStateChange } from "../shared/book_sync_state.ts";
import {
  WsConnection,
  type WsConnectionEvent,
  type WsConnectionOptions,
  type WsOpenInfo,
} from "../shared/ws_connection.ts";
import { FrameIntake, type FrameIntakePool } from "../shared/frame_intake.ts";
import { loadWithRetries } from "../shared/startup_retry.ts";
import { OkxBookRest } from "./okx_book_rest.ts";
import {
  OKX_BOOK_LEVELS_MAX,
  OkxBookAssembler,
  type OkxBookAssemblerOptions,
  type OkxBookBootstrap,
  type OkxBookData,
  type OkxBookStats,
} from "./okx_book_assembler.ts";
import { normalizeOkxTicker, normalizeOkxTrade } from "./okx_normalize.ts";
import { fetchOkxInstruments, type OkxInstrument } from "./okx_rest.ts";

/** OKX's public production endpoints. */
export const OKX_LIVE_ENDPOINTS = Object.freeze({
  rest: "https://www.okx.com",
  ws: "wss://ws.okx.com:8443/ws/v5/public",
  businessWs: "wss://ws.okx.com:8443/ws/v5/business",
  /** Private socket: login, orders and the orders channel (the order venue). */
  privateWs: "wss://ws.okx.com:8443/ws/v5/private",
});

/** Channels the adapter can carry per instrument. */
export type OkxChannel = "trades" | "books" | "tickers";

/** Default channels per instrument. */
export const OKX_CHANNELS_DEFAULT: readonly OkxChannel[] = ["trades", "books", "tickers"];
/** Quiet time before a `ping` is sent (OKX closes after 30 s without traffic), ms. */
export const OKX_PING_AFTER_MS_DEFAULT = 25_000;
/** Bound on the answer to a `ping` before reconnecting, ms. */
export const OKX_PONG_TIMEOUT_MS_DEFAULT = 5_000;
/** Args per subscribe message (keeps each far below OKX's 64 KB cap). */
export const OKX_ARGS_PER_REQUEST_MAX = 100;
/** Attempts at the instrument list before start() gives up. */
export const OKX_INSTRUMENTS_ATTEMPTS_MAX = 8;

/** Something worth a log line. */
export type OkxAdapterEvent =
  | { type: "connection"; event: WsConnectionEvent }
  | { type: "decode_error"; message: string; sample: string }
  | { type: "exchange_error"; code: string; msg: string }
  | { type: "notice"; code: string; msg: string }
  | { type: "unknown_symbol"; symbol: string; channel: string }
  | { type: "pool_exhausted"; pool: string; symbol: string }
  | { type: "pong_timeout"; silentMs: number }
  | { type: "instruments"; symbols: number; attempt: number; error?: string };

/** Options of {@linkcode OkxAdapter}. */
export interface OkxAdapterOptions {
  /** REST base URL (simulator or {@linkcode OKX_LIVE_ENDPOINTS}.rest). */
  restUrl: string;
  /** Public WebSocket URL (`.../ws/v5/public`). */
  wsUrl: string;
  /** Business WebSocket URL (candles); kept for configuration, not used by these channels. */
  businessWsUrl?: string;
  /** Canonical symbols (`BTC-USDT`, equal to the SPOT instId); empty = every listed one. */
  symbols: readonly string[];
  /** Channels per instrument. Default {@linkcode OKX_CHANNELS_DEFAULT}. */
  channels?: readonly OkxChannel[];
  /** The pools used on the hot path. */
  pools: Pick<SchemaPools, "wsFrame" | "providerRaw" | "canonicalEvent">;
  /** Receives every emitted event; ownership of the pooled event passes with the call. */
  sink: (ev: CanonicalEvent) => void;
  /** Resync telemetry. */
  onResync?: (e: BookResyncEvent) => void;
  /** Book state telemetry. */
  onStateChange?: (c: BookStateChange) => void;
  /** Log-worthy events. */
  onEvent?: (e: OkxAdapterEvent) => void;
  /** JSON engine for {@linkcode decodeJson}. */
  engine?: JsonEngine;
  /** Overrides for the connection (tests shorten timeouts). */
  connection?: Partial<Omit<WsConnectionOptions, "name" | "url" | "onMessage" | "onOpen">>;
  /** Overrides for every book assembler. */
  book?: Partial<
    Pick<
      OkxBookAssemblerOptions,
      | "levelsMax"
      | "snapshotTimeoutMs"
      | "bootstrapWaitMs"
      | "restRetryDelayMs"
      | "snapshotBehindAttemptsMax"
      | "bufferMax"
    >
  >;
  /**
   * Where book snapshots come from: `"ws"` (default, the `action:"snapshot"` push), `"rest"`
   * (§4.4 REST bootstrap) or `"auto"` (WS when it arrives, else REST after `book.bootstrapWaitMs`).
   */
  bootstrap?: OkxBookBootstrap;
  /** REST book snapshot requests in flight at once (all instruments). Default 2. */
  restRequestsInFlightMax?: number;
  /** Quiet time before sending `ping`, ms. Default 25 000. */
  pingAfterMs?: number;
  /** Bound on the answer to a `ping`, ms. Default 5 000. */
  pongTimeoutMs?: number;
  /** Timer period for keep-alive and snapshot timeouts, ms. Default 250. */
  tickIntervalMs?: number;
  /** REST request bound, ms. Default 10 000. */
  restTimeoutMs?: number;
}

/** Counters of one adapter. */
export interface OkxAdapterStats {
  /** Text frames received. */
  frames: number;
  /** Frames that were not valid JSON. */
  decodeErrors: number;
  /** Events handed to the sink. */
  events: number;
  /** Events by kind. */
  eventsByKind: Record<string, number>;
  /** Trades dropped as repeats. */
  duplicatesDropped: number;
  /** Pushes for instruments not carried, or unknown requested symbols. */
  unknownSymbols: number;
  /** Malformed data rows. */
  invalidRows: number;
  /** Pool exhaustions. */
  poolExhausted: number;
  /** `event:"error"` replies. */
  exchangeErrors: number;
  /** subscribe/unsubscribe acks. */
  subscribeAcks: number;
  /** `ping` frames sent. */
  pings: number;
  /** `pong` frames received. */
  pongs: number;
  /** Reconnects because a `ping` got no answer. */
  pongTimeouts: number;
  /** Service-upgrade notices (64008). */
  notices: number;
}

/** Counters of the REST snapshot client (null in `"ws"` bootstrap mode). */
export interface OkxRestStats {
  /** Requests sent. */
  requests: number;
  /** Requests that failed. */
  failures: number;
  /** Calls refused locally while a 429 block lasted. */
  refusedWhileBlocked: number;
  /** 429 answers. */
  rateLimited: number;
  /** Highest number of requests in flight at once. */
  inFlightPeak: number;
}

/** A read-only copy of the top of one book ({@linkcode OkxAdapter.bookView}). */
export interface OkxBookView {
  /** Canonical symbol. */
  symbol: string;
  /** Sync state. */
  state: OkxBookStats["state"];
  /** Last `seqId` applied. */
  seqId: number;
  /** Best bids first, `[price, size]`. */
  bids: [string, string][];
  /** Best asks first, `[price, size]`. */
  asks: [string, string][];
}

/** The OKX adapter. */
export class OkxAdapter {
  /** Provider name on events. */
  readonly provider = "okx";
  readonly #opts: OkxAdapterOptions;
  readonly #channels: readonly OkxChannel[];
  readonly #pingAfterMs: number;
  readonly #pongTimeoutMs: number;
  /** instId -> instrument, for every listed one. */
  readonly #instruments = new Map<string, OkxInstrument>();
  /** canonical -> instId. */
  readonly #byCanonical = new Map<string, string>();
  /** instIds carried. */
  readonly #active = new Set<string>();
  readonly #assemblers = new Map<string, OkxBookAssembler>();
  readonly #lastTradeSeq = new Map<string, number>();
  /** REST snapshot client; null in `"ws"` bootstrap mode. */
  readonly #bookRest: OkxBookRest | null;
  readonly #intake: FrameIntake;
  #conn: WsConnection | null = null;
  #tick: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #closed = false;
  #lastRecvMs = 0;
  #pingSentMs = -1;
  readonly #closing = new AbortController();
  readonly #stats: OkxAdapterStats = {
    frames: 0,
    decodeErrors: 0,
    events: 0,
    eventsByKind: {},
    duplicatesDropped: 0,
    unknownSymbols: 0,
    invalidRows: 0,
    poolExhausted: 0,
    exchangeErrors: 0,
    subscribeAcks: 0,
    pings: 0,
    pongs: 0,
    pongTimeouts: 0,
    notices: 0,
  };

  constructor(opts: OkxAdapterOptions) {
    this.#opts = opts;
    this.#channels = opts.channels ?? OKX_CHANNELS_DEFAULT;
    this.#pingAfterMs = opts.pingAfterMs ?? OKX_PING_AFTER_MS_DEFAULT;
    this.#pongTimeoutMs = opts.pongTimeoutMs ?? OKX_PONG_TIMEOUT_MS_DEFAULT;
    this.#bookRest = (opts.bootstrap ?? "ws") === "ws" ? null : new OkxBookRest({
      baseUrl: opts.restUrl,
      requestTimeoutMs: opts.restTimeoutMs,
      requestsInFlightMax: opts.restRequestsInFlightMax,
    });
    this.#intake = new FrameIntake({
      provider: "okx",
      pools: opts.pools,
      decode: (text, raw) => {
        raw.body = decodeJson(text, { engine: opts.engine, provider: "okx" });
      },
      route: (raw) => this.#route(raw),
      onPoolExhausted: (pool) => this.#framePoolExhausted(pool),
      onDecodeError: (err) => this.#decodeError(err),
    });
  }

  /** The instrument behind a canonical symbol, once start() loaded the list. */
  instrument(canonical: string): OkxInstrument | undefined {
    const instId = this.#byCanonical.get(canonical);
    return instId === undefined ? undefined : this.#instruments.get(instId);
  }

  /**
   * Loads the instrument list (bounded retries), then connects and subscribes. Throws when the
   * list never comes, none of the requested symbols exists, the adapter was started before, or
   * close() was called meanwhile.
   */
  async start(): Promise<void> {
    if (this.#started) {
      throw new Error("okx: expected an adapter not started yet, found it started");
    }
    this.#started = true;
    await this.#loadInstruments();
    if (this.#closed) {
      throw new Error("okx: expected an open adapter after loading instruments, found it closed");
    }
    const requested: string[] = [];
    const wanted = this.#opts.symbols.length > 0
      ? this.#opts.symbols
      : [...this.#instruments.values()].map((i) => i.canonical);
    for (const c of wanted) {
      const instId = this.#byCanonical.get(c);
      if (instId === undefined) {
        this.#stats.unknownSymbols++;
        this.#emitEvent({ type: "unknown_symbol", symbol: c, channel: "config" });
      } else requested.push(instId);
    }
    if (requested.length === 0) {
      throw new Error(
        `okx: expected at least one known symbol, found none of ${this.#opts.symbols.join(", ")}`,
      );
    }
    for (const instId of requested) this.#activate(instId);
    this.#conn = new WsConnection({
      backoff: { initialMs: 250, maxMs: 30_000 },
      ...this.#opts.connection,
      name: "okx",
      url: this.#opts.wsUrl,
      onMessage: (text, recvTsMs, connId) => this.#onMessage(text, recvTsMs, connId),
      onOpen: (info) => this.#onOpen(info),
      onClose: () => {
        for (const a of this.#assemblers.values()) a.pauseWaiting();
      },
      onEvent: (event) => this.#emitEvent({ type: "connection", event }),
    });
    this.#conn.start();
    this.#tick = setInterval(() => this.#onTick(), this.#opts.tickIntervalMs ?? 250);
  }

  /** Canonical symbols carried now. */
  activeSymbols(): string[] {
    return [...this.#active].map((i) => this.#instruments.get(i)!.canonical);
  }

  /** Per-instrument book state. */
  books(): OkxBookStats[] {
    return [...this.#assemblers.values()].map((a) => a.stats());
  }

  /** A copy of the best `levelsMax` levels per side of `canonical`'s book, or null. */
  bookView(canonical: string, levelsMax: number): OkxBookView | null {
    const instId = this.#byCanonical.get(canonical);
    const a = instId === undefined ? undefined : this.#assemblers.get(instId);
    if (a === undefined) return null;
    const top = a.book.top(levelsMax);
    return { symbol: canonical, state: a.state, seqId: a.seqId, bids: top.bids, asks: top.asks };
  }

  /** Asks for a fresh snapshot of `canonical`'s book (reason `requested`); false if not carried. */
  resyncBook(canonical: string): boolean {
    const instId = this.#byCanonical.get(canonical);
    const a = instId === undefined ? undefined : this.#assemblers.get(instId);
    if (a === undefined || this.#closed) return false;
    a.requestResync("requested");
    return true;
  }

  /** Counters, plus the connection's and the REST snapshot client's. */
  stats(): OkxAdapterStats & {
    connection: ReturnType<WsConnection["stats"]> | null;
    rest: OkxRestStats | null;
  } {
    const rest = this.#bookRest;
    return {
      ...this.#stats,
      eventsByKind: { ...this.#stats.eventsByKind },
      connection: this.#conn?.stats() ?? null,
      rest: rest === null ? null : { ...rest.stats, inFlightPeak: rest.inFlightPeak },
    };
  }

  /** Stops the tick, the connection (bounded) and every book. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await this.#conn?.close();
    for (const a of this.#assemblers.values()) a.close();
    // close() aborted every REST request; wait until each has settled so no fetch outlives us.
    await Promise.all([...this.#assemblers.values()].map((a) => a.settled()));
    this.#assemblers.clear();
  }

  async #loadInstruments(): Promise<void> {
    const load = () =>
      fetchOkxInstruments(this.#opts.restUrl, {
        timeoutMs: this.#opts.restTimeoutMs,
        signal: this.#closing.signal,
      });
    const { value: list, attempt } = await loadWithRetries(load, {
      provider: "okx",
      what: "instruments",
      attemptsMax: OKX_INSTRUMENTS_ATTEMPTS_MAX,
      signal: this.#closing.signal,
      onFailure: (n, error) =>
        this.#emitEvent({ type: "instruments", symbols: 0, attempt: n, error }),
    });
    for (const i of list) {
      this.#instruments.set(i.instId, i);
      this.#byCanonical.set(i.canonical, i.instId);
    }
    this.#emitEvent({ type: "instruments", symbols: list.length, attempt });
  }

  #activate(instId: string): void {
    this.#active.add(instId);
    if (!this.#channels.includes("books")) return;
    this.#assemblers.set(
      instId,
      new OkxBookAssembler({
        ...this.#opts.book,
        instId,
        canonicalSymbol: this.#instruments.get(instId)!.canonical,
        eventPool: this.#opts.pools.canonicalEvent,
        emit: (ev) => this.#deliver(ev),
        resubscribe: (id) => this.#resubscribeBooks(id),
        bootstrap: this.#opts.bootstrap,
        fetchSnapshot: this.#bookRest === null
          ? undefined
          : (id, { signal }) =>
            this.#bookRest!.books(id, {
              sz: this.#opts.book?.levelsMax ?? OKX_BOOK_LEVELS_MAX,
              signal: AbortSignal.any([signal, this.#closing.signal]),
            }),
        onResync: this.#opts.onResync,
        onStateChange: this.#opts.onStateChange,
      }),
    );
  }

  #sendOp(op: "subscribe" | "unsubscribe", args: { channel: string; instId: string }[]): void {
    if (!this.#conn || this.#conn.state !== "open") return; // onOpen subscribes everything
    for (let i = 0; i < args.length; i += OKX_ARGS_PER_REQUEST_MAX) {
      const chunk = args.slice(i, i + OKX_ARGS_PER_REQUEST_MAX);
      const list = chunk.map((a) => `{"channel":"${a.channel}","instId":"${a.instId}"}`);
      this.#conn.enqueue(`{"op":"${op}","args":[${list.join(",")}]}`);
    }
  }

  #resubscribeBooks(instId: string): void {
    const arg = [{ channel: "books", instId }];
    this.#sendOp("unsubscribe", arg);
    this.#sendOp("subscribe", arg);
  }

  #onOpen(info: WsOpenInfo): void {
    const now = performance.now();
    this.#lastRecvMs = now;
    this.#pingSentMs = -1;
    if (info.reason !== "initial") {
      // Updates were lost while disconnected: every book waits for the new snapshot.
      for (const a of this.#assemblers.values()) {
        if (a.state === "LIVE") a.requestResync("reconnect", { resubscribe: false, nowMs: now });
      }
    }
    const args: { channel: string; instId: string }[] = [];
    for (const instId of this.#active) {
      for (const channel of this.#channels) args.push({ channel, instId });
    }
    this.#sendOp("subscribe", args);
    for (const a of this.#assemblers.values()) a.expectSnapshot(now);
  }

  #onTick(): void {
    const conn = this.#conn;
    if (conn === null || conn.state !== "open") return;
    const now = performance.now();
    for (const a of this.#assemblers.values()) a.tick(now);
    if (this.#pingSentMs >= 0) {
      if (now - this.#pingSentMs >= this.#pongTimeoutMs) {
        this.#pingSentMs = -1;
        this.#stats.pongTimeouts++;
        this.#emitEvent({ type: "pong_timeout", silentMs: now - this.#lastRecvMs });
        conn.reconnect("pong_timeout");
      }
    } else if (now - this.#lastRecvMs >= this.#pingAfterMs) {
      if (conn.send("ping")) {
        this.#stats.pings++;
        this.#pingSentMs = now;
      }
    }
  }

  #onMessage(text: string, recvTsMs: number, connId: number): void {
    this.#stats.frames++;
    this.#lastRecvMs = performance.now();
    this.#pingSentMs = -1; // any traffic proves the socket alive
    if (text === "pong") {
      this.#stats.pongs++;
      return;
    }
    this.#intake.receive(text, recvTsMs, connId);
  }

  #framePoolExhausted(pool: FrameIntakePool): void {
    this.#poolExhausted(pool, "*");
    // A lost books push breaks the chain silently: resync every live book.
    for (const a of this.#assemblers.values()) {
      if (a.state === "LIVE") a.requestResync("pool_exhausted");
    }
  }

  #decodeError(err: DecodeError): void {
    this.#stats.decodeErrors++;
    this.#emitEvent({ type: "decode_error", message: err.message, sample: err.sample });
  }

  #route(raw: ProviderRaw): void {
    const body = raw.body as {
      event?: unknown;
      code?: unknown;
      msg?: unknown;
      arg?: { channel?: unknown; instId?: unknown };
      action?: unknown;
      data?: unknown;
    } | null;
    if (typeof body !== "object" || body === null) return;
    if (typeof body.event === "string") return this.#onControl(body.event, body);
    const channel = body.arg?.channel;
    const instId = body.arg?.instId;
    if (typeof channel !== "string" || typeof instId !== "string" || !Array.isArray(body.data)) {
      return;
    }
    raw.eventType = channel;
    raw.symbol = instId;
    if (!this.#active.has(instId)) {
      this.#stats.unknownSymbols++;
      this.#emitEvent({ type: "unknown_symbol", symbol: instId, channel });
      return;
    }
    const symbol = this.#instruments.get(instId)!.canonical;
    switch (channel) {
      case "books": {
        const a = this.#assemblers.get(instId);
        const data = body.data[0] as OkxBookData | undefined;
        if (a === undefined) return;
        if (typeof data !== "object" || data === null) return a.requestResync("invalid_event");
        return a.onBooks(typeof body.action === "string" ? body.action : "", data, raw.recvTsMs);
      }
      case "trades":
      case "tickers":
        for (const row of body.data) this.#onRow(channel, row, instId, symbol, raw.recvTsMs);
        return;
    }
  }

  #onRow(
    channel: "trades" | "tickers",
    row: unknown,
    instId: string,
    symbol: string,
    recvTsMs: number,
  ): void {
    const pool = this.#opts.pools.canonicalEvent;
    const ev = pool.tryAcquire();
    if (ev === null) return this.#poolExhausted("canonical_event", instId);
    const ctx = { symbol, recvTsMs };
    const skip = channel === "trades"
      ? normalizeOkxTrade(row, ev, ctx)
      : normalizeOkxTicker(row, ev, ctx);
    if (skip !== null) {
      pool.release(ev);
      this.#stats.invalidRows++;
      return;
    }
    if (channel === "trades") {
      const last = this.#lastTradeSeq.get(instId) ?? -1;
      if (ev.seq <= last) {
        // A resubscribe or reconnect can replay trades already delivered.
        this.#stats.duplicatesDropped++;
        pool.release(ev);
        return;
      }
      this.#lastTradeSeq.set(instId, ev.seq);
    }
    this.#deliver(ev);
  }

  #onControl(event: string, body: { code?: unknown; msg?: unknown }): void {
    const code = typeof body.code === "string" ? body.code : "";
    const msg = typeof body.msg === "string" ? body.msg : "";
    switch (event) {
      case "subscribe":
      case "unsubscribe":
        this.#stats.subscribeAcks++;
        return;
      case "error":
        this.#stats.exchangeErrors++;
        this.#emitEvent({ type: "exchange_error", code, msg });
        return;
      case "notice":
        // 64008: the server closes soon for an upgrade; move to a new socket first.
        this.#stats.notices++;
        this.#emitEvent({ type: "notice", code, msg });
        this.#conn?.reconnect("notice");
        return;
    }
  }

  #deliver(ev: CanonicalEvent): void {
    this.#stats.events++;
    this.#stats.eventsByKind[ev.kind] = (this.#stats.eventsByKind[ev.kind] ?? 0) + 1;
    this.#opts.sink(ev);
  }

  #poolExhausted(pool: string, symbol: string): void {
    this.#stats.poolExhausted++;
    this.#emitEvent({ type: "pool_exhausted", pool, symbol });
  }

  #emitEvent(e: OkxAdapterEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch {
      // a logging callback must never break the hot path
    }
  }
}
