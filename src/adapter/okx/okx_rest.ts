/**
 * The OKX REST calls the adapter needs: the SPOT instrument list (canonical symbols).
 *
 * @module
 */

import { decodeJson } from "../../codec/mod.ts";

/** One SPOT instrument. */
export interface OkxInstrument {
  /** OKX instrument id (`BTC-USDT`). */
  instId: string;
  /** Canonical `BASE-QUOTE` (from `baseCcy`/`quoteCcy`). */
  canonical: string;
  /** Integer code for WS trading ops. */
  instIdCode: number;
  /** `live`, `suspend`, ... */
  state: string;
}

/** Fetches `GET /api/v5/public/instruments?instType=SPOT`; throws on HTTP or body errors. */
export async function fetchOkxInstruments(
  restUrl: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<OkxInstrument[]> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const url = `${restUrl.replace(/\/+$/, "")}/api/v5/public/instruments?instType=SPOT`;
  const res = await fetch(url, { signal });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`okx: expected HTTP 200 from instruments, found ${res.status}`);
  }
  const body = decodeJson(text, { provider: "okx" }) as { code?: unknown; data?: unknown };
  if (body?.code !== "0" || !Array.isArray(body.data)) {
    throw new Error(`okx: expected instruments with code "0", found code ${String(body?.code)}`);
  }
  const out: OkxInstrument[] = [];
  for (const row of body.data as Record<string, unknown>[]) {
    if (typeof row?.instId !== "string") continue;
    const base = typeof row.baseCcy === "string" ? row.baseCcy : "";
    const quote = typeof row.quoteCcy === "string" ? row.quoteCcy : "";
    out.push({
      instId: row.instId,
      canonical: base && quote ? `${base}-${quote}`.toUpperCase() : row.instId,
      instIdCode: typeof row.instIdCode === "number" ? row.instIdCode : Number(row.instIdCode),
      state: typeof row.state === "string" ? row.state : "",
    });
  }
  return out;
}
