/**
 * Shape-specialised Binance decoders for the hot messages: trade, aggTrade, depthUpdate and
 * bookTicker, raw or inside the combined-stream wrapper.
 *
 * Each scanner walks the frame once, expecting Binance's exact key order and no whitespace,
 * parses integers from their digits (no allocation), finds where each string value starts and
 * ends, pushes book levels into the target's existing arrays, and at the end slices the decimal
 * strings exactly as sent into the target. The moment anything differs (another key order, an
 * extra or missing field, whitespace, an escape, a fraction or exponent where an integer
 * belongs, more than 15 digits, a symbol outside `[A-Z0-9]`, a non-ASCII character) it
 * abandons, and the caller runs the generic path, which is the reference: a scanner accepts only
 * a strict subset of what the generic mapper accepts and produces the same result for it.
 *
 * Measured choices (bench/codec_bench.ts):
 * - Bytes, not `charCodeAt`: a frame is copied once into a reused buffer with
 *   `TextEncoder.encodeInto` (pure ASCII then has byte index = character index); typed-array
 *   reads cost a fraction of `charCodeAt` on a string parameter. The byte after the frame is a
 *   0 sentinel that no check accepts, so scan loops need no bounds checks; a few spare bytes
 *   beyond it keep the 4-byte reads in range.
 * - Keys are checked four bytes at a time through a `DataView` (`,"s"` is one 32-bit compare).
 * - Integers accumulate in two int32 parts (9 + up to 6 digits), never as boxed doubles.
 * - One hand-written function per shape: a data-driven interpreter was measured slower.
 *
 * @module
 */

import type { ProviderRaw } from "../schema/provider_raw.ts";
import { DECIMAL_CHARS_MAX } from "./decimal_scan.ts";
import { DEFAULT_ENGINE_BY_SHAPE } from "./engine_selection.ts";

/** The frame is no hot shape (or its shape is not assigned to the scanner); nothing decoded. */
export const SPECIALISED_NOT_HOT = 0;
/** The frame was decoded completely into the target. */
export const SPECIALISED_DONE = 1;
/** A hot shape started but the frame differs from the expected layout; target is partial. */
export const SPECIALISED_ABANDONED = 2;

/** Outcome of {@linkcode decodeBinanceSpecialised}. */
export type SpecialisedOutcome =
  | typeof SPECIALISED_NOT_HOT
  | typeof SPECIALISED_DONE
  | typeof SPECIALISED_ABANDONED;

/** Frames longer than this (in characters) skip the scanner; bounds the buffer's growth. */
export const FRAME_BYTES_MAX = 1024 * 1024;
/** Initial size of the reused byte buffer. */
const FRAME_BYTES_INITIAL = 16 * 1024;
/** Bytes kept free after the sentinel so 4-byte reads near the end stay inside the buffer. */
const FRAME_SLACK_BYTES = 8;
/** Longest symbol the scanner accepts; longer ones go through the generic path. */
const SYMBOL_CHARS_MAX = 32;
/** Slots of the symbol / stream-name intern table (a power of two). */
const INTERN_SLOTS = 256;
/** Longest string the intern table keeps; longer symbols or stream names are sliced anew. */
const INTERN_CHARS_MAX = 48;
/**
 * 10^n for the digit count of an integer's low part: at most 9 + 6 = 15 digits are accepted,
 * so every integer the scanner reads is below 2^53; longer ones go to the generic path.
 */
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const LOW_DIGITS_MAX = POW10.length - 1;

const TRADE_ON = DEFAULT_ENGINE_BY_SHAPE.trade === "specialised";
const AGG_TRADE_ON = DEFAULT_ENGINE_BY_SHAPE.aggTrade === "specialised";
const DEPTH_UPDATE_ON = DEFAULT_ENGINE_BY_SHAPE.depthUpdate === "specialised";
const BOOK_TICKER_ON = DEFAULT_ENGINE_BY_SHAPE.bookTicker === "specialised";

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;

/** Little-endian value of 2 to 4 ASCII characters, as `DataView.getUint{16,32}(i, true)` reads. */
function littleEndian(s: string, length: number): number {
  if (s.length !== length || !/^[\x20-\x7e]+$/.test(s)) {
    throw new Error(`expected ${length} printable ASCII characters, found ${JSON.stringify(s)}`);
  }
  let v = 0;
  for (let k = length - 1; k >= 0; k--) v = v * 256 + s.charCodeAt(k);
  return v;
}

/** A 4-character literal as one 32-bit word. */
function word(s: string): number {
  return littleEndian(s, 4);
}

/** A 2-character literal as one 16-bit word. */
function half(s: string): number {
  return littleEndian(s, 2);
}

// Literal pieces of the layouts, four (or two) bytes at a time.
const W_EVENT = word('{"e"'); // then `:"`
const H_COLON_QUOTE = half(':"');
const H_QUOTE_COLON = half('":');
const W_TRADE = word("trad"); // `trade"`
const W_AGGT = word("aggT"); // `aggTrade"`
const W_RADE = word("rade"); // shared tail of trade / aggTrade
const W_DEPT = word("dept"); // `depthUpdate"`
const W_HUPD = word("hUpd");
const W_ATE_Q = word('ate"');
const W_E_KEY = word(',"E"'); // `,"E":`
const W_Q_E = word('","E'); // `","E":`
const W_S_KEY = word(',"s"'); // `,"s":"`
const W_P_KEY = word(',"p"');
const W_M_KEY = word(',"m"');
const W_UPPER_M_KEY = word(',"M"');
const W_L_KEY = word(',"l"');
const W_T_KEY = word(',"T"');
const W_LOWER_U_KEY = word(',"u"');
const W_B_KEY = word(',"b"');
const W_A_KEY = word(',"a"');
const W_Q_T = word('","t'); // `","t":`
const W_Q_A = word('","a'); // `","a":` or `","a":"`
const W_Q_Q = word('","q'); // `","q":"`
const W_Q_T_UPPER = word('","T');
const W_Q_F = word('","f');
const W_Q_U_UPPER = word('","U');
const W_Q_B = word('","b');
const W_Q_B_UPPER = word('","B');
const W_Q_A_UPPER = word('","A');
const W_BOOK_HEAD = word('{"u"'); // `{"u":`
const W_STREAM_1 = word('{"st'); // `{"stream":"`
const W_STREAM_2 = word("ream");
/** Three characters: compared as `getUint32(8) & 0xffffff`. */
const W_STREAM_3 = littleEndian('":"', 3);
const W_DATA_1 = word('","d'); // `","data":`
const W_DATA_2 = word('ata"');
const W_TRUE = word("true");
const W_ALSE = word("alse");

const encoder = new TextEncoder();
/** The current frame's bytes, a 0 sentinel, then slack; reused across frames. */
let bytes = new Uint8Array(FRAME_BYTES_INITIAL);
let view = new DataView(bytes.buffer);
/** Integer and boolean results by slot (unboxed: ids and ms timestamps exceed small ints). */
const nums = new Float64Array(8);

/** Recently seen symbols and stream names, so a repeated one costs a compare, not a string. */
const internTable: string[] = new Array<string>(INTERN_SLOTS).fill("");
/** Length of each slot's string (0: empty slot). */
const internLengths = new Int32Array(INTERN_SLOTS);
/** Bytes of each slot's string, INTERN_CHARS_MAX per slot. */
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_CHARS_MAX);

/**
 * Copies `text` into `bytes` followed by the sentinel. False when the frame cannot be scanned
 * by byte index: not pure ASCII, or longer than {@linkcode FRAME_BYTES_MAX}.
 */
function loadFrame(text: string): boolean {
  const n = text.length;
  if (n > FRAME_BYTES_MAX) return false;
  if (n + 1 + FRAME_SLACK_BYTES > bytes.length) {
    const needed = n + 1 + FRAME_SLACK_BYTES;
    const capacityMax = FRAME_BYTES_MAX + 1 + FRAME_SLACK_BYTES;
    bytes = new Uint8Array(Math.min(capacityMax, Math.max(needed, bytes.length * 2)));
    view = new DataView(bytes.buffer);
  }
  const r = encoder.encodeInto(text, bytes);
  // Any non-ASCII character encodes to two or more bytes, so `written` then exceeds `n`.
  if (r.read !== n || r.written !== n) return false;
  bytes[n] = 0;
  return true;
}

/**
 * A JSON non-negative integer at `i` (at most 15 digits, no leading zero): its value goes to
 * `nums[slot]`; returns the index after it, or -1.
 */
function readInt(b: Uint8Array, i: number, slot: number): number {
  const start = i;
  let hi = 0;
  let c = b[i];
  while (c >= 48 && c <= 57 && i - start < 9) {
    hi = hi * 10 + (c - 48);
    c = b[++i];
  }
  if (i === start) return -1;
  if (b[start] === 48 && i - start > 1) return -1;
  if (c >= 48 && c <= 57) {
    const loStart = i;
    let lo = 0;
    while (c >= 48 && c <= 57) {
      if (i - loStart === LOW_DIGITS_MAX) return -1;
      lo = lo * 10 + (c - 48);
      c = b[++i];
    }
    nums[slot] = hi * POW10[i - loStart] + lo;
    return i;
  }
  nums[slot] = hi;
  return i;
}

/**
 * A decimal string body `-?[0-9]+(\.[0-9]+)?` at `i`, at most 64 characters (the grammar of
 * `decimal_scan.ts`, which the generic path applies): the index of its closing quote, or -1.
 */
function readDecimal(b: Uint8Array, i: number): number {
  const start = i;
  let c = b[i];
  if (c === 45 /* - */) c = b[++i];
  const intStart = i;
  while (c >= 48 && c <= 57) c = b[++i];
  if (i === intStart) return -1;
  if (c === 46 /* . */) {
    const fracStart = ++i;
    c = b[i];
    while (c >= 48 && c <= 57) c = b[++i];
    if (i === fracStart) return -1;
  }
  return c === QUOTE && i - start <= DECIMAL_CHARS_MAX ? i : -1;
}

/** A symbol body `[A-Z0-9]{1,32}` at `i`: the index of its closing quote, or -1. */
function readSymbol(b: Uint8Array, i: number): number {
  const start = i;
  let c = b[i];
  while ((c >= 65 && c <= 90) || (c >= 48 && c <= 57)) c = b[++i];
  return c === QUOTE && i > start && i - start <= SYMBOL_CHARS_MAX ? i : -1;
}

/** `true` / `false` at `i`: 1 / 0 into `nums[slot]`; the index after it, or -1. */
function readBool(v: DataView, i: number, slot: number): number {
  if (v.getUint32(i, true) === W_TRUE) {
    nums[slot] = 1;
    return i + 4;
  }
  if (v.getUint8(i) === 102 /* f */ && v.getUint32(i + 1, true) === W_ALSE) {
    nums[slot] = 0;
    return i + 5;
  }
  return -1;
}

/**
 * `[]` or `[["p","q"],...]` at `i`, appending the levels to `out`'s asks (`asks` true) or bids:
 * the index after the closing bracket, or -1. Each level is counted as it is appended, so after
 * an abandon the caller's clear reaches every slot written.
 */
function readLevels(
  b: Uint8Array,
  text: string,
  i: number,
  out: ProviderRaw,
  asks: boolean,
): number {
  if (b[i] !== LBRACKET) return -1;
  i++;
  if (b[i] === RBRACKET) return i + 1;
  for (;;) {
    if (b[i] !== LBRACKET || b[i + 1] !== QUOTE) return -1;
    const pxStart = i + 2;
    const pxEnd = readDecimal(b, pxStart);
    if (pxEnd < 0 || b[pxEnd + 1] !== COMMA || b[pxEnd + 2] !== QUOTE) return -1;
    const qtyStart = pxEnd + 3;
    const qtyEnd = readDecimal(b, qtyStart);
    if (qtyEnd < 0 || b[qtyEnd + 1] !== RBRACKET) return -1;
    const price = text.slice(pxStart, pxEnd);
    const qty = text.slice(qtyStart, qtyEnd);
    if (asks) out.pushAsk(price, qty);
    else out.pushBid(price, qty);
    i = qtyEnd + 2;
    const c = b[i];
    if (c === RBRACKET) return i + 1;
    if (c !== COMMA) return -1;
    i++;
  }
}

/** After `"m":<bool>` ending at `i`: optional `,"M":<bool>`, then `}`; index after it or -1. */
function readTradeTail(b: Uint8Array, v: DataView, i: number): number {
  if (v.getUint32(i, true) === W_UPPER_M_KEY) {
    if (b[i + 4] !== COLON) return -1;
    i = readBool(v, i + 5, 7);
    if (i < 0) return -1;
  }
  return b[i] === RBRACE ? i + 1 : -1;
}

/**
 * `text.slice(start, end)`, reusing an equal string seen before. Symbols and stream names repeat
 * on nearly every frame; the table is direct-mapped and bounded, a miss just replaces the slot.
 * Each slot keeps its string's bytes too, so a hit is confirmed with typed-array reads only.
 */
function internSlice(b: Uint8Array, text: string, start: number, end: number): string {
  const len = end - start;
  if (len > INTERN_CHARS_MAX) return text.slice(start, end);
  const slot = (len * 31 + b[start] * 7 + b[end - 1] * 3 + b[start + (len >> 1)]) &
    (INTERN_SLOTS - 1);
  const base = slot * INTERN_CHARS_MAX;
  if (internLengths[slot] === len) {
    let k = 0;
    while (k < len && internBytes[base + k] === b[start + k]) k++;
    if (k === len) return internTable[slot];
  }
  // A long slice would point into (and keep alive) the whole frame; store a flat copy instead.
  const fresh = (" " + text.slice(start, end)).slice(1);
  internTable[slot] = fresh;
  internLengths[slot] = len;
  internBytes.set(b.subarray(start, end), base);
  return fresh;
}

/** Span offsets a trade head scan leaves in {@linkcode spans}. */
const SYM_START = 0;
const SYM_END = 1;
const ID_START = 2;
const ID_END = 3;
const PX_START = 4;
const PX_END = 5;
const QTY_START = 6;
const QTY_END = 7;
/** Where {@linkcode scanTradeHead} leaves the spans of its strings (read only on success). */
const spans = new Int32Array(8);

/**
 * The head trade and aggTrade share: `<E>,"s":"..","<id>":<n>,"p":"..","q":"..","<next>":`, with
 * `i` at the `E` value, `idKey` the 4 bytes `","x` before the id (`t` or `a`) and `nextKey` those
 * after `q` (`T` or `f`). Leaves E in `nums[0]`, the id in `nums[1]` and the string spans in
 * {@linkcode spans}; returns the index of the value after `nextKey`, or -1.
 */
function scanTradeHead(
  b: Uint8Array,
  v: DataView,
  i: number,
  idKey: number,
  nextKey: number,
): number {
  i = readInt(b, i, 0);
  if (i < 0 || v.getUint32(i, true) !== W_S_KEY || v.getUint16(i + 4, true) !== H_COLON_QUOTE) {
    return -1;
  }
  const symStart = i + 6;
  const symEnd = readSymbol(b, symStart);
  if (symEnd < 0 || v.getUint32(symEnd, true) !== idKey) return -1;
  if (v.getUint16(symEnd + 4, true) !== H_QUOTE_COLON) return -1;
  const idStart = symEnd + 6;
  const idEnd = readInt(b, idStart, 1);
  if (idEnd < 0 || v.getUint32(idEnd, true) !== W_P_KEY) return -1;
  if (v.getUint16(idEnd + 4, true) !== H_COLON_QUOTE) return -1;
  const pxStart = idEnd + 6;
  const pxEnd = readDecimal(b, pxStart);
  if (pxEnd < 0 || v.getUint32(pxEnd, true) !== W_Q_Q) return -1;
  if (v.getUint16(pxEnd + 4, true) !== H_QUOTE_COLON || b[pxEnd + 6] !== QUOTE) return -1;
  const qtyStart = pxEnd + 7;
  const qtyEnd = readDecimal(b, qtyStart);
  if (qtyEnd < 0 || v.getUint32(qtyEnd, true) !== nextKey) return -1;
  if (v.getUint16(qtyEnd + 4, true) !== H_QUOTE_COLON) return -1;
  spans[SYM_START] = symStart;
  spans[SYM_END] = symEnd;
  spans[ID_START] = idStart;
  spans[ID_END] = idEnd;
  spans[PX_START] = pxStart;
  spans[PX_END] = pxEnd;
  spans[QTY_START] = qtyStart;
  spans[QTY_END] = qtyEnd;
  return qtyEnd + 6;
}

/** `"m":<bool>` at `i` and the trade tail after it; index after the frame or -1. */
function readMakerAndTail(b: Uint8Array, v: DataView, i: number): number {
  if (i < 0 || v.getUint32(i, true) !== W_M_KEY || b[i + 4] !== COLON) return -1;
  i = readBool(v, i + 5, 3);
  if (i < 0) return -1;
  return readTradeTail(b, v, i);
}

/** Writes what trade and aggTrade share, after a successful scan (spans and `nums`). */
function writeTradeFields(b: Uint8Array, text: string, out: ProviderRaw): void {
  out.eventTimeMs = nums[0];
  out.symbol = internSlice(b, text, spans[SYM_START], spans[SYM_END]);
  out.tradeId = text.slice(spans[ID_START], spans[ID_END]);
  out.lastId = nums[1];
  out.price = text.slice(spans[PX_START], spans[PX_END]);
  out.qty = text.slice(spans[QTY_START], spans[QTY_END]);
  out.tradeTimeMs = nums[2];
  out.buyerMaker = nums[3] === 1;
}

/** `trade","E":..,"s":..,"t":..,"p":..,"q":..,"T":..,"m":..[,"M":..]}`, `i` after `{"e":"`. */
function scanTrade(b: Uint8Array, v: DataView, text: string, i: number, out: ProviderRaw): number {
  if (v.getUint32(i + 1, true) !== W_RADE || v.getUint32(i + 5, true) !== W_Q_E) return -1;
  if (v.getUint16(i + 9, true) !== H_QUOTE_COLON) return -1;
  i = scanTradeHead(b, v, i + 11, W_Q_T, W_Q_T_UPPER);
  if (i < 0) return -1;
  i = readMakerAndTail(b, v, readInt(b, i, 2));
  if (i < 0) return -1;
  out.eventType = "trade";
  writeTradeFields(b, text, out);
  return i;
}

/**
 * `aggTrade","E":..,"s":..,"a":..,"p":..,"q":..,"f":..,"l":..,"T":..,"m":..[,"M":..]}`, `i`
 * after `{"e":"`.
 */
function scanAggTrade(
  b: Uint8Array,
  v: DataView,
  text: string,
  i: number,
  out: ProviderRaw,
): number {
  if (v.getUint32(i + 4, true) !== W_RADE || b[i + 8] !== QUOTE) return -1;
  if (v.getUint32(i + 9, true) !== W_E_KEY || b[i + 13] !== COLON) return -1;
  i = scanTradeHead(b, v, i + 14, W_Q_A, W_Q_F);
  if (i < 0) return -1;
  i = readInt(b, i, 4);
  if (i < 0 || v.getUint32(i, true) !== W_L_KEY || b[i + 4] !== COLON) return -1;
  i = readInt(b, i + 5, 5);
  if (i < 0 || v.getUint32(i, true) !== W_T_KEY || b[i + 4] !== COLON) return -1;
  i = readMakerAndTail(b, v, readInt(b, i + 5, 2));
  if (i < 0) return -1;
  out.eventType = "aggTrade";
  writeTradeFields(b, text, out);
  out.firstId = nums[4];
  return i;
}

/** `depthUpdate","E":..,"s":..,"U":..,"u":..,"b":[..],"a":[..]}`, `i` after `{"e":"`. */
function scanDepthUpdate(
  b: Uint8Array,
  v: DataView,
  text: string,
  i: number,
  out: ProviderRaw,
): number {
  if (v.getUint32(i + 4, true) !== W_HUPD || v.getUint32(i + 8, true) !== W_ATE_Q) return -1;
  if (v.getUint32(i + 12, true) !== W_E_KEY || b[i + 16] !== COLON) return -1;
  i = readInt(b, i + 17, 0);
  if (i < 0 || v.getUint32(i, true) !== W_S_KEY || v.getUint16(i + 4, true) !== H_COLON_QUOTE) {
    return -1;
  }
  const symStart = i + 6;
  const symEnd = readSymbol(b, symStart);
  if (symEnd < 0 || v.getUint32(symEnd, true) !== W_Q_U_UPPER) return -1;
  if (v.getUint16(symEnd + 4, true) !== H_QUOTE_COLON) return -1;
  i = readInt(b, symEnd + 6, 4);
  if (i < 0 || v.getUint32(i, true) !== W_LOWER_U_KEY || b[i + 4] !== COLON) return -1;
  i = readInt(b, i + 5, 1);
  if (i < 0 || v.getUint32(i, true) !== W_B_KEY || b[i + 4] !== COLON) return -1;
  i = readLevels(b, text, i + 5, out, false);
  if (i < 0 || v.getUint32(i, true) !== W_A_KEY || b[i + 4] !== COLON) return -1;
  i = readLevels(b, text, i + 5, out, true);
  if (i < 0 || b[i] !== RBRACE) return -1;
  out.eventType = "depthUpdate";
  out.eventTimeMs = nums[0];
  out.symbol = internSlice(b, text, symStart, symEnd);
  out.firstId = nums[4];
  out.lastId = nums[1];
  return i + 1;
}

/** `{"u":..,"s":..,"b":..,"B":..,"a":..,"A":..}` at `i`. */
function scanBookTicker(
  b: Uint8Array,
  v: DataView,
  text: string,
  i: number,
  out: ProviderRaw,
): number {
  if (b[i + 4] !== COLON) return -1;
  i = readInt(b, i + 5, 1);
  if (i < 0 || v.getUint32(i, true) !== W_S_KEY || v.getUint16(i + 4, true) !== H_COLON_QUOTE) {
    return -1;
  }
  const symStart = i + 6;
  const symEnd = readSymbol(b, symStart);
  if (symEnd < 0 || v.getUint32(symEnd, true) !== W_Q_B) return -1;
  if (v.getUint16(symEnd + 4, true) !== H_QUOTE_COLON || b[symEnd + 6] !== QUOTE) return -1;
  const bpStart = symEnd + 7;
  const bpEnd = readDecimal(b, bpStart);
  if (bpEnd < 0 || v.getUint32(bpEnd, true) !== W_Q_B_UPPER) return -1;
  if (v.getUint16(bpEnd + 4, true) !== H_QUOTE_COLON || b[bpEnd + 6] !== QUOTE) return -1;
  const bqStart = bpEnd + 7;
  const bqEnd = readDecimal(b, bqStart);
  if (bqEnd < 0 || v.getUint32(bqEnd, true) !== W_Q_A) return -1;
  if (v.getUint16(bqEnd + 4, true) !== H_QUOTE_COLON || b[bqEnd + 6] !== QUOTE) return -1;
  const apStart = bqEnd + 7;
  const apEnd = readDecimal(b, apStart);
  if (apEnd < 0 || v.getUint32(apEnd, true) !== W_Q_A_UPPER) return -1;
  if (v.getUint16(apEnd + 4, true) !== H_QUOTE_COLON || b[apEnd + 6] !== QUOTE) return -1;
  const aqStart = apEnd + 7;
  const aqEnd = readDecimal(b, aqStart);
  if (aqEnd < 0 || b[aqEnd + 1] !== RBRACE) return -1;
  out.eventType = "bookTicker";
  out.lastId = nums[1];
  out.symbol = internSlice(b, text, symStart, symEnd);
  out.bidPx = text.slice(bpStart, bpEnd);
  out.bidQty = text.slice(bqStart, bqEnd);
  out.askPx = text.slice(apStart, apEnd);
  out.askQty = text.slice(aqStart, aqEnd);
  return aqEnd + 2;
}

/**
 * Scans the payload object at `i`: the index after it; -1 to abandon; -2 when the payload is no
 * hot shape (or its shape is not assigned to the scanner).
 */
function scanPayload(text: string, i: number, out: ProviderRaw): number {
  const b = bytes;
  const v = view;
  const head = v.getUint32(i, true);
  if (head === W_BOOK_HEAD) return BOOK_TICKER_ON ? scanBookTicker(b, v, text, i, out) : -2;
  if (head !== W_EVENT || v.getUint16(i + 4, true) !== H_COLON_QUOTE) return -2;
  const e = v.getUint32(i + 6, true);
  if (e === W_TRADE) return TRADE_ON ? scanTrade(b, v, text, i + 6, out) : -2;
  if (e === W_DEPT) return DEPTH_UPDATE_ON ? scanDepthUpdate(b, v, text, i + 6, out) : -2;
  if (e === W_AGGT) return AGG_TRADE_ON ? scanAggTrade(b, v, text, i + 6, out) : -2;
  return -2;
}

/** Plain string body (no escapes, no control characters) at `i`: closing quote index or -1. */
function plainStringQuoteAt(b: Uint8Array, i: number): number {
  // The 0 sentinel after the frame is a control character: the loop ends there at the latest.
  for (let j = i;; j++) {
    const c = b[j];
    if (c === QUOTE) return j;
    if (c === 92 /* \ */ || c < 32) return -1;
  }
}

/**
 * Tries the specialised decoders on `text`, writing into `out` (whose decoded fields the caller
 * has cleared and whose `bids`/`asks` are empty). Returns {@linkcode SPECIALISED_DONE} when the
 * frame was decoded completely (with `out.stream` set for wrapped frames), else NOT_HOT (nothing
 * written) or ABANDONED (`out` partially written: clear it before the generic path).
 */
export function decodeBinanceSpecialised(text: string, out: ProviderRaw): SpecialisedOutcome {
  // Cheap checks on the string itself before paying for the byte copy.
  if (text.charCodeAt(0) !== LBRACE || text.charCodeAt(1) !== QUOTE) return SPECIALISED_NOT_HOT;
  if (!loadFrame(text)) return SPECIALISED_NOT_HOT;
  const b = bytes;
  const v = view;
  if (v.getUint32(0, true) !== W_STREAM_1) {
    const end = scanPayload(text, 0, out);
    if (end === -2) return SPECIALISED_NOT_HOT;
    return end === text.length ? SPECIALISED_DONE : SPECIALISED_ABANDONED;
  }
  if (v.getUint32(4, true) !== W_STREAM_2 || (v.getUint32(8, true) & 0xffffff) !== W_STREAM_3) {
    return SPECIALISED_NOT_HOT;
  }
  const nameStart = 11;
  const nameEnd = plainStringQuoteAt(b, nameStart);
  // An empty name is invalid for the generic path too; let it say so.
  if (nameEnd <= nameStart) return SPECIALISED_ABANDONED;
  if (v.getUint32(nameEnd, true) !== W_DATA_1 || v.getUint32(nameEnd + 4, true) !== W_DATA_2) {
    return SPECIALISED_ABANDONED;
  }
  if (b[nameEnd + 8] !== COLON) return SPECIALISED_ABANDONED;
  const end = scanPayload(text, nameEnd + 9, out);
  if (end === -2) return SPECIALISED_NOT_HOT;
  if (end < 0 || end !== text.length - 1 || b[end] !== RBRACE) return SPECIALISED_ABANDONED;
  out.stream = internSlice(b, text, nameStart, nameEnd);
  return SPECIALISED_DONE;
}
