/**
 * One client connection of the Kraken simulator: its socket, its subscriptions (with the book
 * view each book subscription has been sent), and the method handling of protocol notes
 * kraken.md §2: `subscribe` / `unsubscribe` (one ack or error per symbol), `ping` → `pong`, and
 * errors for anything else.
 *
 * @module
 */

import type { KrakenPair } from "./kraken_pair.ts";
import { OHLC_INTERVALS } from "./market_state.ts";
import { errorResponse, rfc3339Micros, successResponse } from "./wire_format.ts";

/** Depths the book channel accepts. */
export const BOOK_DEPTHS: readonly number[] = [10, 25, 100, 500, 1000];

/** Public channels served. */
export type KrakenChannel = "book" | "trade" | "ticker" | "ohlc" | "instrument";

/** Levels `[tick, steps]`, best first. */
export type Levels = [number, number][];

/** One active subscription. */
export interface Subscription {
  /** Channel. */
  readonly channel: KrakenChannel;
  /** Pair index (-1 for instrument). */
  readonly pairIndex: number;
  /** Book depth (book only). */
  readonly depth: number;
  /** Bar interval in minutes (ohlc only). */
  readonly interval: number;
  /** `trades` or `bbo` (ticker only). */
  readonly eventTrigger: "trades" | "bbo";
  /** What the client holds for a book subscription (the levels last sent, truncated). */
  view: { bids: Levels; asks: Levels } | null;
  /** Best bid/ask last announced (ticker bbo). */
  lastBbo: string;
}

/** What a connection needs from the simulator. */
export interface ConnectionHost {
  /** Index of the pair named `name`, or -1. */
  pairIndex(name: string): number;
  /** Pairs served. */
  readonly pairs: readonly KrakenPair[];
  /** Wall clock in ms. */
  clock(): number;
  /** Sends the initial data of a new subscription (snapshot when asked). */
  onSubscribed(connection: KrakenConnection, sub: Subscription, snapshot: boolean): void;
  /** Decides whether the connection goes silent after this subscribe request's acks. */
  takeSilentAfterAck(): boolean;
}

/** A client connection. */
export class KrakenConnection {
  /** Simulator-wide id (1, 2, ...). */
  readonly id: number;
  /** Port the HTTP server saw (key of the TCP front pair). */
  readonly remotePort: number;
  /** Active subscriptions by key (`channel|symbol|variant`). */
  readonly subscriptions = new Map<string, Subscription>();
  /** Frames sent. */
  framesSent = 0;
  /** Frames not sent because of a stall or a silent connection. */
  framesDropped = 0;
  /** `performance.now()` of the last frame sent. */
  lastSentMs: number;
  /** When true, only method responses are sent (silent-after-ack fault). */
  silent = false;
  readonly #socket: WebSocket;
  readonly #host: ConnectionHost;

  /** Wraps an upgraded socket. */
  constructor(
    options: { id: number; remotePort: number; socket: WebSocket; host: ConnectionHost },
  ) {
    this.id = options.id;
    this.remotePort = options.remotePort;
    this.#socket = options.socket;
    this.#host = options.host;
    this.lastSentMs = performance.now();
  }

  /** Sends a method response (never suppressed by faults). */
  sendResponse(text: string): void {
    this.#write(text);
  }

  /** Sends a channel message unless the connection is silent or stalled. */
  sendData(text: string, stalled: boolean): void {
    if (this.silent || stalled) {
      this.framesDropped++;
      return;
    }
    this.#write(text);
  }

  /** Closes with a close frame. */
  close(code: number, reason: string): void {
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  #write(text: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(text);
    this.framesSent++;
    this.lastSentMs = performance.now();
  }

  /** Handles one inbound text frame. */
  onMessage(text: string): void {
    const timeInMs = this.#host.clock();
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      request = null;
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      this.#error("error", "Malformed request", timeInMs);
      return;
    }
    const r = request as Record<string, unknown>;
    const reqId = Number.isInteger(r.req_id) ? r.req_id as number : undefined;
    if (r.req_id !== undefined && reqId === undefined) {
      this.#error("error", "Malformed request", timeInMs);
      return;
    }
    if (r.method === "ping") {
      this.sendResponse(JSON.stringify({
        method: "pong",
        ...(reqId === undefined ? {} : { req_id: reqId }),
        time_in: rfc3339Micros(timeInMs),
        time_out: rfc3339Micros(this.#host.clock()),
      }));
      return;
    }
    if (r.method === "subscribe" || r.method === "unsubscribe") {
      this.#subscription(r.method, r.params, reqId, timeInMs);
      return;
    }
    const method = typeof r.method === "string" ? r.method : "error";
    this.#error(
      method,
      method === "error" ? "Malformed request" : "Method not found",
      timeInMs,
      reqId,
    );
  }

  #error(method: string, error: string, timeInMs: number, reqId?: number, symbol?: string): void {
    this.sendResponse(
      errorResponse(method, { error, symbol, reqId, timeInMs, timeOutMs: this.#host.clock() }),
    );
  }

  #subscription(
    method: "subscribe" | "unsubscribe",
    rawParams: unknown,
    reqId: number | undefined,
    timeInMs: number,
  ): void {
    if (typeof rawParams !== "object" || rawParams === null || Array.isArray(rawParams)) {
      this.#error(method, "Malformed request", timeInMs, reqId);
      return;
    }
    const params = rawParams as Record<string, unknown>;
    const channel = params.channel;
    if (typeof channel !== "string") {
      this.#error(method, "Malformed request", timeInMs, reqId);
      return;
    }
    const snapshotParam = params.snapshot;
    if (snapshotParam !== undefined && typeof snapshotParam !== "boolean") {
      this.#error(method, "Malformed request", timeInMs, reqId);
      return;
    }
    if (channel === "instrument") {
      const snapshot = snapshotParam ?? true;
      const key = "instrument";
      const result = { channel, snapshot };
      if (method === "subscribe") {
        const sub = this.#newSub("instrument", -1, params);
        this.subscriptions.set(key, sub);
        this.#ack(method, result, reqId, timeInMs);
        this.#afterAcks(method);
        this.#host.onSubscribed(this, sub, snapshot);
      } else if (this.subscriptions.delete(key)) {
        this.#ack(method, { channel }, reqId, timeInMs);
      } else {
        this.#error(method, "Subscription Not Found", timeInMs, reqId);
      }
      return;
    }
    if (channel !== "book" && channel !== "trade" && channel !== "ticker" && channel !== "ohlc") {
      this.#error(method, `Channel ${channel} not supported`, timeInMs, reqId);
      return;
    }
    const symbols = params.symbol;
    if (
      !Array.isArray(symbols) || symbols.length === 0 ||
      !symbols.every((s) => typeof s === "string")
    ) {
      this.#error(method, "Malformed request", timeInMs, reqId);
      return;
    }
    // Variant parameters, validated once for all symbols.
    const result: Record<string, unknown> = { channel };
    let variant = "";
    if (channel === "book") {
      const depth = params.depth ?? 10;
      if (!BOOK_DEPTHS.includes(depth as number)) {
        this.#error(method, "Invalid depth", timeInMs, reqId);
        return;
      }
      result.depth = depth;
      variant = String(depth);
    } else if (channel === "ohlc") {
      const interval = params.interval;
      if (!OHLC_INTERVALS.includes(interval as number)) {
        this.#error(method, "Invalid interval", timeInMs, reqId);
        return;
      }
      result.interval = interval;
      variant = String(interval);
    } else if (channel === "ticker") {
      const trigger = params.event_trigger ?? "trades";
      if (trigger !== "trades" && trigger !== "bbo") {
        this.#error(method, "Invalid event_trigger", timeInMs, reqId);
        return;
      }
      result.event_trigger = trigger;
      variant = trigger as string;
    }
    const snapshot = snapshotParam ?? channel !== "trade";
    if (method === "subscribe") result.snapshot = snapshot;
    const added: Subscription[] = [];
    for (const symbol of symbols as string[]) {
      const index = this.#host.pairIndex(symbol);
      if (index === -1) {
        this.#error(method, `Currency pair not supported ${symbol}`, timeInMs, reqId, symbol);
        continue;
      }
      const key = `${channel}|${symbol}|${variant}`;
      if (method === "unsubscribe") {
        if (this.subscriptions.delete(key)) {
          this.#ack(method, { ...result, symbol }, reqId, timeInMs);
        } else {
          this.#error(method, "Subscription Not Found", timeInMs, reqId, symbol);
        }
        continue;
      }
      if (this.subscriptions.has(key)) {
        this.#error(method, "Already subscribed", timeInMs, reqId, symbol);
        continue;
      }
      const sub = this.#newSub(channel, index, params);
      this.subscriptions.set(key, sub);
      added.push(sub);
      this.#ack(method, { ...result, symbol }, reqId, timeInMs);
    }
    if (added.length > 0) this.#afterAcks(method);
    for (const sub of added) this.#host.onSubscribed(this, sub, snapshot);
  }

  #afterAcks(method: string): void {
    if (method === "subscribe" && !this.silent && this.#host.takeSilentAfterAck()) {
      this.silent = true;
    }
  }

  #newSub(
    channel: KrakenChannel,
    pairIndex: number,
    params: Record<string, unknown>,
  ): Subscription {
    return {
      channel,
      pairIndex,
      depth: channel === "book" ? (params.depth as number | undefined) ?? 10 : 0,
      interval: channel === "ohlc" ? params.interval as number : 0,
      eventTrigger: params.event_trigger === "bbo" ? "bbo" : "trades",
      view: null,
      lastBbo: "",
    };
  }

  #ack(method: string, result: unknown, reqId: number | undefined, timeInMs: number): void {
    this.sendResponse(
      successResponse(method, { result, reqId, timeInMs, timeOutMs: this.#host.clock() }),
    );
  }
}
