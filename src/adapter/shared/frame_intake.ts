/**
 * The receive prologue every market-data adapter shares: a WebSocket text frame becomes a
 * pooled `WsFrame`, is decoded into a pooled `ProviderRaw`, the frame goes back to its pool at
 * once, and the raw is routed and then released (ARCHITECTURE.md, hot path and ownership).
 *
 * What stays in each adapter: how a frame is decoded (the Binance codec fills every field, the
 * generic JSON parse fills only `body`), how a decoded frame is routed, and what an exhausted
 * pool or a bad frame means for its books.
 *
 * @module
 */

import { DecodeError } from "../../codec/mod.ts";
import type { ProviderRaw } from "../../schema/provider_raw.ts";
import type { SchemaPools } from "../../schema/schema_pools.ts";

/** The pool that was empty when a frame arrived. */
export type FrameIntakePool = "ws_frame" | "provider_raw";

/** Options of {@linkcode FrameIntake}. */
export interface FrameIntakeOptions {
  /** Provider name written into every `WsFrame` and `ProviderRaw`. */
  provider: string;
  /** The pools of the receive path. */
  pools: Pick<SchemaPools, "wsFrame" | "providerRaw">;
  /**
   * Decodes `text` into `raw` (at least `raw.body`); throws {@linkcode DecodeError} on a frame
   * that is not valid. Any other error is a bug and propagates.
   */
  decode: (text: string, raw: ProviderRaw) => void;
  /** Handles one decoded frame; `raw` goes back to its pool when this returns or throws. */
  route: (raw: ProviderRaw) => void;
  /** A pool was empty: the frame is lost (nothing was decoded). */
  onPoolExhausted: (pool: FrameIntakePool) => void;
  /** The frame did not decode: it is dropped. */
  onDecodeError: (err: DecodeError) => void;
}

/**
 * Turns received text frames into routed `ProviderRaw`s, one pool round-trip each.
 *
 * @example
 * ```ts
 * const intake = new FrameIntake({
 *   provider: "okx",
 *   pools,
 *   decode: (text, raw) => { raw.body = decodeJson(text, { provider: "okx" }); },
 *   route: (raw) => console.log(raw.body),
 *   onPoolExhausted: (pool) => console.warn(pool),
 *   onDecodeError: (err) => console.warn(err.message),
 * });
 * intake.receive('{"event":"subscribe"}', Date.now(), 1);
 * ```
 */
export class FrameIntake {
  readonly #opts: FrameIntakeOptions;
  /** Sequence of frames taken in, across connections (starts at 1). */
  #frameSeq = 0;

  /** Keeps the options; acquires nothing until the first frame. */
  constructor(opts: FrameIntakeOptions) {
    this.#opts = opts;
  }

  /**
   * Takes one text frame received on connection `connId` at `recvTsMs` (wall clock): decodes
   * it, sets the raw's `provider` and `recvTsMs`, and routes it. Both pooled objects are back in
   * their pools when this returns, whatever happened.
   */
  receive(text: string, recvTsMs: number, connId: number): void {
    const { pools, provider } = this.#opts;
    const frame = pools.wsFrame.tryAcquire();
    const raw = frame ? pools.providerRaw.tryAcquire() : null;
    if (!frame || !raw) {
      if (frame) pools.wsFrame.release(frame);
      this.#opts.onPoolExhausted(frame ? "provider_raw" : "ws_frame");
      return;
    }
    frame.provider = provider;
    frame.connId = connId;
    frame.frameSeq = ++this.#frameSeq;
    frame.recvTsMs = recvTsMs;
    frame.text = text;
    try {
      this.#opts.decode(frame.text, raw);
    } catch (err) {
      pools.wsFrame.release(frame);
      pools.providerRaw.release(raw);
      if (!(err instanceof DecodeError)) throw err;
      this.#opts.onDecodeError(err);
      return;
    }
    // The frame's text is no longer needed once decoded: return it before routing.
    pools.wsFrame.release(frame);
    raw.provider = provider;
    raw.recvTsMs = recvTsMs;
    try {
      this.#opts.route(raw);
    } finally {
      pools.providerRaw.release(raw);
    }
  }
}
