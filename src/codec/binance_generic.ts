/**
 * Generic Binance mapper: takes any JSON engine's parse of a frame and writes the message into a
 * {@linkcode ProviderRaw}, validating the type of every field it maps.
 *
 * This is the reference behaviour: the shape-specialised scanner must produce exactly what this
 * mapper produces whenever it accepts a frame. Unknown extra fields are ignored (Binance adds
 * and removes fields over the years); mapped fields of the wrong type are a {@linkcode DecodeError}.
 *
 * @module
 */

import type { ProviderRaw } from "../schema/provider_raw.ts";
import { isPlainDecimal } from "./decimal_scan.ts";
import { DecodeError } from "./decode_error.ts";
import type { BinanceShape } from "./engine_selection.ts";

/** Provider name written into every decoded Binance message. */
export const BINANCE_PROVIDER = "binance";

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") {
    return `string ${JSON.stringify(v.length > 24 ? v.slice(0, 24) + "…" : v)}`;
  }
  if (typeof v === "number") return `number ${v}`;
  return typeof v;
}

function fail(text: string, key: string, expected: string, found: unknown): never {
  throw new DecodeError(`expected "${key}" to be ${expected}, found ${describe(found)}`, text, {
    provider: BINANCE_PROVIDER,
  });
}

/** Ids, timestamps and counts: JSON integers that survive the trip through a double exactly. */
function int(v: unknown, key: string, text: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(text, key, "a safe integer", v);
  return v as number;
}

function decimal(v: unknown, key: string, text: string): string {
  if (typeof v !== "string" || !isPlainDecimal(v)) fail(text, key, "a decimal string", v);
  return v as string;
}

function name(v: unknown, key: string, text: string): string {
  if (typeof v !== "string" || v.length === 0) fail(text, key, "a non-empty string", v);
  return v as string;
}

function bool(v: unknown, key: string, text: string): boolean {
  if (typeof v !== "boolean") fail(text, key, "a boolean", v);
  return v as boolean;
}

/** Flattens `[[price, qty], ...]` into `dst` (already emptied by the caller). */
/** Appends the levels of `v` to `out`'s asks (`asks` true) or bids. */
function levels(v: unknown, key: string, out: ProviderRaw, asks: boolean, text: string): void {
  if (!Array.isArray(v)) fail(text, key, "an array of [price, qty] levels", v);
  const list = v as unknown[];
  for (let i = 0; i < list.length; i++) {
    const level = list[i];
    if (!Array.isArray(level) || level.length !== 2) {
      fail(text, `${key}[${i}]`, "a [price, qty] pair", level);
    }
    const price = decimal(level[0], `${key}[${i}][0]`, text);
    const qty = decimal(level[1], `${key}[${i}][1]`, text);
    if (asks) out.pushAsk(price, qty);
    else out.pushBid(price, qty);
  }
}

function mapTrade(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventTimeMs = int(p.E, "E", text);
  out.symbol = name(p.s, "s", text);
  const t = int(p.t, "t", text);
  out.tradeId = String(t);
  out.lastId = t;
  out.price = decimal(p.p, "p", text);
  out.qty = decimal(p.q, "q", text);
  out.tradeTimeMs = int(p.T, "T", text);
  out.buyerMaker = bool(p.m, "m", text);
}

function mapAggTrade(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventTimeMs = int(p.E, "E", text);
  out.symbol = name(p.s, "s", text);
  const a = int(p.a, "a", text);
  out.tradeId = String(a);
  out.lastId = a;
  out.price = decimal(p.p, "p", text);
  out.qty = decimal(p.q, "q", text);
  out.firstId = int(p.f, "f", text);
  // `l` (last trade id covered) has no field of its own in ProviderRaw; it is checked only.
  int(p.l, "l", text);
  out.tradeTimeMs = int(p.T, "T", text);
  out.buyerMaker = bool(p.m, "m", text);
}

function mapDepthUpdate(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventTimeMs = int(p.E, "E", text);
  out.symbol = name(p.s, "s", text);
  out.firstId = int(p.U, "U", text);
  out.lastId = int(p.u, "u", text);
  levels(p.b, "b", out, false, text);
  levels(p.a, "a", out, true, text);
}

function mapDepthPartial(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventType = "depthPartial";
  out.lastId = int(p.lastUpdateId, "lastUpdateId", text);
  levels(p.bids, "bids", out, false, text);
  levels(p.asks, "asks", out, true, text);
  // The payload names no symbol; a combined stream's name does (`btcusdt@depth5@100ms`).
  if (out.stream !== "") {
    const at = out.stream.indexOf("@");
    out.symbol = (at < 0 ? out.stream : out.stream.slice(0, at)).toUpperCase();
  }
}

function mapBookTicker(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventType = "bookTicker";
  out.lastId = int(p.u, "u", text);
  out.symbol = name(p.s, "s", text);
  out.bidPx = decimal(p.b, "b", text);
  out.bidQty = decimal(p.B, "B", text);
  out.askPx = decimal(p.a, "a", text);
  out.askQty = decimal(p.A, "A", text);
  // Spot sends no `E`; the futures-style variant does.
  if (p.E !== undefined) out.eventTimeMs = int(p.E, "E", text);
}

function mapMiniTickerFields(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventTimeMs = int(p.E, "E", text);
  out.symbol = name(p.s, "s", text);
  out.close = decimal(p.c, "c", text);
  out.open = decimal(p.o, "o", text);
  out.high = decimal(p.h, "h", text);
  out.low = decimal(p.l, "l", text);
  out.volume = decimal(p.v, "v", text);
  out.quoteVolume = decimal(p.q, "q", text);
}

function mapTicker(p: JsonObject, out: ProviderRaw, text: string): void {
  mapMiniTickerFields(p, out, text);
  out.qty = decimal(p.Q, "Q", text);
  out.bidPx = decimal(p.b, "b", text);
  out.bidQty = decimal(p.B, "B", text);
  out.askPx = decimal(p.a, "a", text);
  out.askQty = decimal(p.A, "A", text);
  out.openTimeMs = int(p.O, "O", text);
  out.closeTimeMs = int(p.C, "C", text);
  out.firstId = int(p.F, "F", text);
  out.lastId = int(p.L, "L", text);
  out.tradeCount = int(p.n, "n", text);
}

function mapKline(p: JsonObject, out: ProviderRaw, text: string): void {
  out.eventTimeMs = int(p.E, "E", text);
  out.symbol = name(p.s, "s", text);
  const k = p.k;
  if (!isObject(k)) fail(text, "k", "an object", k);
  out.openTimeMs = int(k.t, "k.t", text);
  out.closeTimeMs = int(k.T, "k.T", text);
  out.interval = name(k.i, "k.i", text);
  // Binance sends -1 for both when the bar has no trades; safe integers admit that.
  out.firstId = int(k.f, "k.f", text);
  out.lastId = int(k.L, "k.L", text);
  out.open = decimal(k.o, "k.o", text);
  out.close = decimal(k.c, "k.c", text);
  out.high = decimal(k.h, "k.h", text);
  out.low = decimal(k.l, "k.l", text);
  out.volume = decimal(k.v, "k.v", text);
  out.quoteVolume = decimal(k.q, "k.q", text);
  out.tradeCount = int(k.n, "k.n", text);
  out.closed = bool(k.x, "k.x", text);
}

function mapControl(p: JsonObject, out: ProviderRaw, text: string): boolean {
  if (Object.hasOwn(p, "result")) {
    out.eventType = "result";
    out.body = p;
    return true;
  }
  if (Object.hasOwn(p, "error")) {
    const err = p.error;
    if (!isObject(err)) fail(text, "error", "an object {code, msg}", err);
    int(err.code, "error.code", text);
    if (typeof err.msg !== "string") fail(text, "error.msg", "a string", err.msg);
    out.eventType = "error";
    out.body = p;
    return true;
  }
  return false;
}

/** Maps an event with an `e` the decoder has no typed mapping for: kept whole in `body`. */
function mapUnknownEvent(p: JsonObject, out: ProviderRaw): void {
  out.body = p;
  if (typeof p.s === "string") out.symbol = p.s;
  if (typeof p.E === "number" && Number.isSafeInteger(p.E)) out.eventTimeMs = p.E;
}

function mapEvent(e: string, p: JsonObject, out: ProviderRaw, text: string): BinanceShape {
  out.eventType = e;
  switch (e) {
    case "trade":
      mapTrade(p, out, text);
      return "trade";
    case "aggTrade":
      mapAggTrade(p, out, text);
      return "aggTrade";
    case "depthUpdate":
      mapDepthUpdate(p, out, text);
      return "depthUpdate";
    case "bookTicker":
      mapBookTicker(p, out, text);
      return "bookTicker";
    case "24hrTicker":
      mapTicker(p, out, text);
      return "24hrTicker";
    case "24hrMiniTicker":
      mapMiniTickerFields(p, out, text);
      return "24hrMiniTicker";
    case "kline":
      mapKline(p, out, text);
      return "kline";
    case "serverShutdown":
      out.eventTimeMs = int(p.E, "E", text);
      return "control";
    default:
      mapUnknownEvent(p, out);
      return "other";
  }
}

/**
 * Writes a parsed Binance frame into `out`, which the caller has cleared (every decoded field at
 * its zero value, `provider` set). Returns the shape found. Throws {@linkcode DecodeError} for a
 * value that is no Binance message or a mapped field of the wrong type; `out` is then
 * unspecified.
 *
 * Shapes and tags (`out.eventType`): the event's own `e` for events that have one (unknown `e`
 * values too, with the payload in `body`); `bookTicker` and `depthPartial` for the payloads
 * without `e`; `result` / `error` for control replies (`body` = the reply object); `array` for
 * array payloads such as `!miniTicker@arr` (`body` = the array); `unknown` for any other object
 * (`body` = the object).
 */
export function mapBinanceValue(value: unknown, out: ProviderRaw, text: string): BinanceShape {
  let payload = value;
  if (isObject(value) && Object.hasOwn(value, "stream")) {
    out.stream = name(value.stream, "stream", text);
    payload = value.data;
    if (payload === undefined) fail(text, "data", 'the payload beside "stream"', payload);
  }
  if (Array.isArray(payload)) {
    out.eventType = "array";
    out.body = payload;
    return "other";
  }
  if (!isObject(payload)) {
    throw new DecodeError(
      `expected a JSON object or array, found ${describe(payload)}`,
      text,
      { provider: BINANCE_PROVIDER },
    );
  }
  const e = payload.e;
  if (e !== undefined) return mapEvent(name(e, "e", text), payload, out, text);
  if (mapControl(payload, out, text)) return "control";
  if (payload.lastUpdateId !== undefined) {
    mapDepthPartial(payload, out, text);
    return "depthPartial";
  }
  if (payload.u !== undefined && payload.b !== undefined) {
    mapBookTicker(payload, out, text);
    return "bookTicker";
  }
  out.eventType = "unknown";
  out.body = payload;
  return "other";
}
