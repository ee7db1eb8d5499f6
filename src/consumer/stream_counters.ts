/**
 * StreamCounters: one counter per stream `(provider, symbol, kind)`, in nested maps so that
 * counting an event of a stream seen before allocates nothing (no key string is built).
 *
 * The number of entries is bounded by the streams that reach one consumer: its subscriptions,
 * with a wildcard subscription widened by the gateway's (finite, configured) providers.
 *
 * @module
 */

/** One stream's count, as listed by {@linkcode StreamCounters.list}. */
export interface StreamCount {
  /** Provider name. */
  provider: string;
  /** Canonical symbol. */
  symbol: string;
  /** Event kind. */
  kind: string;
  /** The count. */
  count: number;
}

/** Counters keyed by `(provider, symbol, kind)`. */
export class StreamCounters {
  readonly #byProvider = new Map<string, Map<string, Map<string, StreamCount>>>();
  #total = 0;

  /** Sum over every stream. */
  get total(): number {
    return this.#total;
  }

  /** Adds one to the stream's counter (creates it on first use). */
  increment(provider: string, symbol: string, kind: string): void {
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
    let entry = byKind.get(kind);
    if (entry === undefined) {
      entry = { provider, symbol, kind, count: 0 };
      byKind.set(kind, entry);
    }
    entry.count++;
    this.#total++;
  }

  /** The stream's count (0 when never counted). */
  get(provider: string, symbol: string, kind: string): number {
    return this.#byProvider.get(provider)?.get(symbol)?.get(kind)?.count ?? 0;
  }

  /** Every non-zero counter, as copies. */
  list(): StreamCount[] {
    const out: StreamCount[] = [];
    for (const bySymbol of this.#byProvider.values()) {
      for (const byKind of bySymbol.values()) {
        for (const entry of byKind.values()) out.push({ ...entry });
      }
    }
    return out;
  }
}
