/**
 * The OKX public market-data simulator: one loopback port serving `/ws/v5/public` (trades,
 * books, tickers), `/ws/v5/business` (candle1m) and the REST endpoints
 * `GET /api/v5/public/instruments` and `GET /api/v5/market/books`, plus the order side
 * (`/ws/v5/private` login/orders/trading ops, signed `/api/v5/trade/*` REST and `/_sim/orders/*`
 * admin; see `orders/okx_order_side.ts`), driven by the shared seeded market generator (same
 * seed semantics as the Binance simulator; `priceOffsetBps` shifts prices a little so the venues
 * differ).
 *
 * Where it knowingly differs from the venue (protocol notes §1-§3, §7, §8):
 * - Only `trades`, `books`, `tickers` (public) and `candle1m` (business) are served; other
 *   channels get 60018. There is no 480/hour op limit, no 64008 upgrade notice and no
 *   books5/bbo-tbt. The "no-snapshot" mode (`booksMode`) only drops the WS snapshot; REST
 *   answers at once (no 50 ms cache refresh wait) and always at a published `seqId`.
 * - A subscribe/unsubscribe request with one bad arg is rejected as a whole (one error event).
 * - `tickers` 24 h statistics cover the time since start; `sodUtc0`/`sodUtc8` = `open24h`.
 * - `numOrders` is a function of the level size; REST `sz` above 400 is capped at 400.
 *
 * @module
 */

import {
  DEFAULT_SYMBOL_SPECS,
  type MarketEvent,
  MarketGenerator,
  MarketPacer,
  type SymbolSpec,
} from "../market/mod.ts";
import {
  ConnectionRegistry,
  LoopbackServer,
  selectSymbolSpecs,
  SHUTDOWN_DRAIN_MS,
  waitUntilDrained,
} from "../shared/mod.ts";
import { formatAtomsMinimal } from "../order_engine/mod.ts";
import { OkxOrderSide, type OkxSimInstrumentInfo } from "./orders/okx_order_side.ts";
import { OKX_SIM_CREDENTIALS, type OkxSimAccount } from "./orders/okx_sim_auth.ts";
import { OkxConnection, type OkxConnectionInfo, type OkxEndpoint } from "./okx_connection.ts";
import { OkxSimFaults } from "./okx_faults.ts";
import {
  BOOK_DEPTH,
  type BooksMode,
  type ChecksumMode,
  type OkxBookSnapshot,
  OkxMarketFeed,
} from "./okx_market_feed.ts";

/** Options of {@link startOkxSim}. */
export interface OkxSimOptions {
  /** Listen address (default 127.0.0.1). */
  readonly hostname?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  /** Market seed, as for the Binance simulator (default 1). */
  readonly seed?: number;
  /** Instruments to serve, `BTC-USDT` style (default: all of `symbolSpecs`). */
  readonly symbols?: readonly string[];
  /** Instrument definitions (default {@link DEFAULT_SYMBOL_SPECS}). */
  readonly symbolSpecs?: readonly SymbolSpec[];
  /** Starting-price offset in basis points against the shared market (default 0). */
  readonly priceOffsetBps?: number;
  /** Generated market events per second (default 1000). */
  readonly eventsPerSecond?: number;
  /** Start paused (default false). */
  readonly paused?: boolean;
  /** Scheduler period (default 10). */
  readonly tickMs?: number;
  /** `books` push cadence (default 100). */
  readonly booksIntervalMs?: number;
  /** Keep-alive update after this long without book changes (default 5000). */
  readonly booksHeartbeatMs?: number;
  /** `tickers` cadence (default 100). */
  readonly tickersIntervalMs?: number;
  /** `candle1m` push cadence (default 1000). */
  readonly candlePushMs?: number;
  /** `candle1m` bar length (default 60000; shorter in tests). */
  readonly candleBarMs?: number;
  /** Idle close (4004) after this long (default 30000). */
  readonly idleTimeoutMs?: number;
  /** `checksum` field: `"current"` (always 0, default) or `"legacy"` (signed CRC32). */
  readonly checksumMode?: ChecksumMode;
  /**
   * `"snapshot"` (default): a `books` subscription starts with `action:"snapshot"`;
   * `"no-snapshot"`: only updates are pushed and clients bootstrap from REST (notes §4.4, §8).
   */
  readonly booksMode?: BooksMode;
  /** Wall clock for timestamps (default `Date.now`). */
  readonly clock?: () => number;
  /** Accounts of the private side (default: one, {@link OKX_SIM_CREDENTIALS}). */
  readonly accounts?: readonly OkxSimAccount[];
  /** Starting balances of every account (default: 1 000 000 per quote, 1 000 per base asset). */
  readonly orderBalances?: Record<string, string>;
  /** Fee rate of simulated fills (default 0.001). */
  readonly feeRate?: string;
}

/** Counters of a running simulator. */
export interface OkxSimStats {
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Connections accepted since start. */
  readonly connectionsOpened: number;
  /** Frames sent on all connections, open and closed. */
  readonly framesSent: number;
  /** Frames dropped by stalls. */
  readonly framesDropped: number;
  /** Channel subscriptions over open connections. */
  readonly subscriptions: number;
  /** Market events generated. */
  readonly eventsGenerated: number;
  /** `books` update messages built. */
  readonly bookUpdates: number;
  /** Updates withheld by the gap fault. */
  readonly gapsInjected: number;
  /** Updates with a corrupted checksum. */
  readonly checksumsCorrupted: number;
  /** Sequence resets sent. */
  readonly sequenceResets: number;
  /** REST book answers served stale by the stale-REST fault. */
  readonly staleRestBooks: number;
  /** Connections closed 4004 for idleness. */
  readonly idleCloses: number;
  /** REST requests answered. */
  readonly restRequests: number;
  /** Whether generation is paused. */
  readonly paused: boolean;
}

/**
 * Starts a simulator; resolves once it listens. Always `await sim.close()`.
 *
 * @example
 * ```ts
 * const sim = await startOkxSim({ seed: 7, eventsPerSecond: 2000, priceOffsetBps: 3 });
 * const ws = new WebSocket(sim.wsUrl); // ws://127.0.0.1:<port>/ws/v5/public
 * await fetch(`${sim.restUrl}/api/v5/market/books?instId=BTC-USDT&sz=400`);
 * await sim.close();
 * ```
 */
export function startOkxSim(options: OkxSimOptions = {}): Promise<OkxSim> {
  return Promise.resolve(new OkxSim(options));
}

/** A running simulator. Create with {@link startOkxSim}. */
export class OkxSim {
  /** Bound port. */
  readonly port: number;
  /** `ws://host:port/ws/v5/public`. */
  readonly wsUrl: string;
  /** `ws://host:port/ws/v5/business` (candles). */
  readonly businessWsUrl: string;
  /** `http://host:port`: prefix of `/api/v5/...`. */
  readonly restUrl: string;
  /** Fault injection. */
  readonly faults: OkxSimFaults;
  /** The market generator. */
  readonly market: MarketGenerator;
  /** Served instrument ids. */
  readonly instIds: readonly string[];
  /** `ws://host:port/ws/v5/private` (login, orders channel, trading ops). */
  readonly privateWsUrl: string;
  /** The order side: matching engine, private sessions, admin knobs and faults. */
  readonly orders: OkxOrderSide;
  readonly #feed: OkxMarketFeed;
  readonly #pacer: MarketPacer;
  readonly #clock: () => number;
  readonly #idleTimeoutMs: number;
  readonly #server: LoopbackServer;
  readonly #scheduler: ReturnType<typeof setInterval>;
  readonly #connections = new ConnectionRegistry<OkxConnection>();
  #paused: boolean;
  #nextId = 1;
  #connectionsOpened = 0;
  #idleCloses = 0;
  #restRequests = 0;
  #closing: Promise<void> | null = null;

  /** Use {@link startOkxSim}. */
  constructor(options: OkxSimOptions) {
    const seed = options.seed ?? 1;
    this.#clock = options.clock ?? Date.now;
    this.#idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs ?? 30_000);
    this.#paused = options.paused ?? false;
    this.market = new MarketGenerator({
      seed,
      symbols: selectSymbolSpecs(options.symbolSpecs ?? DEFAULT_SYMBOL_SPECS, options.symbols, {
        nameOf: (s) => `${s.base}-${s.quote}`,
      }),
      priceOffsetBps: options.priceOffsetBps ?? 0,
    });
    this.#feed = new OkxMarketFeed(this.market, {
      booksIntervalMs: positive("booksIntervalMs", options.booksIntervalMs ?? 100),
      booksHeartbeatMs: positive("booksHeartbeatMs", options.booksHeartbeatMs ?? 5000),
      tickersIntervalMs: positive("tickersIntervalMs", options.tickersIntervalMs ?? 100),
      candlePushMs: positive("candlePushMs", options.candlePushMs ?? 1000),
      candleBarMs: positive("candleBarMs", options.candleBarMs ?? 60_000),
      checksumMode: options.checksumMode ?? "current",
      booksMode: options.booksMode ?? "snapshot",
      clock: this.#clock,
    }, seed);
    this.instIds = this.#feed.instIds;
    this.orders = new OkxOrderSide({
      market: this.market,
      instruments: this.instIds.map((instId) => this.#instrumentInfo(instId)),
      accounts: options.accounts ?? [OKX_SIM_CREDENTIALS],
      clock: this.#clock,
      initialBalances: options.orderBalances,
      feeRate: options.feeRate,
    });
    this.#pacer = new MarketPacer(
      { eventsPerSecond: options.eventsPerSecond ?? 1000 },
      performance.now(),
    );
    this.faults = new OkxSimFaults(this.#feed, () => this.#connections.list());
    this.#server = LoopbackServer.listen(
      { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0 },
      (request, info) => this.#handle(request, info),
    );
    this.port = this.#server.port;
    this.restUrl = this.#server.httpUrl();
    this.wsUrl = this.#server.wsUrl("/ws/v5/public");
    this.businessWsUrl = this.#server.wsUrl("/ws/v5/business");
    this.privateWsUrl = this.#server.wsUrl("/ws/v5/private");
    this.#scheduler = setInterval(
      () => this.#tick(),
      positive("tickMs", options.tickMs ?? 10),
    );
  }

  /** Counters. */
  stats(): OkxSimStats {
    return {
      connections: this.#connections.size,
      connectionsOpened: this.#connectionsOpened,
      ...this.#connections.frameTotals(),
      subscriptions: this.#feed.subscriptionCount(),
      eventsGenerated: this.market.eventsGenerated,
      ...this.#feed.stats(),
      idleCloses: this.#idleCloses,
      restRequests: this.#restRequests,
      paused: this.#paused,
    };
  }

  /** Open connections. */
  connections(): OkxConnectionInfo[] {
    return [...this.#connections.values()].map((c) => c.info());
  }

  /**
   * The published book of `instId` (pending changes are pushed first), up to `levelsMax` levels
   * per side (default 400), with its `seqId`.
   */
  bookSnapshot(instId: string, levelsMax = BOOK_DEPTH): OkxBookSnapshot {
    return this.#feed.book(instId, levelsMax);
  }

  /** Stops generating events (keep-alives and pending pushes continue). */
  pause(): void {
    this.#paused = true;
  }

  /** Changes the generated event rate (0 pauses the market), as the other simulators allow. */
  setRate(eventsPerSecond: number): void {
    this.#pacer.setRate(eventsPerSecond, performance.now());
  }

  /** Restarts generation without a burst for the paused time. */
  resume(): void {
    if (this.#paused) this.#pacer.record(this.#pacer.due(performance.now()));
    this.#paused = false;
  }

  /** Stops the scheduler, closes every socket, the TCP front and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#scheduler);
    this.#connections.closeAll(1001, "simulator shutting down");
    this.orders.closeAll();
    await waitUntilDrained(
      () => this.#connections.size + this.orders.connectionCount,
      SHUTDOWN_DRAIN_MS,
    );
    for (const c of this.#connections.values()) c.drop();
    this.orders.dropAll();
    await this.#server.close();
  }

  #tick(): void {
    const due = this.#pacer.due(performance.now());
    if (this.#paused) {
      this.#pacer.record(due);
    } else if (due > 0) {
      this.#pacer.record(this.market.generate(due, this.#clock(), this.#sink));
      this.#feed.endBatch();
    }
    this.#feed.onTick(this.#clock());
    for (const c of this.#connections.values()) {
      if (c.checkIdle(this.#idleTimeoutMs)) this.#idleCloses++;
    }
    this.#idleCloses += this.orders.checkIdle(this.#idleTimeoutMs);
  }

  /** Generator sink: the public feed, and public trades into the order engine (maker fills). */
  readonly #sink = (event: MarketEvent): void => {
    this.#feed.onEvent(event);
    if (event.kind !== "trade") return;
    const symbol = this.market.symbols[event.symbolIndex];
    this.orders.onMarketTrade(
      symbol.canonical,
      formatAtomsMinimal(BigInt(event.tick) * BigInt(symbol.tickAtoms)),
      formatAtomsMinimal(BigInt(event.qtySteps) * BigInt(symbol.stepAtoms)),
    );
  };

  #handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response | Promise<Response> {
    const remotePort = info.remoteAddr.port;
    const url = new URL(request.url);
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (upgrade && url.pathname === "/ws/v5/private") {
      const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
      this.#connectionsOpened++;
      this.orders.accept(socket, () => this.#server.drop(remotePort));
      return response;
    }
    if (!upgrade && this.orders.servesPath(url.pathname)) {
      this.#restRequests++;
      return this.orders.handleHttp(request, url);
    }
    if (upgrade) {
      const endpoint: OkxEndpoint | null = url.pathname === "/ws/v5/public"
        ? "public"
        : url.pathname === "/ws/v5/business"
        ? "business"
        : null;
      if (endpoint === null) return okxJson(404, "404", `unknown path ${url.pathname}`);
      // idleTimeout 0: no server pings; OKX's own idle rule (4004) applies instead.
      const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
      const id = this.#nextId++;
      this.#connectionsOpened++;
      const connection = new OkxConnection(socket, {
        id,
        endpoint,
        feed: this.#feed,
        monotonic: () => performance.now(),
        hooks: {
          dropTcp: () => this.#server.drop(remotePort),
          onClosed: (c) => this.#connections.remove(c),
        },
      });
      this.#connections.add(connection);
      return response;
    }
    this.#restRequests++;
    if (request.method !== "GET") return okxJson(405, "50000", "only GET is served");
    if (url.pathname === "/api/v5/public/instruments") return this.#instruments(url);
    if (url.pathname === "/api/v5/market/books") return this.#books(url);
    return okxJson(404, "50000", `unknown endpoint ${url.pathname}`);
  }

  #instruments(url: URL): Response {
    const instType = url.searchParams.get("instType");
    if (instType === null || instType === "") {
      return okxJson(400, "50014", "Parameter instType can not be empty");
    }
    const only = url.searchParams.get("instId");
    const list = instType !== "SPOT" ? [] : this.instIds.filter((i) => only === null || i === only);
    const data = list.map((instId) => {
      const symbol = this.#feed.symbolOf(instId);
      const info = this.#instrumentInfo(instId);
      return {
        instType: "SPOT",
        instId,
        instIdCode: info.instIdCode,
        uly: "",
        instFamily: "",
        baseCcy: symbol.base,
        quoteCcy: symbol.quote,
        settleCcy: "",
        ctVal: "",
        ctMult: "",
        ctValCcy: "",
        optType: "",
        stk: "",
        listTime: "1606468572000",
        expTime: "",
        lever: "",
        tickSz: info.tickSz,
        lotSz: info.lotSz,
        minSz: info.minSz,
        ctType: "",
        alias: "",
        state: "live",
        maxLmtSz: symbol.spec.maxQty,
        maxMktSz: symbol.spec.maxQty,
      };
    });
    return okxJson(200, "0", "", data);
  }

  /** What the instruments endpoint publishes for `instId` (the order side uses the same). */
  #instrumentInfo(instId: string): OkxSimInstrumentInfo {
    const symbol = this.#feed.symbolOf(instId);
    return {
      instId,
      instIdCode: 10_001 + symbol.index,
      baseCcy: symbol.base,
      quoteCcy: symbol.quote,
      tickSz: symbol.spec.tickSize,
      lotSz: symbol.spec.stepSize,
      minSz: symbol.spec.stepSize,
    };
  }

  #books(url: URL): Response {
    const instId = url.searchParams.get("instId");
    if (instId === null || instId === "") {
      return okxJson(400, "50014", "Parameter instId can not be empty");
    }
    if (!this.#feed.has(instId)) return okxJson(400, "51001", "Instrument ID does not exist");
    const szText = url.searchParams.get("sz") ?? "1";
    const sz = Number(szText);
    if (!(Number.isInteger(sz) && sz >= 1)) {
      return okxJson(400, "51000", "Parameter sz error");
    }
    const book = this.#feed.restBook(instId, Math.min(sz, BOOK_DEPTH));
    return okxJson(200, "0", "", [{
      asks: book.asks,
      bids: book.bids,
      ts: String(book.ts),
      seqId: book.seqId,
    }]);
  }
}

function okxJson(status: number, code: string, msg: string, data: unknown[] = []): Response {
  return new Response(JSON.stringify({ code, msg, data }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name}: expected a positive number, found ${value}`);
  }
  return value;
}
