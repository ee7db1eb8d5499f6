/**
 * StreamSession: one remote consumer on the WebSocket endpoint.
 *
 * The session owns a {@linkcode Consumer} (created by the server, closed with the session) and
 * reads its queue through an `onEvent` handler. Each event is encoded once (canonical wire JSON)
 * into an {@linkcode OutboundQueue}, and a flush scheduled on a microtask sends it:
 *
 * - One event waiting and a quiet socket: one frame holding that event's object.
 * - Several events waiting (the dispatcher delivered a burst, or the socket was busy): array
 *   frames of up to `batchMessagesMax` messages / `batchCharsMax` characters. Deno's server
 *   writes one syscall per frame (~200k frames/s per process), so bursts must share frames.
 * - Socket busy (`bufferedAmount` above `busyBytes`): a partly filled batch waits one poll
 *   interval for more events instead of going out at once.
 * - Send buffer above `highWaterBytes`: the session stops sending and stops taking events (its
 *   handler returns a promise the consumer awaits), so the consumer's own bounded queue fills and
 *   then applies its delivery classes: tickers, klines and book snapshots coalesce (latest per
 *   stream), trades and book updates run into a gap that reaches the client as a `gap` message,
 *   and execution reports wait in the consumer's durable log (never dropped). `bufferedAmount` is
 *   polled (there is no drain event); below `lowWaterBytes` the session resumes. Above the
 *   high-water mark for longer than `slowConsumerTimeoutMs` without a break, the connection is
 *   closed with 4008. Each pause is reported once, as it begins, to the `onSlow` option.
 *
 * Order commands (`order_submit`, `order_cancel`, `trading`) go to the order plane given as
 * `orders`, for this consumer id, as a trader when the connection presented the consumer's
 * trading token (`trader`), otherwise answered `unauthorized`; without `orders` they answer
 * `not_supported`.
 *
 * Acks bypass the event queue: each is sent as its own frame as soon as its command has been
 * applied, so an ack may overtake events that were queued before the command. An
 * `exec_resume` notice (a connection opened with `?exec_seq=`) is queued before anything else,
 * so it is the connection's first message.
 *
 * The session talks to a {@linkcode SessionSocket}, the four members of a WebSocket it uses, so
 * tests can drive it with a fake socket.
 *
 * @module
 */

import { encodeJson } from "../codec/mod.ts";
import type { Consumer, ConsumerMessage } from "../consumer/mod.ts";
import {
  controlToWire,
  eventToWire,
  execReportToWire,
  type ExecResumeMessage,
  mergedToWire,
} from "../schema/mod.ts";
import { binaryFrameOutcome, type CommandOutcome, handleCommandText } from "./command_handler.ts";
import type { OrderCaller } from "./order_commands.ts";
import type { OrderControl } from "./order_control.ts";
import { OutboundQueue } from "./outbound_queue.ts";
import { resolveStreamLimits, type StreamLimits } from "./stream_limits.ts";
import {
  type DisconnectReason,
  newTrafficCounters,
  type SessionState,
  type StreamSessionStats,
  type TrafficCounters,
} from "./stream_stats.ts";

/** Close code: the server is going away (shutdown). */
export const CLOSE_GOING_AWAY = 1001;
/** Close code: the server hit an unexpected condition (socket error). */
export const CLOSE_INTERNAL_ERROR = 1011;
/** Close code: the consumer did not read fast enough (application range 4000-4999). */
export const CLOSE_SLOW_CONSUMER = 4008;

/** `WebSocket.readyState` of an open socket. */
const READY_STATE_OPEN = 1;

/** What a session needs of a WebSocket (Deno's server-side `WebSocket` fulfils it). */
export interface SessionSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet written to the kernel. */
  readonly bufferedAmount: number;
  /** Queues a text frame; throws when the socket is not open. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** Passed to the `onSlow` hook when a connection's send buffer crosses its high-water mark. */
export interface SlowConsumerInfo {
  /** The connection's consumer id. */
  consumerId: string;
  /** Unsent bytes (`bufferedAmount`) when the mark was crossed. */
  bufferedBytes: number;
  /**
   * Ms since the connection last kept up: since a flush last found at most `busyBytes` unsent.
   * A lower bound on how far behind the client reads (the kernel's buffers hide the rest).
   */
  behindMs: number;
  /** The high-water mark crossed, bytes. */
  highWaterBytes: number;
}

/** Options of {@linkcode StreamSession}. */
export interface StreamSessionOptions {
  /** The consumer this connection reads; the session closes it when the connection ends. */
  consumer: Consumer;
  /** The socket (open or still connecting). */
  socket: SessionSocket;
  /** Bounds; default `STREAM_LIMITS_DEFAULT`. */
  limits?: StreamLimits;
  /** Server-wide counters, incremented alongside the session's own. */
  totals?: TrafficCounters;
  /** Called once when the session ends (before the socket has finished closing). */
  onClosed?: (session: StreamSession) => void;
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
  /** Queued as the connection's first message (a connection opened with `?exec_seq=`). */
  execResume?: ExecResumeMessage;
  /**
   * Told once per backpressure pause, as it begins (the send buffer crossed the high-water
   * mark). Runs on the send path: must be cheap and must not throw (exceptions are ignored).
   */
  onSlow?: (info: SlowConsumerInfo) => void;
  /** The order plane; absent: order and trading commands answer `not_supported`. */
  orders?: OrderControl;
  /** True when the connection presented this consumer's trading token. Default false. */
  trader?: boolean;
}

/** One connected remote consumer. */
export class StreamSession {
  /** The consumer id (also the routing-table id). */
  readonly id: string;
  /** The consumer this connection reads. */
  readonly consumer: Consumer;
  /** When the session was created, ms since epoch. */
  readonly connectedAtMs: number;
  /** Resolves once the socket reported its close (or the session gave up waiting). */
  readonly socketClosed: Promise<void>;
  /** True when the connection authenticated with this consumer's trading token. */
  readonly trader: boolean;

  readonly #socket: SessionSocket;
  readonly #limits: StreamLimits;
  readonly #own: TrafficCounters = newTrafficCounters();
  readonly #totals: TrafficCounters;
  readonly #onClosed: ((session: StreamSession) => void) | null;
  readonly #now: () => number;
  readonly #queue: OutboundQueue;
  readonly #onSlow: ((info: SlowConsumerInfo) => void) | null;
  readonly #orders: OrderCaller | undefined;

  #state: SessionState = "connecting";
  #paused = false;
  /** Start of the current stretch above the high-water mark; -1 when below it. */
  #aboveHighSinceMs = -1;
  /** Last time a flush found at most `busyBytes` unsent (the client kept up). */
  #keptUpMs: number;
  #flushScheduled = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Promise the consumer's handler waits on while the session cannot take events. */
  #room: Promise<void> | null = null;
  #releaseRoom: (() => void) | null = null;
  /** A close asked for while connecting; carried out on open (Deno ignores it before). */
  #closeOnOpen: { code: number; reason: string } | null = null;
  #disconnectReason: DisconnectReason | "" = "";
  #discardedOnClose = 0;
  #markSocketClosed!: () => void;
  #socketClosedSeen = false;

  readonly #flushTask = (): void => this.#flush(false);
  readonly #tickTask = (): void => this.#tick();
  readonly #onEvent = (msg: ConsumerMessage): void | Promise<void> => this.#take(msg);

  /** Creates the session and attaches it as its consumer's reader. */
  constructor(opts: StreamSessionOptions) {
    this.consumer = opts.consumer;
    this.id = opts.consumer.id;
    this.#socket = opts.socket;
    this.#limits = opts.limits ?? resolveStreamLimits();
    this.#totals = opts.totals ?? newTrafficCounters();
    this.#onClosed = opts.onClosed ?? null;
    this.#now = opts.now ?? Date.now;
    this.connectedAtMs = this.#now();
    this.#keptUpMs = this.connectedAtMs;
    this.#onSlow = opts.onSlow ?? null;
    this.trader = opts.trader ?? false;
    this.#orders = opts.orders === undefined ? undefined : {
      control: opts.orders,
      consumerId: this.id,
      role: this.trader ? "owner" : "none",
      surface: "ws",
    };
    this.#queue = new OutboundQueue({
      batchMessagesMax: this.#limits.batchMessagesMax,
      batchCharsMax: this.#limits.batchCharsMax,
    });
    // Before the consumer's reader is attached: the notice precedes every exec report.
    if (opts.execResume !== undefined) {
      this.#queue.push(encodeJson(controlToWire(opts.execResume)));
    }
    this.socketClosed = new Promise((resolve) => {
      this.#markSocketClosed = resolve;
    });
    this.consumer.onEvent(this.#onEvent);
  }

  /** Lifecycle state. */
  get state(): SessionState {
    return this.#state;
  }

  /** True while the send buffer is above the water mark and events are not taken. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Why the session ended; "" while live. */
  get disconnectReason(): DisconnectReason | "" {
    return this.#disconnectReason;
  }

  /** The socket opened: start sending (and carry out a close asked for while connecting). */
  open(): void {
    const pendingClose = this.#closeOnOpen;
    if (pendingClose !== null) {
      this.#closeOnOpen = null;
      this.#closeSocket(pendingClose.code, pendingClose.reason);
      return;
    }
    if (this.#state !== "connecting") return;
    this.#state = "open";
    this.#scheduleFlush();
    this.#maybeReleaseRoom();
  }

  /** A text frame arrived: one command, answered with one ack. */
  handleText(text: string): CommandOutcome | null {
    if (this.#state !== "open") return null;
    const outcome = handleCommandText(text, this.consumer, {
      textCharsMax: this.#limits.commandCharsMax,
      orders: this.#orders,
    });
    this.#answer(outcome);
    return outcome;
  }

  /** A binary frame arrived: refused with an error ack (commands are text). */
  handleBinary(byteLength: number): CommandOutcome | null {
    if (this.#state !== "open") return null;
    const outcome = binaryFrameOutcome(byteLength);
    this.#answer(outcome);
    return outcome;
  }

  /** The socket reported its close (Deno may report it twice: idempotent). */
  handleSocketClosed(): void {
    if (!this.#socketClosedSeen) {
      this.#socketClosedSeen = true;
      this.#markSocketClosed();
    }
    this.#end("remote_closed");
  }

  /** The socket reported an error: close it (1011) and end the session. */
  handleSocketError(): void {
    this.close(CLOSE_INTERNAL_ERROR, "websocket error", "socket_error");
  }

  /**
   * Ends the session: closes the consumer (which unsubscribes everything), drops unsent
   * messages (counted), and starts the closing handshake with `code` / `reason`. Idempotent.
   */
  close(code: number, reason: string, why: DisconnectReason): void {
    if (this.#state === "closed") return;
    const wasConnecting = this.#state === "connecting";
    this.#end(why);
    if (wasConnecting) this.#closeOnOpen = { code, reason };
    else this.#closeSocket(code, reason);
  }

  /** Gives up waiting for the socket's close (shutdown bound passed). */
  abandonSocket(): void {
    if (this.#socketClosedSeen) return;
    this.#socketClosedSeen = true;
    this.#markSocketClosed();
  }

  /** A snapshot of this connection's counters and state. */
  stats(): StreamSessionStats {
    let bufferedAmount = 0;
    try {
      bufferedAmount = this.#socket.bufferedAmount;
    } catch {
      // A socket that is gone has nothing buffered that we could still send.
    }
    return {
      ...this.#own,
      consumerId: this.id,
      state: this.#state,
      connectedAtMs: this.connectedAtMs,
      paused: this.#paused,
      bufferedAmount,
      pendingMessages: this.#queue.length,
      discardedOnClose: this.#discardedOnClose,
      disconnectReason: this.#disconnectReason,
      consumer: this.consumer.stats(),
    };
  }

  /** The consumer's handler: encode, queue, and make the consumer wait when full or paused. */
  #take(msg: ConsumerMessage): void | Promise<void> {
    if (this.#state === "closed") return;
    this.#queue.push(encodeJson(messageToWire(msg)));
    this.#scheduleFlush();
    if (
      this.#state !== "open" || this.#paused ||
      this.#queue.length >= this.#limits.pendingMessagesMax
    ) {
      return this.#waitForRoom();
    }
  }

  #answer(outcome: CommandOutcome): void {
    this.#own.commands++;
    this.#totals.commands++;
    switch (outcome.status) {
      case "rejected":
        this.#own.badCommands++;
        this.#totals.badCommands++;
        break;
      case "unsupported":
        this.#own.unsupportedCommands++;
        this.#totals.unsupportedCommands++;
        break;
      case "refused":
        this.#own.refusedCommands++;
        this.#totals.refusedCommands++;
        break;
      case "applied":
        break;
    }
    if (outcome.orderOutcome !== undefined) {
      this.#orders?.control.count("ws", outcome.orderOutcome);
    }
    // Acks go out even while paused: they are small and a client waits on them.
    if (!this.#send(encodeJson(controlToWire(outcome.ack)))) return;
    this.#own.acksSent++;
    this.#totals.acksSent++;
    // A client that sends commands but never reads would otherwise grow the buffer with acks
    // unseen: the same water mark and slow-consumer bound apply.
    const buffered = this.#socket.bufferedAmount;
    if (buffered > this.#limits.highWaterBytes) this.#pause(buffered);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== "open" || this.#paused) return;
    if (this.#queue.length === 0) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /**
   * Sends waiting messages frame by frame until the queue is empty or the socket is too full.
   * `force` (from a poll tick) sends a partly filled batch even on a busy socket.
   */
  #flush(force: boolean): void {
    this.#flushScheduled = false;
    if (this.#state !== "open" || this.#paused) return;
    if (this.#queue.length > 0 && this.#socket.bufferedAmount <= this.#limits.busyBytes) {
      this.#keptUpMs = this.#now();
    }
    while (this.#queue.length > 0) {
      const buffered = this.#socket.bufferedAmount;
      if (buffered > this.#limits.highWaterBytes) {
        this.#pause(buffered);
        return;
      }
      if (!force && buffered > this.#limits.busyBytes && !this.#queue.hasFullFrame) {
        // Busy: give the batch one poll interval to fill rather than sending a small frame.
        this.#armTimer();
        break;
      }
      const text = this.#queue.takeFrame();
      if (text === null) break;
      const messages = this.#queue.lastFrameMessages;
      if (!this.#send(text)) return;
      this.#own.messagesSent += messages;
      this.#totals.messagesSent += messages;
      if (messages > 1) {
        this.#own.batches++;
        this.#totals.batches++;
      }
    }
    this.#maybeReleaseRoom();
  }

  /** Sends one frame; on failure (socket gone) ends the session. True when sent. */
  #send(text: string): boolean {
    if (this.#socket.readyState !== READY_STATE_OPEN) {
      this.#end("remote_closed");
      return false;
    }
    try {
      this.#socket.send(text);
    } catch {
      this.#end("socket_error");
      return false;
    }
    this.#own.framesSent++;
    this.#totals.framesSent++;
    this.#own.charsSent += text.length;
    this.#totals.charsSent += text.length;
    return true;
  }

  #pause(buffered: number): void {
    const now = this.#now();
    if (this.#aboveHighSinceMs < 0) this.#aboveHighSinceMs = now;
    if (!this.#paused) {
      this.#paused = true;
      this.#own.backpressurePauses++;
      this.#totals.backpressurePauses++;
      this.#reportSlow(buffered, now);
    }
    this.#armTimer();
  }

  /** Once per pause: the hysteresis of the water marks keeps this off the per-frame path. */
  #reportSlow(buffered: number, now: number): void {
    if (this.#onSlow === null) return;
    try {
      this.#onSlow({
        consumerId: this.id,
        bufferedBytes: buffered,
        behindMs: Math.max(0, now - this.#keptUpMs),
        highWaterBytes: this.#limits.highWaterBytes,
      });
    } catch {
      // A telemetry hook must not break the connection.
    }
  }

  /** Poll tick: watch the send buffer while paused or while a batch waits on a busy socket. */
  #tick(): void {
    this.#timer = null;
    if (this.#state !== "open") return;
    if (this.#paused) {
      const buffered = this.#socket.bufferedAmount;
      if (buffered > this.#limits.highWaterBytes) {
        if (this.#aboveHighSinceMs < 0) this.#aboveHighSinceMs = this.#now();
        const aboveMs = this.#now() - this.#aboveHighSinceMs;
        if (aboveMs >= this.#limits.slowConsumerTimeoutMs) {
          this.close(
            CLOSE_SLOW_CONSUMER,
            `slow consumer: send buffer above ${this.#limits.highWaterBytes} bytes for ${
              Math.round(aboveMs)
            } ms`,
            "slow_consumer",
          );
          return;
        }
      } else {
        this.#aboveHighSinceMs = -1;
      }
      if (buffered > this.#limits.lowWaterBytes) {
        this.#armTimer();
        return;
      }
      this.#paused = false;
    }
    this.#flush(true);
  }

  #armTimer(): void {
    if (this.#timer !== null || this.#state === "closed") return;
    this.#timer = setTimeout(this.#tickTask, this.#limits.pollIntervalMs);
  }

  #waitForRoom(): Promise<void> {
    if (this.#room === null) {
      this.#room = new Promise((resolve) => {
        this.#releaseRoom = resolve;
      });
    }
    return this.#room;
  }

  #maybeReleaseRoom(): void {
    if (this.#room === null) return;
    const blocked = this.#state === "connecting" ||
      (this.#state === "open" &&
        (this.#paused || this.#queue.length >= this.#limits.pendingMessagesMax));
    if (blocked) return;
    const release = this.#releaseRoom!;
    this.#room = null;
    this.#releaseRoom = null;
    release();
  }

  /** Ends the session's life (not the socket's): consumer, timers, queue, callbacks. */
  #end(why: DisconnectReason): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#disconnectReason = why;
    this.#paused = false;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.consumer.onEvent(null);
    // Closing the consumer unregisters it from the routing table (all its subscriptions go).
    this.consumer.close();
    this.#discardedOnClose += this.#queue.clear();
    // A consumer handler waiting for room must finish (the consumer is closed: it stops).
    this.#maybeReleaseRoom();
    if (this.#onClosed !== null) this.#onClosed(this);
  }

  #closeSocket(code: number, reason: string): void {
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing or closed: the close event (or the shutdown bound) finishes the job.
    }
  }
}

/** The wire object of a consumer message: `event`, `gap`, `exec_report` or `merged`. */
function messageToWire(msg: ConsumerMessage): unknown {
  switch (msg.type) {
    case "gap":
      return controlToWire(msg);
    case "exec_report":
      return execReportToWire(msg);
    case "merged":
      return mergedToWire(msg);
    default:
      return eventToWire(msg);
  }
}
