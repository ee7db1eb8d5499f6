/**
 * `decodeBinanceFrame`: the Binance entry point of the codec. Tries the shape-specialised
 * scanner for the hot shapes, and otherwise (or when the scanner abandons) parses with a JSON
 * engine and maps generically.
 *
 * @module
 */

import type { ProviderRaw } from "../schema/provider_raw.ts";
import { BINANCE_PROVIDER, mapBinanceValue } from "./binance_generic.ts";
import {
  decodeBinanceSpecialised,
  SPECIALISED_ABANDONED,
  SPECIALISED_DONE,
} from "./binance_specialised.ts";
import { decodeJson } from "./decode_json.ts";
import type { JsonEngine } from "./json_engine.ts";

/** Options of {@linkcode decodeBinanceFrame}. */
export interface BinanceDecodeOptions {
  /** Engine for the generic path. Default: V8's `JSON.parse` (`V8_JSON_ENGINE`). */
  engine?: JsonEngine;
  /**
   * Try the shape-specialised scanner first (for the shapes `DEFAULT_ENGINE_BY_SHAPE` assigns
   * to it). Default true; false forces the generic path (tests, benchmarks).
   */
  specialised?: boolean;
}

/** Which decoder paths ran, for tests and the metrics endpoint. Counts only ever grow. */
export class DecodePathCounters {
  /** Frames decoded completely by the specialised scanner. */
  specialised = 0;
  /** Frames that went through a JSON engine (including fallbacks). */
  generic = 0;
  /** Frames the scanner started as a hot shape and then handed to the generic path. */
  fallback = 0;
  /** Frames rejected with a {@linkcode DecodeError}. */
  errors = 0;

  /** Zeroes every count (tests). */
  reset(): void {
    this.specialised = 0;
    this.generic = 0;
    this.fallback = 0;
    this.errors = 0;
  }
}

/** Process-wide path counters of {@linkcode decodeBinanceFrame}. */
export const binanceDecodeCounters: DecodePathCounters = new DecodePathCounters();

/** Puts every decoded field of `out` at its zero value; keeps `recvTsMs` (the adapter's). */
function clearDecodedFields(out: ProviderRaw): void {
  out.provider = BINANCE_PROVIDER;
  out.stream = "";
  out.eventType = "";
  out.symbol = "";
  out.eventTimeMs = 0;
  out.firstId = 0;
  out.lastId = 0;
  out.tradeId = "";
  out.tradeTimeMs = 0;
  out.price = "";
  out.qty = "";
  out.buyerMaker = false;
  // Counts to 0 with the used slots cleared; the level storage itself is kept for the next frame.
  if (out.bidsLength !== 0) out.setBidsLength(0);
  if (out.asksLength !== 0) out.setAsksLength(0);
  out.bidPx = "";
  out.bidQty = "";
  out.askPx = "";
  out.askQty = "";
  out.open = "";
  out.high = "";
  out.low = "";
  out.close = "";
  out.volume = "";
  out.quoteVolume = "";
  out.interval = "";
  out.openTimeMs = 0;
  out.closeTimeMs = 0;
  out.tradeCount = 0;
  out.closed = false;
  out.body = null;
}

/**
 * Decodes one Binance market-data WebSocket frame into `out` (`provider` = `"binance"`).
 *
 * Every decoded field of `out` is overwritten (fields a shape lacks get their zero value;
 * `recvTsMs` is left alone for the adapter), so a reused object needs no `reset()` between
 * frames; `bidStore`/`askStore` keep their identity and capacity.
 *
 * Field mapping (Binance key -> field): `E` eventTimeMs, `s` symbol, combined-stream name ->
 * stream;
 * - trade: `t` tradeId (digits as sent) and lastId, `p` price, `q` qty, `T` tradeTimeMs,
 *   `m` buyerMaker;
 * - aggTrade: `a` tradeId and lastId (aggregate ids are consecutive, so gaps show in lastId),
 *   `f` firstId (first trade id covered; `l` is validated but has no field), `p`, `q`, `T`, `m`;
 * - depthUpdate: `U` firstId, `u` lastId, `b`/`a` flat into the bid/ask levels;
 * - depthPartial (no `e`): `lastUpdateId` lastId, bids/asks levels, symbol from the stream name;
 * - bookTicker (no `e`): `u` lastId, `b`/`B`/`a`/`A` bidPx/bidQty/askPx/askQty;
 * - 24hrTicker: `c` close, `Q` qty, `o`/`h`/`l`/`v`/`q` open/high/low/volume/quoteVolume,
 *   `b`/`B`/`a`/`A`, `O`/`C` openTimeMs/closeTimeMs, `F` firstId, `L` lastId, `n` tradeCount;
 * - 24hrMiniTicker: `c`, `o`, `h`, `l`, `v`, `q`;
 * - kline: `k.t`/`k.T` openTimeMs/closeTimeMs, `k.i` interval, `k.o`/`k.c`/`k.h`/`k.l`,
 *   `k.v`/`k.q`, `k.n` tradeCount, `k.x` closed, `k.f` firstId, `k.L` lastId;
 * - serverShutdown: `E`; control replies: eventType `result`/`error`, `body` = the reply;
 * - unknown `e`: eventType = `e`, `body` = the payload (not an error).
 * Decimal strings are kept exactly as sent.
 *
 * Throws {@linkcode DecodeError} (and nothing else) for invalid JSON, a non-message value or a
 * mapped field of the wrong type. After a throw the contents of `out` are unspecified: release
 * or reset it.
 *
 * @example
 * ```ts
 * const raw = new ProviderRaw();
 * decodeBinanceFrame('{"u":7,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}', raw);
 * raw.eventType; // "bookTicker"
 * raw.askPx; // "1.1"
 * ```
 */
export function decodeBinanceFrame(
  text: string,
  out: ProviderRaw,
  opts?: BinanceDecodeOptions,
): void {
  clearDecodedFields(out);
  if (opts?.specialised !== false) {
    const outcome = decodeBinanceSpecialised(text, out);
    if (outcome === SPECIALISED_DONE) {
      binanceDecodeCounters.specialised++;
      return;
    }
    if (outcome === SPECIALISED_ABANDONED) {
      binanceDecodeCounters.fallback++;
      clearDecodedFields(out);
    }
  }
  binanceDecodeCounters.generic++;
  try {
    mapBinanceValue(
      decodeJson(text, { engine: opts?.engine, provider: BINANCE_PROVIDER }),
      out,
      text,
    );
  } catch (e) {
    binanceDecodeCounters.errors++;
    throw e;
  }
}
