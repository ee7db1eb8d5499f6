/**
 * One connection to the simulator's WebSocket API, `/ws-api/v3` (protocol notes §6.2, §7):
 * JSON requests `{"id","method","params"}` answered `{"id","status","result"|"error",
 * "rateLimits"}`; HMAC-signed `order.place`, `order.cancel`, `order.status`,
 * `openOrders.status` and `userDataStream.subscribe.signature`, whose events arrive as
 * `{"subscriptionId":N,"event":{...}}`; also `userDataStream.unsubscribe`, `ping`, `time`.
 * Subscriptions end with the connection: nothing is replayed to the next one (§9 item 20).
 *
 * @module
 */

import { BinanceApiError, verifyWsApiRequest } from "./request_auth.ts";
import type { BinanceSimOrders, OrderMethod, OrderOutcome, UserEvent } from "./sim_orders.ts";

/** Options of {@linkcode WsApiSession}. */
export interface WsApiSessionOptions {
  readonly id: number;
  readonly socket: WebSocket;
  readonly orders: BinanceSimOrders;
  /** Whether answers carry `rateLimits` (`?returnRateLimits=false` turns them off). */
  readonly returnRateLimits: boolean;
  /** Drops the TCP connection without a close frame. */
  readonly dropTcp: () => void;
  /** Called once when the socket has closed. */
  readonly onClosed: (session: WsApiSession) => void;
}

const ORDER_METHODS: ReadonlySet<string> = new Set([
  "order.place",
  "order.cancel",
  "order.status",
  "openOrders.status",
]);
const WEIGHT_LIMIT = 6000;

/** See the module documentation. */
export class WsApiSession {
  /** Connection id. */
  readonly id: number;
  readonly #socket: WebSocket;
  readonly #orders: BinanceSimOrders;
  readonly #returnRateLimits: boolean;
  readonly #dropTcp: () => void;
  readonly #subscriptions = new Map<string, { id: number; off: () => void }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #nextSubscriptionId = 0;
  #weightUsed = 0;
  #closed = false;

  /** Wires the socket's events. */
  constructor(options: WsApiSessionOptions) {
    this.id = options.id;
    this.#socket = options.socket;
    this.#orders = options.orders;
    this.#returnRateLimits = options.returnRateLimits;
    this.#dropTcp = options.dropTcp;
    this.#socket.onmessage = (event) => {
      if (typeof event.data === "string") this.#onRequest(event.data);
    };
    this.#socket.onclose = () => {
      this.#end();
      options.onClosed(this);
    };
    this.#socket.onerror = () => {};
  }

  /** Closes with a close frame, or drops the TCP connection (`abrupt`). */
  close(abrupt = false): void {
    this.#end();
    if (abrupt) {
      this.#dropTcp();
      return;
    }
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000, "closed by simulator");
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const sub of this.#subscriptions.values()) sub.off();
    this.#subscriptions.clear();
  }

  #send(value: unknown): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(JSON.stringify(value));
  }

  #answer(id: unknown, status: number, body: unknown, weight: number): void {
    this.#weightUsed += weight;
    const frame: Record<string, unknown> = { id, status };
    if (status === 200) frame.result = body;
    else frame.error = body;
    if (this.#returnRateLimits) {
      frame.rateLimits = [{
        rateLimitType: "REQUEST_WEIGHT",
        interval: "MINUTE",
        intervalNum: 1,
        limit: WEIGHT_LIMIT,
        count: this.#weightUsed,
      }];
    }
    this.#send(frame);
  }

  #onRequest(text: string): void {
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(text);
    } catch {
      this.#answer(null, 400, { code: -1000, msg: "Invalid JSON: expected a request object." }, 1);
      return;
    }
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
      this.#answer(null, 400, { code: -1000, msg: "Invalid request: expected an object." }, 1);
      return;
    }
    const id = request.id ?? null;
    const method = typeof request.method === "string" ? request.method.replace(/^v3\//, "") : "";
    const params = (request.params ?? {}) as Record<string, unknown>;
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      this.#answer(id, 400, { code: -1000, msg: "Invalid request: params must be an object." }, 1);
      return;
    }
    try {
      if (ORDER_METHODS.has(method)) {
        this.#orderRequest(id, method as OrderMethod, params);
        return;
      }
      switch (method) {
        case "ping":
          this.#answer(id, 200, {}, 1);
          return;
        case "time":
          this.#answer(id, 200, { serverTime: this.#orders.serverTimeMs() }, 1);
          return;
        case "userDataStream.subscribe.signature":
          this.#subscribe(id, params);
          return;
        case "userDataStream.unsubscribe":
          this.#unsubscribe(id, params);
          return;
        default:
          this.#answer(id, 400, { code: -1020, msg: "This operation is not supported." }, 1);
      }
    } catch (err) {
      if (err instanceof BinanceApiError) {
        this.#answer(id, err.status, { code: err.code, msg: err.msg }, 1);
      } else {
        // A simulator bug must not take the server down: answer as Binance's UNKNOWN.
        this.#answer(id, 500, { code: -1000, msg: `internal simulator error: ${String(err)}` }, 1);
      }
    }
  }

  #orderRequest(id: unknown, method: OrderMethod, params: Record<string, unknown>): void {
    if (method === "order.place") {
      const clientId = params.newClientOrderId;
      this.#orders.countPlaceRequest(typeof clientId === "string" ? clientId : undefined);
    }
    const account = verifyWsApiRequest(this.#orders.accounts, {
      params,
      nowMs: this.#orders.serverTimeMs(),
    });
    const values = new Map<string, string>();
    for (const [k, v] of Object.entries(params)) {
      if (k !== "apiKey" && k !== "signature" && k !== "timestamp" && k !== "recvWindow") {
        values.set(k, String(v));
      }
    }
    const outcome = this.#orders.execute(method, { account: account.apiKey, params: values });
    const weight = method === "order.status" ? 4 : method === "openOrders.status" ? 80 : 1;
    if (outcome.reportFirst) this.#orders.deliver(outcome.events);
    const respond = () => {
      this.#respond(id, outcome, weight);
      if (!outcome.reportFirst) this.#orders.deliver(outcome.events);
    };
    if (outcome.delayMs > 0) {
      if (!outcome.reportFirst) {
        // The reports go now; only the answer is late.
        this.#orders.deliver(outcome.events);
        outcome.reportFirst = true;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        respond();
      }, outcome.delayMs);
      this.#timers.add(timer);
    } else {
      respond();
    }
  }

  #respond(id: unknown, outcome: OrderOutcome, weight: number): void {
    const timeoutMsg =
      "Timeout waiting for response from backend server. Send status unknown; execution status unknown.";
    switch (outcome.unknown) {
      case "drop":
        return;
      case "http5xx":
        this.#answer(id, 503, { code: -1007, msg: timeoutMsg }, weight);
        return;
      case "code1007":
        this.#answer(id, 400, { code: -1007, msg: timeoutMsg }, weight);
        return;
      default:
        this.#answer(id, outcome.status, outcome.body, weight);
    }
  }

  #subscribe(id: unknown, params: Record<string, unknown>): void {
    const account = verifyWsApiRequest(this.#orders.accounts, {
      params,
      nowMs: this.#orders.serverTimeMs(),
    });
    if (this.#subscriptions.has(account.apiKey)) {
      throw new BinanceApiError(400, -2035, "User Data Stream subscription already active.");
    }
    const subscriptionId = this.#nextSubscriptionId++;
    const off = this.#orders.subscribe(account.apiKey, (event: UserEvent) => {
      this.#send({ subscriptionId, event });
    });
    this.#subscriptions.set(account.apiKey, { id: subscriptionId, off });
    this.#answer(id, 200, { subscriptionId }, 2);
  }

  #unsubscribe(id: unknown, params: Record<string, unknown>): void {
    const wanted = params.subscriptionId;
    for (const [key, sub] of this.#subscriptions) {
      if (wanted !== undefined && Number(wanted) !== sub.id) continue;
      sub.off();
      this.#subscriptions.delete(key);
      this.#send({
        subscriptionId: sub.id,
        event: { e: "eventStreamTerminated", E: this.#orders.serverTimeMs() },
      });
    }
    this.#answer(id, 200, {}, 2);
  }
}
