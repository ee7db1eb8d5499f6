/**
 * One logical, exchange-neutral WebSocket connection that survives reconnects, built on Deno's
 * built-in `WebSocket` (the only client allowed in `src/`).
 *
 * What it does, and why:
 * - Reconnects with exponential backoff and jitter ({@linkcode Backoff}); the backoff resets only
 *   after a socket stayed open for `backoffResetAfterMs`, so a server that accepts and then drops
 *   at once cannot drive a tight loop.
 * - Rotates proactively before an exchange's forced disconnect (`maxLifetimeMs`; Binance cuts at
 *   24 h) and on {@linkcode WsConnection.reconnect} (e.g. Binance `serverShutdown`), always
 *   make-before-break: a NEW socket is opened while the old one keeps delivering; once the new
 *   one is open it becomes current, `onOpen` runs (resubscribe / re-snapshot), and only then is the
 *   old one closed. While both are up, messages from both are delivered (tagged with `connId`), so
 *   there is no gap; the adapter drops duplicates by exchange ids.
 * - Watches for staleness (`idleTimeoutMs`): no message on the current socket within the bound
 *   reconnects with reason `"idle"`. Deno has no JS ping API but answers server pings itself, so
 *   keep-alive toward the exchange needs no code here.
 * - Bounds every wait: connect (`connectTimeoutMs`), close (`closeTimeoutMs`), switch-over
 *   (`switchoverTimeoutMs`). Deno's `WebSocket.close()` waits forever for a peer that never
 *   answers the closing handshake and there is no `terminate()`; after `closeTimeoutMs` the
 *   socket's reference is dropped and it counts as closed. The runtime keeps that socket until
 *   the peer or the OS ends the TCP connection; an event `"released"` reports when that happens.
 * - Outbound control messages go through a {@linkcode SendPacer} ({@linkcode WsConnection.enqueue})
 *   whose queue is cleared whenever the current socket changes.
 * - Never throws from a socket callback: operating errors are counted in
 *   {@linkcode WsConnection.stats} and reported through `onEvent`.
 *
 * Note: the classic `WebSocket` has no read backpressure; `onMessage` must be fast and
 * synchronous (it is the hot path).
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../../pool/mod.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { SendPacer, type SendPacerStats } from "./send_pacer.ts";

/** Default first reconnect delay, in ms. */
export const RECONNECT_INITIAL_MS_DEFAULT = 250;
/** Default cap of the reconnect delay, in ms. */
export const RECONNECT_MAX_MS_DEFAULT = 30_000;
/** Default time a socket must stay open before the backoff starts over, in ms. */
export const BACKOFF_RESET_AFTER_MS_DEFAULT = 10_000;
/** Default bound on the opening handshake, in ms. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;
/** Default bound on the closing handshake, in ms. */
export const CLOSE_TIMEOUT_MS_DEFAULT = 2_000;
/** Default bound on waiting for `onOpen`'s promise before the old socket is closed, in ms. */
export const SWITCHOVER_TIMEOUT_MS_DEFAULT = 10_000;

/** Where the logical connection is. `idle` until {@linkcode WsConnection.start}. */
export type WsConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** Passed to `onOpen` after every (re)connect. */
export interface WsOpenInfo {
  /** Gateway-local id of the socket, increasing per socket (also passed to `onMessage`). */
  connId: number;
  /** The URL this socket was opened with. */
  url: string;
  /** `"initial"` or the reason of the reconnect (`"remote_close"`, `"idle"`, `"lifetime"`, ...). */
  reason: string;
  /** Failed connect attempts in a row just before this success. */
  failedAttempts: number;
  /** True when an older socket was still open (make-before-break switch). */
  rotation: boolean;
  /** From `new WebSocket()` to the open event, in ms. */
  connectMs: number;
}

/** Passed to `onClose` when the current socket of the logical connection closes. */
export interface WsCloseInfo {
  /** `connId` of the socket that closed. */
  connId: number;
  /** Close code (Deno reports 0 or 1006 for abnormal closes; 1006 after a close timeout). */
  code: number;
  /** Close reason sent by the peer (or ours). */
  reason: string;
  /** Whether the closing handshake completed. */
  wasClean: boolean;
  /** False only after {@linkcode WsConnection.close}. */
  willReconnect: boolean;
  /** Reconnect delays handed out since the backoff last reset (0 after a healthy socket). */
  attempt: number;
}

/** Stage of a reported error. */
export type WsErrorStage =
  | "url"
  | "connect"
  | "connect_timeout"
  | "socket"
  | "close"
  | "switchover"
  | "on_open"
  | "on_message"
  | "on_close";

/** Role of a socket when it closed, in `close` events. */
export type WsSocketKind = "current" | "rotated_out" | "attempt";

/** Log-worthy happenings, for the structured logger. `connection` is the configured name. */
export type WsConnectionEvent =
  | { type: "connecting"; connection: string; connId: number; url: string; reason: string }
  | {
    type: "open";
    connection: string;
    connId: number;
    url: string;
    reason: string;
    connectMs: number;
    rotation: boolean;
  }
  | {
    type: "close";
    connection: string;
    connId: number;
    /** Which socket closed: the current one, one rotated out, or a failed attempt. */
    socket: WsSocketKind;
    code: number;
    reason: string;
    wasClean: boolean;
    /** Whether the logical connection goes on (false only after close()). */
    willReconnect: boolean;
  }
  | { type: "error"; connection: string; connId: number; stage: WsErrorStage; message: string }
  | {
    type: "reconnect_scheduled";
    connection: string;
    delayMs: number;
    attempt: number;
    reason: string;
  }
  | {
    type: "rotation";
    connection: string;
    phase: "start" | "switched";
    reason: string;
    connId: number;
  }
  | { type: "idle"; connection: string; connId: number; silentMs: number }
  | { type: "close_timeout"; connection: string; connId: number; closeTimeoutMs: number }
  | { type: "released"; connection: string; connId: number };

/** Options of {@linkcode WsConnection}. Every bound is in ms; 0 disables the optional ones. */
export interface WsConnectionOptions {
  /** Name used in events (e.g. `"binance-md-0"`). */
  name: string;
  /** The URL, or a function computing it at each connect (e.g. from current subscriptions). */
  url: string | (() => string);
  /** Hot path: one text frame, its receive time (ms since epoch) and the socket's `connId`. */
  onMessage: (text: string, recvTsMs: number, connId: number) => void;
  /** Binary frames; when absent they are counted and dropped. */
  onBinary?: (data: ArrayBuffer, recvTsMs: number, connId: number) => void;
  /**
   * Called after every (re)connect, once the socket is current: resubscribe / re-snapshot here.
   * During a rotation the old socket is closed when the returned promise settles (bounded by
   * `switchoverTimeoutMs`), or at once when nothing is returned.
   */
  onOpen?: (info: WsOpenInfo) => void | Promise<unknown>;
  /** Called when the current socket closes (not for rotated-out or never-opened sockets). */
  onClose?: (info: WsCloseInfo) => void;
  /** Log-worthy events; see {@linkcode WsConnectionEvent}. */
  onEvent?: (event: WsConnectionEvent) => void;
  /** Reconnect backoff; defaults: 250 ms initial, 30 s max, ×2, full jitter. */
  backoff?: Partial<BackoffOptions>;
  /** A socket open this long resets the backoff. Default 10 000. */
  backoffResetAfterMs?: number;
  /** Bound on the opening handshake. Default 10 000. */
  connectTimeoutMs?: number;
  /** Bound on the closing handshake (no `terminate()` in Deno). Default 2 000. */
  closeTimeoutMs?: number;
  /** Rotate (make-before-break) after a socket has been open this long; 0 = never. Default 0. */
  maxLifetimeMs?: number;
  /** Reconnect when the current socket delivered nothing for this long; 0 = off. Default 0. */
  idleTimeoutMs?: number;
  /** Bound on `onOpen`'s promise during a rotation. Default 10 000. */
  switchoverTimeoutMs?: number;
  /** Outbound pacing for {@linkcode WsConnection.enqueue}; defaults of {@linkcode SendPacer}. */
  pacer?: { ratePerSec?: number; burstMax?: number; queueMax?: number };
  /** Time source and timers; default the runtime's. */
  clock?: Clock;
  /** Epoch ms of `clock.nowMs() === 0`; default `performance.timeOrigin`. */
  timeOriginMs?: number;
}

/** Counters of a {@linkcode WsConnection}, as a snapshot. */
export interface WsConnectionStats {
  /** State at the time of the snapshot. */
  state: WsConnectionState;
  /** Sockets that reached open. */
  connects: number;
  /** Attempts that failed before open (error, refusal, connect timeout, bad URL). */
  connectFailures: number;
  /** Reconnects started, by reason (`remote_close`, `idle`, `lifetime`, or the caller's). */
  reconnects: Record<string, number>;
  /** Text frames delivered to `onMessage`. */
  messagesIn: number;
  /**
   * Size of delivered frames: UTF-16 code units of text frames (equal to bytes for the ASCII
   * JSON exchanges send; counting real UTF-8 bytes would cost a scan per frame) plus bytes of
   * binary frames.
   */
  bytesIn: number;
  /** Binary frames received (delivered to `onBinary` or dropped). */
  binaryIn: number;
  /** Successful {@linkcode WsConnection.send} calls (direct and paced). */
  sends: number;
  /** Sends refused because no socket was open (or the runtime threw). */
  sendFailures: number;
  /** Socket error events. */
  socketErrors: number;
  /** Exceptions thrown by `onMessage`, `onBinary`, `onOpen` or `onClose`. */
  callbackErrors: number;
  /** Closes that hit `closeTimeoutMs`. */
  closeTimeouts: number;
  /** Receive time of the last message, ms since epoch; 0 before the first. */
  lastMessageAtMs: number;
  /** `connId` of the current socket; 0 when none is open. */
  currentConnId: number;
  /** The pacer's counters. */
  pacer: SendPacerStats;
}

// Life of one socket. pending: handshake running. current: the socket of the logical connection.
// draining: rotated out, still delivering until its switch-over ends. closing: close() called,
// waiting for the close event (bounded). dead: closed, failed or dropped after the close bound.
type LinkRole = "pending" | "current" | "draining" | "closing" | "dead";

class Link {
  role: LinkRole = "pending";
  opened = false;
  connectTimerId: number | null = null;
  closeTimerId: number | null = null;
  switchTimerId: number | null = null;
  // Set when this link was current at close(): its final close is reported through onClose.
  reportCloseAsCurrent = false;
  // Set when the close bound expired and the reference was dropped.
  dropped = false;
  readonly settled: Promise<void>;
  readonly settle: () => void;

  constructor(
    readonly connId: number,
    readonly url: string,
    readonly ws: WebSocket,
    readonly reason: string,
    readonly createdAtMs: number,
  ) {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.settled = promise;
    this.settle = resolve;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function checkBoundMs(name: string, value: number, allowZero: boolean): number {
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    throw new RangeError(`expected ${name} ${allowZero ? ">= 0" : "> 0"} ms, found ${value}`);
  }
  return value;
}

/**
 * A WebSocket connection that reconnects, rotates and watches itself.
 *
 * @example
 * ```ts
 * const conn = new WsConnection({
 *   name: "binance-md-0",
 *   url: () => `wss://stream.binance.com:9443/stream?streams=${streams.join("/")}`,
 *   onMessage: (text, recvTsMs, connId) => adapter.onFrame(text, recvTsMs, connId),
 *   onOpen: () => adapter.resnapshot(),
 *   maxLifetimeMs: 23 * 3_600_000 + 50 * 60_000, // rotate before Binance's 24 h cut
 *   idleTimeoutMs: 60_000,
 * });
 * conn.start();
 * // on {"e":"serverShutdown"}: conn.reconnect("server_shutdown");
 * await conn.close();
 * ```
 */
export class WsConnection {
  /** The configured name, used in events. */
  readonly name: string;
  private readonly urlSource: string | (() => string);
  private readonly onMessageCb: (text: string, recvTsMs: number, connId: number) => void;
  private readonly onBinaryCb:
    | ((data: ArrayBuffer, recvTsMs: number, connId: number) => void)
    | null;
  private readonly onOpenCb: ((info: WsOpenInfo) => void | Promise<unknown>) | null;
  private readonly onCloseCb: ((info: WsCloseInfo) => void) | null;
  private readonly onEventCb: ((event: WsConnectionEvent) => void) | null;
  private readonly backoff: Backoff;
  private readonly pacer: SendPacer;
  private readonly clock: Clock;
  private readonly timeOriginMs: number;
  private readonly backoffResetAfterMs: number;
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxLifetimeMs: number;
  private readonly idleTimeoutMs: number;
  private readonly switchoverTimeoutMs: number;

  private stateValue: WsConnectionState = "idle";
  private everOpened = false;
  private connIdSeq = 0;
  private current: Link | null = null;
  private pending: Link | null = null;
  // Every link not yet dead, so close() can bound and await all of them.
  private readonly live = new Set<Link>();
  private retryTimerId: number | null = null;
  private lifetimeTimerId: number | null = null;
  private idleTimerId: number | null = null;
  private healthyTimerId: number | null = null;
  private lastActivityMs = 0;
  private failedInRow = 0;
  private closePromise: Promise<void> | null = null;

  private connects = 0;
  private connectFailures = 0;
  private readonly reconnects = new Map<string, number>();
  private messagesIn = 0;
  private bytesIn = 0;
  private binaryIn = 0;
  private sends = 0;
  private sendFailures = 0;
  private socketErrors = 0;
  private callbackErrors = 0;
  private closeTimeouts = 0;
  private lastMessageAtMs = 0;

  /** Validates the options (throws `RangeError` naming a bad bound); does not connect. */
  constructor(options: WsConnectionOptions) {
    if (options.name.length === 0) throw new RangeError('expected a connection name, found ""');
    this.name = options.name;
    this.urlSource = options.url;
    this.onMessageCb = options.onMessage;
    this.onBinaryCb = options.onBinary ?? null;
    this.onOpenCb = options.onOpen ?? null;
    this.onCloseCb = options.onClose ?? null;
    this.onEventCb = options.onEvent ?? null;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.timeOriginMs = options.timeOriginMs ?? performance.timeOrigin;
    this.backoff = new Backoff({
      initialMs: RECONNECT_INITIAL_MS_DEFAULT,
      maxMs: RECONNECT_MAX_MS_DEFAULT,
      ...options.backoff,
    });
    this.backoffResetAfterMs = checkBoundMs(
      "backoffResetAfterMs",
      options.backoffResetAfterMs ?? BACKOFF_RESET_AFTER_MS_DEFAULT,
      false,
    );
    this.connectTimeoutMs = checkBoundMs(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT,
      false,
    );
    this.closeTimeoutMs = checkBoundMs(
      "closeTimeoutMs",
      options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS_DEFAULT,
      false,
    );
    this.maxLifetimeMs = checkBoundMs("maxLifetimeMs", options.maxLifetimeMs ?? 0, true);
    this.idleTimeoutMs = checkBoundMs("idleTimeoutMs", options.idleTimeoutMs ?? 0, true);
    this.switchoverTimeoutMs = checkBoundMs(
      "switchoverTimeoutMs",
      options.switchoverTimeoutMs ?? SWITCHOVER_TIMEOUT_MS_DEFAULT,
      false,
    );
    this.pacer = new SendPacer({
      send: (text) => this.send(text),
      clock: this.clock,
      ...options.pacer,
    });
  }

  /** Where the logical connection is. */
  get state(): WsConnectionState {
    return this.stateValue;
  }

  /** Opens the first socket. Throws unless the connection is `idle` (start is once only). */
  start(): void {
    if (this.stateValue !== "idle") {
      throw new Error(`expected an idle connection to start, found "${this.stateValue}"`);
    }
    this.stateValue = "connecting";
    this.connect("initial");
  }

  /**
   * Sends `text` on the current socket at once (no pacing). Returns false, and counts a send
   * failure, when no socket is open.
   */
  send(text: string): boolean {
    const link = this.current;
    if (link !== null && link.ws.readyState === WebSocket.OPEN) {
      try {
        link.ws.send(text);
        this.sends++;
        return true;
      } catch {
        // A socket the runtime just closed under us; counted below like any closed socket.
      }
    }
    this.sendFailures++;
    return false;
  }

  /**
   * Queues a control message through the pacer (use it for (re)subscriptions). The queue is
   * cleared whenever the current socket changes, so enqueue from `onOpen`. Throws
   * `SendQueueFullError` when the pacer's queue is full.
   */
  enqueue(text: string): void {
    this.pacer.enqueue(text);
  }

  /**
   * Starts a make-before-break reconnect for `reason` (e.g. `"server_shutdown"`): a new socket
   * is opened and the current one is closed only after the new one is open. Returns false (and
   * does nothing) when no socket is open or when a reconnect is already under way; a failed
   * attempt is retried with backoff while the old socket keeps delivering.
   */
  reconnect(reason: string): boolean {
    if (this.stateValue === "idle" || this.stateValue === "closed") return false;
    if (this.pending !== null || this.retryTimerId !== null) return false;
    const current = this.current;
    // No current socket: a reconnect is already decided (e.g. called from onClose, just before
    // the retry is scheduled).
    if (current === null) return false;
    this.countReconnect(reason);
    this.emit({
      type: "rotation",
      connection: this.name,
      phase: "start",
      reason,
      connId: current.connId,
    });
    this.connect(reason);
    return true;
  }

  /**
   * Stops reconnecting and closes every socket. Resolves within `closeTimeoutMs` (plus timer
   * slack) even when the peer never answers the closing handshake. Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    const wasIdle = this.stateValue === "idle";
    this.stateValue = "closed";
    this.cancelTimer("retryTimerId");
    this.cancelTimer("lifetimeTimerId");
    this.cancelTimer("idleTimerId");
    this.cancelTimer("healthyTimerId");
    this.pacer.close();
    if (wasIdle) {
      this.closePromise = Promise.resolve();
      return this.closePromise;
    }
    const settled: Promise<void>[] = [];
    for (const link of this.live) {
      if (link === this.current) link.reportCloseAsCurrent = true;
      this.closeLink(link, 1000, "client close");
      settled.push(link.settled);
    }
    this.pending = null;
    this.current = null;
    this.closePromise = Promise.all(settled).then(() => undefined);
    return this.closePromise;
  }

  /** A snapshot of the counters. */
  stats(): WsConnectionStats {
    return {
      state: this.stateValue,
      connects: this.connects,
      connectFailures: this.connectFailures,
      reconnects: Object.fromEntries(this.reconnects),
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      binaryIn: this.binaryIn,
      sends: this.sends,
      sendFailures: this.sendFailures,
      socketErrors: this.socketErrors,
      callbackErrors: this.callbackErrors,
      closeTimeouts: this.closeTimeouts,
      lastMessageAtMs: this.lastMessageAtMs,
      currentConnId: this.current?.connId ?? 0,
      pacer: this.pacer.stats(),
    };
  }

  // ---- connecting ------------------------------------------------------------------------

  private connect(reason: string): void {
    if (this.pending !== null || this.retryTimerId !== null) {
      throw new Error("expected no connect under way, found one");
    }
    const connId = ++this.connIdSeq;
    let url: string;
    let ws: WebSocket;
    try {
      url = typeof this.urlSource === "string" ? this.urlSource : this.urlSource();
      ws = new WebSocket(url);
    } catch (error) {
      // A bad URL (or a throwing URL function) is an operating error: report and retry later.
      this.connectFailures++;
      this.failedInRow++;
      this.emit({
        type: "error",
        connection: this.name,
        connId,
        stage: "url",
        message: errorMessage(error),
      });
      this.scheduleRetry(reason);
      return;
    }
    ws.binaryType = "arraybuffer";
    const link = new Link(connId, url, ws, reason, this.clock.nowMs());
    this.pending = link;
    this.live.add(link);
    ws.onopen = () => this.handleOpen(link);
    ws.onmessage = (event: MessageEvent) => this.handleMessage(link, event);
    ws.onerror = (event: Event) => this.handleError(link, event);
    ws.onclose = (event: CloseEvent) =>
      this.handleClose(link, event.code, event.reason, event.wasClean);
    link.connectTimerId = this.clock.setTimeout(
      () => this.handleConnectTimeout(link),
      this.connectTimeoutMs,
    );
    this.emit({ type: "connecting", connection: this.name, connId, url, reason });
  }

  private handleConnectTimeout(link: Link): void {
    link.connectTimerId = null;
    if (link.role !== "pending") return;
    this.emit({
      type: "error",
      connection: this.name,
      connId: link.connId,
      stage: "connect_timeout",
      message: `expected the handshake within ${this.connectTimeoutMs} ms, found none`,
    });
    // Deno cancels a handshake in progress on close(); the close event then settles the link.
    this.closeLink(link, 1000, "connect timeout");
    this.connectFailed(link);
  }

  private connectFailed(link: Link): void {
    if (this.pending === link) this.pending = null;
    this.connectFailures++;
    this.failedInRow++;
    if (this.stateValue === "closed") return;
    this.scheduleRetry(link.reason);
  }

  private scheduleRetry(reason: string): void {
    if (this.pending !== null || this.retryTimerId !== null) {
      throw new Error("expected no connect under way when scheduling a retry, found one");
    }
    const delayMs = this.backoff.next();
    if (this.current === null) this.stateValue = this.everOpened ? "reconnecting" : "connecting";
    this.emit({
      type: "reconnect_scheduled",
      connection: this.name,
      delayMs,
      attempt: this.backoff.attempt,
      reason,
    });
    this.retryTimerId = this.clock.setTimeout(() => {
      this.retryTimerId = null;
      if (this.stateValue !== "closed") this.connect(reason);
    }, delayMs);
  }

  // ---- open and switch-over --------------------------------------------------------------

  private handleOpen(link: Link): void {
    if (link.role !== "pending") return;
    this.clearLinkTimer(link, "connectTimerId");
    if (this.pending === link) this.pending = null;
    const nowMs = this.clock.nowMs();
    const old = this.current;
    link.role = "current";
    link.opened = true;
    this.current = link;
    this.stateValue = "open";
    this.everOpened = true;
    this.connects++;
    const failedAttempts = this.failedInRow;
    this.failedInRow = 0;
    this.lastActivityMs = nowMs;
    // Control messages queued for the previous socket (or while down) are stale: onOpen
    // re-derives what the new socket needs.
    this.pacer.clear();
    this.armCurrentTimers();
    const rotation = old !== null;
    const connectMs = nowMs - link.createdAtMs;
    this.emit({
      type: "open",
      connection: this.name,
      connId: link.connId,
      url: link.url,
      reason: link.reason,
      connectMs,
      rotation,
    });
    if (old !== null) {
      old.role = "draining";
      this.emit({
        type: "rotation",
        connection: this.name,
        phase: "switched",
        reason: link.reason,
        connId: link.connId,
      });
    }
    const result = this.callOnOpen({
      connId: link.connId,
      url: link.url,
      reason: link.reason,
      failedAttempts,
      rotation,
      connectMs,
    });
    if (old === null) return;
    if (isPromiseLike(result)) this.retireAfter(old, result);
    else this.retire(old);
  }

  private callOnOpen(info: WsOpenInfo): unknown {
    if (this.onOpenCb === null) return undefined;
    let result: unknown;
    try {
      result = this.onOpenCb(info);
    } catch (error) {
      this.callbackFailed(info.connId, "on_open", error);
      return undefined;
    }
    if (isPromiseLike(result)) {
      // Always observe a rejection: an unhandled one would end the process.
      Promise.resolve(result).catch((error) => this.callbackFailed(info.connId, "on_open", error));
    }
    return result;
  }

  private retireAfter(old: Link, ready: PromiseLike<unknown>): void {
    const finish = () => {
      this.clearLinkTimer(old, "switchTimerId");
      if (old.role === "draining") this.retire(old);
    };
    old.switchTimerId = this.clock.setTimeout(() => {
      old.switchTimerId = null;
      if (old.role !== "draining") return;
      this.emit({
        type: "error",
        connection: this.name,
        connId: old.connId,
        stage: "switchover",
        message:
          `expected onOpen to settle within ${this.switchoverTimeoutMs} ms, found it pending`,
      });
      finish();
    }, this.switchoverTimeoutMs);
    Promise.resolve(ready).then(finish, finish);
  }

  private retire(old: Link): void {
    this.closeLink(old, 1000, "rotation");
  }

  private armCurrentTimers(): void {
    this.cancelTimer("lifetimeTimerId");
    this.cancelTimer("idleTimerId");
    this.cancelTimer("healthyTimerId");
    const link = this.current;
    if (link === null) return;
    this.healthyTimerId = this.clock.setTimeout(() => {
      this.healthyTimerId = null;
      // Only a socket that stayed up this long proves the endpoint healthy again.
      if (this.current === link) this.backoff.reset();
    }, this.backoffResetAfterMs);
    if (this.maxLifetimeMs > 0) {
      this.lifetimeTimerId = this.clock.setTimeout(() => {
        this.lifetimeTimerId = null;
        if (this.current === link) this.reconnect("lifetime");
      }, this.maxLifetimeMs);
    }
    if (this.idleTimeoutMs > 0) {
      this.idleTimerId = this.clock.setTimeout(() => this.checkIdle(), this.idleTimeoutMs);
    }
  }

  // One timer per socket, re-armed for the remaining time, instead of a timer reset per message.
  private checkIdle(): void {
    this.idleTimerId = null;
    const link = this.current;
    if (link === null) return;
    const silentMs = this.clock.nowMs() - this.lastActivityMs;
    if (silentMs < this.idleTimeoutMs) {
      this.idleTimerId = this.clock.setTimeout(
        () => this.checkIdle(),
        Math.max(1, this.idleTimeoutMs - silentMs),
      );
      return;
    }
    this.emit({ type: "idle", connection: this.name, connId: link.connId, silentMs });
    this.reconnect("idle");
  }

  // ---- receive ---------------------------------------------------------------------------

  private handleMessage(link: Link, event: MessageEvent): void {
    const role = link.role;
    if (role === "dead" || role === "pending") return;
    const nowMs = this.clock.nowMs();
    const recvTsMs = this.timeOriginMs + nowMs;
    if (role === "current") this.lastActivityMs = nowMs;
    this.lastMessageAtMs = recvTsMs;
    const data = event.data;
    if (typeof data === "string") {
      this.messagesIn++;
      this.bytesIn += data.length;
      try {
        this.onMessageCb(data, recvTsMs, link.connId);
      } catch (error) {
        this.callbackFailed(link.connId, "on_message", error);
      }
      return;
    }
    this.binaryIn++;
    if (data instanceof ArrayBuffer) {
      this.bytesIn += data.byteLength;
      if (this.onBinaryCb === null) return;
      try {
        this.onBinaryCb(data, recvTsMs, link.connId);
      } catch (error) {
        this.callbackFailed(link.connId, "on_message", error);
      }
    }
  }

  private handleError(link: Link, event: Event): void {
    this.socketErrors++;
    const message = event instanceof ErrorEvent ? event.message : event.type;
    this.emit({
      type: "error",
      connection: this.name,
      connId: link.connId,
      stage: "socket",
      message,
    });
  }

  // ---- close -----------------------------------------------------------------------------

  private handleClose(link: Link, code: number, reason: string, wasClean: boolean): void {
    const role = link.role;
    if (role === "dead") {
      // Deno may fire close twice; after a close timeout the late one means the runtime has
      // finally released the socket.
      if (link.dropped) {
        link.dropped = false;
        this.emit({ type: "released", connection: this.name, connId: link.connId });
      }
      return;
    }
    this.markDead(link);
    if (role === "current") {
      this.currentClosed(link, code, reason, wasClean);
      return;
    }
    if (link.reportCloseAsCurrent) {
      this.reportClose(link, code, reason, wasClean, false);
      return;
    }
    this.emit({
      type: "close",
      connection: this.name,
      connId: link.connId,
      socket: link.opened ? "rotated_out" : "attempt",
      code,
      reason,
      wasClean,
      willReconnect: this.stateValue !== "closed",
    });
    // A handshake that failed on its own; one we cancelled (timeout, close()) was handled then.
    if (role === "pending") this.connectFailed(link);
  }

  private currentClosed(link: Link, code: number, reason: string, wasClean: boolean): void {
    this.current = null;
    this.cancelTimer("lifetimeTimerId");
    this.cancelTimer("idleTimerId");
    this.cancelTimer("healthyTimerId");
    this.pacer.clear();
    const willReconnect = this.stateValue !== "closed";
    if (willReconnect) this.stateValue = "reconnecting";
    this.reportClose(link, code, reason, wasClean, willReconnect);
    if (!willReconnect) return;
    // A rotation already under way (pending socket or scheduled retry) takes over.
    if (this.pending !== null || this.retryTimerId !== null) return;
    this.countReconnect("remote_close");
    this.scheduleRetry("remote_close");
  }

  private reportClose(
    link: Link,
    code: number,
    reason: string,
    wasClean: boolean,
    willReconnect: boolean,
  ): void {
    this.emit({
      type: "close",
      connection: this.name,
      connId: link.connId,
      socket: "current",
      code,
      reason,
      wasClean,
      willReconnect,
    });
    if (this.onCloseCb === null) return;
    try {
      this.onCloseCb({
        connId: link.connId,
        code,
        reason,
        wasClean,
        willReconnect,
        attempt: this.backoff.attempt,
      });
    } catch (error) {
      this.callbackFailed(link.connId, "on_close", error);
    }
  }

  // Starts the closing handshake, bounded by closeTimeoutMs. Messages still arriving on the
  // link are delivered (a rotated-out socket's last frames are not lost).
  private closeLink(link: Link, code: number, reason: string): void {
    if (link.role === "closing" || link.role === "dead") return;
    link.role = "closing";
    this.clearLinkTimer(link, "connectTimerId");
    this.clearLinkTimer(link, "switchTimerId");
    try {
      link.ws.close(code, reason);
    } catch (error) {
      this.emit({
        type: "error",
        connection: this.name,
        connId: link.connId,
        stage: "close",
        message: errorMessage(error),
      });
    }
    link.closeTimerId = this.clock.setTimeout(
      () => this.handleCloseTimeout(link),
      this.closeTimeoutMs,
    );
  }

  private handleCloseTimeout(link: Link): void {
    link.closeTimerId = null;
    if (link.role !== "closing") return;
    // No terminate() in Deno: forget the socket. Its handlers stay so "released" can be reported.
    this.closeTimeouts++;
    this.markDead(link);
    link.dropped = true;
    this.emit({
      type: "close_timeout",
      connection: this.name,
      connId: link.connId,
      closeTimeoutMs: this.closeTimeoutMs,
    });
    if (link.reportCloseAsCurrent) this.reportClose(link, 1006, "close timeout", false, false);
  }

  private markDead(link: Link): void {
    link.role = "dead";
    this.clearLinkTimer(link, "connectTimerId");
    this.clearLinkTimer(link, "closeTimerId");
    this.clearLinkTimer(link, "switchTimerId");
    this.live.delete(link);
    link.settle();
  }

  // ---- small helpers ---------------------------------------------------------------------

  private countReconnect(reason: string): void {
    this.reconnects.set(reason, (this.reconnects.get(reason) ?? 0) + 1);
  }

  private callbackFailed(connId: number, stage: WsErrorStage, error: unknown): void {
    const count = ++this.callbackErrors;
    // A callback that throws on every frame would flood the log: report the 1st, 2nd, 4th, ...
    if ((count & (count - 1)) !== 0) return;
    this.emit({
      type: "error",
      connection: this.name,
      connId,
      stage,
      message: errorMessage(error),
    });
  }

  private emit(event: WsConnectionEvent): void {
    if (this.onEventCb === null) return;
    try {
      this.onEventCb(event);
    } catch {
      // Reporting must never break the connection; a broken logger is not our failure to handle.
    }
  }

  private cancelTimer(
    key: "retryTimerId" | "lifetimeTimerId" | "idleTimerId" | "healthyTimerId",
  ): void {
    const id = this[key];
    if (id !== null) {
      this.clock.clearTimeout(id);
      this[key] = null;
    }
  }

  private clearLinkTimer(
    link: Link,
    key: "connectTimerId" | "closeTimerId" | "switchTimerId",
  ): void {
    const id = link[key];
    if (id !== null) {
      this.clock.clearTimeout(id);
      link[key] = null;
    }
  }
}
