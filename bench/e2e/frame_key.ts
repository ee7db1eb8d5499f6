/**
 * Keys that identify one market event on both sides of the WebSocket without touching the
 * protocol: `stream id × 1e11 + provider id`, where the stream id is
 * `(provider index × symbols + symbol index) × 4 + kind` (provider index 0 is the first provider
 * given, so a Binance-only run keeps the keys it always had). The simulator side reads the key
 * from the frame text it sends; the consumer side from the canonical event it receives
 * (`provider`, `symbol`, `kind`, `seq`). The provider id per venue:
 *
 * - Binance: trade id `t`, bookTicker update id `u`, diff-depth last update id `u`.
 * - OKX: `tradeId`, the `books` update's `seqId`, the `tickers` row's `ts` (the adapter's ticker
 *   `seq`; one push per instrument per 100 ms, so unique), taken modulo 1e11.
 * - Kraken: `trade_id` (one key per item of a trade message); a book update's position in that
 *   symbol's book messages on the connection (v2 books carry no sequence; the adapter numbers
 *   its book events 1, 2, ... from the first snapshot on, never resetting, and so does this
 *   class: it must see every book frame of the connection, recorded or not). Kraken tickers have
 *   no id (the adapter's ticker `seq` is 0).
 *
 * Klines, snapshots and id-less tickers get no key: they count towards in-process latency only.
 *
 * @module
 */

/** Multiplier separating the stream id from the provider id (ids stay below it). */
const ID_SPAN = 1e11;
/** Kind slot of trades. */
const KIND_TRADE = 0;
/** Kind slot of tickers (Binance bookTicker, OKX tickers; canonical kind `ticker`). */
const KIND_TICKER = 1;
/** Kind slot of book updates (canonical kind `book_update`). */
const KIND_BOOK = 2;
/** Kinds per symbol in the stream id. */
const KINDS_PER_SYMBOL = 4;

/** The key of events that cannot be matched (klines, snapshots, control frames). */
export const NO_KEY = -1;

/** Venues the benchmark can drive. */
export const BENCH_PROVIDERS = ["binance", "okx", "kraken"] as const;

/** One of {@linkcode BENCH_PROVIDERS}. */
export type BenchProvider = typeof BENCH_PROVIDERS[number];

const BINANCE_PREFIX = '{"stream":"';
const OKX_PREFIX = '{"arg":{"channel":"';
const KRAKEN_PREFIX = '{"channel":"';

/** Maps frames and canonical events of a fixed symbol list onto event keys. */
export class FrameKeys {
  /** Provider -> provider index, in the order given. */
  readonly #providers = new Map<string, number>();
  readonly #symbolCount: number;
  /** Binance combined-stream name (`btcusdt@trade`) -> symbol index × 4 + kind. */
  readonly #byStream = new Map<string, number>();
  /** Canonical symbol (`BTC-USDT`, also the OKX instId) -> symbol index. */
  readonly #bySymbol = new Map<string, number>();
  /** Kraken v2 pair (`BTC/USDT`) -> symbol index. */
  readonly #byKrakenPair = new Map<string, number>();
  /** Kraken book messages seen per symbol (the adapter's book `seq` of the latest one). */
  readonly #krakenBookSeq: Float64Array;

  /**
   * Keys for `symbols`, given as `[base, quote]` pairs in simulator order, on `providers`
   * (default Binance only).
   */
  constructor(
    symbols: readonly (readonly [string, string])[],
    providers: readonly BenchProvider[] = ["binance"],
  ) {
    providers.forEach((p, i) => this.#providers.set(p, i));
    this.#symbolCount = symbols.length;
    this.#krakenBookSeq = new Float64Array(symbols.length);
    symbols.forEach(([base, quote], index) => {
      const lower = `${base}${quote}`.toLowerCase();
      const sid = index * KINDS_PER_SYMBOL;
      this.#byStream.set(`${lower}@trade`, sid + KIND_TRADE);
      this.#byStream.set(`${lower}@bookTicker`, sid + KIND_TICKER);
      this.#byStream.set(`${lower}@depth@100ms`, sid + KIND_BOOK);
      this.#bySymbol.set(`${base}-${quote}`, index);
      this.#byKrakenPair.set(`${base}/${quote}`, index);
    });
  }

  /** Index of the provider a key belongs to (its position in the constructor's list). */
  providerIndexOf(key: number): number {
    const sid = Math.floor(key / ID_SPAN);
    return Math.floor(sid / (this.#symbolCount * KINDS_PER_SYMBOL));
  }

  /** The first key of a frame, or {@linkcode NO_KEY} (Binance frames carry one at most). */
  ofFrame(text: string): number {
    let first = NO_KEY;
    this.eachKey(text, (key) => {
      if (first === NO_KEY) first = key;
    });
    return first;
  }

  /**
   * Calls `onKey` with the key of every keyed event in a frame of any configured provider;
   * returns how many canonical events the frame yields (0 for control frames).
   */
  eachKey(text: string, onKey: (key: number) => void): number {
    if (text.startsWith(BINANCE_PREFIX)) return this.#binance(text, onKey);
    if (text.startsWith(OKX_PREFIX)) return this.#okx(text, onKey);
    if (text.startsWith(KRAKEN_PREFIX)) return this.#kraken(text, onKey);
    return 0;
  }

  /** Key of a delivered canonical event, or {@linkcode NO_KEY}. */
  ofEvent(provider: string, symbol: string, kind: string, seq: number): number {
    const p = this.#providers.get(provider);
    const index = this.#bySymbol.get(symbol);
    if (p === undefined || index === undefined) return NO_KEY;
    let slot: number;
    let id = seq;
    if (kind === "trade") slot = KIND_TRADE;
    else if (kind === "book_update") slot = KIND_BOOK;
    else if (kind === "ticker") {
      if (provider === "kraken") return NO_KEY;
      slot = KIND_TICKER;
      if (provider === "okx") id = seq % ID_SPAN;
    } else return NO_KEY;
    return this.#key(p, index, slot, id);
  }

  #key(provider: number, index: number, slot: number, id: number): number {
    const sid = (provider * this.#symbolCount + index) * KINDS_PER_SYMBOL + slot;
    return sid * ID_SPAN + id;
  }

  /** `{"stream":"...","data":{...}}`: one event per data frame. */
  #binance(text: string, onKey: (key: number) => void): number {
    const p = this.#providers.get("binance");
    if (p === undefined) return 0;
    const end = text.indexOf('"', BINANCE_PREFIX.length);
    if (end === -1) return 1;
    const local = this.#byStream.get(text.slice(BINANCE_PREFIX.length, end));
    if (local === undefined) return 1; // klines
    const kind = local % KINDS_PER_SYMBOL;
    const marker = kind === KIND_TRADE ? ',"t":' : kind === KIND_TICKER ? '{"u":' : ',"u":';
    const at = text.indexOf(marker, end);
    if (at === -1) return 1;
    const id = readInteger(text, at + marker.length);
    if (id >= 0 && id < ID_SPAN) {
      onKey(this.#key(p, Math.floor(local / KINDS_PER_SYMBOL), kind, id));
    }
    return 1;
  }

  /** `{"arg":{"channel":"trades","instId":"BTC-USDT"},...}`: one row, one event per push. */
  #okx(text: string, onKey: (key: number) => void): number {
    const p = this.#providers.get("okx");
    if (p === undefined) return 0;
    const channelEnd = text.indexOf('"', OKX_PREFIX.length);
    const instMarker = '"instId":"';
    const instAt = text.indexOf(instMarker, channelEnd);
    if (channelEnd === -1 || instAt === -1) return 1;
    const instEnd = text.indexOf('"', instAt + instMarker.length);
    const index = this.#bySymbol.get(text.slice(instAt + instMarker.length, instEnd));
    if (index === undefined) return 1;
    const channel = text.slice(OKX_PREFIX.length, channelEnd);
    let slot: number;
    let at: number;
    let skip: number;
    if (channel === "trades") {
      slot = KIND_TRADE;
      at = text.indexOf('"tradeId":"', instEnd);
      skip = 11;
    } else if (channel === "books") {
      if (!text.startsWith(',"action":"update"', text.indexOf("}", instEnd) + 1)) return 1;
      slot = KIND_BOOK;
      at = text.lastIndexOf(',"seqId":');
      skip = 9;
    } else if (channel === "tickers") {
      slot = KIND_TICKER;
      at = text.lastIndexOf(',"ts":"');
      skip = 7;
    } else return 1; // candles
    if (at === -1) return 1;
    const id = readInteger(text, at + skip);
    if (id >= 0) onKey(this.#key(p, index, slot, id % ID_SPAN));
    return 1;
  }

  /** `{"channel":"trade","type":"update","data":[{...},...]}`: one event per data item. */
  #kraken(text: string, onKey: (key: number) => void): number {
    const p = this.#providers.get("kraken");
    if (p === undefined) return 0;
    const channelEnd = text.indexOf('"', KRAKEN_PREFIX.length);
    if (channelEnd === -1) return 0;
    const channel = text.slice(KRAKEN_PREFIX.length, channelEnd);
    if (channel !== "trade" && channel !== "book" && channel !== "ticker") return 0;
    const symbolMarker = '"symbol":"';
    const symbolAt = text.indexOf(symbolMarker, channelEnd);
    if (symbolAt === -1) return 0; // an empty trade snapshot
    const symbolEnd = text.indexOf('"', symbolAt + symbolMarker.length);
    const index = this.#byKrakenPair.get(text.slice(symbolAt + symbolMarker.length, symbolEnd));
    if (channel === "ticker") return 1;
    if (channel === "book") {
      if (index === undefined) return 1;
      const seq = ++this.#krakenBookSeq[index];
      if (text.startsWith('","type":"update"', channelEnd)) {
        onKey(this.#key(p, index, KIND_BOOK, seq));
      }
      return 1;
    }
    const idMarker = '"trade_id":';
    let items = 0;
    for (let at = text.indexOf(idMarker); at !== -1; at = text.indexOf(idMarker, at + 1)) {
      items++;
      const id = readInteger(text, at + idMarker.length);
      if (index !== undefined && id >= 0 && id < ID_SPAN) {
        onKey(this.#key(p, index, KIND_TRADE, id));
      }
    }
    return items;
  }
}

/** The non-negative integer written at `text[from..]`, or -1 when there is none. */
function readInteger(text: string, from: number): number {
  let value = 0;
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  return i === from || !Number.isSafeInteger(value) ? -1 : value;
}
