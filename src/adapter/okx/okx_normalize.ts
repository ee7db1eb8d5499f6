/**
 * OKX `trades` and `tickers` rows -> CanonicalEvent. The rows come straight from the decoded
 * frame (`ProviderRaw.body`, parsed by the generic JSON engine): OKX has no specialised decoder,
 * and its rows already carry exact decimal strings, so no intermediate copy is made.
 *
 * @module
 */

import type { CanonicalEvent } from "../../schema/canonical_event.ts";

/** Why a row was not turned into an event. */
export type OkxNormalizeSkip = "invalid_row";

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  const n = typeof v === "string" && v !== "" ? Number(v) : typeof v === "number" ? v : NaN;
  return Number.isFinite(n) ? n : 0;
}

/**
 * Fills `out` from one `trades` row (taker side as sent; `seq` = numeric `tradeId`, which
 * increases per instrument). Returns null on success.
 */
export function normalizeOkxTrade(
  row: unknown,
  out: CanonicalEvent,
  ctx: { symbol: string; recvTsMs: number },
): OkxNormalizeSkip | null {
  if (typeof row !== "object" || row === null) return "invalid_row";
  const r = row as Record<string, unknown>;
  const side = r.side;
  if (typeof r.px !== "string" || typeof r.sz !== "string" || (side !== "buy" && side !== "sell")) {
    return "invalid_row";
  }
  out.kind = "trade";
  out.provider = "okx";
  out.symbol = ctx.symbol;
  out.tradeId = str(r.tradeId);
  out.price = r.px;
  out.qty = r.sz;
  out.side = side;
  out.seq = num(r.tradeId);
  out.seqFirst = out.seq;
  out.exchangeTsMs = num(r.ts);
  out.recvTsMs = ctx.recvTsMs;
  return null;
}

/** Fills `out` from one `tickers` row (`seq` = `ts`: tickers carry no sequence). */
export function normalizeOkxTicker(
  row: unknown,
  out: CanonicalEvent,
  ctx: { symbol: string; recvTsMs: number },
): OkxNormalizeSkip | null {
  if (typeof row !== "object" || row === null) return "invalid_row";
  const r = row as Record<string, unknown>;
  if (typeof r.last !== "string") return "invalid_row";
  out.kind = "ticker";
  out.provider = "okx";
  out.symbol = ctx.symbol;
  out.price = r.last;
  out.qty = str(r.lastSz);
  out.bidPx = str(r.bidPx);
  out.bidQty = str(r.bidSz);
  out.askPx = str(r.askPx);
  out.askQty = str(r.askSz);
  out.open = str(r.open24h);
  out.high = str(r.high24h);
  out.low = str(r.low24h);
  out.volume = str(r.vol24h);
  out.quoteVolume = str(r.volCcy24h);
  out.exchangeTsMs = num(r.ts);
  out.seq = out.exchangeTsMs;
  out.seqFirst = out.seq;
  out.recvTsMs = ctx.recvTsMs;
  return null;
}
