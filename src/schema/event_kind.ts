/**
 * Canonical event kinds and the wire-format version.
 *
 * @module
 */

/** Version of the canonical wire format (field `v` of every message). */
export const SCHEMA_VERSION = 1;

/** The market-data kinds a {@linkcode CanonicalEvent} can carry. */
export const MARKET_EVENT_KINDS = [
  "trade",
  "book_snapshot",
  "book_update",
  "ticker",
  "kline",
] as const;

/** A market-data kind; `exec_report` is carried by {@linkcode ExecReport} instead. */
export type MarketEventKind = typeof MARKET_EVENT_KINDS[number];

/** Every canonical kind, market data plus execution reports. */
export type EventKind = MarketEventKind | "exec_report";

/** Taker side of a trade, or side of an order. Empty when unknown. */
export type Side = "buy" | "sell" | "";

/** True when `value` names a market-data kind. */
export function isMarketEventKind(value: string): value is MarketEventKind {
  return (MARKET_EVENT_KINDS as readonly string[]).includes(value);
}
