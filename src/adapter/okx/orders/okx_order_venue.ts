/**
 * {@linkcode OkxOrderVenue}: OKX's trading side as an {@linkcode OrderVenue} (protocol notes
 * §6): one `/ws/v5/private` socket (login, `orders` SPOT subscription, `op:"order"`,
 * `op:"cancel-order"`) and signed REST for queries (`/api/v5/trade/order`,
 * `/api/v5/trade/orders-pending`).
 *
 * Session: on every (re)connect the venue logs in, subscribes `orders` with `instType:"SPOT"`
 * and is `ready` once the subscribe is acked; after a reconnect it then calls
 * `listener.onResynced()` (OKX sends no snapshot, so pushes during the gap are lost and the
 * gateway reconciles). When the socket is quiet for `pingAfterMs` it sends the text `ping`; with
 * no answer within `pongTimeoutMs` it reconnects (backoff in {@linkcode WsConnection}). A login
 * refused after the first start is retried after a backoff delay.
 *
 * Requests: order ops are correlated by `id`, never by arrival order (a push may come before
 * the ack). A request whose socket drops stays pending until its deadline and then rejects with
 * {@linkcode VenueTimeoutError}: whether OKX got it is unknown, and the gateway queries first.
 * Nothing is ever re-sent. Requests while not ready reject with
 * {@linkcode VenueUnavailableError} (nothing was sent).
 *
 * Secrets: the API key, secret, passphrase and signatures never reach the logger; log lines
 * carry codes, messages and connection ids only.
 *
 * @module
 */

import { DecodeError, decodeJson, encodeJson } from "../../../codec/mod.ts";
import {
  type InstrumentRules,
  type OrderVenue,
  type VenueCancelResult,
  type VenueExecUpdate,
  type VenueListener,
  type VenueLogger,
  type VenueOrder,
  type VenueOrderStatus,
  type VenuePlaceResult,
  type VenueRequestOptions,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../../orders/order_venue.ts";
import { Backoff, type BackoffOptions } from "../../shared/backoff.ts";
import {
  WsConnection,
  type WsConnectionEvent,
  type WsOpenInfo,
} from "../../shared/ws_connection.ts";
import { mapOkxOrderPush, mapOkxOrderStatus, OkxQuoteTracker } from "./okx_order_mapping.ts";
import {
  fetchOkxTradingInstruments,
  type OkxRestBody,
  okxSignedGet,
  type OkxTradingInstrument,
} from "./okx_order_rest.ts";
import { type OkxCredentials, okxLoginArg } from "./okx_order_signing.ts";

/** OKX's production private WebSocket. */
export const OKX_PRIVATE_WS_URL = "wss://ws.okx.com:8443/ws/v5/private";
/** Quiet time before a `ping`, ms (OKX closes after 30 s without traffic). */
export const OKX_VENUE_PING_AFTER_MS_DEFAULT = 20_000;
/** Bound on the answer to a `ping`, ms. */
export const OKX_VENUE_PONG_TIMEOUT_MS_DEFAULT = 5_000;
/** Bound on login + subscribe after a connect, ms. */
export const OKX_VENUE_LOGIN_TIMEOUT_MS_DEFAULT = 10_000;
/** Bound on start(), ms. */
export const OKX_VENUE_START_TIMEOUT_MS_DEFAULT = 20_000;
/** Pages of orders-pending read by openOrders() at most (100 orders each). */
export const OKX_OPEN_ORDER_PAGES_MAX = 100;

/** The venue's logger (see `VenueLogger` in `src/orders/order_venue.ts`). */
export type OkxVenueLogger = VenueLogger;

/** Options of {@linkcode OkxOrderVenue}. */
export interface OkxOrderVenueOptions {
  /** `.../ws/v5/private` (simulator's `privateWsUrl` or {@linkcode OKX_PRIVATE_WS_URL}). */
  privateWsUrl: string;
  /** REST base URL (`https://www.okx.com` or the simulator's). */
  restUrl: string;
  /** API key, secret and passphrase (see `okxCredentialsFromEnv`). */
  credentials: OkxCredentials;
  /** Wall clock for signatures, ms since the epoch (default `Date.now`). */
  clock?: () => number;
  /** Where log lines go (default: nowhere). */
  logger?: OkxVenueLogger;
  /** Quiet time before `ping`, ms. Default {@linkcode OKX_VENUE_PING_AFTER_MS_DEFAULT}. */
  pingAfterMs?: number;
  /** Bound on `pong`, ms. Default {@linkcode OKX_VENUE_PONG_TIMEOUT_MS_DEFAULT}. */
  pongTimeoutMs?: number;
  /** Bound on login + subscribe, ms. Default {@linkcode OKX_VENUE_LOGIN_TIMEOUT_MS_DEFAULT}. */
  loginTimeoutMs?: number;
  /** Bound on start(), ms. Default {@linkcode OKX_VENUE_START_TIMEOUT_MS_DEFAULT}. */
  startTimeoutMs?: number;
  /** Keep-alive and session timer period, ms. Default 250. */
  tickIntervalMs?: number;
  /** Reconnect backoff (default 250 ms initial, 30 s max). */
  backoff?: Partial<BackoffOptions>;
}

interface Pending {
  readonly kind: "order" | "cancel-order";
  readonly resolve: (result: VenuePlaceResult | VenueCancelResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

type Session = "down" | "login" | "subscribe" | "ready";

/** The OKX order venue. */
export class OkxOrderVenue implements OrderVenue {
  /** Provider name. */
  readonly provider = "okx";
  readonly #opts: OkxOrderVenueOptions;
  readonly #clock: () => number;
  readonly #pingAfterMs: number;
  readonly #pongTimeoutMs: number;
  readonly #loginTimeoutMs: number;
  readonly #bySymbol = new Map<string, OkxTradingInstrument>();
  readonly #symbolByInstId = new Map<string, string>();
  readonly #tracker = new OkxQuoteTracker();
  readonly #pending = new Map<string, Pending>();
  readonly #closing = new AbortController();
  readonly #loginBackoff: Backoff;
  #listener: VenueListener | null = null;
  #conn: WsConnection | null = null;
  #tick: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #session: Session = "down";
  #sessionDeadline = 0;
  #everReady = false;
  #started = false;
  #closed = false;
  #requestSeq = 0;
  #lastRecvMs = 0;
  #pingSentMs = -1;
  #firstReady: PromiseWithResolvers<void> | null = null;

  /** A venue; nothing happens before {@linkcode OkxOrderVenue.start}. */
  constructor(opts: OkxOrderVenueOptions) {
    for (const key of ["apiKey", "secret", "passphrase"] as const) {
      if (typeof opts.credentials?.[key] !== "string" || opts.credentials[key] === "") {
        throw new TypeError(`okx: expected a non-empty credentials.${key}, found none`);
      }
    }
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
    this.#pingAfterMs = opts.pingAfterMs ?? OKX_VENUE_PING_AFTER_MS_DEFAULT;
    this.#pongTimeoutMs = opts.pongTimeoutMs ?? OKX_VENUE_PONG_TIMEOUT_MS_DEFAULT;
    this.#loginTimeoutMs = opts.loginTimeoutMs ?? OKX_VENUE_LOGIN_TIMEOUT_MS_DEFAULT;
    this.#loginBackoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  }

  /** True while logged in and subscribed. */
  get ready(): boolean {
    return this.#session === "ready" && !this.#closed;
  }

  /** Sets the listener (before start). */
  setListener(listener: VenueListener): void {
    this.#listener = listener;
  }

  /** Trading rules of a canonical symbol (minNotional "0": OKX spot has only minSz). */
  rules(symbol: string): InstrumentRules | undefined {
    const i = this.#bySymbol.get(symbol);
    if (i === undefined) return undefined;
    return { symbol, tickSize: i.tickSz, stepSize: i.lotSz, minQty: i.minSz, minNotional: "0" };
  }

  /**
   * Loads instruments, connects, logs in and subscribes. Rejects with
   * {@linkcode VenueUnavailableError} when the login is refused, the session is not up within
   * `startTimeoutMs`, or the venue was closed; the venue is closed then.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("okx: expected a venue not started yet, found it started");
    this.#started = true;
    const startTimeoutMs = this.#opts.startTimeoutMs ?? OKX_VENUE_START_TIMEOUT_MS_DEFAULT;
    const timeout = AbortSignal.timeout(startTimeoutMs);
    try {
      const list = await fetchOkxTradingInstruments(this.#opts.restUrl, {
        signal: AbortSignal.any([timeout, this.#closing.signal]),
      });
      for (const i of list) {
        this.#bySymbol.set(i.symbol, i);
        this.#symbolByInstId.set(i.instId, i.symbol);
      }
    } catch (err) {
      await this.close();
      throw new VenueUnavailableError(`okx: instruments failed: ${(err as Error).message}`);
    }
    if (this.#closed) throw new VenueUnavailableError("okx: venue closed during start");
    this.#firstReady = Promise.withResolvers<void>();
    const onTimeout = () =>
      this.#firstReady?.reject(
        new VenueUnavailableError(`okx: no session within ${startTimeoutMs} ms of start`),
      );
    timeout.addEventListener("abort", onTimeout);
    this.#conn = new WsConnection({
      name: "okx-orders",
      url: this.#opts.privateWsUrl,
      backoff: { initialMs: 250, maxMs: 30_000, ...this.#opts.backoff },
      onMessage: (text, _recvTsMs, connId) => this.#onMessage(text, connId),
      onOpen: (info) => this.#onOpen(info),
      onClose: () => {
        this.#session = "down";
      },
      onEvent: (event) => this.#onConnectionEvent(event),
    });
    this.#conn.start();
    this.#tick = setInterval(() => this.#onTick(), this.#opts.tickIntervalMs ?? 250);
    try {
      await this.#firstReady.promise;
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      timeout.removeEventListener("abort", onTimeout);
      this.#firstReady = null;
    }
  }

  /** Sends `op:"order"` with `clOrdId` = venueClientId. */
  place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult> {
    const instrument = this.#bySymbol.get(order.symbol);
    if (instrument === undefined) {
      return Promise.resolve({
        kind: "rejected",
        code: "51001",
        text: `instrument ${order.symbol} is not listed by okx`,
      });
    }
    const arg: Record<string, unknown> = {
      instIdCode: instrument.instIdCode,
      tdMode: "cash",
      side: order.side,
      ordType: okxOrdType(order),
      sz: order.qty,
      clOrdId: order.venueClientId,
    };
    // OKX sizes spot market buys in the quote currency unless told otherwise.
    if (order.orderType === "market") arg.tgtCcy = "base_ccy";
    else arg.px = order.price;
    return this.#request(
      "order",
      arg,
      `place ${order.symbol} ${order.venueClientId}`,
      opts,
    ) as Promise<VenuePlaceResult>;
  }

  /** Sends `op:"cancel-order"` by clOrdId. */
  cancel(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueCancelResult> {
    const instrument = this.#bySymbol.get(ref.symbol);
    if (instrument === undefined) {
      return Promise.resolve({
        kind: "rejected",
        code: "51001",
        text: `instrument ${ref.symbol} is not listed by okx`,
      });
    }
    return this.#request(
      "cancel-order",
      { instIdCode: instrument.instIdCode, clOrdId: ref.venueClientId },
      `cancel ${ref.symbol} ${ref.venueClientId}`,
      opts,
    ) as Promise<VenueCancelResult>;
  }

  /** `GET /api/v5/trade/order?instId=&clOrdId=`; null on 51603 "Order does not exist". */
  async query(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null> {
    const instrument = this.#bySymbol.get(ref.symbol);
    if (instrument === undefined) return null;
    const what = `query ${ref.symbol} ${ref.venueClientId}`;
    const path = `/api/v5/trade/order?instId=${encodeURIComponent(instrument.instId)}&clOrdId=${
      encodeURIComponent(ref.venueClientId)
    }`;
    const body = await this.#get(path, what, opts.timeoutMs, AbortSignal.timeout(opts.timeoutMs));
    if (body.code === "51603") return null;
    if (body.code !== "0") {
      throw new VenueUnavailableError(`okx: ${what} refused: ${body.code} ${body.msg}`);
    }
    const row = body.data[0];
    if (typeof row !== "object" || row === null) return null;
    return mapOkxOrderStatus(row as Record<string, unknown>, this.#mapContext());
  }

  /** Every open SPOT order, via `GET /api/v5/trade/orders-pending` pages of 100. */
  async openOrders(opts: VenueRequestOptions): Promise<VenueOrderStatus[]> {
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    const out: VenueOrderStatus[] = [];
    let after = "";
    for (let page = 0; page < OKX_OPEN_ORDER_PAGES_MAX; page++) {
      const path = `/api/v5/trade/orders-pending?instType=SPOT&limit=100${
        after === "" ? "" : `&after=${after}`
      }`;
      const body = await this.#get(path, "open orders", opts.timeoutMs, deadline);
      if (body.code !== "0") {
        throw new VenueUnavailableError(`okx: open orders refused: ${body.code} ${body.msg}`);
      }
      for (const row of body.data) {
        if (typeof row !== "object" || row === null) continue;
        const status = mapOkxOrderStatus(row as Record<string, unknown>, this.#mapContext());
        if (status !== null) out.push(status);
      }
      const last = body.data[body.data.length - 1] as { ordId?: unknown } | undefined;
      if (body.data.length < 100 || typeof last?.ordId !== "string") return out;
      after = last.ordId;
    }
    this.#log("warn", "okx orders: open orders truncated", { pages: OKX_OPEN_ORDER_PAGES_MAX });
    return out;
  }

  /** Closes the socket; pending requests reject with VenueUnavailableError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#session = "down";
    this.#closing.abort();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#firstReady?.reject(new VenueUnavailableError("okx: venue closed during start"));
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new VenueUnavailableError("okx: venue closed"));
    }
    await this.#conn?.close();
  }

  // ---- requests -------------------------------------------------------------------------

  #request(
    op: "order" | "cancel-order",
    arg: Record<string, unknown>,
    what: string,
    opts: VenueRequestOptions,
  ): Promise<VenuePlaceResult | VenueCancelResult> {
    if (this.#closed) return Promise.reject(new VenueUnavailableError("okx: venue closed"));
    if (!this.ready || this.#conn === null) {
      return Promise.reject(new VenueUnavailableError(`okx: ${what}: not logged in`));
    }
    const id = `${op === "order" ? "o" : "c"}${++this.#requestSeq}`;
    const { promise, resolve, reject } = Promise.withResolvers<
      VenuePlaceResult | VenueCancelResult
    >();
    if (!this.#conn.send(encodeJson({ id, op, args: [arg] }))) {
      return Promise.reject(new VenueUnavailableError(`okx: ${what}: socket not open`));
    }
    const timer = setTimeout(() => {
      if (!this.#pending.delete(id)) return;
      this.#log("warn", "okx orders: request timed out", { id, op, timeoutMs: opts.timeoutMs });
      reject(new VenueTimeoutError(what, opts.timeoutMs));
    }, opts.timeoutMs);
    this.#pending.set(id, { kind: op, resolve, reject, timer });
    return promise;
  }

  async #get(
    requestPath: string,
    what: string,
    timeoutMs: number,
    deadline: AbortSignal,
  ): Promise<OkxRestBody> {
    if (this.#closed) throw new VenueUnavailableError("okx: venue closed");
    try {
      return await okxSignedGet(this.#opts.restUrl, {
        requestPath,
        credentials: this.#opts.credentials,
        nowMs: this.#clock(),
        signal: AbortSignal.any([deadline, this.#closing.signal]),
      });
    } catch (err) {
      if (deadline.aborted) throw new VenueTimeoutError(what, timeoutMs);
      if (this.#closed) throw new VenueUnavailableError("okx: venue closed");
      throw new VenueUnavailableError(`okx: ${what} failed: ${(err as Error).message}`);
    }
  }

  #settle(id: string, result: VenuePlaceResult | VenueCancelResult): void {
    const p = this.#pending.get(id);
    if (p === undefined) return; // timed out already: the gateway reconciles
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(result);
  }

  // ---- session --------------------------------------------------------------------------

  #onOpen(info: WsOpenInfo): void {
    this.#session = "login";
    this.#sessionDeadline = performance.now() + this.#loginTimeoutMs;
    this.#lastRecvMs = performance.now();
    this.#pingSentMs = -1;
    this.#log("info", "okx orders: connected, logging in", {
      connId: info.connId,
      reason: info.reason,
    });
    this.#conn?.send(
      encodeJson({ op: "login", args: [okxLoginArg(this.#opts.credentials, this.#clock())] }),
    );
  }

  #onTick(): void {
    const conn = this.#conn;
    if (conn === null || conn.state !== "open" || this.#closed) return;
    const now = performance.now();
    if (
      (this.#session === "login" || this.#session === "subscribe") &&
      now >= this.#sessionDeadline
    ) {
      this.#log("warn", "okx orders: login/subscribe timed out", { session: this.#session });
      this.#session = "down";
      conn.reconnect("login_timeout");
      return;
    }
    if (this.#pingSentMs >= 0) {
      if (now - this.#pingSentMs >= this.#pongTimeoutMs) {
        this.#pingSentMs = -1;
        this.#log("warn", "okx orders: no pong, reconnecting", {});
        this.#session = "down";
        conn.reconnect("pong_timeout");
      }
    } else if (now - this.#lastRecvMs >= this.#pingAfterMs) {
      if (conn.send("ping")) this.#pingSentMs = now;
    }
  }

  #onMessage(text: string, connId: number): void {
    this.#lastRecvMs = performance.now();
    this.#pingSentMs = -1;
    if (text === "pong") return;
    let body: Record<string, unknown>;
    try {
      body = decodeJson(text, { provider: "okx" }) as Record<string, unknown>;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.#log("warn", "okx orders: undecodable frame", { message: err.message });
      return;
    }
    if (typeof body !== "object" || body === null) return;
    if (typeof body.event === "string") return this.#onEvent(body, connId);
    if (typeof body.op === "string" && typeof body.id === "string") return this.#onOpResponse(body);
    const arg = body.arg as { channel?: unknown } | undefined;
    if (arg?.channel === "orders" && Array.isArray(body.data)) {
      for (const row of body.data) {
        if (typeof row !== "object" || row === null) continue;
        const update = mapOkxOrderPush(row as Record<string, unknown>, this.#mapContext());
        if (update !== null) this.#deliver(update);
      }
    }
  }

  #onEvent(body: Record<string, unknown>, connId: number): void {
    const code = typeof body.code === "string" ? body.code : "";
    const msg = typeof body.msg === "string" ? body.msg : "";
    switch (body.event) {
      case "login":
        if (code !== "0" || this.#session !== "login") return;
        this.#session = "subscribe";
        this.#log("info", "okx orders: logged in, subscribing", { connId });
        this.#conn?.send(encodeJson({
          id: "sub1",
          op: "subscribe",
          args: [{ channel: "orders", instType: "SPOT" }],
        }));
        return;
      case "subscribe": {
        const arg = body.arg as { channel?: unknown } | undefined;
        if (arg?.channel !== "orders" || this.#session !== "subscribe") return;
        this.#session = "ready";
        this.#loginBackoff.reset();
        this.#log("info", "okx orders: ready", { connId });
        if (this.#everReady) {
          try {
            this.#listener?.onResynced();
          } catch (err) {
            this.#log("error", "okx orders: listener onResynced threw", {
              message: (err as Error).message,
            });
          }
        } else {
          this.#everReady = true;
          this.#firstReady?.resolve();
        }
        return;
      }
      case "error": {
        const id = typeof body.id === "string" ? body.id : "";
        if (id !== "" && this.#pending.has(id)) {
          return this.#settle(id, { kind: "rejected", code, text: msg });
        }
        this.#log("warn", "okx orders: error event", { code, msg, session: this.#session });
        if (this.#session === "login" || this.#session === "subscribe") {
          this.#sessionFailed(code, msg);
        }
        return;
      }
      case "notice":
        this.#log("info", "okx orders: notice, reconnecting", { code, msg });
        this.#conn?.reconnect("notice");
        return;
      default:
        this.#log("debug", "okx orders: event", { event: String(body.event), code });
    }
  }

  #sessionFailed(code: string, msg: string): void {
    this.#session = "down";
    if (!this.#everReady) {
      this.#firstReady?.reject(new VenueUnavailableError(`okx: login refused: ${code} ${msg}`));
      return;
    }
    const delayMs = this.#loginBackoff.next();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closed) this.#conn?.reconnect("login_retry");
    }, delayMs);
  }

  #onOpResponse(body: Record<string, unknown>): void {
    const id = body.id as string;
    const code = typeof body.code === "string" ? body.code : "";
    const msg = typeof body.msg === "string" ? body.msg : "";
    const first = Array.isArray(body.data) ? body.data[0] as Record<string, unknown> : undefined;
    const sCode = typeof first?.sCode === "string" ? first.sCode : "";
    const sMsg = typeof first?.sMsg === "string" ? first.sMsg : "";
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    if (code === "0" && sCode === "0") {
      if (pending.kind === "order") {
        const ordId = typeof first?.ordId === "string" ? first.ordId : "";
        this.#settle(id, { kind: "accepted", exchangeOrderId: ordId });
      } else this.#settle(id, { kind: "accepted" });
      return;
    }
    // code "1"/"2": the per-order sCode/sMsg is OKX's reason; otherwise the top-level one.
    if (sCode !== "" && sCode !== "0") {
      this.#settle(id, { kind: "rejected", code: sCode, text: sMsg });
    } else this.#settle(id, { kind: "rejected", code, text: msg });
  }

  #deliver(update: VenueExecUpdate): void {
    try {
      this.#listener?.onUpdate(update);
    } catch (err) {
      this.#log("error", "okx orders: listener onUpdate threw", {
        message: (err as Error).message,
      });
    }
  }

  #mapContext(): { symbolOf: (instId: string) => string | undefined; tracker: OkxQuoteTracker } {
    return { symbolOf: (instId) => this.#symbolByInstId.get(instId), tracker: this.#tracker };
  }

  #onConnectionEvent(event: WsConnectionEvent): void {
    if (event.type === "close" || event.type === "reconnect_scheduled" || event.type === "error") {
      const { type, ...rest } = event;
      this.#log(type === "error" ? "warn" : "info", `okx orders: connection ${type}`, rest);
    }
  }

  #log(
    level: "debug" | "info" | "warn" | "error",
    message: string,
    properties: Record<string, unknown>,
  ): void {
    try {
      this.#opts.logger?.[level](message, properties);
    } catch {
      // a logger must never break the venue
    }
  }
}

function okxOrdType(order: VenueOrder): string {
  if (order.orderType === "market") return "market";
  switch (order.timeInForce) {
    case "IOC":
      return "ioc";
    case "FOK":
      return "fok";
    default:
      return "limit";
  }
}
