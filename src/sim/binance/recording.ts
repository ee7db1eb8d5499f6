/**
 * Recorded Binance sessions (the cryptofeed recorder's text format): a WebSocket recording
 * (line 1 = connect URL ` <-> <connect time>`, then `<unix secs>: <frame>` per line) and an
 * HTTP recording (`<request URL> -> <unix secs>: <body>` per line).
 *
 * @module
 */

import { formatAtoms, parseDecimalAtoms } from "../market/mod.ts";
import type { ExchangeSymbol } from "./exchange_info.ts";

/** One recorded frame. */
export interface RecordedFrame {
  /** Receive time, unix seconds (fractional). */
  readonly timeS: number;
  /** Stream name from the combined wrapper; `""` when the frame was not wrapped. */
  readonly stream: string;
  /** The frame exactly as recorded. */
  readonly text: string;
  /** The payload text (the `data` part of a combined frame, else the whole frame). */
  readonly data: string;
  /** Upper-case symbol of the payload (`s` field), `""` when absent. */
  readonly symbol: string;
}

/** A parsed WebSocket recording. */
export interface WsRecording {
  /** The URL the recorder connected to. */
  readonly url: string;
  /** Streams named in that URL. */
  readonly streams: readonly string[];
  /** Frames in receive order. */
  readonly frames: readonly RecordedFrame[];
}

/**
 * Parses a WebSocket recording. Throws with the line number when a line is malformed.
 *
 * @example
 * ```ts
 * const recording = parseWsRecording(await Deno.readTextFile(path));
 * recording.frames.length;
 * ```
 */
export function parseWsRecording(text: string): WsRecording {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  if (lines.length === 0) {
    throw new RangeError("ws recording: expected a URL line, found an empty file");
  }
  const url = lines[0].split(" <-> ")[0].trim();
  let streams: string[] = [];
  try {
    streams = (new URL(url).searchParams.get("streams") ?? "").split("/").filter((s) => s !== "");
  } catch {
    throw new RangeError(
      `ws recording line 1: expected a URL, found ${JSON.stringify(url.slice(0, 80))}`,
    );
  }
  const frames: RecordedFrame[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(": ");
    const timeS = Number(line.slice(0, colon));
    if (colon <= 0 || !Number.isFinite(timeS)) {
      throw new RangeError(`ws recording line ${i + 1}: expected "<unix secs>: <frame>"`);
    }
    const frameText = line.slice(colon + 2);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(frameText);
    } catch {
      throw new RangeError(`ws recording line ${i + 1}: expected a JSON frame`);
    }
    const combined = typeof parsed.stream === "string" && typeof parsed.data === "object";
    const payload = (combined ? parsed.data : parsed) as Record<string, unknown>;
    frames.push({
      timeS,
      stream: combined ? parsed.stream as string : "",
      text: frameText,
      data: combined ? dataText(frameText, payload) : frameText,
      symbol: typeof payload?.s === "string" ? payload.s : "",
    });
  }
  return { url, streams, frames };
}

/**
 * The `data` value's text cut out of a combined frame, keeping the recorded bytes; falls back
 * to re-serialising when the frame is not in the usual `{"stream":..,"data":..}` layout.
 */
function dataText(frameText: string, payload: unknown): string {
  const marker = ',"data":';
  const at = frameText.indexOf(marker);
  if (at !== -1 && frameText.endsWith("}")) {
    const slice = frameText.slice(at + marker.length, -1);
    try {
      JSON.parse(slice);
      return slice;
    } catch {
      // Not the layout we expected; fall through.
    }
  }
  return JSON.stringify(payload);
}

/** One recorded REST answer. */
export interface RecordedResponse {
  /** The request URL. */
  readonly url: string;
  /** Receive time, unix seconds. */
  readonly timeS: number;
  /** The body as recorded. */
  readonly body: string;
}

/** Parses an HTTP recording. Throws with the line number when a line is malformed. */
export function parseHttpRecording(text: string): RecordedResponse[] {
  const out: RecordedResponse[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const arrow = line.indexOf(" -> ");
    const colon = arrow === -1 ? -1 : line.indexOf(": ", arrow + 4);
    const timeS = colon === -1 ? NaN : Number(line.slice(arrow + 4, colon));
    if (arrow <= 0 || !Number.isFinite(timeS)) {
      throw new RangeError(`http recording line ${i + 1}: expected "<URL> -> <unix secs>: <body>"`);
    }
    out.push({ url: line.slice(0, arrow), timeS, body: line.slice(colon + 2) });
  }
  return out;
}

/** Recorded depth snapshots by upper-case symbol (the last one per symbol wins). */
export function recordedDepthBodies(responses: readonly RecordedResponse[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const response of responses) {
    let url: URL;
    try {
      url = new URL(response.url);
    } catch {
      continue;
    }
    const symbol = url.searchParams.get("symbol");
    if (url.pathname === "/api/v3/depth" && symbol !== null) out.set(symbol, response.body);
  }
  return out;
}

const KNOWN_QUOTES = [
  "USDT",
  "FDUSD",
  "USDC",
  "BUSD",
  "TUSD",
  "BTC",
  "ETH",
  "BNB",
  "EUR",
  "TRY",
  "BRL",
  "GBP",
  "JPY",
];

/**
 * exchangeInfo entries for replayed symbols. Tick and step sizes are inferred from the finest
 * decimals seen in the recorded prices and quantities (the recording does not carry filters).
 */
export function inferExchangeSymbols(
  recording: WsRecording,
  depthBodies: ReadonlyMap<string, string>,
): ExchangeSymbol[] {
  const priceDecimals = new Map<string, number>();
  const qtyDecimals = new Map<string, number>();
  const note = (symbol: string, price: unknown, qty: unknown) => {
    if (typeof price === "string") {
      priceDecimals.set(symbol, Math.max(priceDecimals.get(symbol) ?? 0, decimalsOf(price)));
    }
    if (typeof qty === "string") {
      qtyDecimals.set(symbol, Math.max(qtyDecimals.get(symbol) ?? 0, decimalsOf(qty)));
    }
  };
  const noteLevels = (symbol: string, levels: unknown) => {
    if (!Array.isArray(levels)) return;
    for (const level of levels) if (Array.isArray(level)) note(symbol, level[0], level[1]);
  };
  for (const frame of recording.frames) {
    if (frame.symbol === "") continue;
    const payload = JSON.parse(frame.data) as Record<string, unknown>;
    priceDecimals.set(frame.symbol, priceDecimals.get(frame.symbol) ?? 0);
    noteLevels(frame.symbol, payload.b);
    noteLevels(frame.symbol, payload.a);
    note(frame.symbol, payload.p, payload.q);
  }
  for (const [symbol, body] of depthBodies) {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    priceDecimals.set(symbol, priceDecimals.get(symbol) ?? 0);
    noteLevels(symbol, parsed.bids);
    noteLevels(symbol, parsed.asks);
  }
  return [...priceDecimals.keys()].sort().map((symbol) => {
    const quote = KNOWN_QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? "";
    const tick = formatAtoms(10 ** (8 - Math.min(8, priceDecimals.get(symbol) ?? 0)));
    const step = formatAtoms(10 ** (8 - Math.min(8, qtyDecimals.get(symbol) ?? 0)));
    return {
      symbol,
      baseAsset: quote === "" ? symbol : symbol.slice(0, -quote.length),
      quoteAsset: quote,
      minPrice: tick,
      maxPrice: "1000000.00000000",
      tickSize: tick,
      minQty: step,
      maxQty: "9000000.00000000",
      stepSize: step,
      minNotional: "5.00000000",
      maxNotional: "9000000.00000000",
    };
  });
}

/** Significant fraction digits of a decimal string (`"0.35130000"` → 4). */
function decimalsOf(text: string): number {
  try {
    const atoms = parseDecimalAtoms(text);
    let decimals = 8;
    let value = atoms;
    while (decimals > 0 && value % 10 === 0) {
      value /= 10;
      decimals--;
    }
    return decimals;
  } catch {
    return 0;
  }
}
