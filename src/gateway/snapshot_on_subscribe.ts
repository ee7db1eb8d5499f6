/**
 * Routing-table decorator that reports when a consumer needs a fresh book snapshot, so the
 * gateway can send the current book to a consumer that subscribes after the book went live: the
 * snapshot of the initial sync was dispatched before that consumer existed, and without a fresh
 * one it would only see updates until the next resync (minutes later).
 *
 * A consumer needs one when it subscribes to `book_snapshot`, and again when it then subscribes
 * to `book_update` of the same book: updates dispatched between its two subscriptions did not
 * reach it, so its first update would not continue the snapshot it holds.
 *
 * @module
 */

import {
  ANY_PROVIDER,
  type ConsumerRoutes,
  type StreamKey,
  type SubscriptionResult,
} from "../consumer/mod.ts";

/** Options of {@linkcode SnapshotOnSubscribeRoutes}. */
export interface SnapshotOnSubscribeOptions<C extends { readonly id: string }> {
  /** The routing table every call is delegated to. */
  routes: ConsumerRoutes<C>;
  /**
   * Called with the `book_snapshot` stream to refresh (see the module doc), after the change
   * applied, in a microtask: never inside the caller's stack, which may be a dispatch (an
   * in-process consumer subscribing from its event handler). Must not throw.
   */
  onSnapshotNeeded: (key: StreamKey) => void;
}

/** Delegates to a routing table and reports when a consumer needs a book snapshot. */
export class SnapshotOnSubscribeRoutes<C extends { readonly id: string }>
  implements ConsumerRoutes<C> {
  readonly #routes: ConsumerRoutes<C>;
  readonly #onSnapshotNeeded: (key: StreamKey) => void;

  /** Wraps `opts.routes`. */
  constructor(opts: SnapshotOnSubscribeOptions<C>) {
    this.#routes = opts.routes;
    this.#onSnapshotNeeded = opts.onSnapshotNeeded;
  }

  /** The wrapped table's version. */
  get version(): number {
    return this.#routes.version;
  }

  /** Delegates. */
  addConsumer(consumer: C): SubscriptionResult {
    return this.#routes.addConsumer(consumer);
  }

  /** Delegates. */
  removeConsumer(consumerId: string, expected?: C): SubscriptionResult {
    return this.#routes.removeConsumer(consumerId, expected);
  }

  /** Delegates; then reports when the consumer needs a book snapshot (see the module doc). */
  subscribe(consumerId: string, key: StreamKey): SubscriptionResult {
    const result = this.#routes.subscribe(consumerId, key);
    if (!result.ok || !result.changed) return result;
    let needed: StreamKey | null = null;
    if (key.kind === "book_snapshot") {
      needed = { provider: key.provider, symbol: key.symbol, kind: key.kind };
    } else if (key.kind === "book_update") {
      const held = this.#routes.subscriptionsOf(consumerId).find((k) =>
        k.kind === "book_snapshot" && k.symbol === key.symbol &&
        (k.provider === key.provider || k.provider === ANY_PROVIDER ||
          key.provider === ANY_PROVIDER)
      );
      if (held !== undefined) {
        // The narrower provider of the two: a snapshot both subscriptions route.
        const provider = held.provider === ANY_PROVIDER ? key.provider : held.provider;
        needed = { provider, symbol: key.symbol, kind: "book_snapshot" };
      }
    }
    if (needed !== null) {
      const snapshotKey = needed;
      queueMicrotask(() => this.#onSnapshotNeeded(snapshotKey));
    }
    return result;
  }

  /** Delegates. */
  unsubscribe(consumerId: string, key: StreamKey): SubscriptionResult {
    return this.#routes.unsubscribe(consumerId, key);
  }

  /** Delegates. */
  subscriptionsOf(consumerId: string): StreamKey[] {
    return this.#routes.subscriptionsOf(consumerId);
  }
}
