/**
 * Binance market stream names: syntax check and classification. Only the syntax is checked, as
 * on the real server: a well-formed name for a symbol that does not exist is accepted and
 * simply never delivers.
 *
 * @module
 */

/** Kline intervals Binance documents, with their length in ms (1M counted as 30 days). */
export const KLINE_INTERVAL_MS: ReadonlyMap<string, number> = new Map([
  ["1s", 1_000],
  ["1m", 60_000],
  ["3m", 180_000],
  ["5m", 300_000],
  ["15m", 900_000],
  ["30m", 1_800_000],
  ["1h", 3_600_000],
  ["2h", 7_200_000],
  ["4h", 14_400_000],
  ["6h", 21_600_000],
  ["8h", 28_800_000],
  ["12h", 43_200_000],
  ["1d", 86_400_000],
  ["3d", 259_200_000],
  ["1w", 604_800_000],
  ["1M", 2_592_000_000],
]);

/** What a stream carries. `silent` streams are accepted but this simulator never feeds them. */
export type StreamKind =
  | "trade"
  | "aggTrade"
  | "depth"
  | "partialDepth"
  | "bookTicker"
  | "ticker"
  | "miniTicker"
  | "allMiniTickers"
  | "kline"
  | "avgPrice"
  | "silent";

/** A parsed stream name. */
export interface StreamSpec {
  /** The name as given (`btcusdt@depth5@100ms`). */
  readonly name: string;
  /** Classification. */
  readonly kind: StreamKind;
  /** Lower-case symbol (`btcusdt`), `""` for `!...@arr` streams. */
  readonly symbol: string;
  /** Depth streams: 100 ms updates instead of 1000 ms. */
  readonly fast: boolean;
  /** Partial depth: 5, 10 or 20 levels; 0 otherwise. */
  readonly levels: number;
  /** Kline: interval (`1m`); `""` otherwise. */
  readonly interval: string;
  /** Kline: time-zone offset in minutes (`@+08:00` → 480); 0 otherwise. */
  readonly zoneOffsetMinutes: number;
}

const SYMBOL_RE = /^[a-z0-9]{2,20}$/;
const PARTIAL_RE = /^depth(5|10|20)(@100ms)?$/;
const KLINE_RE = /^kline_([0-9]{1,2}[smhdwM])(?:@([+-])([0-9]{2}):([0-9]{2}))?$/;
const SILENT_EVENTS = new Set([
  "ticker_1h",
  "ticker_4h",
  "ticker_1d",
  "referencePrice",
  "blockTrade",
]);
const SILENT_ARRAYS = new Set(["!ticker_1h@arr", "!ticker_4h@arr", "!ticker_1d@arr"]);

/**
 * Parses a stream name, or returns null when it is not a valid Binance stream name (which the
 * server answers with error code 2). Upper-case symbols are invalid: names are lower case.
 *
 * @example
 * ```ts
 * parseStreamName("btcusdt@depth@100ms")?.fast; // true
 * parseStreamName("BTCUSDT@trade"); // null
 * ```
 */
export function parseStreamName(name: string): StreamSpec | null {
  if (name === "!miniTicker@arr") return spec(name, "allMiniTickers", "");
  if (SILENT_ARRAYS.has(name)) return spec(name, "silent", "");
  const at = name.indexOf("@");
  if (at <= 0) return null;
  const symbol = name.slice(0, at);
  if (!SYMBOL_RE.test(symbol)) return null;
  const event = name.slice(at + 1);
  switch (event) {
    case "trade":
    case "aggTrade":
    case "bookTicker":
    case "ticker":
    case "miniTicker":
    case "avgPrice":
      return spec(name, event, symbol);
    case "depth":
      return spec(name, "depth", symbol);
    case "depth@100ms":
      return { ...spec(name, "depth", symbol), fast: true };
  }
  if (SILENT_EVENTS.has(event)) return spec(name, "silent", symbol);
  const partial = PARTIAL_RE.exec(event);
  if (partial !== null) {
    return {
      ...spec(name, "partialDepth", symbol),
      levels: Number(partial[1]),
      fast: partial[2] !== undefined,
    };
  }
  const kline = KLINE_RE.exec(event);
  if (kline !== null && KLINE_INTERVAL_MS.has(kline[1])) {
    let zoneOffsetMinutes = 0;
    if (kline[2] !== undefined) {
      const hours = Number(kline[3]);
      const minutes = Number(kline[4]);
      if (hours > 14 || minutes > 59) return null;
      zoneOffsetMinutes = (kline[2] === "-" ? -1 : 1) * (hours * 60 + minutes);
    }
    return { ...spec(name, "kline", symbol), interval: kline[1], zoneOffsetMinutes };
  }
  return null;
}

function spec(name: string, kind: StreamKind, symbol: string): StreamSpec {
  return { name, kind, symbol, fast: false, levels: 0, interval: "", zoneOffsetMinutes: 0 };
}
