/**
 * The synchronisation state of a provider-side order book and the reasons a book is re-synced,
 * shared by every exchange's book assembler (Binance now; OKX and Kraken add checksums). The
 * lead maps each resync onto the metric `book.resync{provider,symbol,reason}` (MISSION R-03).
 *
 * @module
 */

/** Every state a per-symbol book can be in. */
export const BOOK_SYNC_STATES = ["SYNCING", "LIVE", "RESYNCING", "STALE"] as const;

/**
 * - `SYNCING`: first synchronisation (no book emitted yet): buffering diffs, fetching a snapshot.
 * - `LIVE`: the book is synchronised; every diff is applied and forwarded.
 * - `RESYNCING`: the book was live and is being rebuilt (gap, crossed book, refresh, ...).
 * - `STALE`: no diff arrived within the staleness bound; the book is being rebuilt from a fresh
 *   snapshot. Consumers must not trust the last book they saw until the next snapshot.
 */
export type BookSyncState = typeof BOOK_SYNC_STATES[number];

/** Every reason a book is thrown away and rebuilt, or its snapshot retried. */
export const RESYNC_REASONS = [
  "gap",
  "crossed_book",
  "stale",
  "periodic_refresh",
  "buffer_overflow",
  "snapshot_failed",
  "snapshot_behind",
  "pool_exhausted",
  "invalid_event",
  "checksum_mismatch",
  "reconnect",
  "requested",
] as const;

/**
 * - `gap`: a diff's first update id is beyond the book's id + 1 (updates were missed).
 * - `crossed_book`: applying a diff left best bid >= best ask (never emitted).
 * - `stale`: no diff within the staleness bound.
 * - `periodic_refresh`: the scheduled re-snapshot (every 2–5 min).
 * - `buffer_overflow`: too many diffs buffered while waiting for a snapshot.
 * - `snapshot_failed`: the snapshot request failed, timed out or returned a malformed body.
 * - `snapshot_behind`: snapshots stayed older than the first buffered diff after the bounded
 *   re-fetches.
 * - `pool_exhausted`: no pooled event was available for the book snapshot.
 * - `invalid_event`: a diff with malformed ids or levels.
 * - `checksum_mismatch`: the exchange's book checksum disagrees (OKX, Kraken).
 * - `reconnect`: the connection was re-established (the adapter asks for a re-snapshot).
 * - `requested`: an operator or test asked for a resync.
 */
export type ResyncReason = typeof RESYNC_REASONS[number];

/** Telemetry of one resync: the lead turns it into `book.resync{provider,symbol,reason}`. */
export interface BookResyncEvent {
  /** Provider name (`binance`). */
  provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  /** Why the book is rebuilt. */
  reason: ResyncReason;
}

/** Telemetry of one state transition of a per-symbol book. */
export interface BookStateChange {
  /** Provider name (`binance`). */
  provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  /** State before the transition. */
  from: BookSyncState;
  /** State after the transition. */
  to: BookSyncState;
  /** What caused it: the resync reason, or "synced" when the book became live. */
  cause: ResyncReason | "synced";
}

/** A fresh counter per resync reason, all zero. */
export function emptyResyncCounts(): Record<ResyncReason, number> {
  const counts = {} as Record<ResyncReason, number>;
  for (const reason of RESYNC_REASONS) counts[reason] = 0;
  return counts;
}
