/**
 * Accumulates book changes of one symbol between two diff-depth events: the last quantity per
 * level and the first and last update id covered. Consecutive windows are contiguous, so each
 * event's `U` is the previous event's `u` + 1.
 *
 * @module
 */

import type { LevelEvent } from "../market/mod.ts";

/** One window's content, levels sorted best first. */
export interface DepthDiff {
  /** First update id covered (`U`). */
  readonly firstId: number;
  /** Last update id covered (`u`). */
  readonly lastId: number;
  /** `[tick, qtySteps]`, highest first; qty 0 = removed. */
  readonly bids: [number, number][];
  /** `[tick, qtySteps]`, lowest first; qty 0 = removed. */
  readonly asks: [number, number][];
}

/** See the module documentation. */
export class DepthWindow {
  #firstId = 0;
  #lastId = 0;
  readonly #bids = new Map<number, number>();
  readonly #asks = new Map<number, number>();

  /** True when no change arrived since the last {@link DepthWindow.take}. */
  get empty(): boolean {
    return this.#firstId === 0;
  }

  /** Records one change. Ids must be consecutive. */
  record(event: LevelEvent): void {
    if (this.#firstId === 0) this.#firstId = event.updateId;
    else if (event.updateId !== this.#lastId + 1) {
      throw new Error(
        `depth window: expected update id ${this.#lastId + 1}, found ${event.updateId}`,
      );
    }
    this.#lastId = event.updateId;
    (event.side === "bid" ? this.#bids : this.#asks).set(event.tick, event.qtySteps);
  }

  /** Returns the window's content and starts a new, empty window. */
  take(): DepthDiff {
    const diff: DepthDiff = {
      firstId: this.#firstId,
      lastId: this.#lastId,
      bids: [...this.#bids].sort((x, y) => y[0] - x[0]),
      asks: [...this.#asks].sort((x, y) => x[0] - y[0]),
    };
    this.#firstId = 0;
    this.#bids.clear();
    this.#asks.clear();
    return diff;
  }
}
