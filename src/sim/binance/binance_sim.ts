/**
 * The Binance Spot market-data simulator: one loopback port serving the market streams
 * (`/ws/...`, `/stream?streams=...`), the public REST endpoints (`/api/v3/...`) and the
 * simulator's admin endpoints (`/_sim/...`), fed either by the deterministic market generator
 * or by a recorded session.
 *
 * Where it knowingly differs from the real venue (protocol notes §1-§3, §9):
 * - Keep-alive: Deno's server sends the ping itself (`idleTimeout`), after `pingIntervalMs`
 *   (20 s) of *inbound silence* rather than on a fixed 20 s cadence, and closes (1001) when
 *   nothing at all arrives within another `pingIntervalMs`: a 20 s pong deadline instead of
 *   60 s, and any inbound frame (not only a pong) keeps the connection alive.
 * - The 5 messages/s inbound limit counts text and binary messages only: ping and pong frames
 *   never reach JavaScript. Breaking it closes with 1008. SUBSCRIBE past 1024 streams gets an
 *   error frame (code 2) and changes nothing; a URL with too many streams gets HTTP 400.
 * - Abrupt drops go through a TCP front in this process (see `../shared/tcp_front.ts`); Deno's
 *   client then reports `wasClean: false` with code 0 or 1006.
 * - 24hrTicker / miniTicker / avgPrice statistics cover the time since the simulator started
 *   (capped at 24 h for `O`), not a rolling 24 h or 5 min window.
 * - Accepted but never fed: `@ticker_1h/_4h/_1d`, `!ticker_<w>@arr`, `@referencePrice`,
 *   `@blockTrade`, and `/ws/<listenKey>` (any alphanumeric segment: there is no user data).
 *   `timeUnit=MICROSECOND` is refused (HTTP 400) rather than honoured.
 * - Under `timeScale`/`klineBarScale` kline bars are shorter than their name (test use).
 * - REST weight is one bucket for every client (all of them are 127.0.0.1); the first request
 *   during a 429 back-off is banned with 418 (`requestsAfter429Max` tolerates more).
 * - The order side (`orders/`: signed `/api/v3/order`, `/api/v3/openOrders`, the WebSocket API
 *   at `/ws-api/v3` with user-data subscriptions) matches against the generated book through
 *   the shared engine; public trades fill resting orders they cross. In replay mode the book
 *   is empty (orders rest until filled by `/_sim/orders/fill`).
 *
 * @module
 */

import {
  DEFAULT_SYMBOL_SPECS,
  type MarketEvent,
  MarketGenerator,
  MarketPacer,
  type TradeEvent,
} from "../market/mod.ts";
import { formatAtomsMinimal, MarketBookSource, type SimBookSource } from "../order_engine/mod.ts";
import { handleAdminRequest } from "./admin_api.ts";
import { encodeExchangeInfo, type ExchangeSymbol, exchangeSymbolOf } from "./exchange_info.ts";
import { BinanceSimFaults } from "./fault_controller.ts";
import { BinanceMarketFeed, type DepthSnapshot } from "./market_feed.ts";
import { encodeBookDepth, encodeLevels } from "./market_encoder.ts";
import {
  inferExchangeSymbols,
  parseHttpRecording,
  parseWsRecording,
  recordedDepthBodies,
  type WsRecording,
} from "./recording.ts";
import { ReplaySession } from "./replay_session.ts";
import { handleRestRequest, jsonResponse } from "./rest_api.ts";
import {
  type BinanceSimOptions,
  resolveBinanceSimOptions,
  type ResolvedBinanceSimOptions,
} from "./sim_options.ts";
import { parseStreamName } from "./stream_name.ts";
import { StreamHub } from "./stream_hub.ts";
import { WeightLimiter } from "./weight_limiter.ts";
import {
  type BinanceSimInstrument,
  BinanceSimOrders,
  handleOrdersAdminRequest,
  handleRestOrderRequest,
  REST_ORDER_PATHS,
  WsApiSession,
} from "./orders/mod.ts";
import { type ConnectionInfo, type ConnectionSettings, WsConnection } from "./ws_connection.ts";
import {
  ConnectionRegistry,
  LoopbackServer,
  selectSymbolSpecs,
  SHUTDOWN_DRAIN_MS,
  waitUntilDrained,
} from "../shared/mod.ts";

/** Handle of a timer (setTimeout / setInterval). */
type Timer = ReturnType<typeof setTimeout>;

/** Counters of a running simulator. */
export interface BinanceSimStats {
  /** Open WebSocket connections. */
  readonly connections: number;
  /** WebSocket connections accepted since start. */
  readonly connectionsOpened: number;
  /** Frames sent on all connections, open and closed. */
  readonly framesSent: number;
  /** Frames discarded by stalls (and by a full delay queue). */
  readonly framesDropped: number;
  /** Stream subscriptions over all open connections. */
  readonly subscriptions: number;
  /** Market events generated (0 in replay mode). */
  readonly eventsGenerated: number;
  /** Target events per second. */
  readonly eventsPerSecondTarget: number;
  /** Events the pacer dropped because the scheduler fell behind. */
  readonly eventsShed: number;
  /** Whether generation is paused. */
  readonly paused: boolean;
  /** REST requests answered (any status). */
  readonly restRequests: number;
  /** REST answers with 429. */
  readonly rest429: number;
  /** REST answers with 418. */
  readonly rest418: number;
  /** Frames delivered by replay sessions. */
  readonly replayFramesSent: number;
}

/**
 * Starts a simulator and resolves once it listens. Always `await sim.close()`.
 *
 * @example
 * ```ts
 * const sim = await startBinanceSim({ seed: 7, eventsPerSecond: 2000, timeScale: 0.01 });
 * const ws = new WebSocket(`${sim.wsUrl}/stream?streams=btcusdt@trade/btcusdt@depth@100ms`);
 * const depth = await fetch(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=1000`);
 * // ...
 * await sim.close();
 * ```
 */
export async function startBinanceSim(options: BinanceSimOptions = {}): Promise<BinanceSim> {
  const resolved = resolveBinanceSimOptions(options);
  let replay: ReplayData | null = null;
  if (resolved.replay !== null) {
    const recording = parseWsRecording(await Deno.readTextFile(resolved.replay.wsFile));
    const bodies = resolved.replay.httpFile === ""
      ? new Map<string, string>()
      : recordedDepthBodies(parseHttpRecording(await Deno.readTextFile(resolved.replay.httpFile)));
    replay = { recording, depthBodies: bodies, speed: resolved.replay.speed };
  }
  return new BinanceSim(resolved, replay);
}

interface ReplayData {
  readonly recording: WsRecording;
  readonly depthBodies: ReadonlyMap<string, string>;
  readonly speed: number;
}

/** A running simulator. Create with {@link startBinanceSim}. */
export class BinanceSim {
  /** The bound port (REST, WebSocket and admin share it). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`: prefix of `/api/v3/...`. */
  readonly restUrl: string;
  /** `ws://127.0.0.1:<port>`: prefix of `/ws/<stream>` and `/stream?streams=...`. */
  readonly wsUrl: string;
  /** Fault injection. */
  readonly faults: BinanceSimFaults;
  /** The market generator (null in replay mode). */
  readonly market: MarketGenerator | null;
  /** Served symbols, upper case. */
  readonly symbols: readonly string[];
  /** The order side: engine, faults (`orders.faults`), admin knobs (`fill`, `expire`, `stats`). */
  readonly orders: BinanceSimOrders;
  /** `ws://127.0.0.1:<port>/ws-api/v3`: the WebSocket API (orders and user data). */
  readonly wsApiUrl: string;
  readonly #wsApiSessions = new Map<number, WsApiSession>();
  /** Public trades of the current generation batch, handed to the order side after it. */
  readonly #batchTrades: TradeEvent[] = [];
  readonly #marketSink: (event: MarketEvent) => void;
  readonly #options: ResolvedBinanceSimOptions;
  readonly #hub: StreamHub;
  readonly #feed: BinanceMarketFeed | null;
  readonly #pacer: MarketPacer | null;
  readonly #replay: ReplayData | null;
  readonly #exchangeSymbols: Map<string, ExchangeSymbol>;
  readonly #limiter: WeightLimiter;
  readonly #server: LoopbackServer;
  readonly #connections = new ConnectionRegistry<WsConnection>();
  readonly #sessions = new Set<ReplaySession>();
  readonly #sleeps = new Set<{ timer: Timer; resolve: () => void }>();
  readonly #settings: ConnectionSettings;
  readonly #scheduler: Timer | undefined;
  #paused: boolean;
  #nextConnectionId = 1;
  #connectionsOpened = 0;
  #restRequests = 0;
  #replayFramesSent = 0;
  #closing: Promise<void> | null = null;

  /** Use {@link startBinanceSim}. */
  constructor(options: ResolvedBinanceSimOptions, replay: ReplayData | null) {
    this.#options = options;
    this.#replay = replay;
    this.#paused = options.paused;
    this.#hub = new StreamHub((channel) => this.#feed?.onChannelActivated(channel));
    if (replay === null) {
      const specs = selectSymbolSpecs(
        options.symbolSpecs ?? DEFAULT_SYMBOL_SPECS,
        options.symbols,
        {
          nameOf: (s) => s.base + s.quote,
        },
      );
      this.market = new MarketGenerator({
        seed: options.seed,
        symbols: specs,
        priceOffsetBps: options.priceOffsetBps,
        levelsInitial: options.levelsInitial,
        levelsMax: options.levelsMax,
      });
      const names = this.market.symbols.map((s) => s.base + s.quote);
      this.#feed = new BinanceMarketFeed({
        generator: this.market,
        names,
        hub: this.#hub,
        clock: options.clock,
        timings: options,
        monotonicMs: performance.now(),
      });
      this.#pacer = new MarketPacer(
        { eventsPerSecond: options.eventsPerSecond },
        performance.now(),
      );
      this.#exchangeSymbols = new Map(
        this.market.symbols.map((s) => [s.base + s.quote, exchangeSymbolOf(s)]),
      );
    } else {
      this.market = null;
      this.#feed = null;
      this.#pacer = null;
      const inferred = inferExchangeSymbols(replay.recording, replay.depthBodies);
      this.#exchangeSymbols = new Map(inferred.map((s) => [s.symbol, s]));
    }
    this.symbols = [...this.#exchangeSymbols.keys()];
    this.#marketSink = (event) => {
      this.#feed!.onEvent(event);
      if (event.kind === "trade") this.#batchTrades.push(event);
    };
    this.orders = this.#createOrders(options);
    this.#limiter = new WeightLimiter({
      limit: options.weightLimit,
      windowMs: options.weightWindowMs,
      banMs: options.banMs,
      requestsAfter429Max: options.requestsAfter429Max,
    });
    this.faults = new BinanceSimFaults({
      connections: () => this.#connections.list(),
      feed: () => this.#feed,
      limiter: this.#limiter,
      hasSymbol: (symbol) => this.#exchangeSymbols.has(symbol),
      symbols: () => this.symbols,
    });
    this.#settings = {
      streamsMax: options.streamsMax,
      inboundMessagesMax: options.inboundMessagesMax,
      inboundWindowMs: options.inboundWindowMs,
      lifetimeMs: options.connectionLifetimeMs,
      shutdownNoticeMs: options.serverShutdownNoticeMs,
      sendBufferBytesMax: options.sendBufferBytesMax,
      clock: options.clock,
      ackDelayMs: () => this.faults.ackDelayMs,
    };
    // Nothing before this starts a timer or a socket: when the port is taken, nothing leaks.
    this.#server = LoopbackServer.listen(
      { hostname: options.hostname, port: options.port, onError: internalError },
      (request, info) => this.#handle(request, info),
    );
    this.port = this.#server.port;
    this.restUrl = this.#server.httpUrl();
    this.wsUrl = this.#server.wsUrl();
    this.wsApiUrl = `${this.wsUrl}/ws-api/v3`;
    if (this.#feed !== null) this.#scheduler = setInterval(() => this.#tick(), options.tickMs);
  }

  /** Counters. */
  stats(): BinanceSimStats {
    let replayFramesSent = this.#replayFramesSent;
    for (const session of this.#sessions) replayFramesSent += session.framesSent;
    return {
      connections: this.#connections.size,
      connectionsOpened: this.#connectionsOpened,
      ...this.#connections.frameTotals(),
      subscriptions: this.#hub.subscriptionCount(),
      eventsGenerated: this.market?.eventsGenerated ?? 0,
      eventsPerSecondTarget: this.#pacer?.eventsPerSecond ?? 0,
      eventsShed: this.#pacer?.stats().eventsShed ?? 0,
      paused: this.#paused,
      restRequests: this.#restRequests,
      rest429: this.#limiter.counts.limited,
      rest418: this.#limiter.counts.banned,
      replayFramesSent,
    };
  }

  /** Open connections. */
  connections(): ConnectionInfo[] {
    return [...this.#connections.values()].map((c) => c.info());
  }

  /**
   * The simulator's current book of `symbol` in Binance strings, up to `levelsMax` levels per
   * side (default 5000), with the update id it reflects. Generated mode only.
   */
  bookSnapshot(symbol: string, levelsMax = 5000): DepthSnapshot {
    if (this.#feed === null) {
      throw new RangeError("bookSnapshot: expected a generated market, found replay mode");
    }
    if (!this.#feed.has(symbol)) {
      throw new RangeError(`symbol: expected a simulated symbol, found ${symbol}`);
    }
    return this.#feed.depth(symbol, levelsMax);
  }

  /** Last book update id of `symbol` (generated mode). */
  lastUpdateId(symbol: string): number {
    return this.bookSnapshot(symbol, 0).lastUpdateId;
  }

  /** Stops generating events; periodic streams keep flushing what is pending. */
  pause(): void {
    this.#paused = true;
  }

  /** Restarts generation (without a burst for the paused time). */
  resume(): void {
    if (this.#pacer !== null && this.#paused) {
      this.#pacer.record(this.#pacer.due(performance.now()));
    }
    this.#paused = false;
  }

  /** Changes the generated event rate. */
  setRate(eventsPerSecond: number): void {
    this.#pacer?.setRate(eventsPerSecond, performance.now());
  }

  /**
   * Stops everything: the scheduler, replays and delayed answers; closes every WebSocket with a
   * close frame (then drops any that did not finish within a bounded wait), the TCP front and
   * the HTTP server. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#scheduler !== undefined) clearInterval(this.#scheduler);
    for (const session of this.#sessions) session.stop();
    for (const session of this.#wsApiSessions.values()) session.close();
    this.orders.close();
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.#sleeps.clear();
    this.#connections.closeAll(1001, "simulator shutting down");
    await waitUntilDrained(() => this.#connections.size, SHUTDOWN_DRAIN_MS);
    for (const connection of this.#connections.values()) connection.drop();
    await this.#server.close();
  }

  #tick(): void {
    const monotonicMs = performance.now();
    const feed = this.#feed!;
    const pacer = this.#pacer!;
    const due = pacer.due(monotonicMs);
    if (this.#paused) {
      pacer.record(due);
    } else if (due > 0) {
      pacer.record(this.market!.generate(due, this.#options.clock(), this.#marketSink));
      feed.endBatch();
      this.#tradesToOrders();
    }
    feed.onTick(monotonicMs);
  }

  async #handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    // Read before any upgrade: afterwards Deno throws "Request closed".
    const remotePort = info.remoteAddr.port;
    const url = new URL(request.url);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#upgrade(request, url, remotePort);
    }
    if (url.pathname.startsWith("/_sim/orders/")) {
      return await handleOrdersAdminRequest(request, this.orders);
    }
    if (url.pathname.startsWith("/_sim/")) {
      return await handleAdminRequest(request, {
        faults: this.faults,
        stats: () => this.stats(),
        connections: () => this.connections(),
        bookSnapshot: (symbol, limit) => this.bookSnapshot(symbol, limit),
        pause: () => this.pause(),
        resume: () => this.resume(),
      });
    }
    this.#restRequests++;
    if (REST_ORDER_PATHS.has(url.pathname)) {
      return await handleRestOrderRequest(request, {
        orders: this.orders,
        limiter: this.#limiter,
        clock: this.#options.clock,
        sleep: (ms) => this.#sleep(ms),
      });
    }
    const response = await handleRestRequest(request, {
      serverTime: () => this.orders.serverTimeMs(),
      clock: this.#options.clock,
      limiter: this.#limiter,
      hasSymbol: (symbol) => this.#exchangeSymbols.has(symbol),
      exchangeInfo: (symbols) => this.#exchangeInfo(symbols),
      depth: (symbol, limit) => this.#depthBody(symbol, limit),
    });
    if (response !== null) return response;
    return jsonResponse(404, {
      body: JSON.stringify({ code: -1000, msg: `unknown endpoint: ${url.pathname}` }),
      usedWeight: this.#limiter.used(this.#options.clock()),
    });
  }

  #upgrade(request: Request, url: URL, remotePort: number): Response {
    if (url.pathname === "/ws-api/v3") return this.#upgradeWsApi(request, url, remotePort);
    const target = parseStreamPath(url, this.#options.streamsMax);
    if (typeof target === "string") {
      return new Response(JSON.stringify({ code: 2, msg: `Invalid request: ${target}` }), {
        status: target.startsWith("unknown path") ? 404 : 400,
        headers: { "Content-Type": "application/json" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request, {
      // Deno pings after idleTimeout/2 of inbound silence and closes after idleTimeout.
      idleTimeout: (2 * this.#options.pingIntervalMs) / 1000,
    });
    const id = this.#nextConnectionId++;
    this.#connectionsOpened++;
    const connection = new WsConnection({
      id,
      path: url.pathname + url.search,
      combined: target.combined,
      initialStreams: target.streams,
      socket,
      hub: this.#hub,
      settings: this.#settings,
      sendDelayMs: this.faults.newConnectionDelayMs,
      hooks: {
        dropTcp: () => this.#server.drop(remotePort),
        onOpen: (c) => this.#onOpen(c),
        onClosed: (c) => this.#connections.remove(c),
      },
    });
    this.#connections.add(connection);
    return response;
  }

  #upgradeWsApi(request: Request, url: URL, remotePort: number): Response {
    const { socket, response } = Deno.upgradeWebSocket(request, {
      idleTimeout: (2 * this.#options.pingIntervalMs) / 1000,
    });
    const id = this.#nextConnectionId++;
    const session = new WsApiSession({
      id,
      socket,
      orders: this.orders,
      returnRateLimits: url.searchParams.get("returnRateLimits") !== "false",
      dropTcp: () => this.#server.drop(remotePort),
      onClosed: (s) => {
        if (this.#wsApiSessions.get(s.id) === s) this.#wsApiSessions.delete(s.id);
      },
    });
    this.#wsApiSessions.set(id, session);
    return response;
  }

  #createOrders(options: ResolvedBinanceSimOptions): BinanceSimOrders {
    const instruments: BinanceSimInstrument[] = [...this.#exchangeSymbols.values()].map((s) => ({
      exchange: s.symbol,
      base: s.baseAsset,
      quote: s.quoteAsset,
      tickSize: s.tickSize,
      minPrice: s.minPrice,
      maxPrice: s.maxPrice,
      stepSize: s.stepSize,
      minQty: s.minQty,
      maxQty: s.maxQty,
      minNotional: s.minNotional,
    }));
    let balances = options.orderBalances;
    if (balances === null) {
      balances = {};
      for (const s of instruments) {
        balances[s.base] ??= "1000";
        balances[s.quote] = "10000000";
      }
    }
    const book: SimBookSource = this.market === null
      ? { levels: () => [] }
      : new MarketBookSource(this.market);
    return new BinanceSimOrders({
      accounts: options.accounts,
      instruments,
      book,
      clock: options.clock,
      initialBalances: balances,
      dropWsApi: (abrupt) => {
        const sessions = [...this.#wsApiSessions.values()];
        for (const session of sessions) session.close(abrupt);
        return sessions.length;
      },
    });
  }

  /** Public trades of the batch fill resting orders they cross (after the batch: books settled). */
  #tradesToOrders(): void {
    if (this.#batchTrades.length === 0) return;
    const market = this.market!;
    for (const trade of this.#batchTrades) {
      const symbol = market.symbols[trade.symbolIndex];
      this.orders.onMarketTrade(
        symbol.base + symbol.quote,
        formatAtomsMinimal(BigInt(trade.tick) * BigInt(symbol.tickAtoms)),
        formatAtomsMinimal(BigInt(trade.qtySteps) * BigInt(symbol.stepAtoms)),
      );
    }
    this.#batchTrades.length = 0;
  }

  #onOpen(connection: WsConnection): void {
    if (this.#replay === null || this.#closing !== null) return;
    const session = new ReplaySession({
      recording: this.#replay.recording,
      connection,
      speed: this.#replay.speed,
      onDone: (s) => {
        if (this.#sessions.delete(s)) this.#replayFramesSent += s.framesSent;
      },
    });
    this.#sessions.add(session);
    session.start();
  }

  #exchangeInfo(symbols: readonly string[] | null): string {
    const list = symbols === null
      ? [...this.#exchangeSymbols.values()]
      : symbols.map((s) => this.#exchangeSymbols.get(s)!);
    return encodeExchangeInfo(list, {
      serverTimeMs: this.#options.clock(),
      weightLimit: this.#limiter.limit,
    });
  }

  async #depthBody(symbol: string, limit: number): Promise<string> {
    const delayMs = this.faults.takeSnapshotDelay(symbol);
    if (delayMs > 0) await this.#sleep(delayMs);
    if (this.#replay !== null) return replayDepthBody(this.#replay.depthBodies, symbol, limit);
    const snapshot = this.faults.takeStaleSnapshot(symbol) ?? this.#feed!.depth(symbol, limit);
    return encodeBookDepth(snapshot.lastUpdateId, {
      bids: encodeLevels(snapshot.bids.slice(0, limit)),
      asks: encodeLevels(snapshot.asks.slice(0, limit)),
    });
  }

  /** A sleep that {@link BinanceSim.close} cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#sleeps.add(entry);
    });
  }
}

/** A `/ws/<listenKey>` path segment: alphanumeric, as Binance's listen keys are. */
const LISTEN_KEY_RE = /^[A-Za-z0-9]{1,64}$/;

/** Streams and framing requested by a WebSocket URL, or an error text. */
function parseStreamPath(
  url: URL,
  streamsMax: number,
): { combined: boolean; streams: string[] } | string {
  if (url.searchParams.has("timeUnit")) {
    return "timeUnit is not supported by this simulator (only ms)";
  }
  let combined: boolean;
  let streams: string[];
  const path = url.pathname;
  if (path === "/ws" || path === "/ws/") {
    combined = false;
    streams = [];
  } else if (path.startsWith("/ws/")) {
    combined = false;
    // An alphanumeric segment (no `@`, so never a stream name) has the shape of the documented
    // `/ws/<listenKey>` form; with no user data here it opens a connection that stays silent
    // until SUBSCRIBE, as Binance does for ccxt's `/ws/0`, `/ws/1`, ... connections.
    streams = path.slice(4).split("/").filter((s) => s !== "").map(safeDecode)
      .filter((s) => !LISTEN_KEY_RE.test(s));
  } else if (path === "/stream" || path === "/stream/") {
    combined = true;
    streams = (url.searchParams.get("streams") ?? "").split("/").filter((s) => s !== "");
  } else {
    return `unknown path ${path}: expected /ws/<stream> or /stream?streams=<a>/<b>`;
  }
  for (const stream of streams) {
    if (parseStreamName(stream) === null) return "invalid stream";
  }
  const unique = [...new Set(streams)];
  if (unique.length > streamsMax) return `too many streams, at most ${streamsMax} per connection`;
  return { combined, streams: unique };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function replayDepthBody(
  bodies: ReadonlyMap<string, string>,
  symbol: string,
  limit: number,
): string {
  const body = bodies.get(symbol);
  if (body === undefined) return encodeBookDepth(0, { bids: "[]", asks: "[]" });
  const parsed = JSON.parse(body) as {
    lastUpdateId: number;
    bids: [string, string][];
    asks: [string, string][];
  };
  if (parsed.bids.length <= limit && parsed.asks.length <= limit) return body;
  return encodeBookDepth(parsed.lastUpdateId, {
    bids: encodeLevels(parsed.bids.slice(0, limit)),
    asks: encodeLevels(parsed.asks.slice(0, limit)),
  });
}

function internalError(err: unknown): Response {
  return new Response(
    JSON.stringify({ code: -1000, msg: `internal simulator error: ${String(err)}` }),
    {
      status: 500,
      headers: { "Content-Type": "application/json" },
    },
  );
}
