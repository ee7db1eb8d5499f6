/**
 * WsFrame: one received WebSocket text frame, pooled from receipt until it has been parsed.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import { POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** Plain-object form of a {@linkcode WsFrame}. */
export interface WsFrameData {
  /** Provider that sent the frame (`binance`). */
  provider: string;
  /** Gateway-local id of the connection the frame arrived on. */
  connId: number;
  /** Per-connection frame counter, starting at 1. */
  frameSeq: number;
  /** Receive time, ms since epoch with sub-ms fraction. */
  recvTsMs: number;
  /** The frame's text. */
  text: string;
}

/** A pooled received frame. Owner: the adapter; released right after parse. */
export class WsFrame implements Poolable, WsFrameData {
  provider = "";
  connId = 0;
  frameSeq = 0;
  recvTsMs = 0;
  text = "";

  /** Zeroes every field. */
  reset(): void {
    this.provider = "";
    this.connId = 0;
    this.frameSeq = 0;
    this.recvTsMs = 0;
    this.text = "";
  }

  /** Debug mode: sentinel values in every field. */
  poison(): void {
    this.provider = POISON_STRING;
    this.connId = POISON_NUMBER;
    this.frameSeq = POISON_NUMBER;
    this.recvTsMs = POISON_NUMBER;
    this.text = POISON_STRING;
  }

  /** Plain heap copy. */
  clone(): WsFrameData {
    return {
      provider: this.provider,
      connId: this.connId,
      frameSeq: this.frameSeq,
      recvTsMs: this.recvTsMs,
      text: this.text,
    };
  }

  /** Copies every field of `src` into this object. */
  copyFrom(src: WsFrameData): this {
    this.provider = src.provider;
    this.connId = src.connId;
    this.frameSeq = src.frameSeq;
    this.recvTsMs = src.recvTsMs;
    this.text = src.text;
    return this;
  }
}

/** Returns null when valid, else what was expected and found. */
export function validateWsFrame(f: WsFrameData): string | null {
  if (f.provider.length === 0 || f.provider === POISON_STRING) {
    return `expected a provider, found "${f.provider}"`;
  }
  if (!Number.isFinite(f.recvTsMs) || f.recvTsMs <= 0) {
    return `expected a positive recvTsMs, found ${f.recvTsMs}`;
  }
  if (f.text === POISON_STRING) return "expected frame text, found a poisoned frame";
  return null;
}
