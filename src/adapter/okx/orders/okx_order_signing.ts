/**
 * OKX request signing (protocol notes §6.1 and OKX's REST authentication):
 *
 * - WebSocket login: `sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))`,
 *   `timestamp` in Unix seconds.
 * - REST: headers `OK-ACCESS-KEY`, `OK-ACCESS-SIGN`, `OK-ACCESS-TIMESTAMP` (ISO-8601 with
 *   milliseconds, UTC), `OK-ACCESS-PASSPHRASE`; `sign = Base64(HMAC-SHA256(secret, timestamp +
 *   method + requestPath + body))` where requestPath includes the query string.
 *
 * Signatures and secrets are never logged; callers must not log what these functions return.
 *
 * @module
 */

import { createHmac } from "node:crypto";

/** The three pieces of an OKX API key. */
export interface OkxCredentials {
  apiKey: string;
  secret: string;
  passphrase: string;
}

/** Base64 HMAC-SHA256 of `prehash` with `secret`. */
export function okxHmacBase64(secret: string, prehash: string): string {
  return createHmac("sha256", secret).update(prehash).digest("base64");
}

/** The login `sign` for a timestamp in Unix seconds (a string, as sent). */
export function okxLoginSign(secret: string, timestampSec: string): string {
  return okxHmacBase64(secret, `${timestampSec}GET/users/self/verify`);
}

/** The one `login` arg for `nowMs` (epoch ms). */
export function okxLoginArg(
  credentials: OkxCredentials,
  nowMs: number,
): { apiKey: string; passphrase: string; timestamp: string; sign: string } {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    apiKey: credentials.apiKey,
    passphrase: credentials.passphrase,
    timestamp,
    sign: okxLoginSign(credentials.secret, timestamp),
  };
}

/** The REST `OK-ACCESS-SIGN` value. */
export function okxRestSign(
  secret: string,
  parts: { timestamp: string; method: string; requestPath: string; body?: string },
): string {
  return okxHmacBase64(
    secret,
    `${parts.timestamp}${parts.method.toUpperCase()}${parts.requestPath}${parts.body ?? ""}`,
  );
}

/** The four `OK-ACCESS-*` headers of a REST request at `nowMs` (epoch ms). */
export function okxRestHeaders(
  credentials: OkxCredentials,
  request: { method: string; requestPath: string; body?: string; nowMs: number },
): Record<string, string> {
  const timestamp = new Date(request.nowMs).toISOString();
  return {
    "OK-ACCESS-KEY": credentials.apiKey,
    "OK-ACCESS-SIGN": okxRestSign(credentials.secret, { ...request, timestamp }),
    "OK-ACCESS-TIMESTAMP": timestamp,
    "OK-ACCESS-PASSPHRASE": credentials.passphrase,
  };
}

/**
 * Credentials from `SWITCHYARD_OKX_API_KEY`, `SWITCHYARD_OKX_API_SECRET` and
 * `SWITCHYARD_OKX_PASSPHRASE`; null when any is unset or empty. `env` defaults to `Deno.env`.
 */
export function okxCredentialsFromEnv(
  env: { get(name: string): string | undefined } = Deno.env,
): OkxCredentials | null {
  const apiKey = env.get("SWITCHYARD_OKX_API_KEY") ?? "";
  const secret = env.get("SWITCHYARD_OKX_API_SECRET") ?? "";
  const passphrase = env.get("SWITCHYARD_OKX_PASSPHRASE") ?? "";
  if (apiKey === "" || secret === "" || passphrase === "") return null;
  return { apiKey, secret, passphrase };
}
