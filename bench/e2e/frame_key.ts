/**
 * Keys that identify one market event on both sides of the WebSocket without touching the
 * protocol: `stream id × 1e11 + provider id`, where the stream id is `symbol index × 4 + kind`
 * and the provider id is the trade id (`t`), the bookTicker update id (`u`) or the diff-depth
 * last update id (`u`). The simulator side reads it from the frame text it sends; the consumer
 * side from the canonical event it receives (`symbol`, `kind`, `seq`). Klines and snapshots get
 * no key (they carry no unique id): they count towards in-process latency only.
 *
 * @module
 */

/** Multiplier separating the stream id from the provider id (ids stay below it). */
const ID_SPAN = 1e11;
/** Kind slot of trades. */
const KIND_TRADE = 0;
/** Kind slot of bookTicker frames (canonical kind `ticker`). */
const KIND_BOOK_TICKER = 1;
/** Kind slot of diff-depth frames (canonical kind `book_update`). */
const KIND_DEPTH = 2;
/** Kinds per symbol in the stream id. */
const KINDS_PER_SYMBOL = 4;

/** The key of events that cannot be matched (klines, snapshots, control frames). */
export const NO_KEY = -1;

/** Maps frames and canonical events of a fixed symbol list onto event keys. */
export class FrameKeys {
  /** Combined-stream name (`btcusdt@trade`) -> stream id. */
  readonly #byStream = new Map<string, number>();
  /** Canonical symbol (`BTC-USDT`) -> symbol index. */
  readonly #bySymbol = new Map<string, number>();

  /** Keys for `symbols`, given as `[base, quote]` pairs in simulator order. */
  constructor(symbols: readonly (readonly [string, string])[]) {
    symbols.forEach(([base, quote], index) => {
      const lower = `${base}${quote}`.toLowerCase();
      const sid = index * KINDS_PER_SYMBOL;
      this.#byStream.set(`${lower}@trade`, sid + KIND_TRADE);
      this.#byStream.set(`${lower}@bookTicker`, sid + KIND_BOOK_TICKER);
      this.#byStream.set(`${lower}@depth@100ms`, sid + KIND_DEPTH);
      this.#bySymbol.set(`${base}-${quote}`, index);
    });
  }

  /** Key of a combined-stream frame `{"stream":"...","data":{...}}`, or {@linkcode NO_KEY}. */
  ofFrame(text: string): number {
    const prefix = '{"stream":"';
    if (!text.startsWith(prefix)) return NO_KEY;
    const end = text.indexOf('"', prefix.length);
    if (end === -1) return NO_KEY;
    const sid = this.#byStream.get(text.slice(prefix.length, end));
    if (sid === undefined) return NO_KEY;
    const kind = sid % KINDS_PER_SYMBOL;
    const marker = kind === KIND_TRADE ? ',"t":' : kind === KIND_BOOK_TICKER ? '{"u":' : ',"u":';
    const at = text.indexOf(marker, end);
    if (at === -1) return NO_KEY;
    const id = readInteger(text, at + marker.length);
    return id < 0 ? NO_KEY : sid * ID_SPAN + id;
  }

  /** Key of a delivered canonical event, or {@linkcode NO_KEY}. */
  ofEvent(symbol: string, kind: string, seq: number): number {
    const index = this.#bySymbol.get(symbol);
    if (index === undefined) return NO_KEY;
    let slot: number;
    if (kind === "trade") slot = KIND_TRADE;
    else if (kind === "ticker") slot = KIND_BOOK_TICKER;
    else if (kind === "book_update") slot = KIND_DEPTH;
    else return NO_KEY;
    return (index * KINDS_PER_SYMBOL + slot) * ID_SPAN + seq;
  }
}

/** The non-negative integer written at `text[from..]`, or -1 when there is none or it is huge. */
function readInteger(text: string, from: number): number {
  let value = 0;
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  return i === from || value >= ID_SPAN ? -1 : value;
}
