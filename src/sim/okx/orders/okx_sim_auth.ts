/**
 * Credentials and signature checks of the OKX simulator's private side: the WebSocket `login`
 * op (protocol notes §6.1) and the signed REST headers (`OK-ACCESS-*`).
 *
 * WebSocket login: `sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))`
 * with `timestamp` in Unix seconds, valid for 30 s either way. REST: `sign =
 * Base64(HMAC-SHA256(secret, timestamp + method + requestPath + body))` with an ISO-8601
 * millisecond timestamp (`2026-01-01T00:00:00.000Z`), also valid for 30 s.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** One simulated account (an API key with its secret and passphrase). */
export interface OkxSimAccount {
  /** API key (also the matching engine's account name). */
  readonly apiKey: string;
  /** HMAC secret. */
  readonly secret: string;
  /** Passphrase chosen when the key was created. */
  readonly passphrase: string;
  /** `uid` shown in private push args (default: derived from the account's position). */
  readonly uid?: string;
}

/** The protocol notes' fake credentials: the simulator's one default account. */
export const OKX_SIM_CREDENTIALS: Readonly<
  { apiKey: string; secret: string; passphrase: string }
> = Object.freeze({
  apiKey: "fakeOkxApiKey-0000-0000-0000-000000000000",
  secret: "22582BD0CFF14C41EDBF1AB98506286D",
  passphrase: "fakePassphrase1",
});

/** How far a login or REST timestamp may be from the simulator's clock, in ms. */
export const OKX_TIMESTAMP_WINDOW_MS = 30_000;

/** Base64 of HMAC-SHA256 over `prehash` keyed with `secret`. */
export function okxSimSign(secret: string, prehash: string): string {
  return createHmac("sha256", secret).update(prehash).digest("base64");
}

/** A failed check: the OKX error code and its message. */
export interface OkxAuthError {
  readonly code: string;
  readonly msg: string;
}

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks one `login` arg against the accounts at `nowMs` (epoch ms). Order of checks, each with
 * its §2 code: shape (60009 "Login failed."), timestamp format (60004), age beyond ±30 s
 * (60006), unknown key (60005), passphrase (60024), signature (60007).
 */
export function checkOkxLogin(
  arg: unknown,
  options: { accounts: readonly OkxSimAccount[]; nowMs: number },
): { account: OkxSimAccount } | OkxAuthError {
  if (typeof arg !== "object" || arg === null || Array.isArray(arg)) {
    return { code: "60009", msg: "Login failed." };
  }
  const { apiKey, passphrase, timestamp, sign } = arg as Record<string, unknown>;
  if (
    typeof apiKey !== "string" || typeof passphrase !== "string" ||
    typeof timestamp !== "string" || typeof sign !== "string"
  ) {
    return { code: "60009", msg: "Login failed." };
  }
  if (!/^\d{1,12}(\.\d{1,3})?$/.test(timestamp)) {
    return { code: "60004", msg: `Invalid timestamp` };
  }
  if (Math.abs(options.nowMs - Number(timestamp) * 1000) > OKX_TIMESTAMP_WINDOW_MS) {
    return { code: "60006", msg: "Timestamp request expired" };
  }
  const account = options.accounts.find((a) => a.apiKey === apiKey);
  if (account === undefined) return { code: "60005", msg: "Invalid apiKey" };
  if (!sameText(account.passphrase, passphrase)) {
    return { code: "60024", msg: "Wrong passphrase" };
  }
  const expected = okxSimSign(account.secret, `${timestamp}GET/users/self/verify`);
  if (!sameText(expected, sign)) return { code: "60007", msg: "Invalid sign" };
  return { account };
}

/** The REST request parts that are signed. */
export interface OkxRestRequestParts {
  /** `GET`, `POST`. */
  readonly method: string;
  /** Path with the query string (`/api/v5/trade/order?instId=BTC-USDT&clOrdId=a1`). */
  readonly requestPath: string;
  /** Body text ("" for GET). */
  readonly body: string;
  /** The request headers. */
  readonly headers: Headers;
}

/**
 * Checks the `OK-ACCESS-*` headers of a REST request. Codes are OKX's REST auth errors:
 * 50103 key missing, 50104 passphrase missing, 50106 sign missing, 50107 timestamp missing,
 * 50112 bad timestamp format, 50102 timestamp outside ±30 s, 50111 unknown key, 50105 wrong
 * passphrase, 50113 bad signature.
 */
export function checkOkxRestAuth(
  parts: OkxRestRequestParts,
  options: { accounts: readonly OkxSimAccount[]; nowMs: number },
): { account: OkxSimAccount } | OkxAuthError {
  const h = parts.headers;
  const apiKey = h.get("OK-ACCESS-KEY");
  const sign = h.get("OK-ACCESS-SIGN");
  const timestamp = h.get("OK-ACCESS-TIMESTAMP");
  const passphrase = h.get("OK-ACCESS-PASSPHRASE");
  if (!apiKey) return { code: "50103", msg: "Request header OK-ACCESS-KEY can not be empty." };
  if (!passphrase) {
    return { code: "50104", msg: "Request header OK-ACCESS-PASSPHRASE can not be empty." };
  }
  if (!sign) return { code: "50106", msg: "Request header OK-ACCESS-SIGN can not be empty." };
  if (!timestamp) {
    return { code: "50107", msg: "Request header OK-ACCESS-TIMESTAMP can not be empty." };
  }
  const tsMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(timestamp)
    ? Date.parse(timestamp)
    : NaN;
  if (!Number.isFinite(tsMs)) return { code: "50112", msg: "Invalid OK-ACCESS-TIMESTAMP." };
  if (Math.abs(options.nowMs - tsMs) > OKX_TIMESTAMP_WINDOW_MS) {
    return { code: "50102", msg: "Timestamp request expired." };
  }
  const account = options.accounts.find((a) => a.apiKey === apiKey);
  if (account === undefined) return { code: "50111", msg: "Invalid OK-ACCESS-KEY." };
  if (!sameText(account.passphrase, passphrase)) {
    return { code: "50105", msg: "Request header OK-ACCESS-PASSPHRASE incorrect." };
  }
  const expected = okxSimSign(
    account.secret,
    `${timestamp}${parts.method.toUpperCase()}${parts.requestPath}${parts.body}`,
  );
  if (!sameText(expected, sign)) return { code: "50113", msg: "Invalid Sign." };
  return { account };
}
