/**
 * Token-bucket pacing for outbound control messages (subscribe, unsubscribe, property requests).
 *
 * Exchanges cap what a client may send per connection; Binance allows 5 messages/s *including*
 * ping and pong frames and disconnects (then IP-bans) offenders. Deno answers server pings
 * automatically, so the pacer's default of 4 messages/s with a burst of 1 leaves head-room for
 * those pongs: in any window of T ms at most `burstMax + ratePerSec * T / 1000` messages leave.
 *
 * The queue is bounded ({@linkcode SendPacerOptions.queueMax}); a full queue rejects with
 * {@linkcode SendQueueFullError} instead of growing, so a runaway resubscribe loop shows up as an
 * error, not as memory.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../../pool/mod.ts";

/** Default pace in messages per second (below Binance's 5/s, which counts pongs too). */
export const SEND_RATE_PER_SEC_DEFAULT = 4;
/** Default bucket size: how many messages may leave back to back after a quiet period. */
export const SEND_BURST_MAX_DEFAULT = 1;
/** Default bound of the queue of messages waiting for a token. */
export const SEND_QUEUE_MAX_DEFAULT = 1024;

/** Options of {@linkcode SendPacer}. */
export interface SendPacerOptions {
  /** The sink; returns false when the message could not be sent (e.g. socket not open). */
  send: (text: string) => boolean;
  /** Refill rate of the bucket, messages per second; > 0. */
  ratePerSec?: number;
  /** Bucket capacity in messages; integer >= 1. */
  burstMax?: number;
  /** Most messages waiting at once; integer >= 1. */
  queueMax?: number;
  /** Time source and timers; default the runtime's. */
  clock?: Clock;
}

/** Counters of a {@linkcode SendPacer}, as a snapshot. */
export interface SendPacerStats {
  /** Messages accepted by {@linkcode SendPacer.enqueue}. */
  enqueued: number;
  /** Messages the sink accepted. */
  sent: number;
  /** Messages the sink refused (returned false or threw); they are dropped, not retried. */
  sendFailures: number;
  /** Messages rejected because the queue was full. */
  rejectedFull: number;
  /** Messages dropped by {@linkcode SendPacer.clear} or {@linkcode SendPacer.close}. */
  cleared: number;
  /** Messages waiting now. */
  queued: number;
}

/** Thrown by {@linkcode SendPacer.enqueue} when `queueMax` messages are already waiting. */
export class SendQueueFullError extends Error {
  /** The bound that was hit. */
  readonly queueMax: number;

  /** Builds the error for a queue bounded at `queueMax` paced at `ratePerSec`. */
  constructor(queueMax: number, ratePerSec: number) {
    super(
      `send queue full: expected fewer than ${queueMax} queued control messages, found ${queueMax}` +
        ` (draining at ${ratePerSec}/s)`,
    );
    this.name = "SendQueueFullError";
    this.queueMax = queueMax;
  }
}

// Tolerance for float error in token arithmetic: 0.9999999999 tokens is a whole token.
const TOKEN_EPSILON = 1e-9;

/**
 * Sends queued messages no faster than a token bucket allows, draining on a timer.
 *
 * @example
 * ```ts
 * const pacer = new SendPacer({ send: (text) => socket.send(text), ratePerSec: 4 });
 * pacer.enqueue('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}');
 * // on reconnect: pacer.clear(); then enqueue the resubscriptions
 * pacer.close();
 * ```
 */
export class SendPacer {
  /** Refill rate of the bucket, messages per second. */
  readonly ratePerSec: number;
  /** Bucket capacity in messages. */
  readonly burstMax: number;
  /** Most messages waiting at once. */
  readonly queueMax: number;
  private readonly sink: (text: string) => boolean;
  private readonly clock: Clock;
  // Ring buffer allocated up front: head index and length, slots blanked when consumed.
  private readonly ring: string[];
  private head = 0;
  private length = 0;
  private tokens: number;
  private refilledAtMs: number;
  private timerId: number | null = null;
  private closed = false;
  // Set while drain() runs, so a sink that enqueues (re-entrancy) does not nest a second drain.
  private draining = false;
  private enqueuedCount = 0;
  private sentCount = 0;
  private sendFailureCount = 0;
  private rejectedFullCount = 0;
  private clearedCount = 0;

  /** Validates the options; throws `RangeError` naming the bad one. */
  constructor(options: SendPacerOptions) {
    const ratePerSec = options.ratePerSec ?? SEND_RATE_PER_SEC_DEFAULT;
    const burstMax = options.burstMax ?? SEND_BURST_MAX_DEFAULT;
    const queueMax = options.queueMax ?? SEND_QUEUE_MAX_DEFAULT;
    if (!(Number.isFinite(ratePerSec) && ratePerSec > 0)) {
      throw new RangeError(`expected send pacer ratePerSec > 0, found ${ratePerSec}`);
    }
    if (!(Number.isInteger(burstMax) && burstMax >= 1)) {
      throw new RangeError(`expected send pacer burstMax an integer >= 1, found ${burstMax}`);
    }
    if (!(Number.isInteger(queueMax) && queueMax >= 1)) {
      throw new RangeError(`expected send pacer queueMax an integer >= 1, found ${queueMax}`);
    }
    this.ratePerSec = ratePerSec;
    this.burstMax = burstMax;
    this.queueMax = queueMax;
    this.sink = options.send;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.ring = new Array<string>(queueMax).fill("");
    this.tokens = burstMax;
    this.refilledAtMs = this.clock.nowMs();
  }

  /** Messages waiting for a token. */
  get queued(): number {
    return this.length;
  }

  /**
   * Queues `text` for sending; sends at once when a token is free and nothing waits ahead of it.
   * Throws {@linkcode SendQueueFullError} when `queueMax` messages wait, and a plain `Error` after
   * {@linkcode SendPacer.close}.
   */
  enqueue(text: string): void {
    if (this.closed) {
      throw new Error("expected an open send pacer, found it closed");
    }
    if (this.length === this.queueMax) {
      this.rejectedFullCount++;
      throw new SendQueueFullError(this.queueMax, this.ratePerSec);
    }
    this.ring[(this.head + this.length) % this.queueMax] = text;
    this.length++;
    this.enqueuedCount++;
    // A pending timer means messages already wait for tokens: keep FIFO order, let it drain.
    if (this.timerId === null && !this.draining) this.drain();
  }

  /** Drops every waiting message (e.g. on reconnect); returns how many were dropped. */
  clear(): number {
    const dropped = this.length;
    while (this.length > 0) this.shift();
    this.clearedCount += dropped;
    this.cancelTimer();
    return dropped;
  }

  /** Drops waiting messages and stops the timer for good; later enqueues throw. Idempotent. */
  close(): void {
    this.clear();
    this.closed = true;
  }

  /** A snapshot of the counters. */
  stats(): SendPacerStats {
    return {
      enqueued: this.enqueuedCount,
      sent: this.sentCount,
      sendFailures: this.sendFailureCount,
      rejectedFull: this.rejectedFullCount,
      cleared: this.clearedCount,
      queued: this.length,
    };
  }

  private drain(): void {
    this.timerId = null;
    this.refill();
    this.draining = true;
    try {
      while (this.length > 0 && this.tokens >= 1 - TOKEN_EPSILON) {
        this.tokens = Math.max(0, this.tokens - 1);
        this.deliver(this.shift());
      }
    } finally {
      this.draining = false;
    }
    // The sink may have closed or cleared the pacer (e.g. a send that triggers a reconnect).
    if (this.length > 0 && !this.closed && this.timerId === null) {
      // Wait exactly until the next whole token; at least 1 ms so a float shortfall cannot spin.
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
      this.timerId = this.clock.setTimeout(() => this.drain(), waitMs);
    }
  }

  private deliver(text: string): void {
    let ok = false;
    try {
      ok = this.sink(text);
    } catch {
      // The sink is the socket layer: a throw is an operating error of this one message.
      ok = false;
    }
    if (ok) this.sentCount++;
    else this.sendFailureCount++;
  }

  private refill(): void {
    const nowMs = this.clock.nowMs();
    const elapsedMs = nowMs - this.refilledAtMs;
    this.refilledAtMs = nowMs;
    if (elapsedMs > 0) {
      this.tokens = Math.min(this.burstMax, this.tokens + (elapsedMs * this.ratePerSec) / 1000);
    }
  }

  private shift(): string {
    if (this.length <= 0) throw new Error("expected a non-empty send queue, found it empty");
    const text = this.ring[this.head];
    this.ring[this.head] = "";
    this.head = (this.head + 1) % this.queueMax;
    this.length--;
    return text;
  }

  private cancelTimer(): void {
    if (this.timerId !== null) {
      this.clock.clearTimeout(this.timerId);
      this.timerId = null;
    }
  }
}
