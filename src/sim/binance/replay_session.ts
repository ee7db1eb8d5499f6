/**
 * Plays a WebSocket recording to one connection at its original pacing (or faster), sending
 * each recorded frame whose stream the connection is subscribed to: the recorded text verbatim
 * on combined connections, the bare payload on raw ones.
 *
 * @module
 */

import type { RecordedFrame, WsRecording } from "./recording.ts";
import { wrapCombined } from "./stream_hub.ts";
import type { WsConnection } from "./ws_connection.ts";

/** Frames sent per macrotask when replaying as fast as possible. */
const BURST_FRAMES_MAX = 512;

/** See the module documentation. */
export class ReplaySession {
  readonly #frames: readonly RecordedFrame[];
  readonly #connection: WsConnection;
  readonly #speed: number;
  readonly #onDone: (session: ReplaySession) => void;
  #next = 0;
  #startMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Frames delivered so far. */
  framesSent = 0;

  /** A session; `speed` 1 = original pacing, 0 = as fast as possible. */
  constructor(options: {
    recording: WsRecording;
    connection: WsConnection;
    speed: number;
    onDone: (session: ReplaySession) => void;
  }) {
    this.#frames = options.recording.frames;
    this.#connection = options.connection;
    this.#speed = options.speed;
    this.#onDone = options.onDone;
  }

  /** True when every frame was played (or the session was stopped). */
  get done(): boolean {
    return this.#stopped || this.#next >= this.#frames.length;
  }

  /** Starts playing. */
  start(): void {
    this.#startMs = performance.now();
    this.#schedule();
  }

  /** Stops playing; clears the pending timer. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #dueMs(index: number): number {
    if (this.#speed === 0) return 0;
    const first = this.#frames[0].timeS;
    return this.#startMs + ((this.#frames[index].timeS - first) * 1000) / this.#speed;
  }

  #schedule(): void {
    if (this.done || !this.#connection.alive) {
      this.#timer = undefined;
      this.#stopped = true;
      this.#onDone(this);
      return;
    }
    const waitMs = Math.max(0, this.#dueMs(this.#next) - performance.now());
    this.#timer = setTimeout(() => this.#play(), waitMs);
  }

  #play(): void {
    const now = performance.now();
    let sent = 0;
    while (
      this.#next < this.#frames.length && this.#dueMs(this.#next) <= now && sent < BURST_FRAMES_MAX
    ) {
      this.#deliver(this.#frames[this.#next++]);
      sent++;
    }
    this.#schedule();
  }

  #deliver(frame: RecordedFrame): void {
    const connection = this.#connection;
    if (frame.stream !== "" && !connection.isSubscribed(frame.stream)) return;
    if (connection.combined) {
      connection.sendFrame(
        frame.stream !== "" ? frame.text : wrapCombined(frame.stream, frame.data),
      );
    } else {
      connection.sendFrame(frame.data);
    }
    this.framesSent++;
  }
}
