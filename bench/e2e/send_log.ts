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

import { FrameKeys, NO_KEY } from "./frame_key.ts";
import { RecordStore } from "./record_store.ts";

/** Options of {@linkcode SendLog}. */
export interface SendLogOptions {
  /** Instrument names `[base, quote]` in simulator order. */
  symbols: readonly (readonly [string, string])[];
  /** Most frames recorded. */
  recordsMax: number;
}

/** See the module documentation. */
export class SendLog {
  readonly #keys: FrameKeys;
  readonly #store: RecordStore;
  /** Whether sends are being recorded. */
  recording = false;
  /** Frames seen while recording (keyed or not). */
  framesSeen = 0;

  /** An empty log, not recording. */
  constructor(opts: SendLogOptions) {
    this.#keys = new FrameKeys(opts.symbols);
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

  /** Call right before a frame is sent. */
  onSend(text: string): void {
    if (!this.recording) return;
    const nowMs = performance.now();
    this.framesSeen++;
    const key = this.#keys.ofFrame(text);
    if (key !== NO_KEY) this.#store.push2(key, nowMs);
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
