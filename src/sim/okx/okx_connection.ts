/**
 * One OKX WebSocket session: `subscribe`/`unsubscribe` ops with per-arg acks and `error`
 * events, the text `ping` → `pong` keep-alive, the 30 s idle rule (close 4004), and the
 * send-side faults (silent stall, abrupt drop).
 *
 * @module
 */

import type { OkxMarketFeed, OkxSubscriber } from "./okx_market_feed.ts";

/** Which endpoint a connection was opened on. */
export type OkxEndpoint = "public" | "business";

/** Channels served, by endpoint. */
const PUBLIC_CHANNELS: ReadonlySet<string> = new Set(["trades", "books", "tickers"]);
const BUSINESS_CHANNELS: ReadonlySet<string> = new Set(["candle1m"]);
/** Request `id`: 1-32 alphanumerics. */
const ID_RE = /^[A-Za-z0-9]{1,32}$/;

/** Snapshot of a connection for stats and fault selection. */
export interface OkxConnectionInfo {
  /** Simulator-local id (1, 2, ...). */
  readonly id: number;
  /** The `connId` sent in events. */
  readonly connId: string;
  /** Endpoint. */
  readonly endpoint: OkxEndpoint;
  /** Channel subscriptions. */
  readonly subscriptions: number;
  /** Frames sent. */
  readonly framesSent: number;
  /** Frames dropped by a stall. */
  readonly framesDropped: number;
}

/** What a connection needs from the simulator. */
export interface OkxConnectionHooks {
  /** Cuts the TCP connection (no close frame). */
  readonly dropTcp: () => void;
  /** Called once when the socket is gone. */
  readonly onClosed: (connection: OkxConnection) => void;
}

/** A session. */
export class OkxConnection implements OkxSubscriber {
  /** Simulator-local id. */
  readonly id: number;
  /** Stable per-connection id echoed in events. */
  readonly connId: string;
  /** Endpoint. */
  readonly endpoint: OkxEndpoint;
  /** Frames sent. */
  framesSent = 0;
  /** Frames dropped while stalled. */
  framesDropped = 0;
  readonly #socket: WebSocket;
  readonly #feed: OkxMarketFeed;
  readonly #hooks: OkxConnectionHooks;
  readonly #clock: () => number;
  /** Subscriptions as `channel` → instIds. */
  readonly #subscriptions = new Map<string, Set<string>>();
  readonly #openedMs: number;
  #lastFrameMs: number;
  #everSubscribed = false;
  #stallUntilMs = 0;
  #closed = false;

  /** Wraps an upgraded socket. */
  constructor(
    socket: WebSocket,
    options: {
      id: number;
      endpoint: OkxEndpoint;
      feed: OkxMarketFeed;
      hooks: OkxConnectionHooks;
      monotonic: () => number;
    },
  ) {
    this.id = options.id;
    this.connId = (Math.imul(options.id, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0");
    this.endpoint = options.endpoint;
    this.#socket = socket;
    this.#feed = options.feed;
    this.#hooks = options.hooks;
    this.#clock = options.monotonic;
    this.#openedMs = this.#clock();
    this.#lastFrameMs = this.#openedMs;
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = () => this.#onClose();
    socket.onerror = () => {};
  }

  /** Channel subscriptions held. */
  get subscriptionCount(): number {
    let total = 0;
    for (const set of this.#subscriptions.values()) total += set.size;
    return total;
  }

  /** Info for stats. */
  info(): OkxConnectionInfo {
    return {
      id: this.id,
      connId: this.connId,
      endpoint: this.endpoint,
      subscriptions: this.subscriptionCount,
      framesSent: this.framesSent,
      framesDropped: this.framesDropped,
    };
  }

  /** Sends a text frame, unless stalled (then it is counted and dropped). */
  send(text: string): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    if (this.#clock() < this.#stallUntilMs) {
      this.framesDropped++;
      return;
    }
    this.#socket.send(text);
    this.framesSent++;
    this.#lastFrameMs = this.#clock();
  }

  /** Sends nothing (not even `pong`) for `durationMs`; the socket stays open. */
  stall(durationMs: number): void {
    this.#stallUntilMs = this.#clock() + durationMs;
  }

  /**
   * Closes 4004 when nothing was subscribed within `idleMs` of opening or no frame went either
   * way for `idleMs`. Returns true when it closed.
   */
  checkIdle(idleMs: number): boolean {
    const nowMs = this.#clock();
    const neverSubscribed = !this.#everSubscribed && nowMs - this.#openedMs >= idleMs;
    if (!neverSubscribed && nowMs - this.#lastFrameMs < idleMs) return false;
    this.close(4004, `No data received in ${Math.round(idleMs / 1000)}s.`);
    return true;
  }

  /** Closes with a close frame. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#unsubscribeAll();
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /** Cuts the TCP connection without a close frame. */
  drop(): void {
    this.#unsubscribeAll();
    this.#hooks.dropTcp();
  }

  #onMessage(data: unknown): void {
    this.#lastFrameMs = this.#clock();
    if (typeof data !== "string") {
      this.#error(undefined, "60012", "Invalid request: binary frames are not accepted");
      return;
    }
    if (data === "ping") {
      this.send("pong");
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(data);
    } catch {
      this.#error(undefined, "60012", `Invalid request: ${data}`);
      return;
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      this.#error(undefined, "60012", `Invalid request: ${data}`);
      return;
    }
    const { id, op, args } = request as { id?: unknown; op?: unknown; args?: unknown };
    if (id !== undefined && (typeof id !== "string" || !ID_RE.test(id))) {
      this.#error(undefined, "60012", `Invalid request: ${data}`);
      return;
    }
    const requestId = id as string | undefined;
    if (op !== "subscribe" && op !== "unsubscribe") {
      if (op === "login" || op === "order" || op === "cancel-order") {
        this.#error(
          requestId,
          "60028",
          `The current operation ${String(op)} is not supported by this URL.`,
        );
      } else {
        this.#error(requestId, "60019", `Invalid op: op :${String(op)}`);
      }
      return;
    }
    if (!Array.isArray(args) || args.length === 0) {
      this.#error(requestId, "60012", `Invalid request: ${data}`);
      return;
    }
    // Every arg is checked before any takes effect: one bad arg rejects the whole request.
    const parsed: { channel: string; instId: string }[] = [];
    for (const arg of args) {
      const checked = this.#checkArg(arg, data);
      if (typeof checked === "string") {
        const [code, msg] = [checked.slice(0, 5), checked.slice(6)];
        this.#error(requestId, code, msg);
        return;
      }
      parsed.push(checked);
    }
    for (const arg of parsed) {
      if (op === "subscribe") this.#subscribe(arg.channel, arg.instId);
      else this.#unsubscribe(arg.channel, arg.instId);
      const ack: Record<string, unknown> = {};
      if (requestId !== undefined) ack.id = requestId;
      ack.event = op;
      ack.arg = { channel: arg.channel, instId: arg.instId };
      ack.connId = this.connId;
      this.send(JSON.stringify(ack));
    }
  }

  /** A valid arg, or `"<code> <msg>"`. */
  #checkArg(arg: unknown, raw: string): { channel: string; instId: string } | string {
    if (typeof arg !== "object" || arg === null || Array.isArray(arg)) {
      return `60012 Invalid request: ${raw}`;
    }
    const { channel, instId } = arg as { channel?: unknown; instId?: unknown };
    if (typeof channel !== "string" || channel === "") {
      return `60012 Invalid request: ${raw}`;
    }
    const served = this.endpoint === "public" ? PUBLIC_CHANNELS : BUSINESS_CHANNELS;
    const other = this.endpoint === "public" ? BUSINESS_CHANNELS : PUBLIC_CHANNELS;
    const instText = typeof instId === "string" ? instId : "null";
    if (other.has(channel)) {
      return this.endpoint === "public"
        ? `64001 channel:${channel},instId:${instText} doesn't exist. Please use the correct URL.`
        : `64002 channel:${channel},instId:${instText} doesn't exist. Please use the correct URL.`;
    }
    if (!served.has(channel) || typeof instId !== "string" || !this.#feed.has(instId)) {
      return `60018 Wrong URL or channel:${channel},instId:${instText} doesn't exist. ` +
        "Please use the correct URL, channel and parameters referring to API document.";
    }
    return { channel, instId };
  }

  #subscribe(channel: string, instId: string): void {
    let set = this.#subscriptions.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#subscriptions.set(channel, set);
    }
    this.#everSubscribed = true;
    if (set.has(instId)) return;
    set.add(instId);
    // The venue acks before the first push: registering one microtask later lets the caller
    // send every ack of the request before the snapshot goes out.
    queueMicrotask(() => {
      if (this.#closed || !set.has(instId)) return;
      this.#feed.subscribe(this, channel, instId);
    });
  }

  #unsubscribe(channel: string, instId: string): void {
    const set = this.#subscriptions.get(channel);
    if (set === undefined || !set.delete(instId)) return;
    this.#feed.unsubscribe(this, channel, instId);
  }

  #unsubscribeAll(): void {
    for (const [channel, set] of this.#subscriptions) {
      for (const instId of set) this.#feed.unsubscribe(this, channel, instId);
    }
    this.#subscriptions.clear();
  }

  #error(id: string | undefined, code: string, msg: string): void {
    const event: Record<string, unknown> = {};
    if (id !== undefined) event.id = id;
    event.event = "error";
    event.code = code;
    event.msg = msg;
    event.connId = this.connId;
    this.send(JSON.stringify(event));
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#unsubscribeAll();
    this.#closed = true;
    this.#hooks.onClosed(this);
  }
}
