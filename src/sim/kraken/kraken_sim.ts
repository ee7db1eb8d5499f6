/**
 * The Kraken Spot WebSocket v2 public market-data simulator (protocol notes kraken.md): one
 * loopback port serving `ws://…/v2` (status on connect, subscribe/unsubscribe acks, ping/pong,
 * heartbeats, the book/trade/ticker/ohlc/instrument channels with v2 book checksums) and a
 * small REST surface (`/0/public/Depth`), fed by the shared deterministic market generator.
 *
 * Where it knowingly differs from the real venue:
 * - Pair precisions come from the generator's tick and step sizes (`BTC/USDT` has
 *   price_precision 2, qty_precision 5), not Kraken's real ones.
 * - Error texts other than `Currency pair not supported <SYM>` and `Malformed request` are
 *   invented (`Invalid depth`, `Subscription Not Found`, `Channel <c> not supported`, …).
 * - Ticker 24 h statistics cover the time since start; one message per pair per tick carries
 *   all trades of that tick. Book updates are diffs of the top `depth` levels per tick, so a
 *   price never repeats inside one message.
 * - Private channels and methods are not served on the public endpoint (they get
 *   `Channel … not supported` / `Method not found`); the order side (`orders/`) serves them on
 *   its own auth port ({@linkcode KrakenSim.authWsUrl}) with signed REST calls on this port.
 *
 * @module
 */

import {
  DEFAULT_SYMBOL_SPECS,
  type MarketEvent,
  MarketGenerator,
  MarketPacer,
  type ReadonlyOrderBook,
  type SymbolSpec,
} from "../market/mod.ts";
import {
  ConnectionRegistry,
  LoopbackServer,
  selectSymbolSpecs,
  SHUTDOWN_DRAIN_MS,
  waitUntilDrained,
} from "../shared/mod.ts";
import { bookChecksum, type ChecksumLevel } from "./book_checksum.ts";
import { KrakenSimFaults, type KrakenSystemStatus } from "./fault_controller.ts";
import {
  type ConnectionHost,
  KrakenConnection,
  type Levels,
  type Subscription,
} from "./kraken_connection.ts";
import {
  instrumentAssetsJson,
  instrumentPairJson,
  type KrakenPair,
  krakenPairOf,
  type NumberStyle,
  priceText,
  qtyText,
} from "./kraken_pair.ts";
import { MarketState } from "./market_state.ts";
import { rfc3339Micros } from "./wire_format.ts";
import { KrakenOrderDesk, type KrakenSimOrderOptions } from "./orders/mod.ts";

/** Timer knobs (tests shorten them). */
export interface KrakenSimTiming {
  /** Scheduler period: events are generated and sent once per tick (default 50 ms). */
  readonly tickMs?: number;
  /** Heartbeat period on quiet subscribed connections (default 1000 ms). */
  readonly heartbeatIntervalMs?: number;
}

/** Options of {@link startKrakenSim}. */
export interface KrakenSimOptions {
  /** Port of the public endpoint (0 = any free port; default 0). */
  readonly port?: number;
  /** Loopback address (default `127.0.0.1`). */
  readonly hostname?: string;
  /** Market generator seed: same seed, same market as the other venue simulators (default 1). */
  readonly seed?: number;
  /** Pairs to serve as v2 names (`BTC/USDT`), picked from `symbolSpecs` (default all). */
  readonly symbols?: readonly string[];
  /** Instrument definitions (default the shared {@link DEFAULT_SYMBOL_SPECS}). */
  readonly symbolSpecs?: readonly SymbolSpec[];
  /** Generated market events per second (default 200; 0 = quiet). */
  readonly eventsPerSecond?: number;
  /** Venue price offset in basis points against the shared market (default 0). */
  readonly priceOffsetBps?: number;
  /** `fixed` writes `64000.0` / `0.50000000`; `trimmed` drops trailing zeros (default fixed). */
  readonly numberStyle?: NumberStyle;
  /** Timers. */
  readonly timing?: KrakenSimTiming;
  /** Wall clock for timestamps (default `Date.now`). */
  readonly clock?: () => number;
  /** The order side: accounts, auth port, balances, response order (defaults: one account). */
  readonly orders?: KrakenSimOrderOptions;
}

/** Counters of a running simulator. */
export interface KrakenSimStats {
  /** Open connections. */
  readonly connections: number;
  /** Connections accepted since start. */
  readonly connectionsOpened: number;
  /** Frames sent on open connections and closed ones. */
  readonly framesSent: number;
  /** Frames not sent (stall, silent connections, dropped book updates). */
  readonly framesDropped: number;
  /** Subscriptions over open connections. */
  readonly subscriptions: number;
  /** Market events generated. */
  readonly eventsGenerated: number;
  /** Book messages sent with a deliberately wrong checksum. */
  readonly checksumsCorrupted: number;
  /** Book updates withheld by the gap fault. */
  readonly bookUpdatesDropped: number;
  /** Heartbeats sent. */
  readonly heartbeatsSent: number;
}

/**
 * Starts a simulator and resolves once it listens. Always `await sim.close()`.
 *
 * @example
 * ```ts
 * const sim = await startKrakenSim({ seed: 7, eventsPerSecond: 500 });
 * const ws = new WebSocket(sim.wsUrl); // ws://127.0.0.1:<port>/v2
 * // ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USDT"]}}')
 * await sim.close();
 * ```
 */
export function startKrakenSim(options: KrakenSimOptions = {}): Promise<KrakenSim> {
  return Promise.resolve(new KrakenSim(options));
}

/** A running simulator. Create with {@link startKrakenSim}. */
export class KrakenSim {
  /** Bound port. */
  readonly port: number;
  /** `ws://127.0.0.1:<port>/v2`: the public endpoint. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>`: prefix of `/0/public/Depth`. */
  readonly restUrl: string;
  /** Fault injection. */
  readonly faults: KrakenSimFaults;
  /** The market generator. */
  readonly market: MarketGenerator;
  /** Served pairs. */
  readonly pairs: readonly KrakenPair[];
  /** The order side (matching engine, tokens, admin knobs). */
  readonly orders: KrakenOrderDesk;
  /** `ws://127.0.0.1:<authPort>/v2`: the authenticated endpoint (`ws-auth`). */
  readonly authWsUrl: string;
  readonly #state: MarketState;
  readonly #pacer: MarketPacer;
  readonly #clock: () => number;
  readonly #heartbeatMs: number;
  readonly #server: LoopbackServer;
  readonly #connections = new ConnectionRegistry<KrakenConnection>();
  readonly #scheduler: ReturnType<typeof setInterval>;
  readonly #host: ConnectionHost;
  #nextConnectionId = 1;
  #connectionsOpened = 0;
  #checksumsCorrupted = 0;
  #bookUpdatesDropped = 0;
  #heartbeatsSent = 0;
  #lastHeartbeatCheckMs: number;
  #closing: Promise<void> | null = null;

  /** Use {@link startKrakenSim}. */
  constructor(options: KrakenSimOptions) {
    const tickMs = options.timing?.tickMs ?? 50;
    this.#heartbeatMs = options.timing?.heartbeatIntervalMs ?? 1000;
    if (!(tickMs >= 1 && this.#heartbeatMs >= 1)) {
      throw new RangeError(
        `timing: expected tickMs and heartbeatIntervalMs >= 1, found ${tickMs}, ${this.#heartbeatMs}`,
      );
    }
    this.#clock = options.clock ?? Date.now;
    const specs = selectSymbolSpecs(options.symbolSpecs ?? DEFAULT_SYMBOL_SPECS, options.symbols, {
      nameOf: (s) => `${s.base}/${s.quote}`,
    });
    this.market = new MarketGenerator({
      seed: options.seed ?? 1,
      symbols: specs,
      priceOffsetBps: options.priceOffsetBps ?? 0,
    });
    this.pairs = this.market.symbols.map(krakenPairOf);
    this.#state = new MarketState(this.pairs, {
      style: options.numberStyle ?? "fixed",
      startTicks: this.market.symbols.map((s) => s.startTick),
    });
    this.#pacer = new MarketPacer(
      { eventsPerSecond: options.eventsPerSecond ?? 200 },
      performance.now(),
    );
    this.#lastHeartbeatCheckMs = performance.now();
    this.faults = new KrakenSimFaults({
      dropAll: () => this.#dropAll(),
      broadcastStatus: (system) => this.#broadcastStatus(system),
    });
    const names = new Map(this.pairs.map((p, i) => [p.name, i]));
    this.#host = {
      pairs: this.pairs,
      pairIndex: (name) => names.get(name) ?? -1,
      clock: this.#clock,
      onSubscribed: (connection, sub, snapshot) => this.#onSubscribed(connection, sub, snapshot),
      takeSilentAfterAck: () => this.faults.takeSilentAfterAck(),
    };
    const hostname = options.hostname ?? "127.0.0.1";
    this.orders = new KrakenOrderDesk({
      pairs: this.pairs,
      market: this.market,
      pairIndex: this.#host.pairIndex,
      clock: this.#clock,
      systemStatus: () => this.faults.systemStatus,
      heartbeatMs: this.#heartbeatMs,
    }, { ...options.orders, hostname });
    this.authWsUrl = this.orders.authWsUrl;
    try {
      this.#server = LoopbackServer.listen(
        { hostname, port: options.port ?? 0 },
        (request, info) => this.#handle(request, info),
      );
    } catch (err) {
      void this.orders.close();
      throw err;
    }
    this.port = this.#server.port;
    this.wsUrl = this.#server.wsUrl("/v2");
    this.restUrl = this.#server.httpUrl();
    this.#scheduler = setInterval(() => this.#tick(), tickMs);
  }

  /** Counters. */
  stats(): KrakenSimStats {
    let subscriptions = 0;
    for (const c of this.#connections.values()) subscriptions += c.subscriptions.size;
    return {
      connections: this.#connections.size,
      connectionsOpened: this.#connectionsOpened,
      ...this.#connections.frameTotals(),
      subscriptions,
      eventsGenerated: this.market.eventsGenerated,
      checksumsCorrupted: this.#checksumsCorrupted,
      bookUpdatesDropped: this.#bookUpdatesDropped,
      heartbeatsSent: this.#heartbeatsSent,
    };
  }

  /**
   * The simulator's current book of `symbol` (v2 name), best first, as fixed-precision decimal
   * strings, up to `levelsMax` per side, with its v2 checksum.
   */
  bookSnapshot(
    symbol: string,
    levelsMax = 1000,
  ): { bids: ChecksumLevel[]; asks: ChecksumLevel[]; checksum: number } {
    const index = this.#host.pairIndex(symbol);
    if (index === -1) throw new RangeError(`symbol: expected a served pair, found ${symbol}`);
    const pair = this.pairs[index];
    const book = this.market.book(index);
    const render = (levels: Levels) =>
      levels.map(([t, q]) => ({ price: priceText(pair, t), qty: qtyText(pair, q) }));
    const view = {
      bids: render(book.bids.topLevels(levelsMax)),
      asks: render(book.asks.topLevels(levelsMax)),
    };
    return { ...view, checksum: bookChecksum(view, pair) };
  }

  /** Changes the generated event rate (0 pauses the market). */
  setRate(eventsPerSecond: number): void {
    this.#pacer.setRate(eventsPerSecond, performance.now());
  }

  /** Stops the scheduler, closes every connection, the TCP front and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#scheduler);
    this.#connections.closeAll(1001, "simulator shutting down");
    await waitUntilDrained(() => this.#connections.size, SHUTDOWN_DRAIN_MS);
    await this.#server.close();
    await this.orders.close();
  }

  #handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response | Promise<Response> {
    const remotePort = info.remoteAddr.port;
    const url = new URL(request.url);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      if (url.pathname !== "/v2") {
        return new Response(`unknown path ${url.pathname}: expected /v2`, { status: 404 });
      }
      return this.#upgrade(request, remotePort);
    }
    if (url.pathname === "/0/public/Depth") return this.#depth(url);
    const orderSide = this.orders.handleHttp(request, url);
    if (orderSide !== undefined) return orderSide;
    return Response.json({ error: [`EGeneral:Unknown method ${url.pathname}`] }, { status: 404 });
  }

  #depth(url: URL): Response {
    const name = url.searchParams.get("pair") ?? "";
    const index = this.#host.pairIndex(name);
    if (index === -1) return Response.json({ error: ["EQuery:Unknown asset pair"] });
    const count = Math.min(500, Math.max(1, Number(url.searchParams.get("count") ?? 100) || 100));
    const pair = this.pairs[index];
    const seconds = Math.floor(this.#clock() / 1000);
    const book = this.market.book(index);
    const render = (levels: Levels) =>
      levels.map(([t, q]) => [priceText(pair, t), qtyText(pair, q), seconds]);
    return Response.json({
      error: [],
      result: {
        [name]: {
          asks: render(book.asks.topLevels(count)),
          bids: render(book.bids.topLevels(count)),
        },
      },
    });
  }

  #upgrade(request: Request, remotePort: number): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const connection = new KrakenConnection({
      id: this.#nextConnectionId++,
      remotePort,
      socket,
      host: this.#host,
    });
    this.#connectionsOpened++;
    this.#connections.add(connection);
    socket.onopen = () => connection.sendResponse(this.#statusMessage(connection.id));
    socket.onmessage = (event) => {
      if (typeof event.data === "string") connection.onMessage(event.data);
    };
    socket.onclose = () => this.#connections.remove(connection);
    socket.onerror = () => {};
    return response;
  }

  #statusMessage(connectionId: number): string {
    // connection_id exceeds 2^53 on the real venue: written as a literal, not a JS number.
    const id = `1289374918273948${String(1000 + connectionId).padStart(4, "0")}`;
    return `{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":${id},` +
      `"system":"${this.faults.systemStatus}","version":"2.0.10"}]}`;
  }

  #broadcastStatus(_system: KrakenSystemStatus): void {
    for (const c of this.#connections.values()) c.sendResponse(this.#statusMessage(c.id));
  }

  #dropAll(): number {
    let dropped = 0;
    for (const c of this.#connections.values()) if (this.#server.drop(c.remotePort)) dropped++;
    return dropped + this.orders.disconnectAll();
  }

  #onSubscribed(connection: KrakenConnection, sub: Subscription, snapshot: boolean): void {
    const stalled = this.faults.stalled(performance.now());
    const timeMs = this.#clock();
    const index = sub.pairIndex;
    switch (sub.channel) {
      case "instrument": {
        if (!snapshot) return;
        const data = {
          assets: instrumentAssetsJson(this.pairs),
          pairs: this.pairs.map(instrumentPairJson),
        };
        connection.sendData(
          JSON.stringify({ channel: "instrument", type: "snapshot", data }),
          stalled,
        );
        return;
      }
      case "book": {
        // The snapshot is the client's starting view even when not sent (snapshot:false).
        const book = this.market.book(index);
        sub.view = { bids: book.bids.topLevels(sub.depth), asks: book.asks.topLevels(sub.depth) };
        if (snapshot) {
          connection.sendData(
            this.#bookMessage(index, "snapshot", sub.view, sub.view, timeMs),
            stalled,
          );
        }
        return;
      }
      case "trade": {
        const trades = this.#state.recentTrades(index);
        if (snapshot) {
          connection.sendData(
            `{"channel":"trade","type":"snapshot","data":[${trades.join(",")}]}`,
            stalled,
          );
        }
        return;
      }
      case "ticker": {
        const book = this.market.book(index);
        sub.lastBbo = bboKey(book);
        if (snapshot) {
          const item = this.#state.tickerItem(index, book, timeMs);
          connection.sendData(`{"channel":"ticker","type":"snapshot","data":[${item}]}`, stalled);
        }
        return;
      }
      case "ohlc": {
        if (snapshot) {
          const item = this.#state.ohlcItem(index, sub.interval, timeMs);
          connection.sendData(
            `{"channel":"ohlc","type":"snapshot","timestamp":"${
              rfc3339Micros(timeMs)
            }","data":[${item}]}`,
            stalled,
          );
        }
        return;
      }
    }
  }

  /** A book message: `changes` are the levels to send, `view` the client's resulting book. */
  #bookMessage(
    index: number,
    type: "snapshot" | "update",
    changes: { bids: Levels; asks: Levels },
    view: { bids: Levels; asks: Levels },
    timeMs: number,
  ): string {
    const pair = this.pairs[index];
    const render = (levels: Levels) =>
      levels.slice(0, 10).map(([t, q]) => ({ price: priceText(pair, t), qty: qtyText(pair, q) }));
    let checksum = bookChecksum({ bids: render(view.bids), asks: render(view.asks) }, pair);
    if (this.faults.takeCorruptChecksum()) {
      checksum = (checksum ^ 0x5a5a5a5a) >>> 0;
      this.#checksumsCorrupted++;
    }
    return `{"channel":"book","type":"${type}","data":[{"symbol":${JSON.stringify(pair.name)},` +
      `"bids":${this.#state.levelsJson(index, changes.bids)},` +
      `"asks":${this.#state.levelsJson(index, changes.asks)},` +
      `"checksum":${checksum},"timestamp":"${rfc3339Micros(timeMs)}"}]}`;
  }

  // Public trades also reach the matching engine: resting orders they cross fill as maker.
  readonly #onMarketEvent = (event: MarketEvent): void => {
    this.#state.onEvent(event);
    if (event.kind !== "trade") return;
    const pair = this.pairs[event.symbolIndex];
    this.orders.onMarketTrade(
      event.symbolIndex,
      priceText(pair, event.tick),
      qtyText(pair, event.qtySteps),
    );
  };

  #tick(): void {
    const nowMs = performance.now();
    const due = this.#pacer.due(nowMs);
    const timeMs = this.#clock();
    if (due > 0) this.#pacer.record(this.market.generate(due, timeMs, this.#onMarketEvent));
    const batch = this.#state.takeBatch();
    const stalled = this.faults.stalled(nowMs);
    if (batch.booksTouched.size > 0 || batch.trades.size > 0) {
      this.#publish(batch.booksTouched, batch.trades, timeMs, stalled);
    }
    if (nowMs - this.#lastHeartbeatCheckMs >= Math.min(this.#heartbeatMs, 100)) {
      this.#lastHeartbeatCheckMs = nowMs;
      for (const c of this.#connections.values()) {
        if (c.subscriptions.size > 0 && nowMs - c.lastSentMs >= this.#heartbeatMs) {
          c.sendData(`{"channel":"heartbeat"}`, stalled);
          if (!c.silent && !stalled) this.#heartbeatsSent++;
          // A suppressed heartbeat still counts as the attempt for this period.
          c.lastSentMs = Math.max(c.lastSentMs, nowMs);
        }
      }
    }
  }

  #publish(
    touched: ReadonlySet<number>,
    trades: ReadonlyMap<number, string[]>,
    timeMs: number,
    stalled: boolean,
  ): void {
    const tickerItems = new Map<number, string>();
    const ticker = (index: number) => {
      let item = tickerItems.get(index);
      if (item === undefined) {
        item = this.#state.tickerItem(index, this.market.book(index), timeMs);
        tickerItems.set(index, item);
      }
      return item;
    };
    for (const c of this.#connections.values()) {
      for (const sub of c.subscriptions.values()) {
        const index = sub.pairIndex;
        switch (sub.channel) {
          case "book":
            if (touched.has(index)) this.#publishBook(c, sub, timeMs, stalled);
            break;
          case "trade": {
            const list = trades.get(index);
            if (list !== undefined) {
              c.sendData(`{"channel":"trade","type":"update","data":[${list.join(",")}]}`, stalled);
            }
            break;
          }
          case "ticker": {
            let push: boolean;
            if (sub.eventTrigger === "trades") {
              push = trades.has(index);
            } else {
              const key = bboKey(this.market.book(index));
              push = key !== sub.lastBbo;
              sub.lastBbo = key;
            }
            if (push) {
              c.sendData(`{"channel":"ticker","type":"update","data":[${ticker(index)}]}`, stalled);
            }
            break;
          }
          case "ohlc":
            if (trades.has(index)) {
              const item = this.#state.ohlcItem(index, sub.interval, timeMs);
              c.sendData(
                `{"channel":"ohlc","type":"update","timestamp":"${
                  rfc3339Micros(timeMs)
                }","data":[${item}]}`,
                stalled,
              );
            }
            break;
          case "instrument":
            break;
        }
      }
    }
  }

  #publishBook(c: KrakenConnection, sub: Subscription, timeMs: number, stalled: boolean): void {
    const view = sub.view;
    if (view === null) throw new Error("book subscription: expected a view, found none");
    const book = this.market.book(sub.pairIndex);
    const next = { bids: book.bids.topLevels(sub.depth), asks: book.asks.topLevels(sub.depth) };
    const changes = {
      bids: diffSide(view.bids, next.bids, sub.depth, "bid"),
      asks: diffSide(view.asks, next.asks, sub.depth, "ask"),
    };
    if (changes.bids.length === 0 && changes.asks.length === 0) return;
    // The client's view advances even when the frame is lost: that is what makes a gap.
    sub.view = next;
    if (c.silent || stalled) {
      c.framesDropped++;
      return;
    }
    if (this.faults.takeDropBookUpdate()) {
      this.#bookUpdatesDropped++;
      c.framesDropped++;
      return;
    }
    c.sendData(this.#bookMessage(sub.pairIndex, "update", changes, next, timeMs), false);
  }
}

/**
 * Levels to send so that a client holding `old` ends with `next` after applying them and
 * truncating to `depth`: changed and new levels, and deletions (qty 0) of levels that left
 * inside the window. Levels pushed beyond the window are not deleted (Kraken sends no delete
 * for them; the client truncates).
 */
export function diffSide(
  old: Levels,
  next: Levels,
  depth: number,
  side: "bid" | "ask",
): Levels {
  const oldQty = new Map(old);
  const nextQty = new Map(next);
  const changes: Levels = [];
  for (const [tick, qty] of next) if (oldQty.get(tick) !== qty) changes.push([tick, qty]);
  const worst = next.length === depth ? next[next.length - 1][0] : null;
  for (const [tick] of old) {
    if (nextQty.has(tick)) continue;
    const beyond = worst !== null && (side === "bid" ? tick < worst : tick > worst);
    if (!beyond) changes.push([tick, 0]);
  }
  return changes;
}

function bboKey(book: ReadonlyOrderBook): string {
  return `${book.bids.bestTick()}:${book.bids.bestQty()}:${book.asks.bestTick()}:${book.asks.bestQty()}`;
}
