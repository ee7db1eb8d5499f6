/**
 * StreamMap: a map keyed by stream `(provider, symbol, kind)`, in nested maps so that a lookup
 * of a stream seen before allocates nothing (no key string is built on the hot path).
 *
 * Emptied inner maps are kept: their number is bounded by the streams that reach one consumer
 * (its subscriptions, a wildcard widened by the gateway's configured providers), and keeping
 * them saves re-allocating them when the stream comes back.
 *
 * @module
 */

/** A map from `(provider, symbol, kind)` to `V`. */
export class StreamMap<V> {
  readonly #byProvider = new Map<string, Map<string, Map<string, V>>>();
  #size = 0;

  /** Number of streams with a value. */
  get size(): number {
    return this.#size;
  }

  /** The stream's value, if any. */
  get(provider: string, symbol: string, kind: string): V | undefined {
    return this.#byProvider.get(provider)?.get(symbol)?.get(kind);
  }

  /** Sets the stream's value (creating the inner maps on first use). */
  set(provider: string, symbol: string, kind: string, value: V): void {
    let bySymbol = this.#byProvider.get(provider);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      this.#byProvider.set(provider, bySymbol);
    }
    let byKind = bySymbol.get(symbol);
    if (byKind === undefined) {
      byKind = new Map();
      bySymbol.set(symbol, byKind);
    }
    if (!byKind.has(kind)) this.#size++;
    byKind.set(kind, value);
  }

  /** Removes the stream's value; false when it had none. */
  delete(provider: string, symbol: string, kind: string): boolean {
    const byKind = this.#byProvider.get(provider)?.get(symbol);
    if (byKind === undefined || !byKind.delete(kind)) return false;
    this.#size--;
    return true;
  }

  /** Every value (in no particular order). */
  *values(): IterableIterator<V> {
    for (const bySymbol of this.#byProvider.values()) {
      for (const byKind of bySymbol.values()) yield* byKind.values();
    }
  }

  /** Removes every value. */
  clear(): void {
    this.#byProvider.clear();
    this.#size = 0;
  }
}
