/**
 * One `/ws/v5/private` session of the OKX simulator: the socket, the text `ping` → `pong`
 * keep-alive, the 30 s idle rule (close 4004), the logged-in account and the `orders`
 * subscriptions. What requests mean is decided by {@linkcode OkxOrderSide}; this class only
 * keeps the session's state and sends frames.
 *
 * @module
 */

import type { OkxSimAccount } from "./okx_sim_auth.ts";

/** One `orders` subscription: `instType` and an optional `instId` filter. */
export interface OkxOrdersSubscription {
  readonly instType: string;
  readonly instId: string;
}

/** What a session needs from the order side. */
export interface OkxPrivateHooks {
  /** A text frame other than `ping` arrived. */
  readonly onText: (connection: OkxPrivateConnection, text: string) => void;
  /** Cuts the TCP connection (no close frame). */
  readonly dropTcp: () => void;
  /** Called once when the socket is gone. */
  readonly onClosed: (connection: OkxPrivateConnection) => void;
}

/** A private session. */
export class OkxPrivateConnection {
  /** Simulator-local id. */
  readonly id: number;
  /** Stable per-connection id echoed in events. */
  readonly connId: string;
  /** The account after a successful login, else null. */
  account: OkxSimAccount | null = null;
  /** `orders` subscriptions, keyed `instType|instId`. */
  readonly subscriptions = new Map<string, OkxOrdersSubscription>();
  /** Frames sent. */
  framesSent = 0;
  readonly #socket: WebSocket;
  readonly #hooks: OkxPrivateHooks;
  readonly #monotonic: () => number;
  readonly #openedMs: number;
  #lastFrameMs: number;
  #everSubscribed = false;
  #closed = false;

  /** Wraps an upgraded socket. */
  constructor(
    socket: WebSocket,
    options: { id: number; hooks: OkxPrivateHooks; monotonic: () => number },
  ) {
    this.id = options.id;
    // A different multiplier than public sessions so connIds of the two kinds do not collide.
    this.connId = (Math.imul(options.id, 0x85ebca6b) >>> 0).toString(16).padStart(8, "0");
    this.#socket = socket;
    this.#hooks = options.hooks;
    this.#monotonic = options.monotonic;
    this.#openedMs = this.#monotonic();
    this.#lastFrameMs = this.#openedMs;
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = () => this.#onClose();
    socket.onerror = () => {};
  }

  /** True once the socket is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records that a subscription was made (for the idle rule). */
  markSubscribed(): void {
    this.#everSubscribed = true;
  }

  /** Sends a text frame when the socket is open. */
  send(text: string): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(text);
    this.framesSent++;
    this.#lastFrameMs = this.#monotonic();
  }

  /** Closes 4004 after `idleMs` without a subscription or without any frame; true when it did. */
  checkIdle(idleMs: number): boolean {
    if (this.#closed) return false;
    const nowMs = this.#monotonic();
    const neverSubscribed = !this.#everSubscribed && nowMs - this.#openedMs >= idleMs;
    if (!neverSubscribed && nowMs - this.#lastFrameMs < idleMs) return false;
    this.close(4004, `No data received in ${Math.round(idleMs / 1000)}s.`);
    return true;
  }

  /** Closes with a close frame. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /** Cuts the TCP connection without a close frame. */
  drop(): void {
    this.#hooks.dropTcp();
  }

  #onMessage(data: unknown): void {
    this.#lastFrameMs = this.#monotonic();
    if (data === "ping") {
      this.send("pong");
      return;
    }
    this.#hooks.onText(this, typeof data === "string" ? data : "");
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.account = null;
    this.subscriptions.clear();
    this.#hooks.onClosed(this);
  }
}
