/**
 * Kraken REST client for the order venue: signed private calls (kraken.md §6.1) with a strictly
 * increasing nonce, sent one at a time so nonces reach the exchange in order (Kraken refuses a
 * nonce not above the last one it saw), and the public `AssetPairs` call. Every call has a
 * deadline; on expiry it rejects with {@linkcode VenueTimeoutError}.
 *
 * @module
 */

import type { Clock } from "../../../pool/mod.ts";
import { VenueTimeoutError, VenueUnavailableError } from "../../../orders/order_venue.ts";
import type { KrakenCredentials } from "./kraken_credentials.ts";
import { krakenApiSign } from "./kraken_signing.ts";

/** A REST answer with a non-empty `error` list (`EAPI:Invalid nonce`, ...). */
export class KrakenRestError extends Error {
  /** The exchange's first error text. */
  readonly code: string;
  /** Builds the error from the exchange's `error` list. */
  constructor(method: string, errors: string[]) {
    super(`kraken ${method}: exchange answered ${errors.join(", ")}`);
    this.name = "KrakenRestError";
    this.code = errors[0] ?? "";
  }
}

/** The signed REST client. */
export class KrakenPrivateRest {
  readonly #baseUrl: string;
  readonly #credentials: KrakenCredentials;
  readonly #clock: Clock;
  readonly #wallMs: () => number;
  readonly #aborts = new Set<AbortController>();
  #lastNonce = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** A client of `baseUrl` (`https://api.kraken.com`). */
  constructor(
    baseUrl: string,
    options: { credentials: KrakenCredentials; clock: Clock; wallMs?: () => number },
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#credentials = options.credentials;
    this.#clock = options.clock;
    this.#wallMs = options.wallMs ?? Date.now;
  }

  /**
   * POSTs `/0/private/<method>` with `params` and returns `result`. Calls run one after the
   * other; `timeoutMs` counts from this call, waiting included.
   */
  privateCall(
    method: string,
    params: Record<string, string>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const run = this.#queue.then(() =>
      this.#signedPost(method, params, timeoutMs, this.#clock.nowMs())
    );
    // The queue continues whatever this call's outcome.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** GETs `/0/public/<method>?query` and returns `result`. */
  async publicCall(
    method: string,
    query: Record<string, string>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const url = `${this.#baseUrl}/0/public/${method}?${new URLSearchParams(query)}`;
    return await this.#fetchJson(method, url, { method: "GET" }, timeoutMs);
  }

  /** Aborts calls in flight; later calls reject with VenueUnavailableError. */
  close(): void {
    this.#closed = true;
    for (const a of this.#aborts) a.abort();
    this.#aborts.clear();
  }

  async #signedPost(
    method: string,
    params: Record<string, string>,
    timeoutMs: number,
    startMs: number,
  ): Promise<Record<string, unknown>> {
    const remainingMs = timeoutMs - (this.#clock.nowMs() - startMs);
    if (remainingMs <= 0) throw new VenueTimeoutError(`kraken ${method}`, timeoutMs);
    // Milliseconds since the epoch, forced above the previous one (two calls in one ms).
    this.#lastNonce = Math.max(this.#lastNonce + 1, Math.floor(this.#wallMs()));
    const nonce = String(this.#lastNonce);
    const postData = new URLSearchParams({ nonce, ...params }).toString();
    const path = `/0/private/${method}`;
    const sign = await krakenApiSign(path, { nonce, postData, secret: this.#credentials.secret });
    return await this.#fetchJson(
      method,
      this.#baseUrl + path,
      {
        method: "POST",
        headers: {
          "API-Key": this.#credentials.apiKey,
          "API-Sign": sign,
          "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        },
        body: postData,
      },
      remainingMs,
      timeoutMs,
    );
  }

  async #fetchJson(
    method: string,
    url: string,
    init: RequestInit,
    remainingMs: number,
    timeoutMs = remainingMs,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) throw new VenueUnavailableError(`kraken ${method}: venue closed`);
    const abort = new AbortController();
    this.#aborts.add(abort);
    let timedOut = false;
    const timerId = this.#clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, remainingMs);
    try {
      const response = await fetch(url, { ...init, signal: abort.signal });
      const body = await response.json() as { error?: unknown; result?: unknown };
      const errors = Array.isArray(body.error) ? body.error.map(String) : [];
      if (errors.length > 0) throw new KrakenRestError(method, errors);
      if (typeof body.result !== "object" || body.result === null) {
        throw new KrakenRestError(method, [`EGeneral:no result (HTTP ${response.status})`]);
      }
      return body.result as Record<string, unknown>;
    } catch (error) {
      if (timedOut) throw new VenueTimeoutError(`kraken ${method}`, timeoutMs);
      if (this.#closed) throw new VenueUnavailableError(`kraken ${method}: venue closed`);
      if (error instanceof KrakenRestError) throw error;
      throw new VenueUnavailableError(
        `kraken ${method}: request failed: ${error instanceof Error ? error.message : error}`,
      );
    } finally {
      this.#clock.clearTimeout(timerId);
      this.#aborts.delete(abort);
    }
  }
}
