/**
 * {@linkcode BinanceOrderVenue}: Binance Spot's trading side over ONE WebSocket API connection
 * (`/ws-api/v3`, protocol notes §6.2, §7): `order.place` / `order.cancel` / `order.status` /
 * `openOrders.status`, each HMAC-signed (§7.2), plus a `userDataStream.subscribe.signature`
 * subscription on the same socket whose `executionReport`s become {@linkcode VenueExecUpdate}s.
 * Instrument rules come from REST `exchangeInfo`; the signing clock is corrected by the offset
 * measured with REST `/api/v3/time` (at start, after each reconnect and after a -1021).
 *
 * Reliability rules (the gateway above relies on them):
 * - a request is sent at most once; the venue never retries on its own;
 * - every request has a deadline; no answer → {@linkcode VenueTimeoutError}; so do answers whose
 *   execution status Binance calls unknown (HTTP 5xx, -1006, -1007) and requests in flight when
 *   the socket dies: the gateway must query before doing anything else;
 * - after a reconnect the subscription is renewed and `listener.onResynced()` called, because
 *   Binance does not replay events missed while the socket was down (§9 item 20);
 * - the API secret, signatures and signed payloads are never logged.
 *
 * @module
 */

import { decodeJson, encodeJson } from "../../../codec/mod.ts";
import {
  type InstrumentRules,
  type OrderVenue,
  type VenueCancelResult,
  type VenueListener,
  type VenueLogger,
  type VenueOrder,
  type VenueOrderStatus,
  type VenuePlaceResult,
  type VenueRequestOptions,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../../orders/order_venue.ts";
import { WsConnection, type WsConnectionOptions } from "../../shared/ws_connection.ts";
import { BINANCE_ROTATE_AFTER_MS } from "../binance_adapter.ts";
import { BinanceRest } from "../binance_rest.ts";
import type { BinanceCredentials } from "./binance_credentials.ts";
import { execUpdateFromReport, orderStatusFromQuery } from "./binance_order_mapping.ts";
import { type BinanceParamValue, binanceWsApiSignature } from "./binance_signing.ts";

/** The venue's logger (see `VenueLogger` in `src/orders/order_venue.ts`). */
export type BinanceVenueLogger = VenueLogger;

/** Options of {@linkcode BinanceOrderVenue}. */
export interface BinanceOrderVenueOptions {
  /** WebSocket API URL: `wss://ws-api.binance.com:443/ws-api/v3` or the simulator's. */
  wsApiUrl: string;
  /** REST base URL (exchangeInfo, time): `https://api.binance.com` or the simulator's. */
  restUrl: string;
  /** API key and secret (from {@linkcode binanceCredentialsFromEnv} or a simulator). */
  credentials: BinanceCredentials;
  /** Wall clock for request timestamps, ms since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** `recvWindow` sent with every signed request, ms (default 5000; Binance's max 60 000). */
  recvWindowMs?: number;
  /** Structured logger; never receives secrets or signatures. */
  logger?: BinanceVenueLogger;
  /** Bound on each step of start() and on re-subscribing, ms. Default 10 000. */
  setupTimeoutMs?: number;
  /** Overrides of the connection (tests shorten backoff and timeouts). */
  connection?: Partial<
    Omit<WsConnectionOptions, "name" | "url" | "onMessage" | "onOpen" | "onClose">
  >;
}

/** Default `recvWindow`, ms. */
export const BINANCE_RECV_WINDOW_MS_DEFAULT = 5000;
/** Binance's largest accepted `recvWindow`, ms. */
export const BINANCE_RECV_WINDOW_MS_MAX = 60_000;
/** Default bound on start() steps, ms. */
export const BINANCE_SETUP_TIMEOUT_MS_DEFAULT = 10_000;
/** Delay before re-subscribing after a failed subscription on a live socket, ms. */
const RESUBSCRIBE_DELAY_MS = 1000;

/** A WS API answer (`{"id","status","result"|"error"}`). */
interface WsApiAnswer {
  status: number;
  result: unknown;
  code: number;
  msg: string;
}

interface Pending {
  readonly what: string;
  readonly timeoutMs: number;
  readonly resolve: (answer: WsApiAnswer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Binance codes whose execution status is unknown (the request may have been executed). */
const UNKNOWN_STATUS_CODES: ReadonlySet<number> = new Set([-1006, -1007]);

/** See the module documentation. */
export class BinanceOrderVenue implements OrderVenue {
  /** Provider name. */
  readonly provider = "binance";
  readonly #options: Required<Omit<BinanceOrderVenueOptions, "logger" | "connection">>;
  readonly #logger: BinanceVenueLogger | null;
  readonly #connectionOverrides: BinanceOrderVenueOptions["connection"];
  readonly #pending = new Map<number, Pending>();
  readonly #rules = new Map<string, InstrumentRules>();
  /** Canonical → exchange symbol, and back. */
  readonly #toExchange = new Map<string, string>();
  readonly #toCanonical = new Map<string, string>();
  #listener: VenueListener | null = null;
  #connection: WsConnection | null = null;
  #offsetMs = 0;
  #nextId = 1;
  #ready = false;
  #started = false;
  #closed = false;
  #subscribedOnce = false;
  #startWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  #resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #background = new Set<Promise<unknown>>();

  /** Validates the options; nothing is opened until {@linkcode BinanceOrderVenue.start}. */
  constructor(options: BinanceOrderVenueOptions) {
    const recvWindowMs = options.recvWindowMs ?? BINANCE_RECV_WINDOW_MS_DEFAULT;
    if (!(recvWindowMs > 0 && recvWindowMs <= BINANCE_RECV_WINDOW_MS_MAX)) {
      throw new RangeError(
        `recvWindowMs: expected a number in (0, ${BINANCE_RECV_WINDOW_MS_MAX}], found ${recvWindowMs}`,
      );
    }
    if (options.credentials.apiKey === "" || options.credentials.secret === "") {
      throw new RangeError(
        "credentials: expected a non-empty apiKey and secret, found an empty one",
      );
    }
    this.#options = {
      wsApiUrl: options.wsApiUrl,
      restUrl: options.restUrl.replace(/\/+$/, ""),
      credentials: options.credentials,
      clock: options.clock ?? Date.now,
      recvWindowMs,
      setupTimeoutMs: options.setupTimeoutMs ?? BINANCE_SETUP_TIMEOUT_MS_DEFAULT,
    };
    this.#logger = options.logger ?? null;
    this.#connectionOverrides = options.connection;
  }

  /** True while connected and subscribed to order updates. */
  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  /** Clock offset in use (server minus local), ms. */
  get clockOffsetMs(): number {
    return this.#offsetMs;
  }

  /** Sets the listener (once, before start). */
  setListener(listener: VenueListener): void {
    if (this.#started) throw new Error("expected setListener before start, found a started venue");
    this.#listener = listener;
  }

  /**
   * Measures the clock offset, loads the rules, connects and subscribes to order updates.
   * Throws {@linkcode VenueUnavailableError} (and closes what it opened) when any step fails.
   */
  async start(): Promise<void> {
    if (this.#listener === null) {
      throw new Error("expected a listener before start, found none (call setListener)");
    }
    if (this.#started) throw new Error("expected start to be called once, found a second call");
    this.#started = true;
    try {
      await this.#syncTime();
      await this.#loadRules();
    } catch (err) {
      this.#closed = true;
      throw new VenueUnavailableError(`binance venue start: ${messageOf(err)}`);
    }
    const subscribed = new Promise<void>((resolve, reject) => {
      this.#startWaiter = { resolve, reject };
    });
    this.#connection = new WsConnection({
      maxLifetimeMs: BINANCE_ROTATE_AFTER_MS,
      ...this.#connectionOverrides,
      name: "binance-ws-api",
      url: this.#options.wsApiUrl,
      onMessage: (text) => this.#onMessage(text),
      onOpen: (info) => this.#onOpen(info.reason),
      onClose: (info) => this.#onClose(info.code, info.willReconnect),
      onEvent: (event) => {
        if (event.type === "error" || event.type === "reconnect_scheduled") {
          this.#log("debug", "binance ws api connection", { event });
        }
      },
    });
    this.#connection.start();
    const timer = setTimeout(
      () =>
        this.#startWaiter?.reject(
          new Error(`no subscription within ${this.#options.setupTimeoutMs} ms`),
        ),
      this.#options.setupTimeoutMs,
    );
    try {
      await subscribed;
    } catch (err) {
      await this.close();
      throw new VenueUnavailableError(`binance venue start: ${messageOf(err)}`);
    } finally {
      clearTimeout(timer);
      this.#startWaiter = null;
    }
    this.#log("info", "binance venue ready", {
      symbols: this.#rules.size,
      clockOffsetMs: this.#offsetMs,
    });
  }

  /** Rules of a canonical symbol from exchangeInfo. */
  rules(symbol: string): InstrumentRules | undefined {
    return this.#rules.get(symbol);
  }

  /** `order.place` with `newClientOrderId = venueClientId`, `newOrderRespType=RESULT`. */
  async place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult> {
    const what = `place ${order.symbol} ${order.venueClientId}`;
    const symbol = this.#toExchange.get(order.symbol);
    if (symbol === undefined) return { kind: "rejected", code: "-1121", text: "Invalid symbol." };
    const params: Record<string, BinanceParamValue> = {
      symbol,
      side: order.side === "buy" ? "BUY" : "SELL",
      type: order.orderType === "limit" ? "LIMIT" : "MARKET",
    };
    if (order.orderType === "limit") {
      params.timeInForce = order.timeInForce === "" ? "GTC" : order.timeInForce;
      params.price = order.price;
    }
    params.quantity = order.qty;
    params.newClientOrderId = order.venueClientId;
    params.newOrderRespType = "RESULT";
    const answer = await this.#request("order.place", params, what, opts.timeoutMs);
    if (answer.status === 200) {
      const result = answer.result as Record<string, unknown> | null;
      return { kind: "accepted", exchangeOrderId: String(result?.orderId ?? "") };
    }
    this.#checkUnknown(answer, what, opts.timeoutMs);
    return { kind: "rejected", code: String(answer.code), text: answer.msg };
  }

  /** `order.cancel` by `origClientOrderId`. */
  async cancel(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueCancelResult> {
    const what = `cancel ${ref.symbol} ${ref.venueClientId}`;
    const symbol = this.#toExchange.get(ref.symbol);
    if (symbol === undefined) return { kind: "rejected", code: "-1121", text: "Invalid symbol." };
    const answer = await this.#request(
      "order.cancel",
      { symbol, origClientOrderId: ref.venueClientId },
      what,
      opts.timeoutMs,
    );
    if (answer.status === 200) return { kind: "accepted" };
    this.#checkUnknown(answer, what, opts.timeoutMs);
    return { kind: "rejected", code: String(answer.code), text: answer.msg };
  }

  /** `order.status` by `origClientOrderId`; null on -2013 (the exchange does not know it). */
  async query(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null> {
    const what = `query ${ref.symbol} ${ref.venueClientId}`;
    const symbol = this.#toExchange.get(ref.symbol);
    if (symbol === undefined) return null;
    const answer = await this.#request(
      "order.status",
      { symbol, origClientOrderId: ref.venueClientId },
      what,
      opts.timeoutMs,
    );
    if (answer.status === 200) {
      const status = orderStatusFromQuery(
        (answer.result ?? {}) as Record<string, unknown>,
        this.#canonicalOf,
      );
      if (status === null) {
        throw new VenueUnavailableError(`${what}: expected an order object, found a malformed one`);
      }
      return status;
    }
    if (answer.code === -2013) return null;
    this.#checkUnknown(answer, what, opts.timeoutMs);
    throw new VenueUnavailableError(`${what}: refused with code ${answer.code}: ${answer.msg}`);
  }

  /** `openOrders.status` over every symbol. */
  async openOrders(opts: VenueRequestOptions): Promise<VenueOrderStatus[]> {
    const what = "open orders";
    const answer = await this.#request("openOrders.status", {}, what, opts.timeoutMs);
    if (answer.status !== 200) {
      this.#checkUnknown(answer, what, opts.timeoutMs);
      throw new VenueUnavailableError(`${what}: refused with code ${answer.code}: ${answer.msg}`);
    }
    if (!Array.isArray(answer.result)) {
      throw new VenueUnavailableError(`${what}: expected an array, found ${typeof answer.result}`);
    }
    const out: VenueOrderStatus[] = [];
    for (const item of answer.result as Record<string, unknown>[]) {
      const status = orderStatusFromQuery(item ?? {}, this.#canonicalOf);
      if (status !== null) out.push(status);
    }
    return out;
  }

  /** Closes the connection; pending requests reject with VenueUnavailableError. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#ready = false;
    clearTimeout(this.#resubscribeTimer);
    this.#failPending(() => new VenueUnavailableError("binance venue closed"));
    this.#startWaiter?.reject(new Error("closed during start"));
    await this.#connection?.close();
    await Promise.allSettled([...this.#background]);
  }

  // ---- requests --------------------------------------------------------------------------

  readonly #canonicalOf = (exchangeSymbol: string): string =>
    this.#toCanonical.get(exchangeSymbol) ?? exchangeSymbol;

  /** Signs and sends one request; resolves with its answer or rejects on deadline/close. */
  #request(
    method: string,
    unsigned: Record<string, BinanceParamValue>,
    what: string,
    timeoutMs: number,
  ): Promise<WsApiAnswer> {
    if (this.#closed) return Promise.reject(new VenueUnavailableError(`${what}: venue closed`));
    const connection = this.#connection;
    if (connection === null || connection.state !== "open") {
      return Promise.reject(new VenueUnavailableError(`${what}: not connected`));
    }
    const id = this.#nextId++;
    const params: Record<string, BinanceParamValue> = {
      ...unsigned,
      apiKey: this.#options.credentials.apiKey,
      recvWindow: this.#options.recvWindowMs,
      timestamp: Math.round(this.#options.clock() + this.#offsetMs),
    };
    params.signature = binanceWsApiSignature(this.#options.credentials.secret, params);
    const text = encodeJson({ id, method, params });
    return new Promise<WsApiAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(id)) {
          this.#log("warn", "binance request timed out", { method, id, timeoutMs });
          reject(new VenueTimeoutError(what, timeoutMs));
        }
      }, timeoutMs);
      this.#pending.set(id, { what, timeoutMs, resolve, reject, timer });
      if (!connection.send(text)) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new VenueUnavailableError(`${what}: not connected`));
        return;
      }
      this.#log("debug", "binance request sent", { method, id });
    });
  }

  /** Throws VenueTimeoutError when Binance says the execution status is unknown. */
  #checkUnknown(answer: WsApiAnswer, what: string, timeoutMs: number): void {
    if (answer.status >= 500 || UNKNOWN_STATUS_CODES.has(answer.code)) {
      this.#log("warn", "binance answer with unknown execution status", {
        what,
        status: answer.status,
        code: answer.code,
        msg: answer.msg,
      });
      throw new VenueTimeoutError(
        `${what} (execution status unknown: status ${answer.status} code ${answer.code})`,
        timeoutMs,
      );
    }
    if (answer.code === -1021) this.#resyncTimeInBackground();
  }

  #failPending(error: (p: Pending) => Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(error(p));
    }
  }

  // ---- connection ------------------------------------------------------------------------

  #onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = decodeJson(text, { provider: "binance" }) as Record<string, unknown>;
    } catch (err) {
      this.#log("warn", "binance ws api frame is not JSON", { error: messageOf(err) });
      return;
    }
    if (message === null || typeof message !== "object") return;
    if ("event" in message) {
      this.#onEvent(message.event as Record<string, unknown> | null);
      return;
    }
    const id = message.id;
    if (typeof id !== "number") {
      if (message.status !== undefined) {
        this.#log("warn", "binance ws api answer without a request id", {
          status: message.status,
          error: message.error,
        });
      }
      return;
    }
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // timed out already: the gateway reconciles
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    const error = (message.error ?? {}) as { code?: unknown; msg?: unknown };
    const status = typeof message.status === "number" ? message.status : 0;
    pending.resolve({
      status,
      result: message.result,
      code: typeof error.code === "number" ? error.code : 0,
      msg: typeof error.msg === "string" ? error.msg : "",
    });
    if (status !== 200) {
      this.#log("info", "binance request refused", {
        what: pending.what,
        status,
        code: error.code,
        msg: error.msg,
      });
    }
  }

  #onEvent(event: Record<string, unknown> | null): void {
    if (event === null || typeof event !== "object") return;
    switch (event.e) {
      case "executionReport": {
        const update = execUpdateFromReport(event, this.#canonicalOf);
        if (update === null) {
          this.#log("warn", "binance executionReport without the expected fields", {});
          return;
        }
        this.#listener!.onUpdate(update);
        return;
      }
      case "eventStreamTerminated":
      case "serverShutdown":
        this.#log("info", "binance ws api asks to reconnect", { event: event.e });
        this.#ready = false;
        this.#connection?.reconnect(event.e);
        return;
      default:
        return; // balances and other user events are not order updates
    }
  }

  async #onOpen(reason: string): Promise<void> {
    this.#ready = false;
    clearTimeout(this.#resubscribeTimer);
    const first = !this.#subscribedOnce;
    try {
      if (!first) await this.#syncTime().catch((err) => this.#timeSyncFailed(err));
      await this.#subscribe();
    } catch (err) {
      this.#log("warn", "binance user data subscription failed", {
        reason,
        error: messageOf(err),
      });
      if (first) {
        this.#startWaiter?.reject(err instanceof Error ? err : new Error(String(err)));
      } else if (!this.#closed) {
        this.#resubscribeTimer = setTimeout(
          () => this.#connection?.reconnect("subscribe_failed"),
          RESUBSCRIBE_DELAY_MS,
        );
      }
      return;
    }
    this.#ready = true;
    this.#subscribedOnce = true;
    if (first) {
      this.#startWaiter?.resolve();
    } else {
      this.#log("info", "binance user data resubscribed", { reason });
      this.#listener!.onResynced();
    }
  }

  async #subscribe(): Promise<void> {
    const answer = await this.#request(
      "userDataStream.subscribe.signature",
      {},
      "user data subscription",
      this.#options.setupTimeoutMs,
    );
    if (answer.status !== 200) {
      if (answer.code === -1021) this.#resyncTimeInBackground();
      throw new Error(`userDataStream.subscribe.signature refused: ${answer.code} ${answer.msg}`);
    }
  }

  #onClose(code: number, willReconnect: boolean): void {
    this.#ready = false;
    // Requests in flight on the dead socket will never be answered: their fate is unknown.
    this.#failPending((p) =>
      new VenueTimeoutError(`${p.what} (connection lost; status unknown)`, p.timeoutMs)
    );
    this.#log("info", "binance ws api connection closed", { code, willReconnect });
  }

  // ---- REST: time and rules --------------------------------------------------------------

  async #syncTime(): Promise<void> {
    const before = this.#options.clock();
    const body = await this.#restGet("/api/v3/time") as { serverTime?: unknown };
    const after = this.#options.clock();
    if (typeof body?.serverTime !== "number") {
      throw new Error("GET /api/v3/time: expected a serverTime number, found none");
    }
    this.#offsetMs = Math.round(body.serverTime - (before + after) / 2);
  }

  #resyncTimeInBackground(): void {
    if (this.#closed) return;
    const task = this.#syncTime().catch((err) => this.#timeSyncFailed(err));
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }

  #timeSyncFailed(err: unknown): void {
    this.#log("warn", "binance time sync failed", { error: messageOf(err) });
  }

  async #loadRules(): Promise<void> {
    const rest = new BinanceRest({
      baseUrl: this.#options.restUrl,
      requestTimeoutMs: this.#options.setupTimeoutMs,
    });
    for (const info of await rest.exchangeInfo()) {
      this.#toExchange.set(info.canonical, info.symbol);
      this.#toCanonical.set(info.symbol, info.canonical);
      this.#rules.set(info.canonical, {
        symbol: info.canonical,
        tickSize: info.tickSize,
        stepSize: info.stepSize,
        minQty: info.minQty,
        minNotional: info.minNotional,
      });
    }
  }

  async #restGet(path: string): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#options.setupTimeoutMs);
    try {
      const res = await fetch(this.#options.restUrl + path, { signal: controller.signal });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
      return decodeJson(text, { provider: "binance" });
    } finally {
      clearTimeout(timer);
    }
  }

  #log(
    level: "debug" | "info" | "warn",
    message: string,
    properties: Record<string, unknown>,
  ): void {
    this.#logger?.[level](message, properties);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
