/**
 * The bounds of one consumer WebSocket: batching, send-buffer water marks, the slow-consumer
 * timeout, the polling interval (Deno's server socket has no drain event, so `bufferedAmount`
 * is polled) and command size.
 *
 * @module
 */

import { COMMAND_CHARS_MAX_DEFAULT } from "./command_handler.ts";
import { BATCH_CHARS_MAX_DEFAULT, BATCH_MESSAGES_MAX_DEFAULT } from "./outbound_queue.ts";

/** Bounds of one consumer connection. */
export interface StreamLimits {
  /** Most messages in one array frame. */
  batchMessagesMax: number;
  /** Most characters (= bytes, ASCII) in one array frame. */
  batchCharsMax: number;
  /**
   * Send buffer above which the socket counts as busy, in bytes: a partly filled batch then
   * waits up to one poll interval for more messages instead of going out at once.
   */
  busyBytes: number;
  /** Send buffer above which the session stops taking events from its consumer, in bytes. */
  highWaterBytes: number;
  /** Send buffer below which a paused session resumes, in bytes. */
  lowWaterBytes: number;
  /** Longest continuous time above the high-water mark before the connection is closed, ms. */
  slowConsumerTimeoutMs: number;
  /** How often `bufferedAmount` is polled while the socket is busy or paused, ms. */
  pollIntervalMs: number;
  /**
   * Encoded messages the session holds before it makes its consumer wait (the consumer's own
   * bounded queue then absorbs, and past its bound drops and counts, further events).
   */
  pendingMessagesMax: number;
  /** Longest command text parsed, in characters. */
  commandCharsMax: number;
}

/** The default bounds. */
export const STREAM_LIMITS_DEFAULT: Readonly<StreamLimits> = Object.freeze({
  batchMessagesMax: BATCH_MESSAGES_MAX_DEFAULT,
  batchCharsMax: BATCH_CHARS_MAX_DEFAULT,
  busyBytes: 65_536,
  highWaterBytes: 4 * 1024 * 1024,
  lowWaterBytes: 1024 * 1024,
  slowConsumerTimeoutMs: 30_000,
  pollIntervalMs: 5,
  pendingMessagesMax: 1024,
  commandCharsMax: COMMAND_CHARS_MAX_DEFAULT,
});

/** The defaults with `partial` applied, checked; throws a `RangeError` naming a bad bound. */
export function resolveStreamLimits(partial?: Partial<StreamLimits>): StreamLimits {
  const limits: StreamLimits = { ...STREAM_LIMITS_DEFAULT, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    const min = name === "busyBytes" || name === "lowWaterBytes" ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`stream limits: expected an integer ${name} >= ${min}, found ${value}`);
    }
  }
  if (limits.lowWaterBytes >= limits.highWaterBytes) {
    throw new RangeError(
      `stream limits: expected lowWaterBytes below highWaterBytes (${limits.highWaterBytes}), found ${limits.lowWaterBytes}`,
    );
  }
  if (limits.busyBytes > limits.highWaterBytes) {
    throw new RangeError(
      `stream limits: expected busyBytes at most highWaterBytes (${limits.highWaterBytes}), found ${limits.busyBytes}`,
    );
  }
  if (limits.batchCharsMax < 2) {
    throw new RangeError(
      `stream limits: expected batchCharsMax >= 2, found ${limits.batchCharsMax}`,
    );
  }
  return limits;
}
