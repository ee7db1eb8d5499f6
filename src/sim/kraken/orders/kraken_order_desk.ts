/**
 * The Kraken simulator's order side (protocol notes kraken.md §6, §8 "Auth / trading"): the
 * authenticated WebSocket endpoint (`ws-auth`, its own port, path `/v2`) serving `executions`,
 * `add_order` and `cancel_order`; the signed REST calls `GetWebSocketsToken`, `OpenOrders`,
 * `ClosedOrders` and `QueryOrders`; the public REST `AssetPairs`; and the `/_sim/orders/*` admin
 * endpoints. Matching is the shared {@linkcode SimOrderEngine} over the market generator.
 *
 * Update sequence of an accepted order, one `executions` message per event with a strictly
 * increasing `sequence` per subscription: `pending_new` (full details) → `new` (abbreviated) →
 * `trade`s (always `order_status:"partially_filled"`, also on the completing fill; only the
 * first trade repeats `cl_ord_id`/`symbol`) → a separate `filled`; or `canceled` / `expired`
 * with a `reason`. The method response comes before or after `pending_new` (random by default).
 *
 * Where it knowingly differs from the real venue:
 * - Error texts not quoted in the protocol notes are chosen from Kraken's REST error list:
 *   `EOrder:Invalid price:<SYM> price can only be specified up to N decimals.`,
 *   `EGeneral:Invalid arguments:order_qty` (step), `EOrder:Order minimum not met`,
 *   `EOrder:Cost minimum not met`, `EQuery:Unknown asset pair`, `EService:Unavailable`,
 *   `EService:Market in cancel_only mode`, `EService:Market in post_only mode`.
 * - Cancel reasons: `User requested`, `Insufficient liquidity` (IOC remainder), `Post only
 *   order`, `Order expired`. Only limit and market orders, gtc and ioc; no gtd, amend, batch,
 *   `balances`, `level3` or `cancel_all_orders_after`. `validate:true` checks the filters but
 *   not the balance. `snap_trades` sends no trades. `order_userref` orders cannot be cancelled
 *   by userref.
 *
 * @module
 */

import { TcpFront } from "../../shared/tcp_front.ts";
import type { MarketGenerator } from "../../market/mod.ts";
import {
  formatAtomsMinimal,
  MarketBookSource,
  parseAtoms,
  type SimEndReason,
  simInstrumentsFromMarket,
  type SimOrder,
  SimOrderEngine,
  type SimOrderEvent,
  type SimRejectReason,
} from "../../order_engine/mod.ts";
import type { KrakenSystemStatus } from "../fault_controller.ts";
import type { KrakenPair } from "../kraken_pair.ts";
import { errorResponse, rfc3339Micros, successResponse } from "../wire_format.ts";
import { AuthConnection } from "./auth_connection.ts";
import { AuthKeys } from "./auth_keys.ts";
import {
  averagePrice,
  engineOrderIdOf,
  type ExecFields,
  executionItem,
  krakenExecIdOf,
  krakenOrderIdOf,
  orderDetailFields,
  priceLiteral,
  qtyLiteral,
  restOrderRecord,
} from "./order_wire.ts";
import {
  KRAKEN_DUPLICATE_ORDER_ERROR_DEFAULT,
  KRAKEN_SIM_CREDENTIALS,
  KRAKEN_TOKEN_LIFETIME_MS_DEFAULT,
  type KrakenResponseOrder,
  type KrakenSimOrderOptions,
} from "./sim_accounts.ts";

/** Rate counter ceiling reported in the executions ack (kraken.md §6.3 sample). */
const MAX_RATE_COUNT = 125;
/** Closed orders kept for REST queries, per simulator. */
const CLOSED_ORDERS_MAX = 10_000;
/** Orders one ClosedOrders page returns (Kraken: 50). */
const CLOSED_PAGE_MAX = 50;

/** Counters of the admin endpoint `GET /_sim/orders/stats` (field names as the plan fixes). */
export interface KrakenSimOrderStats {
  /** `add_order` requests received (not `validate:true` dry runs). */
  place_requests: number;
  /** Of them, accepted. */
  accepted: number;
  /** Of them, refused. */
  rejected: number;
  /** `add_order` requests per `cl_ord_id`. */
  place_requests_by_client_id: Record<string, number>;
}

/** What the desk needs from the simulator. */
export interface OrderDeskHost {
  /** Served pairs, in the market generator's symbol order. */
  readonly pairs: readonly KrakenPair[];
  /** The market generator (books and symbols). */
  readonly market: MarketGenerator;
  /** Index of the pair named `name` (v2 `BTC/USDT`), or -1. */
  pairIndex(name: string): number;
  /** Wall clock in ms. */
  clock(): number;
  /** Current system status (add_order is refused in maintenance / cancel_only). */
  systemStatus(): KrakenSystemStatus;
  /** Heartbeat period on quiet subscribed connections, ms. */
  readonly heartbeatMs: number;
}

interface OrderMeta {
  readonly apiKey: string;
  readonly pair: KrakenPair;
  /** False for orders placed without cl_ord_id (the engine needs an internal one). */
  readonly reportClientId: boolean;
  fee: bigint;
  newSent: boolean;
  tradesSent: number;
  reason: string;
}

interface ClosedEntry {
  readonly order: SimOrder;
  readonly meta: OrderMeta;
}

type Params = Record<string, unknown>;

/** The order side. Created by the simulator; reach it as `sim.orders`. */
export class KrakenOrderDesk {
  /** `ws://127.0.0.1:<port>/v2`: the authenticated endpoint. */
  readonly authWsUrl: string;
  /** Port of the authenticated endpoint. */
  readonly authPort: number;
  /** The matching engine. */
  readonly engine: SimOrderEngine;
  readonly #host: OrderDeskHost;
  readonly #auth: AuthKeys;
  readonly #random: () => number;
  readonly #duplicateError: string;
  readonly #front: TcpFront;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #connections = new Map<number, AuthConnection>();
  readonly #meta = new Map<number, OrderMeta>();
  readonly #closed = new Map<number, ClosedEntry>();
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #responseOrder: KrakenResponseOrder;
  #capture: SimOrderEvent[] | null = null;
  #skipSequences = 0;
  #dropResponses = 0;
  #nextConnectionId = 1;
  #anonymousId = 0;
  #closing: Promise<void> | null = null;
  readonly #stats: KrakenSimOrderStats = {
    place_requests: 0,
    accepted: 0,
    rejected: 0,
    place_requests_by_client_id: {},
  };

  /** Binds the auth endpoint on `hostname`. */
  constructor(host: OrderDeskHost, options: KrakenSimOrderOptions & { hostname: string }) {
    this.#host = host;
    const accounts = options.accounts ?? [KRAKEN_SIM_CREDENTIALS];
    if (accounts.length === 0) throw new RangeError("accounts: expected at least one, found none");
    this.#auth = new AuthKeys(accounts, {
      clock: host.clock,
      tokenLifetimeMs: options.tokenLifetimeMs ?? KRAKEN_TOKEN_LIFETIME_MS_DEFAULT,
    });
    this.#random = options.random ?? Math.random;
    this.#duplicateError = options.duplicateOrderError ?? KRAKEN_DUPLICATE_ORDER_ERROR_DEFAULT;
    this.#responseOrder = options.responseOrder ?? "random";
    this.engine = new SimOrderEngine({
      instruments: simInstrumentsFromMarket(host.market),
      book: new MarketBookSource(host.market),
      clock: host.clock,
      initialBalances: options.initialBalances ?? defaultBalances(host.pairs),
      feeRate: options.feeRate,
    });
    for (const apiKey of this.#auth.apiKeys) {
      this.engine.subscribe(apiKey, (event) => this.#onEngineEvent(apiKey, event));
    }
    this.#front = TcpFront.bind({ hostname: options.hostname, port: options.authPort ?? 0 });
    try {
      this.#server = Deno.serve(
        { hostname: options.hostname, port: 0, onListen: () => {} },
        (request, info) => this.#handleAuth(request, info.remoteAddr.port),
      );
    } catch (err) {
      void this.#front.close();
      throw err;
    }
    this.#front.start(this.#server.addr.port);
    this.authPort = this.#front.port;
    this.authWsUrl = `ws://${options.hostname}:${this.authPort}/v2`;
    const periodMs = Math.max(10, Math.min(250, Math.floor(host.heartbeatMs / 4)));
    this.#heartbeat = setInterval(() => this.#sendHeartbeats(), periodMs);
  }

  // ---- knobs ---------------------------------------------------------------------------

  /** Counters (`GET /_sim/orders/stats`). */
  stats(): KrakenSimOrderStats {
    return structuredClone(this.#stats);
  }

  /** Every token issued so far (tests assert none of them reaches a log). */
  get tokensIssued(): readonly string[] {
    return this.#auth.tokensIssued;
  }

  /** Every `API-Sign` header received (tests assert none of them reaches a log). */
  get signaturesSeen(): readonly string[] {
    return this.#auth.signaturesSeen;
  }

  /** The next `count` executions messages skip one `sequence` value each (gap injection). */
  skipSequence(count = 1): void {
    this.#skipSequences += positive(count);
  }

  /** The next `count` add_order / cancel_order responses are not sent (the work is done). */
  dropResponses(count = 1): void {
    this.#dropResponses += positive(count);
  }

  /** Sets whether the add_order response or `pending_new` comes first. */
  setResponseOrder(order: KrakenResponseOrder): void {
    this.#responseOrder = order;
  }

  /** Forgets every token (private requests then get `ESession:Invalid session`). */
  revokeTokens(): void {
    this.#auth.revokeTokens();
  }

  /** Cuts every auth connection abruptly (TCP close); returns how many. */
  disconnectAll(): number {
    let dropped = 0;
    for (const c of this.#connections.values()) if (this.#front.drop(c.remotePort)) dropped++;
    return dropped;
  }

  /**
   * Fills a resting order of `apiKey` (default the first account) by client id, `qty` (default
   * all that is left) at `price` (default its limit); undefined when no such open order.
   */
  fill(
    clientId: string,
    options: { qty?: string; price?: string; apiKey?: string } = {},
  ): SimOrder | undefined {
    const apiKey = options.apiKey ?? this.#auth.apiKeys[0];
    return this.engine.fillResting(apiKey, { clientId }, options.qty, options.price);
  }

  /** Expires an open order by client id; undefined when no such open order. */
  expire(clientId: string, options: { apiKey?: string } = {}): SimOrder | undefined {
    const apiKey = options.apiKey ?? this.#auth.apiKeys[0];
    return this.engine.expire(apiKey, { clientId });
  }

  /** Feeds one public trade (pair index, exact price and qty) to the engine. */
  onMarketTrade(pairIndex: number, price: string, qty: string): void {
    this.engine.onMarketTrade(this.#host.pairs[pairIndex].market.canonical, price, qty);
  }

  /** Stops the heartbeat, closes every auth connection, the front and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const c of this.#connections.values()) c.close(1001, "simulator shutting down");
    const deadlineMs = performance.now() + 1000;
    while (this.#connections.size > 0 && performance.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.#front.close();
    await this.#server.shutdown();
  }

  // ---- HTTP on the public port ----------------------------------------------------------

  /**
   * Serves the order side's HTTP paths on the simulator's REST port; undefined when `url` is
   * not one of them.
   */
  handleHttp(request: Request, url: URL): Promise<Response> | undefined {
    const path = url.pathname;
    if (path.startsWith("/0/private/")) return this.#privateRest(request, path);
    if (path === "/0/public/AssetPairs") return Promise.resolve(this.#assetPairs(url));
    if (path.startsWith("/_sim/orders/")) return this.#admin(request, path);
    return undefined;
  }

  async #privateRest(request: Request, path: string): Promise<Response> {
    const body = await request.text();
    if (request.method !== "POST") {
      return Response.json({ error: ["EGeneral:Invalid arguments"] }, { status: 405 });
    }
    const auth = await this.#auth.check(path, request.headers, body);
    if (!auth.ok) return Response.json({ error: [auth.error] });
    const { apiKey, params } = auth;
    switch (path.slice("/0/private/".length)) {
      case "GetWebSocketsToken":
        return Response.json({
          error: [],
          result: { token: this.#auth.issueToken(apiKey), expires: 900 },
        });
      case "OpenOrders": {
        const clientId = params.get("cl_ord_id");
        const open: Record<string, unknown> = {};
        for (const order of this.engine.openOrders(apiKey)) {
          const meta = this.#meta.get(order.orderId);
          if (meta === undefined || !meta.reportClientId && clientId !== null) continue;
          if (clientId !== null && order.clientId !== clientId) continue;
          open[krakenOrderIdOf(order.orderId)] = this.#record(order, meta);
        }
        return Response.json({ error: [], result: { open } });
      }
      case "ClosedOrders": {
        const clientId = params.get("cl_ord_id");
        const matches: ClosedEntry[] = [];
        for (const entry of this.#closed.values()) {
          if (entry.meta.apiKey !== apiKey) continue;
          if (
            clientId !== null && (!entry.meta.reportClientId || entry.order.clientId !== clientId)
          ) {
            continue;
          }
          matches.push(entry);
        }
        const closed: Record<string, unknown> = {};
        for (const entry of matches.reverse().slice(0, CLOSED_PAGE_MAX)) {
          closed[krakenOrderIdOf(entry.order.orderId)] = this.#record(entry.order, entry.meta);
        }
        return Response.json({ error: [], result: { closed, count: matches.length } });
      }
      case "QueryOrders": {
        const result: Record<string, unknown> = {};
        for (const txid of (params.get("txid") ?? "").split(",")) {
          const id = engineOrderIdOf(txid.trim());
          if (id === undefined) return Response.json({ error: ["EOrder:Invalid order"] });
          const closed = this.#closed.get(id);
          if (closed !== undefined && closed.meta.apiKey === apiKey) {
            result[txid.trim()] = this.#record(closed.order, closed.meta);
            continue;
          }
          const order = this.engine.get(apiKey, { orderId: id });
          const meta = this.#meta.get(id);
          if (order === undefined || meta === undefined) {
            return Response.json({ error: ["EOrder:Invalid order"] });
          }
          result[txid.trim()] = this.#record(order, meta);
        }
        return Response.json({ error: [], result });
      }
      default:
        return Response.json({ error: ["EGeneral:Unknown method"] }, { status: 404 });
    }
  }

  #record(order: SimOrder, meta: OrderMeta): Record<string, unknown> {
    return restOrderRecord(meta.pair, order, {
      fee: formatAtomsMinimal(meta.fee),
      reason: meta.reason,
      reportClientId: meta.reportClientId,
    });
  }

  #assetPairs(url: URL): Response {
    const wanted = url.searchParams.get("pair");
    const v2Keys = url.searchParams.get("assetVersion") === "1";
    const result: Record<string, unknown> = {};
    for (const pair of this.#host.pairs) {
      const altname = `${pair.market.base}${pair.market.quote}`;
      if (wanted !== null && !wanted.split(",").some((w) => w === altname || w === pair.name)) {
        continue;
      }
      const spec = pair.market.spec;
      result[v2Keys ? pair.name : altname] = {
        altname,
        wsname: pair.name,
        aclass_base: "currency",
        base: pair.market.base,
        aclass_quote: "currency",
        quote: pair.market.quote,
        lot: "unit",
        cost_decimals: 5,
        pair_decimals: pair.pricePrecision,
        lot_decimals: pair.qtyPrecision,
        lot_multiplier: 1,
        fees: [[0, 0.1]],
        fees_maker: [[0, 0.1]],
        fee_volume_currency: "ZUSD",
        margin_call: 80,
        margin_stop: 40,
        ordermin: spec.stepSize,
        costmin: spec.minNotional,
        tick_size: spec.tickSize,
        status: "online",
      };
    }
    if (Object.keys(result).length === 0) {
      return Response.json({ error: ["EQuery:Unknown asset pair"] });
    }
    return Response.json({ error: [], result });
  }

  async #admin(request: Request, path: string): Promise<Response> {
    const text = await request.text();
    if (path === "/_sim/orders/stats" && request.method === "GET") {
      return Response.json(this.stats());
    }
    if (request.method !== "POST") {
      return Response.json({ error: `unknown admin path ${request.method} ${path}` }, {
        status: 404,
      });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text === "" ? "{}" : text);
    } catch {
      return Response.json({ error: "body: expected JSON" }, { status: 400 });
    }
    const clientId = body.client_id;
    if (typeof clientId !== "string") {
      return Response.json({ error: "client_id: expected a string" }, { status: 400 });
    }
    const apiKey = typeof body.api_key === "string" ? body.api_key : undefined;
    let order: SimOrder | undefined;
    if (path === "/_sim/orders/fill") {
      order = this.fill(clientId, {
        qty: typeof body.qty === "string" ? body.qty : undefined,
        price: typeof body.price === "string" ? body.price : undefined,
        apiKey,
      });
    } else if (path === "/_sim/orders/expire") {
      order = this.expire(clientId, { apiKey });
    } else {
      return Response.json({ error: `unknown admin path ${path}` }, { status: 404 });
    }
    if (order === undefined) {
      return Response.json({ error: `no open order with client_id ${clientId}` }, { status: 404 });
    }
    return Response.json(order);
  }

  // ---- the auth WebSocket endpoint ------------------------------------------------------

  #handleAuth(request: Request, remotePort: number): Response {
    const url = new URL(request.url);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || url.pathname !== "/v2") {
      return new Response(`unknown path ${url.pathname}: expected a WebSocket on /v2`, {
        status: 404,
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const connection = new AuthConnection({ id: this.#nextConnectionId++, remotePort, socket });
    this.#connections.set(connection.id, connection);
    socket.onopen = () => {
      const id = `1289374918273949${String(1000 + connection.id).padStart(4, "0")}`;
      connection.send(
        `{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":${id},` +
          `"system":"${this.#host.systemStatus()}","version":"2.0.10"}]}`,
      );
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.#onMessage(connection, event.data);
    };
    socket.onclose = () => this.#connections.delete(connection.id);
    socket.onerror = () => {};
    return response;
  }

  #sendHeartbeats(): void {
    const nowMs = performance.now();
    for (const c of this.#connections.values()) {
      if (c.executions !== null && nowMs - c.lastSentMs >= this.#host.heartbeatMs) {
        c.send(`{"channel":"heartbeat"}`);
      }
    }
  }

  #onMessage(connection: AuthConnection, text: string): void {
    const timeInMs = this.#host.clock();
    let request: unknown;
    try {
      // Numbers keep their exact source text: order_qty 0.10000000 must not become a double.
      request = JSON.parse(text, exactNumbers);
    } catch {
      request = null;
    }
    const reply = (method: string, error: string, reqId?: number) =>
      connection.send(
        errorResponse(method, { error, reqId, timeInMs, timeOutMs: this.#host.clock() }),
      );
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      reply("error", "Malformed request");
      return;
    }
    const r = request as Params;
    const reqId = r.req_id === undefined ? undefined : Number(r.req_id);
    if (reqId !== undefined && !Number.isSafeInteger(reqId)) {
      reply("error", "Malformed request");
      return;
    }
    const method = typeof r.method === "string" ? r.method : "error";
    const params = typeof r.params === "object" && r.params !== null && !Array.isArray(r.params)
      ? r.params as Params
      : undefined;
    const ok = (result: unknown) =>
      connection.send(
        successResponse(method, { result, reqId, timeInMs, timeOutMs: this.#host.clock() }),
      );
    if (method === "ping") {
      connection.send(JSON.stringify({
        method: "pong",
        ...(reqId === undefined ? {} : { req_id: reqId }),
        time_in: rfc3339Micros(timeInMs),
        time_out: rfc3339Micros(this.#host.clock()),
      }));
      return;
    }
    if (method === "subscribe" || method === "unsubscribe") {
      if (params === undefined || params.channel !== "executions") {
        const channel = params?.channel;
        reply(method, `Channel ${String(channel)} not supported`, reqId);
        return;
      }
      if (this.#auth.useToken(params.token) === undefined) {
        reply(method, "ESession:Invalid session", reqId);
        return;
      }
      if (method === "unsubscribe") {
        if (connection.executions === null) {
          reply(method, "Subscription Not Found", reqId);
          return;
        }
        connection.executions = null;
        ok({ channel: "executions" });
        return;
      }
      this.#subscribeExecutions(connection, params, ok, (e) => reply(method, e, reqId));
      return;
    }
    if (method === "add_order") {
      this.#addOrder(connection, params ?? {}, reqId, timeInMs);
      return;
    }
    if (method === "cancel_order") {
      this.#cancelOrder(connection, params ?? {}, reqId, timeInMs);
      return;
    }
    reply(method, method === "error" ? "Malformed request" : "Method not found", reqId);
  }

  #subscribeExecutions(
    connection: AuthConnection,
    params: Params,
    ok: (result: unknown) => void,
    fail: (error: string) => void,
  ): void {
    const apiKey = this.#auth.useToken(params.token);
    if (apiKey === undefined) {
      fail("ESession:Invalid session");
      return;
    }
    if (connection.executions !== null) {
      fail("Already subscribed");
      return;
    }
    const snapOrders = params.snap_orders === undefined ? true : params.snap_orders === true;
    const snapTrades = params.snap_trades === true;
    ok({
      channel: "executions",
      maxratecount: MAX_RATE_COUNT,
      snap_orders: snapOrders,
      snap_trades: snapTrades,
    });
    connection.executions = { apiKey, sequence: 0 };
    const items: string[] = [];
    if (snapOrders) {
      const timeMs = this.#host.clock();
      for (const order of this.engine.openOrders(apiKey)) {
        const meta = this.#meta.get(order.orderId);
        if (meta === undefined) continue;
        const fields = orderDetailFields(meta.pair, order, meta.reportClientId, timeMs);
        items.push(executionItem("new", order.state, krakenOrderIdOf(order.orderId), fields));
      }
    }
    this.#sendExecutions(connection, "snapshot", items);
  }

  #sendExecutions(connection: AuthConnection, type: "snapshot" | "update", items: string[]): void {
    const sub = connection.executions;
    if (sub === null) return;
    sub.sequence += 1;
    if (type === "update" && this.#skipSequences > 0) {
      this.#skipSequences--;
      sub.sequence += 1;
    }
    connection.send(
      `{"channel":"executions","type":"${type}","data":[${
        items.join(",")
      }],"sequence":${sub.sequence}}`,
    );
  }

  #broadcast(apiKey: string, item: string): void {
    for (const c of this.#connections.values()) {
      if (c.executions?.apiKey === apiKey) this.#sendExecutions(c, "update", [item]);
    }
  }

  #respond(connection: AuthConnection, text: string): void {
    if (this.#dropResponses > 0) {
      this.#dropResponses--;
      return;
    }
    connection.send(text);
  }

  #addOrder(
    connection: AuthConnection,
    params: Params,
    reqId: number | undefined,
    timeInMs: number,
  ): void {
    const fail = (error: string, counted: boolean) => {
      if (counted) this.#stats.rejected++;
      this.#respond(
        connection,
        errorResponse("add_order", { error, reqId, timeInMs, timeOutMs: this.#host.clock() }),
      );
    };
    const apiKey = this.#auth.useToken(params.token);
    const validate = params.validate === true;
    const clOrdId = params.cl_ord_id;
    if (!validate) {
      this.#stats.place_requests++;
      if (typeof clOrdId === "string") {
        const by = this.#stats.place_requests_by_client_id;
        by[clOrdId] = (by[clOrdId] ?? 0) + 1;
      }
    }
    const counted = !validate;
    if (apiKey === undefined) return fail("ESession:Invalid session", counted);
    const system = this.#host.systemStatus();
    if (system === "maintenance") return fail("EService:Unavailable", counted);
    if (system === "cancel_only") return fail("EService:Market in cancel_only mode", counted);
    if (clOrdId !== undefined && params.order_userref !== undefined) {
      return fail("EGeneral:Invalid arguments", counted);
    }
    if (clOrdId !== undefined && (typeof clOrdId !== "string" || !validClientId(clOrdId))) {
      return fail("EGeneral:Invalid arguments", counted);
    }
    const orderType = params.order_type;
    const side = params.side;
    if (
      (orderType !== "limit" && orderType !== "market") || (side !== "buy" && side !== "sell")
    ) {
      return fail("EGeneral:Invalid arguments", counted);
    }
    const index = typeof params.symbol === "string" ? this.#host.pairIndex(params.symbol) : -1;
    if (index === -1) return fail("EQuery:Unknown asset pair", counted);
    const pair = this.#host.pairs[index];
    const qty = params.order_qty;
    if (typeof qty !== "string" || !/^\d+(\.\d+)?$/.test(qty)) {
      return fail("EGeneral:Invalid arguments:order_qty", counted);
    }
    let price = "";
    let tif: "GTC" | "IOC" = "IOC";
    const postOnly = params.post_only === true;
    if (orderType === "limit") {
      price = typeof params.limit_price === "string" ? params.limit_price : "";
      if (!/^\d+(\.\d+)?$/.test(price)) {
        return fail("EGeneral:Invalid arguments:limit_price", counted);
      }
      const tifText = params.time_in_force === undefined
        ? "gtc"
        : String(params.time_in_force).toLowerCase();
      if (tifText !== "gtc" && tifText !== "ioc") {
        return fail("EGeneral:Invalid arguments", counted);
      }
      tif = tifText === "gtc" ? "GTC" : "IOC";
    }
    if (system === "post_only" && !(orderType === "limit" && postOnly)) {
      return fail("EService:Market in post_only mode", counted);
    }
    const filter = filterError(pair, price, qty);
    if (filter !== "") return fail(filter, counted);
    const reportClientId = typeof clOrdId === "string";
    if (validate) {
      this.#respond(
        connection,
        successResponse("add_order", {
          result: reportClientId ? { cl_ord_id: clOrdId } : {},
          reqId,
          timeInMs,
          timeOutMs: this.#host.clock(),
        }),
      );
      return;
    }
    const clientId = reportClientId ? clOrdId as string : `~anonymous-${++this.#anonymousId}`;
    this.#capture = [];
    const result = this.engine.place({
      account: apiKey,
      clientId,
      symbol: pair.market.canonical,
      side,
      orderType,
      timeInForce: tif,
      postOnly,
      price,
      qty,
    });
    const events = this.#capture;
    this.#capture = null;
    if (!result.ok) return fail(this.#rejectText(result.reason, pair), true);
    this.#stats.accepted++;
    const order = result.order;
    const meta: OrderMeta = {
      apiKey,
      pair,
      reportClientId,
      fee: 0n,
      newSent: false,
      tradesSent: 0,
      reason: "",
    };
    this.#meta.set(order.orderId, meta);
    const orderId = krakenOrderIdOf(order.orderId);
    const pendingView: SimOrder = { ...order, state: "new", cumQty: "0", cumQuote: "0" };
    const pending = executionItem(
      "pending_new",
      "pending_new",
      orderId,
      orderDetailFields(pair, pendingView, reportClientId, order.createdMs),
    );
    const response = successResponse("add_order", {
      result: reportClientId ? { order_id: orderId, cl_ord_id: clOrdId } : { order_id: orderId },
      reqId,
      timeInMs,
      timeOutMs: this.#host.clock(),
    });
    const responseFirst = this.#responseOrder === "response_first" ||
      (this.#responseOrder === "random" && this.#random() < 0.5);
    if (responseFirst) this.#respond(connection, response);
    this.#broadcast(apiKey, pending);
    if (!responseFirst) this.#respond(connection, response);
    for (const event of events) this.#deliver(apiKey, event);
  }

  #rejectText(reason: SimRejectReason, pair: KrakenPair): string {
    switch (reason) {
      case "unknown_symbol":
        return "EQuery:Unknown asset pair";
      case "invalid_parameter":
        return "EGeneral:Invalid arguments";
      case "filter_tick_size":
        return tickError(pair);
      case "filter_step_size":
        return "EGeneral:Invalid arguments:order_qty";
      case "filter_min_qty":
        return "EOrder:Order minimum not met";
      case "filter_min_notional":
        return "EOrder:Cost minimum not met";
      case "insufficient_balance":
        return "EOrder:Insufficient funds";
      case "duplicate_client_id":
        return this.#duplicateError;
    }
  }

  #cancelOrder(
    connection: AuthConnection,
    params: Params,
    reqId: number | undefined,
    timeInMs: number,
  ): void {
    const reply = (error: string | null, result?: unknown) => {
      const timeOutMs = this.#host.clock();
      this.#respond(
        connection,
        error === null
          ? successResponse("cancel_order", { result, reqId, timeInMs, timeOutMs })
          : errorResponse("cancel_order", { error, reqId, timeInMs, timeOutMs }),
      );
    };
    const apiKey = this.#auth.useToken(params.token);
    if (apiKey === undefined) return reply("ESession:Invalid session");
    const lists = (["order_id", "cl_ord_id", "order_userref"] as const)
      .filter((k) => params[k] !== undefined);
    if (lists.length !== 1 || !Array.isArray(params[lists[0]])) {
      return reply("EGeneral:Invalid arguments");
    }
    const kind = lists[0];
    const ids = params[kind] as unknown[];
    if (ids.length === 0) return reply("EGeneral:Invalid arguments");
    for (const id of ids) {
      let found: SimOrder | undefined;
      if (kind === "cl_ord_id" && typeof id === "string") {
        found = this.engine.openOrders(apiKey).find((o) =>
          o.clientId === id && this.#meta.get(o.orderId)?.reportClientId === true
        );
      } else if (kind === "order_id" && typeof id === "string") {
        const n = engineOrderIdOf(id);
        found = n === undefined
          ? undefined
          : this.engine.openOrders(apiKey).find((o) => o.orderId === n);
      }
      if (found === undefined) {
        reply("EOrder:Unknown order");
        continue;
      }
      this.#capture = [];
      const result = this.engine.cancel(apiKey, { orderId: found.orderId });
      const events = this.#capture;
      this.#capture = null;
      if (!result.ok) {
        reply("EOrder:Unknown order");
        continue;
      }
      const meta = this.#meta.get(found.orderId);
      reply(
        null,
        meta?.reportClientId
          ? { order_id: krakenOrderIdOf(found.orderId), cl_ord_id: found.clientId }
          : { order_id: krakenOrderIdOf(found.orderId) },
      );
      for (const event of events) this.#deliver(apiKey, event);
    }
  }

  // ---- engine events -> executions -------------------------------------------------------

  #onEngineEvent(apiKey: string, event: SimOrderEvent): void {
    if (this.#capture !== null) {
      this.#capture.push(event);
      return;
    }
    this.#deliver(apiKey, event);
  }

  #deliver(apiKey: string, event: SimOrderEvent): void {
    const order = event.order;
    const meta = this.#meta.get(order.orderId);
    if (meta === undefined) return; // Not an order of this desk (cannot happen: one engine each).
    const pair = meta.pair;
    const orderId = krakenOrderIdOf(order.orderId);
    const timestamp = `"${rfc3339Micros(order.updatedMs)}"`;
    const clientField = (fields: ExecFields) => {
      if (meta.reportClientId) fields.cl_ord_id = JSON.stringify(order.clientId);
      return fields;
    };
    const sendNew = () => {
      if (meta.newSent) return;
      meta.newSent = true;
      this.#broadcast(apiKey, executionItem("new", "new", orderId, clientField({ timestamp })));
    };
    switch (event.kind) {
      case "new":
        sendNew();
        return;
      case "trade": {
        sendNew();
        meta.fee += parseAtoms(event.fee) ?? 0n;
        const first = meta.tradesSent === 0;
        meta.tradesSent++;
        const fields: ExecFields = {};
        if (first) {
          clientField(fields);
          fields.symbol = JSON.stringify(pair.name);
          fields.side = `"${order.side}"`;
          fields.order_type = `"${order.orderType}"`;
        }
        fields.exec_id = `"${krakenExecIdOf(event.tradeId)}"`;
        fields.trade_id = String(event.tradeId);
        fields.last_qty = qtyLiteral(pair, event.qty);
        fields.last_price = priceLiteral(pair, event.price);
        fields.cost = event.quote;
        fields.liquidity_ind = event.maker ? `"m"` : `"t"`;
        fields.fees = `[{"asset":${JSON.stringify(event.feeAsset)},"qty":${event.fee}}]`;
        fields.cum_qty = qtyLiteral(pair, order.cumQty);
        fields.cum_cost = order.cumQuote;
        fields.avg_price = averagePrice(pair, order.cumQuote, order.cumQty);
        fields.timestamp = timestamp;
        // Documented quirk (kraken.md §6.3): the completing trade still says partially_filled.
        this.#broadcast(apiKey, executionItem("trade", "partially_filled", orderId, fields));
        if (order.state === "filled") {
          this.#broadcast(
            apiKey,
            executionItem("filled", "filled", orderId, {
              cum_qty: qtyLiteral(pair, order.cumQty),
              cum_cost: order.cumQuote,
              avg_price: averagePrice(pair, order.cumQuote, order.cumQty),
              timestamp,
            }),
          );
          this.#retire(order, meta);
        }
        return;
      }
      case "canceled":
      case "expired": {
        meta.reason = reasonText(order.endReason);
        const fields = clientField({});
        fields.reason = JSON.stringify(meta.reason);
        fields.cum_qty = qtyLiteral(pair, order.cumQty);
        fields.cum_cost = order.cumQuote;
        fields.timestamp = timestamp;
        this.#broadcast(apiKey, executionItem(event.kind, event.kind, orderId, fields));
        this.#retire(order, meta);
        return;
      }
    }
  }

  #retire(order: SimOrder, meta: OrderMeta): void {
    this.#meta.delete(order.orderId);
    this.#closed.set(order.orderId, { order, meta });
    if (this.#closed.size > CLOSED_ORDERS_MAX) {
      const oldest = this.#closed.keys().next().value as number;
      this.#closed.delete(oldest);
    }
  }
}

/** Every asset of the pairs funded: 1 000 000 USDT/USD, 100 BTC, 10 000 of anything else. */
function defaultBalances(pairs: readonly KrakenPair[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    for (const asset of [pair.market.base, pair.market.quote]) {
      out[asset] = asset === "USDT" || asset === "USD"
        ? "1000000"
        : asset === "BTC"
        ? "100"
        : "10000";
    }
  }
  return out;
}

function reasonText(reason: SimEndReason | ""): string {
  switch (reason) {
    case "user":
      return "User requested";
    case "ioc_remainder":
    case "fok_unfilled":
      return "Insufficient liquidity";
    case "post_only_would_take":
      return "Post only order";
    case "expired":
      return "Order expired";
    default:
      return "";
  }
}

function tickError(pair: KrakenPair): string {
  const altname = `${pair.market.base}${pair.market.quote}`;
  return `EOrder:Invalid price:${altname} price can only be specified up to ${pair.pricePrecision} decimals.`;
}

/** The Kraken error text of a filter violation, "" when the order passes. */
function filterError(pair: KrakenPair, price: string, qty: string): string {
  const spec = pair.market.spec;
  const qtyAtoms = parseAtoms(qty);
  const step = parseAtoms(spec.stepSize) ?? 1n;
  if (qtyAtoms === undefined || qtyAtoms === 0n || qtyAtoms % step !== 0n) {
    return "EGeneral:Invalid arguments:order_qty";
  }
  if (qtyAtoms < step) return "EOrder:Order minimum not met";
  if (price === "") return "";
  const priceAtoms = parseAtoms(price);
  const tick = parseAtoms(spec.tickSize) ?? 1n;
  if (priceAtoms === undefined || priceAtoms === 0n || priceAtoms % tick !== 0n) {
    return tickError(pair);
  }
  const minNotional = parseAtoms(spec.minNotional) ?? 0n;
  if (priceAtoms * qtyAtoms < minNotional * 100_000_000n) return "EOrder:Cost minimum not met";
  return "";
}

/** `cl_ord_id` formats (kraken.md §6.2): UUID, 32-hex short UUID, or ≤ 18 printable chars. */
function validClientId(id: string): boolean {
  return /^[\x21-\x7e]{1,18}$/.test(id) ||
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id) ||
    /^[0-9a-fA-F]{32}$/.test(id);
}

/** JSON.parse reviver keeping every number's exact source text as a string. */
function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && context?.source !== undefined ? context.source : value;
}

function positive(count: number): number {
  if (!(Number.isSafeInteger(count) && count >= 1)) {
    throw new RangeError(`count: expected a positive integer, found ${count}`);
  }
  return count;
}
