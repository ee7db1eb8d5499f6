/**
 * The simulator's checks of signed requests, as Binance does them (protocol notes §4.2-§4.4,
 * §7.2, §9 item 10): API key, signature over the raw (percent-encoded) query + body with
 * `signature` removed (REST) or over the sorted raw params (WS API), `timestamp` against the
 * server clock and `recvWindow` (default 5000, at most 60000, never more than 1 s ahead).
 *
 * @module
 */

import { createHmac } from "node:crypto";

/** An API key pair the simulator accepts. */
export interface BinanceSimAccount {
  /** The `X-MBX-APIKEY` / `apiKey`; also the engine account name. */
  readonly apiKey: string;
  /** HMAC secret. */
  readonly secret: string;
}

/** The made-up key pair of the protocol notes §4.4: the simulator's default account. */
export const BINANCE_SIM_CREDENTIALS: BinanceSimAccount = Object.freeze({
  apiKey: "fakeApiKeyAAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKKLLLLMMMM",
  secret: "fakeSecret0123456789abcdefFAKEsecretForLocalTestsOnly0000000000000",
});

/** A refusal in Binance's terms: HTTP-like status, code and message. */
export class BinanceApiError extends Error {
  /** Builds the refusal. */
  constructor(readonly status: number, readonly code: number, readonly msg: string) {
    super(msg);
    this.name = "BinanceApiError";
  }
}

/** Binance's "mandatory parameter" refusal (-1102). */
export function mandatory(name: string): BinanceApiError {
  return new BinanceApiError(
    400,
    -1102,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

const TIMESTAMP_RE = /^[0-9]{1,16}$/;
const RECV_WINDOW_RE = /^[0-9]{1,5}(\.[0-9]{1,3})?$/;
/** Default and largest `recvWindow`, ms. */
const RECV_WINDOW_DEFAULT_MS = 5000;
const RECV_WINDOW_MAX_MS = 60_000;
/** How far ahead of the server a timestamp may be, ms. */
const AHEAD_MAX_MS = 1000;

function hmacHex(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload, "utf8").digest("hex");
}

/** Removes the `signature=...` pair from a raw `a=1&b=2` string. */
function withoutSignature(raw: string): { rest: string; signature: string | null } {
  if (raw === "") return { rest: "", signature: null };
  let signature: string | null = null;
  const kept: string[] = [];
  for (const part of raw.split("&")) {
    if (part.startsWith("signature=")) signature = part.slice("signature=".length);
    else kept.push(part);
  }
  return { rest: kept.join("&"), signature };
}

/** The account of `apiKey` or the -2014/-2015 refusal. */
export function accountOf(
  accounts: ReadonlyMap<string, BinanceSimAccount>,
  apiKey: string | null | undefined,
): BinanceSimAccount {
  if (apiKey === null || apiKey === undefined || apiKey === "") {
    throw new BinanceApiError(401, -2014, "API-key format invalid.");
  }
  const account = accounts.get(apiKey);
  if (account === undefined) {
    throw new BinanceApiError(401, -2015, "Invalid API-key, IP, or permissions for action.");
  }
  return account;
}

/**
 * Checks `timestamp` and `recvWindow` against `nowMs` (the server's clock): -1102 when missing
 * or malformed, -1021 when outside the window or more than 1 s ahead.
 */
export function checkTimestamp(
  timestamp: string | undefined,
  options: { recvWindow: string | undefined; nowMs: number },
): void {
  const { recvWindow, nowMs } = options;
  if (timestamp === undefined || !TIMESTAMP_RE.test(timestamp)) throw mandatory("timestamp");
  let windowMs = RECV_WINDOW_DEFAULT_MS;
  if (recvWindow !== undefined) {
    if (!RECV_WINDOW_RE.test(recvWindow)) throw mandatory("recvWindow");
    windowMs = Number(recvWindow);
    if (windowMs > RECV_WINDOW_MAX_MS) {
      throw new BinanceApiError(400, -1102, "recvWindow must be less than 60000");
    }
  }
  // Microsecond timestamps (16 digits) are compared in ms.
  const ts = timestamp.length >= 16 ? Number(timestamp) / 1000 : Number(timestamp);
  if (ts >= nowMs + AHEAD_MAX_MS) {
    throw new BinanceApiError(
      400,
      -1021,
      "Timestamp for this request was 1000ms ahead of the server's time.",
    );
  }
  if (nowMs - ts > windowMs) {
    throw new BinanceApiError(
      400,
      -1021,
      "Timestamp for this request is outside of the recvWindow.",
    );
  }
}

/**
 * Verifies a signed REST request: `rawQuery` and `rawBody` exactly as received (still
 * percent-encoded). Returns the account; throws {@linkcode BinanceApiError}.
 */
export function verifyRestRequest(
  accounts: ReadonlyMap<string, BinanceSimAccount>,
  request: {
    apiKey: string | null;
    rawQuery: string;
    rawBody: string;
    params: ReadonlyMap<string, string>;
    nowMs: number;
  },
): BinanceSimAccount {
  const account = accountOf(accounts, request.apiKey);
  const query = withoutSignature(request.rawQuery);
  const body = withoutSignature(request.rawBody);
  const signature = query.signature ?? body.signature;
  if (signature === null || signature === "") throw mandatory("signature");
  if (!request.params.has("timestamp")) throw mandatory("timestamp");
  const expected = hmacHex(account.secret, query.rest + body.rest);
  if (signature.toLowerCase() !== expected) {
    throw new BinanceApiError(400, -1022, "Signature for this request is not valid.");
  }
  checkTimestamp(request.params.get("timestamp"), {
    recvWindow: request.params.get("recvWindow"),
    nowMs: request.nowMs,
  });
  return account;
}

/**
 * Verifies a signed WS API request (`params` as sent, values raw): apiKey, signature over the
 * sorted `key=value` pairs without `signature`, timestamp. Returns the account.
 */
export function verifyWsApiRequest(
  accounts: ReadonlyMap<string, BinanceSimAccount>,
  request: { params: Readonly<Record<string, unknown>>; nowMs: number },
): BinanceSimAccount {
  const { params, nowMs } = request;
  const apiKey = params.apiKey;
  if (apiKey === undefined) throw mandatory("apiKey");
  const account = accountOf(accounts, typeof apiKey === "string" ? apiKey : "");
  const signature = params.signature;
  if (typeof signature !== "string" || signature === "") throw mandatory("signature");
  if (params.timestamp === undefined) throw mandatory("timestamp");
  const payload = Object.keys(params).filter((k) => k !== "signature").sort()
    .map((k) => `${k}=${String(params[k])}`).join("&");
  if (signature.toLowerCase() !== hmacHex(account.secret, payload)) {
    throw new BinanceApiError(400, -1022, "Signature for this request is not valid.");
  }
  const recvWindow = params.recvWindow;
  checkTimestamp(String(params.timestamp), {
    recvWindow: recvWindow === undefined ? undefined : String(recvWindow),
    nowMs,
  });
  return account;
}
