/**
 * Authentication of the Kraken simulator's private side: REST request signatures with strictly
 * increasing nonces per key (kraken.md §6.1) and the WebSocket tokens they buy.
 *
 * @module
 */

import { equalTexts, krakenSimApiSign } from "./api_sign.ts";
import type { KrakenSimAccount } from "./sim_accounts.ts";

/** Outcome of checking one signed REST request. */
export type RestAuthResult =
  | { ok: true; apiKey: string; params: URLSearchParams }
  | { ok: false; error: string };

interface TokenRecord {
  readonly apiKey: string;
  readonly issuedMs: number;
  firstUsedMs: number;
}

/** Keys, nonces and tokens. */
export class AuthKeys {
  readonly #secrets = new Map<string, string>();
  readonly #lastNonce = new Map<string, bigint>();
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #clock: () => number;
  readonly #tokenLifetimeMs: number;
  /** Every token issued, in order (tests check none of them is ever logged). */
  readonly tokensIssued: string[] = [];
  /** Every `API-Sign` value received (tests check none of them is ever logged). */
  readonly signaturesSeen: string[] = [];

  /** Keys of `accounts`; tokens usable `tokenLifetimeMs` after issue until first used. */
  constructor(
    accounts: readonly KrakenSimAccount[],
    options: { clock: () => number; tokenLifetimeMs: number },
  ) {
    for (const a of accounts) this.#secrets.set(a.apiKey, a.secret);
    this.#clock = options.clock;
    this.#tokenLifetimeMs = options.tokenLifetimeMs;
  }

  /** API keys of every account. */
  get apiKeys(): string[] {
    return [...this.#secrets.keys()];
  }

  /**
   * Checks `API-Key`, `API-Sign` and the nonce of a POST to `uriPath` with form body `body`.
   * The nonce is recorded only after the signature is valid, so forged requests burn nothing.
   */
  async check(uriPath: string, headers: Headers, body: string): Promise<RestAuthResult> {
    const apiKey = headers.get("API-Key") ?? "";
    const sign = headers.get("API-Sign") ?? "";
    if (sign !== "") this.signaturesSeen.push(sign);
    const secret = this.#secrets.get(apiKey);
    if (secret === undefined) return { ok: false, error: "EAPI:Invalid key" };
    const params = new URLSearchParams(body);
    const nonceText = params.get("nonce") ?? "";
    if (!/^\d{1,19}$/.test(nonceText)) return { ok: false, error: "EAPI:Invalid nonce" };
    let expected: string;
    try {
      expected = await krakenSimApiSign(uriPath, { nonce: nonceText, postData: body, secret });
    } catch {
      return { ok: false, error: "EAPI:Invalid signature" };
    }
    if (!equalTexts(expected, sign)) return { ok: false, error: "EAPI:Invalid signature" };
    const nonce = BigInt(nonceText);
    const last = this.#lastNonce.get(apiKey);
    if (last !== undefined && nonce <= last) return { ok: false, error: "EAPI:Invalid nonce" };
    this.#lastNonce.set(apiKey, nonce);
    return { ok: true, apiKey, params };
  }

  /** Issues a fresh token for `apiKey`. */
  issueToken(apiKey: string): string {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    const token = btoa(binary).replaceAll("=", "").replaceAll("+", "A").replaceAll("/", "B");
    this.#tokens.set(token, { apiKey, issuedMs: this.#clock(), firstUsedMs: 0 });
    this.tokensIssued.push(token);
    return token;
  }

  /**
   * The account of a token, or undefined when unknown or expired (not used within the lifetime
   * of its issue). A used token stays valid (kraken.md §6.1: while its subscription lives).
   */
  useToken(token: unknown): string | undefined {
    if (typeof token !== "string") return undefined;
    const record = this.#tokens.get(token);
    if (record === undefined) return undefined;
    const nowMs = this.#clock();
    if (record.firstUsedMs === 0) {
      if (nowMs - record.issuedMs > this.#tokenLifetimeMs) return undefined;
      record.firstUsedMs = nowMs;
    }
    return record.apiKey;
  }

  /** Forgets every token: later private requests get `ESession:Invalid session` (test knob). */
  revokeTokens(): void {
    this.#tokens.clear();
  }
}
