/**
 * One client connection of the Binance market-stream simulator: live control messages, the
 * inbound message limit, the stream cap, the lifetime close, and the send path with its fault
 * hooks (silent stall, per-send delay, malformed frames, abrupt drop).
 *
 * @module
 */

import {
  type ControlFailure,
  type ControlId,
  encodeFailure,
  encodeResult,
  parseControlMessage,
} from "./control_message.ts";
import {
  type StreamChannel,
  type StreamHub,
  type StreamSubscriber,
  wrapCombined,
} from "./stream_hub.ts";

/** Handle of a timer (setTimeout / setInterval). */
type Timer = ReturnType<typeof setTimeout>;

/** Settings shared by all connections of one simulator. */
export interface ConnectionSettings {
  /** Streams per connection. */
  readonly streamsMax: number;
  /** Inbound messages allowed per window. */
  readonly inboundMessagesMax: number;
  /** Inbound window in ms. */
  readonly inboundWindowMs: number;
  /** Forced close after this long, in ms. */
  readonly lifetimeMs: number;
  /** `serverShutdown` notice this long before the lifetime close (0 = none). */
  readonly shutdownNoticeMs: number;
  /** Drop the connection when unsent bytes exceed this. */
  readonly sendBufferBytesMax: number;
  /** Wall clock (ms since the epoch) for event times. */
  readonly clock: () => number;
  /** Current delay before acks are sent, in ms (fault knob; 0 = immediately). */
  readonly ackDelayMs: () => number;
}

/** A snapshot of a connection for tests and the admin endpoint. */
export interface ConnectionInfo {
  /** Simulator-wide connection id. */
  readonly id: number;
  /** Request path and query (`/stream?streams=btcusdt@trade`). */
  readonly path: string;
  /** Whether frames get the combined wrapper. */
  readonly combined: boolean;
  /** Subscribed streams in subscription order. */
  readonly streams: readonly string[];
  /** Frames sent. */
  readonly framesSent: number;
  /** Frames discarded by a stall. */
  readonly framesDropped: number;
  /** Whether the connection is stalled. */
  readonly stalled: boolean;
  /** Per-send delay in ms. */
  readonly sendDelayMs: number;
  /** Open time, ms since the epoch. */
  readonly openedAtMs: number;
}

/** Kinds of deliberately broken frames. */
export type MalformedKind = "truncated" | "invalidJson";

/** Most frames held back by a send delay; more are discarded (and counted as dropped). */
const DELAY_QUEUE_FRAMES_MAX = 1_000_000;
/** Sends between two `bufferedAmount` checks (the check is an op call; keep it rare). */
const BUFFER_CHECK_SENDS = 128;

/** Hooks a connection calls into its simulator. */
export interface ConnectionHooks {
  /** Abrupt TCP drop (no close frame); returns false when the TCP pair is already gone. */
  readonly dropTcp: () => boolean;
  /** Called once when the socket has closed, for bookkeeping. */
  readonly onClosed: (connection: WsConnection) => void;
  /** Called once when the socket is open and the initial streams are subscribed. */
  readonly onOpen: (connection: WsConnection) => void;
}

/** See the module documentation. */
export class WsConnection implements StreamSubscriber {
  /** Simulator-wide id. */
  readonly id: number;
  /** Request path and query. */
  readonly path: string;
  /** Subscribed streams, in subscription order. */
  readonly streams: Map<string, StreamChannel> = new Map();
  /** Whether frames get the `{"stream","data"}` wrapper (SET_PROPERTY combined). */
  combined: boolean;
  /** Frames handed to the socket. */
  framesSent = 0;
  /** Frames discarded by a stall or a full delay queue. */
  framesDropped = 0;
  /** Open time, ms since the epoch (0 until open). */
  openedAtMs = 0;
  /** Whether sends are silently discarded (fault). */
  stalled = false;
  /** Per-send delay in ms (fault). */
  sendDelayMs = 0;
  readonly #socket: WebSocket;
  readonly #hub: StreamHub;
  readonly #settings: ConnectionSettings;
  readonly #hooks: ConnectionHooks;
  readonly #initialStreams: readonly string[];
  readonly #inboundTimes: number[] = [];
  readonly #timers = new Set<Timer>();
  #open = false;
  #closed = false;
  #sendsSinceCheck = 0;
  #delayQueue: { dueMs: number; text: string }[] = [];
  #delayHead = 0;
  #delayTimer: Timer | undefined;
  #stallTimer: Timer | undefined;
  #lastFrame = "";

  /** Wraps a freshly upgraded server socket. */
  constructor(options: {
    id: number;
    path: string;
    combined: boolean;
    initialStreams: readonly string[];
    socket: WebSocket;
    hub: StreamHub;
    settings: ConnectionSettings;
    hooks: ConnectionHooks;
    sendDelayMs: number;
  }) {
    this.id = options.id;
    this.path = options.path;
    this.combined = options.combined;
    this.#initialStreams = options.initialStreams;
    this.#socket = options.socket;
    this.#hub = options.hub;
    this.#settings = options.settings;
    this.#hooks = options.hooks;
    this.sendDelayMs = options.sendDelayMs;
    this.#socket.onopen = () => this.#onOpen();
    this.#socket.onmessage = (event) => this.#onMessage(event.data);
    // Deno may fire close twice (1001 then 1005 after an idle timeout): #onClose is idempotent.
    this.#socket.onclose = () => this.#onClose();
    this.#socket.onerror = () => {};
  }

  /** True until the socket has closed. */
  get alive(): boolean {
    return !this.#closed;
  }

  /** Whether the connection listens to `stream`. */
  isSubscribed(stream: string): boolean {
    return this.streams.has(stream);
  }

  /** Snapshot for tests and the admin endpoint. */
  info(): ConnectionInfo {
    return {
      id: this.id,
      path: this.path,
      combined: this.combined,
      streams: [...this.streams.keys()],
      framesSent: this.framesSent,
      framesDropped: this.framesDropped,
      stalled: this.stalled,
      sendDelayMs: this.sendDelayMs,
      openedAtMs: this.openedAtMs,
    };
  }

  /** Sends one text frame through the fault hooks (stall, delay). */
  sendFrame(text: string): void {
    if (!this.#open) return;
    if (this.stalled) {
      this.framesDropped++;
      return;
    }
    // While delayed frames are queued, later frames queue behind them to keep the order.
    if (this.sendDelayMs > 0 || this.#delayHead < this.#delayQueue.length) {
      this.#enqueueDelayed(text);
      return;
    }
    this.#write(text);
  }

  /** Sends now, ignoring the delay queue (malformed-frame fault). */
  sendFrameNow(text: string): void {
    if (!this.#open) return;
    if (this.stalled) {
      this.framesDropped++;
      return;
    }
    this.#write(text);
  }

  /** Sends a deliberately broken text frame now (bypasses the delay, not the stall). */
  sendMalformed(kind: MalformedKind): void {
    if (kind === "truncated") {
      const sample = this.#lastFrame !== "" ? this.#lastFrame : '{"e":"trade","E":0,"s":"BTCUSDT"}';
      this.sendFrameNow(sample.slice(0, Math.max(1, Math.floor(sample.length / 2))));
    } else {
      this.sendFrameNow('{"e":"trade",E:oops,"s":}');
    }
  }

  /** Sends `serverShutdown` in the connection's framing. */
  sendServerShutdown(): void {
    const payload = `{"e":"serverShutdown","E":${this.#settings.clock()}}`;
    this.sendFrame(this.combined ? wrapCombined("!serverShutdown", payload) : payload);
  }

  /** Stops (or resumes) sending; with `durationMs` the stall lifts by itself. */
  setStalled(stalled: boolean, durationMs = 0): void {
    this.stalled = stalled;
    this.#clearTimer(this.#stallTimer);
    this.#stallTimer = undefined;
    if (stalled && durationMs > 0) {
      this.#stallTimer = this.#setTimer(() => {
        this.#stallTimer = undefined;
        this.stalled = false;
      }, durationMs);
    }
  }

  /** Graceful close with a close frame. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /** Abrupt drop: the TCP connection goes away without a close frame. */
  drop(): void {
    if (this.#closed) return;
    if (!this.#hooks.dropTcp()) this.close(1000, "dropped");
  }

  #onOpen(): void {
    this.#open = true;
    this.openedAtMs = this.#settings.clock();
    for (const stream of this.#initialStreams) this.#subscribe(stream);
    const { lifetimeMs, shutdownNoticeMs } = this.#settings;
    if (shutdownNoticeMs > 0 && shutdownNoticeMs < lifetimeMs) {
      this.#setTimer(() => this.sendServerShutdown(), lifetimeMs - shutdownNoticeMs);
    }
    this.#setTimer(() => this.close(1000, "connection lifetime expired"), lifetimeMs);
    this.#hooks.onOpen(this);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    if (!this.#admitInbound()) {
      this.close(1008, "too many messages");
      return;
    }
    if (typeof data !== "string") {
      this.#reply(
        encodeFailure({
          code: 3,
          msg: "Invalid JSON: expected value at line 1 column 1",
          id: null,
        }),
      );
      return;
    }
    const parsed = parseControlMessage(data);
    if (!parsed.ok) {
      this.#reply(encodeFailure(parsed.failure));
      return;
    }
    const request = parsed.request;
    switch (request.method) {
      case "SUBSCRIBE": {
        const fresh = request.streams.filter((s) => !this.streams.has(s));
        if (new Set(fresh).size + this.streams.size > this.#settings.streamsMax) {
          this.#replyFailure({
            code: 2,
            msg:
              `Invalid request: too many streams, at most ${this.#settings.streamsMax} per connection`,
            id: request.id,
          });
          return;
        }
        for (const stream of fresh) this.#subscribe(stream);
        this.#replyResult(null, request.id);
        return;
      }
      case "UNSUBSCRIBE":
        for (const stream of request.streams) this.#unsubscribe(stream);
        this.#replyResult(null, request.id);
        return;
      case "LIST_SUBSCRIPTIONS":
        this.#replyResult([...this.streams.keys()], request.id);
        return;
      case "SET_PROPERTY":
        this.combined = request.value;
        this.#replyResult(null, request.id);
        return;
      case "GET_PROPERTY":
        this.#replyResult(this.combined, request.id);
        return;
    }
  }

  /** Sliding-window count of inbound messages; false when this one breaks the limit. */
  #admitInbound(): boolean {
    const now = performance.now();
    const times = this.#inboundTimes;
    const since = now - this.#settings.inboundWindowMs;
    while (times.length > 0 && times[0] <= since) times.shift();
    times.push(now);
    return times.length <= this.#settings.inboundMessagesMax;
  }

  #subscribe(stream: string): void {
    if (this.streams.has(stream)) return;
    this.streams.set(stream, this.#hub.subscribe(this, stream));
  }

  #unsubscribe(stream: string): void {
    if (!this.streams.delete(stream)) return;
    this.#hub.unsubscribe(this, stream);
  }

  #replyResult(result: null | boolean | readonly string[], id: ControlId): void {
    this.#reply(encodeResult(result, id));
  }

  #replyFailure(failure: ControlFailure): void {
    this.#reply(encodeFailure(failure));
  }

  /** Sends a control reply, after the configured ack delay (so data may overtake it). */
  #reply(text: string): void {
    const delayMs = this.#settings.ackDelayMs();
    if (delayMs > 0) this.#setTimer(() => this.sendFrame(text), delayMs);
    else this.sendFrame(text);
  }

  #write(text: string): void {
    try {
      this.#socket.send(text);
    } catch {
      return; // Closing: the close handler cleans up.
    }
    this.framesSent++;
    this.#lastFrame = text;
    if (++this.#sendsSinceCheck >= BUFFER_CHECK_SENDS) {
      this.#sendsSinceCheck = 0;
      // A consumer that cannot keep up is cut off rather than buffered without bound.
      if (this.#socket.bufferedAmount > this.#settings.sendBufferBytesMax) this.drop();
    }
  }

  #enqueueDelayed(text: string): void {
    if (this.#delayQueue.length - this.#delayHead >= DELAY_QUEUE_FRAMES_MAX) {
      this.framesDropped++;
      return;
    }
    this.#delayQueue.push({ dueMs: performance.now() + this.sendDelayMs, text });
    if (this.#delayTimer === undefined) this.#scheduleDelayed();
  }

  #scheduleDelayed(): void {
    const head = this.#delayQueue[this.#delayHead];
    if (head === undefined) {
      this.#delayQueue = [];
      this.#delayHead = 0;
      return;
    }
    const waitMs = Math.max(0, head.dueMs - performance.now());
    this.#delayTimer = this.#setTimer(() => {
      this.#delayTimer = undefined;
      const now = performance.now();
      const queue = this.#delayQueue;
      while (this.#delayHead < queue.length && queue[this.#delayHead].dueMs <= now) {
        const item = queue[this.#delayHead++];
        if (this.stalled) this.framesDropped++;
        else this.#write(item.text);
      }
      if (this.#delayHead > 4096) {
        this.#delayQueue = queue.slice(this.#delayHead);
        this.#delayHead = 0;
      }
      this.#scheduleDelayed();
    }, waitMs);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#delayQueue = [];
    this.#delayHead = 0;
    for (const stream of [...this.streams.keys()]) this.#unsubscribe(stream);
    this.#hooks.onClosed(this);
  }

  #setTimer(fn: () => void, delayMs: number): Timer {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, delayMs);
    this.#timers.add(timer);
    return timer;
  }

  #clearTimer(timer: Timer | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(timer);
  }
}
