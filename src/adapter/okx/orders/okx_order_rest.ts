/**
 * The REST calls of the OKX order venue: the SPOT instrument list with trading rules and
 * `instIdCode`, and signed GETs (`/api/v5/trade/order`, `/api/v5/trade/orders-pending`).
 *
 * @module
 */

import { decodeJson } from "../../../codec/mod.ts";
import { type OkxCredentials, okxRestHeaders } from "./okx_order_signing.ts";

/** One SPOT instrument with what trading needs. */
export interface OkxTradingInstrument {
  /** `BTC-USDT`. */
  instId: string;
  /** Canonical `BASE-QUOTE`. */
  symbol: string;
  /** Code for WS trading ops. */
  instIdCode: number;
  tickSz: string;
  lotSz: string;
  minSz: string;
  /** `live`, `suspend`, ... */
  state: string;
}

/** An OKX REST body `{code, msg, data}`. */
export interface OkxRestBody {
  code: string;
  msg: string;
  data: unknown[];
  /** HTTP status. */
  status: number;
}

function field(row: Record<string, unknown>, key: string): string {
  const v = row[key];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

/** Fetches the SPOT instruments; throws on HTTP, body or shape errors. */
export async function fetchOkxTradingInstruments(
  restUrl: string,
  opts: { signal?: AbortSignal } = {},
): Promise<OkxTradingInstrument[]> {
  const url = `${restUrl.replace(/\/+$/, "")}/api/v5/public/instruments?instType=SPOT`;
  const res = await fetch(url, { signal: opts.signal });
  const text = await res.text();
  if (!res.ok) throw new Error(`okx: expected HTTP 200 from instruments, found ${res.status}`);
  const body = decodeJson(text, { provider: "okx" }) as { code?: unknown; data?: unknown };
  if (body?.code !== "0" || !Array.isArray(body.data)) {
    throw new Error(`okx: expected instruments with code "0", found code ${String(body?.code)}`);
  }
  const out: OkxTradingInstrument[] = [];
  for (const row of body.data as Record<string, unknown>[]) {
    const instId = field(row, "instId");
    const instIdCode = Number(field(row, "instIdCode"));
    if (instId === "" || !Number.isSafeInteger(instIdCode)) continue;
    const base = field(row, "baseCcy");
    const quote = field(row, "quoteCcy");
    out.push({
      instId,
      symbol: base && quote ? `${base}-${quote}`.toUpperCase() : instId,
      instIdCode,
      tickSz: field(row, "tickSz"),
      lotSz: field(row, "lotSz"),
      minSz: field(row, "minSz"),
      state: field(row, "state"),
    });
  }
  return out;
}

/**
 * A signed GET of `requestPath` (path + query). Resolves with the body whatever the HTTP status
 * when it is OKX-shaped; throws when it is not (the error never contains headers).
 */
export async function okxSignedGet(
  restUrl: string,
  request: { requestPath: string; credentials: OkxCredentials; nowMs: number; signal: AbortSignal },
): Promise<OkxRestBody> {
  const headers = okxRestHeaders(request.credentials, {
    method: "GET",
    requestPath: request.requestPath,
    nowMs: request.nowMs,
  });
  const res = await fetch(`${restUrl.replace(/\/+$/, "")}${request.requestPath}`, {
    headers,
    signal: request.signal,
  });
  const text = await res.text();
  let body: { code?: unknown; msg?: unknown; data?: unknown };
  try {
    body = decodeJson(text, { provider: "okx" }) as typeof body;
  } catch {
    throw new Error(
      `okx: expected a JSON body from ${
        request.requestPath.split("?")[0]
      }, found HTTP ${res.status}`,
    );
  }
  if (typeof body?.code !== "string") {
    throw new Error(
      `okx: expected an OKX body from ${
        request.requestPath.split("?")[0]
      }, found HTTP ${res.status}`,
    );
  }
  return {
    code: body.code,
    msg: typeof body.msg === "string" ? body.msg : "",
    data: Array.isArray(body.data) ? body.data : [],
    status: res.status,
  };
}
