/**
 * Kraken's trading side as an {@linkcode OrderVenue} (protocol notes kraken.md §6): a REST token
 * per (re)connection, the `executions` channel on the authenticated WebSocket with
 * `snap_orders`, `add_order` / `cancel_order` keyed by `cl_ord_id` (= the gateway's venue client
 * id), and signed REST `OpenOrders` / `ClosedOrders` filtered by `cl_ord_id` for queries.
 *
 * Choices, and why:
 * - Order queries use REST `OpenOrders` then `ClosedOrders` with the documented `cl_ord_id`
 *   filter: after a timeout the gateway knows only the client id (Kraken's `QueryOrders` needs
 *   the exchange's order id, which a lost response never delivered).
 * - Instrument rules come from REST `AssetPairs?assetVersion=1` (`tick_size`, `lot_decimals`,
 *   `ordermin`, `costmin`); its strings are exact, unlike the `instrument` channel's floats.
 * - Numbers travel as JSON numbers (v2), but never through a double: outbound prices and
 *   quantities are the gateway's decimal strings written into the JSON text, inbound numbers
 *   keep their source text ({@linkcode parseExactJson}) and are padded to the pair's precision.
 * - `pending_new` is not reported (it is not live yet); `new` is the ACK. A `trade` carries the
 *   fill and always reports `partially_filled` (Kraken says so even on the completing fill);
 *   completion comes only from `exec_type:"filled"`.
 * - A gap in `sequence` unsubscribes and subscribes `executions` again; the fresh snapshot is
 *   followed by `listener.onResynced()`, as after every reconnect.
 * - Requests are never resent. A request whose answer does not come in time rejects with
 *   {@linkcode VenueTimeoutError}, also when its socket died meanwhile.
 * - Nothing logged carries the API key, secret, token or signatures.
 *
 * @module
 */

import {
  type InstrumentRules,
  type OrderVenue,
  type VenueCancelResult,
  type VenueExecUpdate,
  type VenueListener,
  type VenueLogger,
  type VenueOrder,
  type VenueOrderState,
  type VenueOrderStatus,
  type VenuePlaceResult,
  type VenueRequestOptions,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../../orders/order_venue.ts";
import { type Clock, SYSTEM_CLOCK } from "../../../pool/mod.ts";
import { Backoff } from "../../shared/backoff.ts";
import {
  WsConnection,
  type WsConnectionEvent,
  type WsConnectionOptions,
  type WsOpenInfo,
} from "../../shared/ws_connection.ts";
import { encodeJson } from "../../../codec/mod.ts";
import type { KrakenCredentials } from "./kraken_credentials.ts";
import {
  decimalPlaces,
  formatDecimal,
  isPlainDecimal,
  parseExactJson,
  plainDecimal,
} from "./kraken_decimal.ts";
import { KrakenPrivateRest, KrakenRestError } from "./kraken_private_rest.ts";

/** Kraken's production endpoints of the trading side. */
export const KRAKEN_LIVE_ORDER_ENDPOINTS = Object.freeze({
  rest: "https://api.kraken.com",
  authWs: "wss://ws-auth.kraken.com/v2",
});

/** Default bound on start (rules, token, subscription, snapshot), ms. */
export const KRAKEN_VENUE_START_TIMEOUT_MS_DEFAULT = 15_000;
/** Default deadline of the venue's own REST calls (token, rules), ms. */
export const KRAKEN_VENUE_REST_TIMEOUT_MS_DEFAULT = 10_000;
/** Default silence on the auth socket before it is reconnected, ms (heartbeats are ~1/s). */
export const KRAKEN_VENUE_IDLE_TIMEOUT_MS_DEFAULT = 15_000;
/** Orders whose identity (order id → client id, symbol) is remembered at most. */
export const KRAKEN_VENUE_ORDERS_TRACKED_MAX = 100_000;

/** The venue's logger (see `VenueLogger` in `src/orders/order_venue.ts`). */
export type KrakenVenueLogger = VenueLogger;

/** Options of {@linkcode KrakenOrderVenue}. */
export interface KrakenOrderVenueOptions {
  /** REST base URL (`https://api.kraken.com` or the simulator's `restUrl`). */
  restUrl: string;
  /** Authenticated WebSocket URL (`wss://ws-auth.kraken.com/v2` or the simulator's `authWsUrl`). */
  authWsUrl: string;
  /** API key and secret (from {@linkcode krakenCredentialsFromEnv} or the simulator's). */
  credentials: KrakenCredentials;
  /** Timers and monotonic time (default the runtime's). */
  clock?: Clock;
  /** Where log lines go (default nowhere). */
  logger?: KrakenVenueLogger;
  /** Connection overrides (tests shorten backoff and timeouts). */
  connection?: Partial<
    Pick<
      WsConnectionOptions,
      "backoff" | "backoffResetAfterMs" | "connectTimeoutMs" | "closeTimeoutMs" | "idleTimeoutMs"
    >
  >;
  /** Bound on {@linkcode KrakenOrderVenue.start}, ms. Default 15 000. */
  startTimeoutMs?: number;
  /** Deadline of the token and rules REST calls, ms. Default 10 000. */
  restTimeoutMs?: number;
}

interface PairRules extends InstrumentRules {
  readonly wsName: string;
  readonly pricePrecision: number;
  readonly qtyPrecision: number;
}

interface TrackedOrder {
  clOrdId: string;
  symbol: string;
}

interface Pending {
  readonly what: string;
  readonly resolve: (message: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly timerId: number;
}

type Json = Record<string, unknown>;

const NO_LOGGER: KrakenVenueLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The Kraken order venue. */
export class KrakenOrderVenue implements OrderVenue {
  /** Provider name. */
  readonly provider = "kraken";
  readonly #opts: KrakenOrderVenueOptions;
  readonly #clock: Clock;
  readonly #log: KrakenVenueLogger;
  readonly #rest: KrakenPrivateRest;
  readonly #rules = new Map<string, PairRules>();
  /** v2 name (`BTC/USDT`) and REST altname (`BTCUSDT`) → canonical symbol. */
  readonly #canonicalOf = new Map<string, string>();
  readonly #pending = new Map<number, Pending>();
  /** Kraken order id → identity (abbreviated updates carry only the order id). */
  readonly #orders = new Map<string, TrackedOrder>();
  /** Client id → canonical symbol of orders this process placed. */
  readonly #symbolOfClient = new Map<string, string>();
  readonly #tokenBackoff: Backoff;
  #listener: VenueListener | null = null;
  #conn: WsConnection | null = null;
  #connId = 0;
  #token = "";
  #reqId = 0;
  #awaitingSnapshot = false;
  #expectedSequence = 0;
  #resyncOnSnapshot = false;
  #everReady = false;
  #ready = false;
  #closed = false;
  #retryTimerId: number | null = null;
  #firstReady: PromiseWithResolvers<void> | null = null;

  /** Validates options; does not connect. */
  constructor(opts: KrakenOrderVenueOptions) {
    if (opts.credentials.apiKey === "" || opts.credentials.secret === "") {
      throw new RangeError("kraken credentials: expected an API key and a secret, found empty");
    }
    this.#opts = opts;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#log = opts.logger ?? NO_LOGGER;
    this.#rest = new KrakenPrivateRest(opts.restUrl, {
      credentials: opts.credentials,
      clock: this.#clock,
    });
    this.#tokenBackoff = new Backoff({
      initialMs: opts.connection?.backoff?.initialMs ?? 250,
      maxMs: opts.connection?.backoff?.maxMs ?? 30_000,
    });
  }

  /** True while requests can be sent (connected, token valid, executions subscribed). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Sets the listener (before start). */
  setListener(listener: VenueListener): void {
    this.#listener = listener;
  }

  /** Trading rules of a canonical symbol. */
  rules(symbol: string): InstrumentRules | undefined {
    const r = this.#rules.get(symbol);
    if (r === undefined) return undefined;
    return {
      symbol: r.symbol,
      tickSize: r.tickSize,
      stepSize: r.stepSize,
      minQty: r.minQty,
      minNotional: r.minNotional,
    };
  }

  /**
   * Loads the rules, connects, gets a token, subscribes to `executions` and waits for its
   * snapshot. Rejects with VenueUnavailableError (and closes) when that fails in time.
   */
  async start(): Promise<void> {
    if (this.#conn !== null || this.#closed) {
      throw new Error("kraken venue: expected one start on an open venue, found a second");
    }
    const timeoutMs = this.#opts.startTimeoutMs ?? KRAKEN_VENUE_START_TIMEOUT_MS_DEFAULT;
    const restMs = this.#opts.restTimeoutMs ?? KRAKEN_VENUE_REST_TIMEOUT_MS_DEFAULT;
    try {
      await this.#loadRules(restMs);
    } catch (error) {
      await this.close();
      throw new VenueUnavailableError(`kraken venue: rules not loaded: ${messageOf(error)}`);
    }
    this.#firstReady = Promise.withResolvers<void>();
    const conn = new WsConnection({
      name: "kraken-orders",
      url: this.#opts.authWsUrl,
      onMessage: (text, _recvTsMs, connId) => this.#onFrame(text, connId),
      onOpen: (info) => this.#onOpen(info),
      onClose: () => this.#onSocketClosed(),
      onEvent: (event) => this.#onConnectionEvent(event),
      idleTimeoutMs: KRAKEN_VENUE_IDLE_TIMEOUT_MS_DEFAULT,
      ...this.#opts.connection,
      clock: this.#clock,
    });
    this.#conn = conn;
    conn.start();
    const timerId = this.#clock.setTimeout(
      () =>
        this.#firstReady?.reject(
          new VenueUnavailableError(`kraken venue: not ready within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    try {
      await this.#firstReady.promise;
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      this.#clock.clearTimeout(timerId);
      this.#firstReady = null;
    }
  }

  /** Sends `add_order` with `cl_ord_id` = the venue client id. Never resent. */
  async place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult> {
    const what = `place ${order.symbol} ${order.venueClientId}`;
    if (order.orderType === "limit" && order.timeInForce === "FOK") {
      // Kraken spot add_order offers gtc, gtd and ioc only (kraken.md §6.2): nothing is sent.
      return {
        kind: "rejected",
        code: "EGeneral:Invalid arguments",
        text: "time_in_force FOK is not offered by Kraken spot (gtc, gtd, ioc)",
      };
    }
    if (
      !isPlainDecimal(order.qty) || (order.orderType === "limit" && !isPlainDecimal(order.price))
    ) {
      throw new RangeError(
        `${what}: expected plain decimal price and qty, found "${order.price}", "${order.qty}"`,
      );
    }
    if (!/^[A-Za-z0-9]{1,18}$/.test(order.venueClientId)) {
      throw new RangeError(`${what}: expected 1-18 letters and digits as client id`);
    }
    const wsName = this.#rules.get(order.symbol)?.wsName ?? order.symbol.replace("-", "/");
    // Decimal strings go into the JSON text as they are: v2 wants numbers, we keep them exact.
    let params = `"order_type":"${order.orderType}","side":"${order.side}",` +
      `"order_qty":${order.qty},"symbol":${encodeJson(wsName)}`;
    if (order.orderType === "limit") {
      params += `,"limit_price":${order.price},"time_in_force":"${
        order.timeInForce === "IOC" ? "ioc" : "gtc"
      }"`;
    }
    params += `,"cl_ord_id":"${order.venueClientId}"`;
    this.#symbolOfClient.set(order.venueClientId, order.symbol);
    this.#trimTracking();
    const answer = await this.#request("add_order", params, what, opts.timeoutMs);
    if (answer.success !== true) {
      const error = String(answer.error ?? "");
      this.#log.info("kraken add_order rejected", {
        clientId: order.venueClientId,
        symbol: order.symbol,
        error,
      });
      this.#onSessionError(error);
      return { kind: "rejected", code: error, text: error };
    }
    const result = (answer.result ?? {}) as Json;
    const orderId = String(result.order_id ?? "");
    if (orderId !== "") this.#track(orderId, order.venueClientId, order.symbol);
    return { kind: "accepted", exchangeOrderId: orderId };
  }

  /** Sends `cancel_order` by `cl_ord_id`. */
  async cancel(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueCancelResult> {
    const what = `cancel ${ref.symbol} ${ref.venueClientId}`;
    const answer = await this.#request(
      "cancel_order",
      `"cl_ord_id":[${encodeJson(ref.venueClientId)}]`,
      what,
      opts.timeoutMs,
    );
    if (answer.success !== true) {
      const error = String(answer.error ?? "");
      this.#onSessionError(error);
      return { kind: "rejected", code: error, text: error };
    }
    return { kind: "accepted" };
  }

  /** REST OpenOrders, then ClosedOrders, filtered by `cl_ord_id`; null when neither knows it. */
  async query(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null> {
    this.#assertOpen();
    const startMs = this.#clock.nowMs();
    const open = await this.#rest.privateCall(
      "OpenOrders",
      { cl_ord_id: ref.venueClientId },
      opts.timeoutMs,
    );
    const found = this.#statuses(open.open).find((s) => s.venueClientId === ref.venueClientId);
    if (found !== undefined) return found;
    const leftMs = opts.timeoutMs - (this.#clock.nowMs() - startMs);
    if (leftMs <= 0) {
      throw new VenueTimeoutError(`query ${ref.symbol} ${ref.venueClientId}`, opts.timeoutMs);
    }
    const closed = await this.#rest.privateCall(
      "ClosedOrders",
      { cl_ord_id: ref.venueClientId },
      leftMs,
    );
    const matches = this.#statuses(closed.closed).filter((s) =>
      s.venueClientId === ref.venueClientId
    );
    // Newest first: a client id may be reused once its order closed.
    matches.sort((a, b) => b.updateTsMs - a.updateTsMs);
    return matches[0] ?? null;
  }

  /** REST OpenOrders: every open order carrying a `cl_ord_id`. */
  async openOrders(opts: VenueRequestOptions): Promise<VenueOrderStatus[]> {
    this.#assertOpen();
    const open = await this.#rest.privateCall("OpenOrders", {}, opts.timeoutMs);
    return this.#statuses(open.open);
  }

  /** Closes the socket and aborts REST calls; pending requests reject with VenueUnavailableError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    if (this.#retryTimerId !== null) this.#clock.clearTimeout(this.#retryTimerId);
    this.#retryTimerId = null;
    for (const [id, p] of this.#pending) {
      this.#clock.clearTimeout(p.timerId);
      p.reject(new VenueUnavailableError(`${p.what}: venue closed`));
      this.#pending.delete(id);
    }
    this.#firstReady?.reject(new VenueUnavailableError("kraken venue: closed"));
    this.#rest.close();
    await this.#conn?.close();
  }

  // ---- connection ------------------------------------------------------------------------

  async #onOpen(info: WsOpenInfo): Promise<void> {
    this.#connId = info.connId;
    this.#ready = false;
    this.#awaitingSnapshot = false;
    if (this.#everReady) this.#resyncOnSnapshot = true;
    let token: string;
    try {
      const result = await this.#rest.privateCall(
        "GetWebSocketsToken",
        {},
        this.#opts.restTimeoutMs ?? KRAKEN_VENUE_REST_TIMEOUT_MS_DEFAULT,
      );
      token = typeof result.token === "string" ? result.token : "";
      if (token === "") throw new KrakenRestError("GetWebSocketsToken", ["EGeneral:no token"]);
    } catch (error) {
      if (this.#closed) return;
      this.#log.warn("kraken token request failed", { error: messageOf(error) });
      if (error instanceof KrakenRestError && error.code.startsWith("EAPI:")) {
        // Wrong key, signature or nonce: retrying at start cannot help, so start fails.
        this.#firstReady?.reject(
          new VenueUnavailableError(`kraken venue: token refused: ${error.code}`),
        );
      }
      this.#retryLater("token_failed");
      return;
    }
    if (this.#closed || info.connId !== this.#connId) return;
    this.#token = token;
    this.#subscribe();
  }

  #subscribe(): void {
    this.#awaitingSnapshot = true;
    this.#sendRaw(
      "subscribe",
      `"channel":"executions","snap_orders":true,"snap_trades":false,"order_status":true`,
    );
  }

  #retryLater(reason: string): void {
    if (this.#closed || this.#retryTimerId !== null) return;
    const delayMs = this.#tokenBackoff.next();
    this.#retryTimerId = this.#clock.setTimeout(() => {
      this.#retryTimerId = null;
      if (!this.#closed) this.#conn?.reconnect(reason);
    }, delayMs);
  }

  #onSocketClosed(): void {
    this.#ready = false;
  }

  #onConnectionEvent(event: WsConnectionEvent): void {
    const level = event.type === "error" || event.type === "close_timeout" ? "warn" : "debug";
    // Connection events carry URLs and codes only (the token travels in messages, not the URL).
    this.#log[level]("kraken orders connection", { ...event });
  }

  #onSessionError(error: string): void {
    if (error.startsWith("ESession:")) {
      this.#log.warn("kraken session refused; reconnecting for a fresh token", { error });
      this.#ready = false;
      this.#conn?.reconnect("invalid_session");
    }
  }

  // ---- requests --------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new VenueUnavailableError("kraken venue: closed");
  }

  #sendRaw(method: string, params: string): number {
    const reqId = ++this.#reqId;
    const text = `{"method":"${method}","params":{${params},"token":${
      encodeJson(this.#token)
    }},"req_id":${reqId}}`;
    if (this.#conn === null || !this.#conn.send(text)) return -1;
    return reqId;
  }

  #request(method: string, params: string, what: string, timeoutMs: number): Promise<Json> {
    this.#assertOpen();
    if (!this.#ready) {
      return Promise.reject(new VenueUnavailableError(`${what}: kraken venue not ready`));
    }
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const reqId = this.#sendRaw(method, params);
    if (reqId === -1) {
      return Promise.reject(new VenueUnavailableError(`${what}: auth socket not open, not sent`));
    }
    const timerId = this.#clock.setTimeout(() => {
      this.#pending.delete(reqId);
      this.#log.warn("kraken request timed out", { request: what, timeoutMs });
      reject(new VenueTimeoutError(what, timeoutMs));
    }, timeoutMs);
    this.#pending.set(reqId, { what, resolve, reject, timerId });
    this.#log.debug("kraken request sent", { request: what, reqId });
    return promise;
  }

  // ---- inbound ---------------------------------------------------------------------------

  #onFrame(text: string, connId: number): void {
    let message: Json;
    try {
      const parsed = parseExactJson(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return;
      message = parsed as Json;
    } catch {
      this.#log.warn("kraken frame is not JSON", { length: text.length });
      return;
    }
    if (typeof message.method === "string") {
      this.#onResponse(message);
      return;
    }
    if (message.channel !== "executions" || connId !== this.#connId) return;
    this.#onExecutions(message);
  }

  #onResponse(message: Json): void {
    const reqId = Number(message.req_id);
    const pending = this.#pending.get(reqId);
    if (pending !== undefined) {
      this.#pending.delete(reqId);
      this.#clock.clearTimeout(pending.timerId);
      pending.resolve(message);
      return;
    }
    if (message.method === "subscribe") {
      if (message.success === true) {
        return;
      }
      const error = String(message.error ?? "");
      this.#log.warn("kraken executions subscription refused", { error });
      if (error.startsWith("ESession:")) this.#retryLater("invalid_session");
      return;
    }
    if (message.method === "unsubscribe" || message.method === "pong") return;
    this.#log.debug("kraken response without a waiting request", {
      method: String(message.method),
      reqId,
      success: message.success === true,
    });
  }

  #onExecutions(message: Json): void {
    const sequence = Number(message.sequence);
    const data = Array.isArray(message.data) ? message.data as Json[] : [];
    if (message.type === "snapshot") {
      this.#expectedSequence = sequence + 1;
      this.#awaitingSnapshot = false;
      for (const item of data) this.#learn(item);
      this.#ready = true;
      this.#tokenBackoff.reset();
      if (!this.#everReady) {
        this.#everReady = true;
        this.#log.info("kraken orders ready", { openOrders: data.length });
        this.#firstReady?.resolve();
      } else if (this.#resyncOnSnapshot) {
        this.#resyncOnSnapshot = false;
        this.#log.info("kraken orders resynced", { openOrders: data.length });
        this.#listener?.onResynced();
      }
      return;
    }
    if (!this.#awaitingSnapshot) {
      if (sequence !== this.#expectedSequence) {
        this.#log.warn("kraken executions sequence gap; resubscribing", {
          expected: this.#expectedSequence,
          found: sequence,
        });
        this.#resyncOnSnapshot = true;
        this.#awaitingSnapshot = true;
        this.#sendRaw("unsubscribe", `"channel":"executions"`);
        this.#subscribe();
      } else {
        this.#expectedSequence = sequence + 1;
      }
    }
    for (const item of data) this.#onItem(item);
  }

  /** Records identity from a full item (snapshot, pending_new). */
  #learn(item: Json): TrackedOrder | undefined {
    const orderId = String(item.order_id ?? "");
    if (orderId === "") return undefined;
    let tracked = this.#orders.get(orderId);
    const clOrdId = typeof item.cl_ord_id === "string" ? item.cl_ord_id : tracked?.clOrdId ?? "";
    const symbol = typeof item.symbol === "string"
      ? this.#canonicalOf.get(item.symbol) ?? item.symbol.replace("/", "-")
      : tracked?.symbol || this.#symbolOfClient.get(clOrdId) || "";
    if (tracked === undefined) {
      if (clOrdId === "") return undefined;
      tracked = this.#track(orderId, clOrdId, symbol);
    } else {
      if (tracked.clOrdId === "") tracked.clOrdId = clOrdId;
      if (tracked.symbol === "") tracked.symbol = symbol;
    }
    return tracked;
  }

  #track(orderId: string, clOrdId: string, symbol: string): TrackedOrder {
    let tracked = this.#orders.get(orderId);
    if (tracked === undefined) {
      tracked = { clOrdId, symbol };
      this.#orders.set(orderId, tracked);
      this.#trimTracking();
    }
    return tracked;
  }

  #trimTracking(): void {
    // Insertion order: the oldest identities go first; closed orders are removed on close.
    while (this.#orders.size > KRAKEN_VENUE_ORDERS_TRACKED_MAX) {
      this.#orders.delete(this.#orders.keys().next().value as string);
    }
    while (this.#symbolOfClient.size > KRAKEN_VENUE_ORDERS_TRACKED_MAX) {
      this.#symbolOfClient.delete(this.#symbolOfClient.keys().next().value as string);
    }
  }

  #onItem(item: Json): void {
    const execType = String(item.exec_type ?? "");
    const tracked = this.#learn(item);
    const orderId = String(item.order_id ?? "");
    if (tracked === undefined) {
      this.#log.debug("kraken update of an order without cl_ord_id ignored", { execType });
      return;
    }
    let state: VenueOrderState;
    switch (execType) {
      case "new":
        state = "new";
        break;
      case "trade":
        state = "partially_filled";
        break;
      case "filled":
        state = "filled";
        break;
      case "canceled":
        state = "canceled";
        break;
      case "expired":
        state = "expired";
        break;
      default:
        // pending_new (not live yet), amended, restated, status, iceberg_refill: no state change.
        return;
    }
    const rules = this.#rules.get(tracked.symbol);
    const qtyPlaces = rules?.qtyPrecision ?? 8;
    const pricePlaces = rules?.pricePrecision ?? 8;
    const exact = (value: unknown, places: number, fallback: string) =>
      typeof value === "string" ? formatDecimal(value, places) ?? fallback : fallback;
    const zeroQty = formatDecimal("0", qtyPlaces) as string;
    const fill = execType === "trade";
    const fee = fill && Array.isArray(item.fees) && item.fees.length > 0
      ? item.fees[0] as Json
      : undefined;
    const reason = typeof item.reason === "string" ? item.reason : "";
    const update: VenueExecUpdate = {
      venueClientId: tracked.clOrdId,
      exchangeOrderId: orderId,
      symbol: tracked.symbol,
      state,
      cumQty: exact(item.cum_qty, qtyPlaces, zeroQty),
      cumQuote: typeof item.cum_cost === "string" ? plainDecimal(item.cum_cost) ?? "" : "",
      lastQty: fill ? exact(item.last_qty, qtyPlaces, zeroQty) : zeroQty,
      lastPrice: fill ? exact(item.last_price, pricePlaces, "") : "",
      fee: fee !== undefined && typeof fee.qty === "string" ? plainDecimal(fee.qty) ?? "" : "",
      feeAsset: fee !== undefined && typeof fee.asset === "string" ? fee.asset : "",
      tradeId: fill && item.trade_id !== undefined ? String(item.trade_id) : "",
      reasonCode: reason,
      reasonText: reason,
      exchangeTsMs: typeof item.timestamp === "string" ? Date.parse(item.timestamp) || 0 : 0,
    };
    if (state === "filled" || state === "canceled" || state === "expired") {
      this.#orders.delete(orderId);
      this.#symbolOfClient.delete(tracked.clOrdId);
    }
    this.#listener?.onUpdate(update);
  }

  // ---- REST parsing ----------------------------------------------------------------------

  async #loadRules(timeoutMs: number): Promise<void> {
    const result = await this.#rest.publicCall("AssetPairs", { assetVersion: "1" }, timeoutMs);
    for (const [key, raw] of Object.entries(result)) {
      const p = raw as Json;
      const wsName = typeof p.wsname === "string" ? v2Name(p.wsname) : key;
      const slash = wsName.indexOf("/");
      if (slash === -1) continue;
      const symbol = `${wsName.slice(0, slash)}-${wsName.slice(slash + 1)}`;
      const lotDecimals = Number(p.lot_decimals);
      const tickSize = String(p.tick_size ?? "");
      if (!Number.isInteger(lotDecimals) || !isPlainDecimal(tickSize)) continue;
      const stepSize = lotDecimals === 0 ? "1" : `0.${"0".repeat(lotDecimals - 1)}1`;
      this.#rules.set(symbol, {
        symbol,
        wsName,
        tickSize,
        stepSize,
        minQty: isPlainDecimal(String(p.ordermin ?? "")) ? String(p.ordermin) : stepSize,
        minNotional: isPlainDecimal(String(p.costmin ?? "")) ? String(p.costmin) : "0",
        pricePrecision: Number.isInteger(p.pair_decimals)
          ? p.pair_decimals as number
          : decimalPlaces(tickSize),
        qtyPrecision: lotDecimals,
      });
      this.#canonicalOf.set(wsName, symbol);
      if (typeof p.altname === "string") this.#canonicalOf.set(p.altname, symbol);
    }
    if (this.#rules.size === 0) throw new Error("AssetPairs: expected pairs, found none");
  }

  #statuses(records: unknown): VenueOrderStatus[] {
    if (typeof records !== "object" || records === null) return [];
    const out: VenueOrderStatus[] = [];
    for (const [orderId, raw] of Object.entries(records as Record<string, Json>)) {
      const clOrdId = typeof raw.cl_ord_id === "string" ? raw.cl_ord_id : "";
      if (clOrdId === "") continue;
      const descr = (raw.descr ?? {}) as Json;
      const pair = String(descr.pair ?? "");
      const symbol = this.#canonicalOf.get(pair) ?? this.#symbolOfClient.get(clOrdId) ?? pair;
      const rules = this.#rules.get(symbol);
      const volExec = String(raw.vol_exec ?? "0");
      const filled = volExec !== "" && !/^0*\.?0*$/.test(volExec);
      let state: VenueOrderState;
      switch (raw.status) {
        case "closed":
          state = "filled";
          break;
        case "canceled":
          state = "canceled";
          break;
        case "expired":
          state = "expired";
          break;
        default: // pending, open
          state = filled ? "partially_filled" : "new";
      }
      const reason = typeof raw.reason === "string" ? raw.reason : "";
      const seconds = Number(raw.closetm ?? raw.opentm ?? 0);
      out.push({
        venueClientId: clOrdId,
        exchangeOrderId: orderId,
        symbol,
        state,
        cumQty: formatDecimal(volExec, rules?.qtyPrecision ?? 0) ?? volExec,
        cumQuote: String(raw.cost ?? ""),
        avgPrice: formatDecimal(String(raw.price ?? "0"), rules?.pricePrecision ?? 0) ?? "",
        reasonCode: reason,
        reasonText: reason,
        updateTsMs: Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0,
      });
    }
    return out;
  }
}

/** A REST `wsname` (v1 style, `XBT/USD`) as a v2 name (`BTC/USD`). */
function v2Name(wsname: string): string {
  return wsname.split("/").map((a) => a === "XBT" ? "BTC" : a === "XDG" ? "DOGE" : a).join("/");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
