/**
 * MergedDispatcher: the fan-out of merged events (MISSION ), the merged
 * counterpart of the {@linkcode Dispatcher}.
 *
 * Ownership, the same rules as for canonical events:
 *
 * 1. `dispatchMerged(merged, targets)` takes ownership of a pooled {@linkcode MergedEvent} (the
 *    merge window emits it); the caller must not touch it after the call.
 * 2. Each target gets ONE plain clone (`merged.clone()`), which it owns; no two targets share
 *    an object.
 * 3. The pooled original is released exactly once, in a `finally`, whatever happens: a
 *    duplicate, no target, or a throwing target.
 * 4. A merge id seen before (within the {@linkcode MergeIdDedup} bound) is dropped and counted:
 *    no consumer receives the same merged window twice.
 *
 * @module
 */

import type { MergedTarget } from "../consumer/mod.ts";
import type { MergedEvent } from "../schema/merged_event.ts";
import { MergeIdDedup } from "./dedup_window.ts";

/** Where merged events go back to: `BoundedPool<MergedEvent>` fits. */
export interface MergedEventSink {
  /** Returns a pooled merged event (exactly once per acquire). */
  release(merged: MergedEvent): void;
}

/** Options of {@linkcode MergedDispatcher}. */
export interface MergedDispatcherOptions {
  /** The merged-event pool every dispatched event is released to. */
  pool: MergedEventSink;
  /** Duplicate detection by merge id. Default: a new {@linkcode MergeIdDedup}. */
  dedup?: MergeIdDedup;
  /** Told about each exception a target throws (already counted). Must not throw. */
  onError?: (err: unknown, consumerId: string, mergeId: string) => void;
  /** Told about each duplicate merge id dropped. Must not throw. */
  onDuplicate?: (mergeId: string) => void;
}

/** A snapshot of the merged dispatcher's counters. */
export interface MergedDispatcherStats {
  /** Merged events handed to `dispatchMerged` (each released exactly once). */
  dispatched: number;
  /** Dropped as a repeated merge id. */
  duplicates: number;
  /** Fanned out to nobody (every subscriber left before the window closed). */
  unrouted: number;
  /** Clones made (one per target per event). */
  clones: number;
  /** Clones accepted. */
  enqueued: number;
  /** Clones refused (queue full, closed). */
  rejected: number;
  /** Deliveries that threw. */
  failed: number;
}

/**
 * Fans merged events out as one plain clone per subscriber.
 *
 * @example
 * ```ts
 * const merged = new MergedDispatcher({ pool: pools.mergedEvent });
 * // as the emit of a merge window:
 * const emit = (m: MergedEvent) => merged.dispatchMerged(m, subscribers);
 * ```
 */
export class MergedDispatcher {
  readonly #pool: MergedEventSink;
  readonly #dedup: MergeIdDedup;
  readonly #onError: ((err: unknown, consumerId: string, mergeId: string) => void) | null;
  readonly #onDuplicate: ((mergeId: string) => void) | null;
  #dispatched = 0;
  #duplicates = 0;
  #unrouted = 0;
  #clones = 0;
  #enqueued = 0;
  #rejected = 0;
  #failed = 0;

  /** Creates a dispatcher releasing to `opts.pool`. */
  constructor(opts: MergedDispatcherOptions) {
    this.#pool = opts.pool;
    this.#dedup = opts.dedup ?? new MergeIdDedup();
    this.#onError = opts.onError ?? null;
    this.#onDuplicate = opts.onDuplicate ?? null;
  }

  /**
   * Delivers one clone of `merged` to each of `targets` (unless its merge id was seen before),
   * then releases `merged` to the pool exactly once. Takes ownership of `merged`. Never throws
   * for a target's failure (counted and reported instead).
   */
  dispatchMerged(merged: MergedEvent, targets: readonly MergedTarget[]): void {
    try {
      this.#dispatched++;
      if (!this.#dedup.admit(merged.mergeId)) {
        this.#duplicates++;
        this.#report(this.#onDuplicate, merged.mergeId);
        return;
      }
      if (targets.length === 0) {
        this.#unrouted++;
        return;
      }
      for (let i = 0; i < targets.length; i++) this.#deliver(targets[i], merged);
    } finally {
      this.#pool.release(merged);
    }
  }

  /** A snapshot of the counters. */
  stats(): MergedDispatcherStats {
    return {
      dispatched: this.#dispatched,
      duplicates: this.#duplicates,
      unrouted: this.#unrouted,
      clones: this.#clones,
      enqueued: this.#enqueued,
      rejected: this.#rejected,
      failed: this.#failed,
    };
  }

  #deliver(target: MergedTarget, merged: MergedEvent): void {
    try {
      const clone = merged.clone();
      this.#clones++;
      if (target.enqueueMerged(clone)) this.#enqueued++;
      else this.#rejected++;
    } catch (err) {
      this.#failed++;
      if (this.#onError === null) return;
      try {
        this.#onError(err, target.id, merged.mergeId);
      } catch {
        // The reporter failed as well; the counter keeps the record.
      }
    }
  }

  #report(hook: ((mergeId: string) => void) | null, mergeId: string): void {
    if (hook === null) return;
    try {
      hook(mergeId);
    } catch {
      // A telemetry hook must not stop the release.
    }
  }
}
