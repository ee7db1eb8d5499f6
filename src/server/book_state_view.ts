/**
 * What the HTTP control API shows of one provider-side order book (`GET /v1/books`). A plain
 * shape the gateway fills from its book assemblers, so the server depends on no adapter.
 *
 * @module
 */

/** Every synchronisation state a per-symbol book reports. */
export const BOOK_VIEW_STATES = ["SYNCING", "LIVE", "RESYNCING", "STALE"] as const;

/**
 * - `SYNCING`: first synchronisation, no book yet;
 * - `LIVE`: synchronised, every diff applied;
 * - `RESYNCING`: was live, being rebuilt (gap, crossed book, refresh, ...);
 * - `STALE`: no diff within the staleness bound; being rebuilt from a fresh snapshot.
 */
export type BookViewState = typeof BOOK_VIEW_STATES[number];

/** The sync state of one provider's book of one symbol. */
export interface BookStateView {
  /** Provider name (`binance`). */
  provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  /** Synchronisation state. */
  state: BookViewState;
  /** The book's update id (the exchange's sequence; 0 when no book is held). */
  bookId: number;
  /** Best bid price as the exchange wrote it ("" when none). */
  bestBid: string;
  /** Best ask price as the exchange wrote it ("" when none). */
  bestAsk: string;
  /** Resyncs since start, by reason (`gap`, `stale`, `checksum_mismatch`, ...). */
  resyncs: Record<string, number>;
  /** Gateway receive time of the last applied update, ms since epoch (0: none yet). */
  lastUpdateMs: number;
}
