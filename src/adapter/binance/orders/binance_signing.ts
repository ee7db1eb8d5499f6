/**
 * Binance HMAC-SHA256 request signing, for both transports (protocol notes §4.2, §4.4, §7.2):
 *
 * - REST: the payload is the percent-encoded query string followed directly (no separator) by
 *   the percent-encoded body, `signature` excluded. Since 2026-01-15 the server signs what is on
 *   the wire, so values are percent-encoded *before* signing.
 * - WebSocket API: every `params` entry except `signature` (including `apiKey`), sorted by name,
 *   joined as raw `key=value` with `&` (nothing percent-encoded).
 *
 * The signature is the lower-case hex HMAC-SHA256 of the payload keyed with the API secret. The
 * secret and signatures are never logged (callers must not log the payloads' results either).
 *
 * @module
 */

import { createHmac } from "node:crypto";

/** A request parameter value as it goes on the wire. */
export type BinanceParamValue = string | number | boolean;

/** Lower-case hex HMAC-SHA256 of the UTF-8 bytes of `message`, keyed with `secret`. */
export function hmacSha256Hex(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message, "utf8").digest("hex");
}

/**
 * Percent-encodes one query/body component the way Binance expects on the wire: RFC 3986
 * unreserved characters stay, everything else (including non-ASCII UTF-8) becomes `%XX`.
 */
export function binancePercentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * A percent-encoded `key=value&...` string of `params`, in the given order (Binance does not
 * care about order on REST, but the signature covers the exact bytes sent).
 *
 * @example
 * ```ts
 * binanceQueryString([["symbol", "BTCUSDT"], ["timestamp", 1767225600000]]);
 * // "symbol=BTCUSDT&timestamp=1767225600000"
 * ```
 */
export function binanceQueryString(
  params: readonly (readonly [string, BinanceParamValue])[],
): string {
  return params.map(([k, v]) => `${binancePercentEncode(k)}=${binancePercentEncode(String(v))}`)
    .join("&");
}

/**
 * Signature of a REST request: HMAC over `query + body` (both already percent-encoded, as sent,
 * without `signature`; either may be empty). Append it as `&signature=<hex>` to one of them.
 *
 * @example
 * ```ts
 * binanceRestSignature(secret, { query: "timestamp=1767225600000" }); // 64 hex chars
 * ```
 */
export function binanceRestSignature(
  secret: string,
  payload: { query?: string; body?: string },
): string {
  return hmacSha256Hex(secret, (payload.query ?? "") + (payload.body ?? ""));
}

/**
 * The WebSocket API signature payload: every entry of `params` except `signature`, sorted by
 * name, raw `key=value` joined with `&`.
 */
export function binanceWsApiPayload(params: Readonly<Record<string, BinanceParamValue>>): string {
  return Object.keys(params).filter((k) => k !== "signature").sort()
    .map((k) => `${k}=${String(params[k])}`).join("&");
}

/** The WebSocket API signature of `params` (see {@linkcode binanceWsApiPayload}). */
export function binanceWsApiSignature(
  secret: string,
  params: Readonly<Record<string, BinanceParamValue>>,
): string {
  return hmacSha256Hex(secret, binanceWsApiPayload(params));
}
