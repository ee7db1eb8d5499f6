/**
 * Send-time log of the simulator side: for every data frame handed to a WebSocket while
 * recording is on, the frame's event key and the shared-clock time of the `send()` call.
 *
 * The generated-market child cannot reach the simulator's sockets, so it wraps
 * `WebSocket.prototype.send` in its own process ({@linkcode instrumentWebSocketSend}): bench
 * instrumentation only, never loaded by the gateway. The blaster calls {@linkcode SendLog.onSend}
 * itself.
 *
 * @module
 */

import { type BenchProvider, FrameKeys } from "./frame_key.ts";
import { RecordStore } from "./record_store.ts";

/** Options of {@linkcode SendLog}. */
export interface SendLogOptions {
  /** Instrument names `[base, quote]` in simulator order. */
  symbols: readonly (readonly [string, string])[];
  /** Most frames recorded. */
  recordsMax: number;
  /** Venues whose frames are keyed (default Binance only). */
  providers?: readonly BenchProvider[];
}

/** See the module documentation. */
export class SendLog {
  readonly #keys: FrameKeys;
  readonly #store: RecordStore;
  /** Whether sends are being recorded. */
  recording = false;
  /** Frames seen while recording (keyed or not). */
  framesSeen = 0;
  /** Canonical events the frames sent so far will yield, recording or not (rate steering). */
  eventsSent = 0;
  #sendMs = 0;
  readonly #onKey = (key: number): void => {
    if (this.recording) this.#store.push2(key, this.#sendMs);
  };

  /** An empty log, not recording. */
  constructor(opts: SendLogOptions) {
    this.#keys = new FrameKeys(opts.symbols, opts.providers);
    this.#store = new RecordStore({ width: 2, recordsMax: opts.recordsMax });
  }

  /** Records sent so far. */
  get count(): number {
    return this.#store.count;
  }

  /** Frames not recorded because the log was full. */
  get dropped(): number {
    return this.#store.dropped;
  }

  /**
   * Call right before a frame is sent. Every frame is parsed, recorded or not: the event count
   * steers the rate, and Kraken book keys count that symbol's book messages from the start.
   */
  onSend(text: string): void {
    this.#sendMs = performance.now();
    if (this.recording) this.framesSeen++;
    this.eventsSent += this.#keys.eachKey(text, this.#onKey);
  }

  /** Forgets every record (a new connection replays from the start). */
  clear(): void {
    this.#store.clear();
    this.framesSeen = 0;
  }

  /** Writes `[key, shared-clock send ms]` pairs to `path`. */
  write(path: string): Promise<void> {
    return this.#store.writeFile(path, [0, performance.timeOrigin]);
  }
}

/**
 * Wraps `WebSocket.prototype.send` in this process so every text frame is shown to `log` first.
 * Returns a function that restores the original.
 */
export function instrumentWebSocketSend(log: SendLog): () => void {
  const proto = WebSocket.prototype;
  const original = proto.send;
  proto.send = function send(
    this: WebSocket,
    data: string | ArrayBufferLike | Blob | ArrayBufferView,
  ): void {
    if (typeof data === "string") log.onSend(data);
    original.call(this, data);
  };
  return () => {
    proto.send = original;
  };
}
