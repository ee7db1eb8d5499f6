/**
 * Stream keys: what a consumer subscribes to. A stream is one provider's events of one kind for
 * one symbol, `(provider, symbol, kind)` (MISSION R-08). The provider may be
 * {@linkcode ANY_PROVIDER} to receive that symbol and kind from every provider.
 *
 * @module
 */

import { isMarketEventKind, type MarketEventKind } from "../schema/event_kind.ts";
import { isCanonicalSymbol, isProviderName } from "../schema/exact_values.ts";

/**
 * The provider wildcard: a subscription to `("*", symbol, kind)` receives that symbol and kind
 * from every provider, each event once, even when the consumer also holds an exact subscription
 * to the same stream. No provider name can be `*`, so the wildcard never shadows a provider.
 */
export const ANY_PROVIDER = "*";

/** Identifies one stream: `provider` (or {@linkcode ANY_PROVIDER}), canonical symbol, kind. */
export interface StreamKey {
  /** Provider name (`binance`), or `*` for every provider. */
  readonly provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  readonly symbol: string;
  /** Market-data kind (`trade`, `book_update`, ...). */
  readonly kind: MarketEventKind;
}

/**
 * Checks a stream key from any source (control commands included); returns null when valid,
 * else a message saying what was expected and what was found.
 *
 * @example
 * ```ts
 * validateStreamKey({ provider: "binance", symbol: "BTC-USDT", kind: "trade" }); // null
 * validateStreamKey({ provider: "*", symbol: "btc", kind: "trade" }); // "expected a BASE-QUOTE ..."
 * ```
 */
export function validateStreamKey(key: StreamKey): string | null {
  if (key === null || typeof key !== "object") {
    return `expected a stream key object, found ${key === null ? "null" : typeof key}`;
  }
  if (key.provider !== ANY_PROVIDER && !isProviderName(key.provider)) {
    return `expected a provider name or "${ANY_PROVIDER}", found "${String(key.provider)}"`;
  }
  if (!isCanonicalSymbol(key.symbol)) {
    return `expected a BASE-QUOTE symbol, found "${String(key.symbol)}"`;
  }
  if (typeof key.kind !== "string" || !isMarketEventKind(key.kind)) {
    return `expected a market event kind, found "${String(key.kind)}"`;
  }
  return null;
}
