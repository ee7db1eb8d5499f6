/**
 * Fault knobs of the OKX simulator: a gap in the `books` seqId chain, a corrupted checksum, a
 * maintenance-style sequence reset, a stale REST book snapshot, a silent stall and disconnects.
 *
 * @module
 */

import type { OkxConnection } from "./okx_connection.ts";
import type { OkxMarketFeed } from "./okx_market_feed.ts";

/** Which connections a connection fault hits (default: all). */
export interface OkxConnectionSelector {
  /** Only the connection with this `connId`. */
  readonly connId?: string;
}

/** Fault injection; reach it as `sim.faults`. */
export class OkxSimFaults {
  readonly #feed: OkxMarketFeed;
  readonly #connections: () => OkxConnection[];

  /** Used by the simulator. */
  constructor(feed: OkxMarketFeed, connections: () => OkxConnection[]) {
    this.#feed = feed;
    this.#connections = connections;
  }

  /**
   * Withholds the next `count` non-empty `books` updates of `instId` from every subscriber
   * (the chain advances), so the next update's `prevSeqId` is not the last `seqId` a client saw.
   */
  gap(instId: string, count = 1): void {
    this.#arm(instId, "gap", count);
  }

  /** Sends a wrong `checksum` (bit 0 flipped) on the next `count` updates of `instId`. */
  corruptChecksum(instId: string, count = 1): void {
    this.#arm(instId, "corrupt", count);
  }

  /**
   * Makes the next update of `instId` a maintenance reset: `seqId` smaller than `prevSeqId`,
   * `prevSeqId` equal to the last id sent (clients must accept it, not resync).
   */
  resetSequence(instId: string): void {
    this.#arm(instId, "reset", 1);
  }

  /**
   * Makes the next `count` answers of REST `GET /api/v5/market/books` for `instId` return the
   * book as published now (captured at this call). Once the chain moves on, their `seqId` S is
   * older than the first update a client buffered after subscribing (S < first `prevSeqId`),
   * so a §4.4 bootstrap must fetch again.
   */
  staleRestBook(instId: string, count = 1): void {
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new RangeError(`count: expected a positive integer, found ${count}`);
    }
    this.#feed.armStaleRestBook(instId, count);
  }

  /** Sends nothing on the selected connections for `durationMs` (socket open, no pong either). */
  stall(durationMs: number, selector: OkxConnectionSelector = {}): number {
    if (!(Number.isFinite(durationMs) && durationMs >= 0)) {
      throw new RangeError(`durationMs: expected a non-negative number, found ${durationMs}`);
    }
    const hit = this.#select(selector);
    for (const connection of hit) connection.stall(durationMs);
    return hit.length;
  }

  /**
   * Disconnects the selected connections: abruptly (TCP cut, no close frame) by default, or
   * with a close frame when `code` is given. Returns how many were hit.
   */
  disconnect(options: OkxConnectionSelector & { code?: number; reason?: string } = {}): number {
    const hit = this.#select(options);
    for (const connection of hit) {
      if (options.code === undefined) connection.drop();
      else connection.close(options.code, options.reason ?? "");
    }
    return hit.length;
  }

  #arm(instId: string, kind: "gap" | "corrupt" | "reset", count: number): void {
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new RangeError(`count: expected a positive integer, found ${count}`);
    }
    for (let i = 0; i < count; i++) this.#feed.armBookFault(instId, kind);
  }

  #select(selector: OkxConnectionSelector): OkxConnection[] {
    const all = this.#connections();
    return selector.connId === undefined ? all : all.filter((c) => c.connId === selector.connId);
  }
}
