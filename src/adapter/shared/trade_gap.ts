/**
 * Telemetry of skipped trade ids, for exchanges whose trade ids are consecutive per symbol
 * (Binance's `t`). The dispatcher orders trades as strictly increasing (OKX and Kraken ids skip
 * by design), so it cannot tell a lost trade from a normal jump: the adapter that knows its ids
 * are consecutive reports the skip. The gateway turns it into the metric
 * `switchyard_trade_id_gaps_total{provider,symbol}` and the ops event `trade.gap`.
 *
 * @module
 */

/** Trade ids `fromSeq..toSeq` of one symbol never arrived. */
export interface TradeGapEvent {
  /** Provider name (`binance`). */
  provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  /** First missing trade id. */
  fromSeq: number;
  /** Last missing trade id. */
  toSeq: number;
  /** Missing ids: `toSeq - fromSeq + 1`. */
  count: number;
}
