/**
 * OKX REST order-book snapshots for the §4.4 bootstrap: `GET /api/v5/market/books?instId=&sz=`
 * (protocol notes §7), paced so that resyncing many instruments at once stays far inside the
 * 40 requests / 2 s limit: at most `requestsInFlightMax` (default 2) requests at a time, and a
 * 429 blocks every further call until its Retry-After (or OKX's 2 s window) has passed.
 *
 * @module
 */

import { decodeJson } from "../../codec/mod.ts";

/** A REST book snapshot, levels flattened to `[price, size, ...]` with the wire strings. */
export interface OkxRestBook {
  /** Sequence id the levels reflect (ties the snapshot to the WS `books` chain). */
  seqId: number;
  /** Bids, best first, `[price, size, ...]`. */
  bids: string[];
  /** Asks, best first, `[price, size, ...]`. */
  asks: string[];
  /** Book time, ms epoch. */
  tsMs: number;
}

/** A REST call that failed; `code` is OKX's when the body carried one. */
export class OkxRestError extends Error {
  override name = "OkxRestError";
  /** @param message what failed; the other fields as named. */
  constructor(
    message: string,
    readonly path: string,
    readonly status: number,
    readonly code: string | null,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Options of {@linkcode OkxBookRest}. */
export interface OkxBookRestOptions {
  /** REST base URL (`https://www.okx.com`, or the simulator's). */
  baseUrl: string;
  /** Bound on one request, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Book requests in flight at once. Default {@linkcode OKX_BOOK_REQUESTS_IN_FLIGHT_MAX}. */
  requestsInFlightMax?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

/** Default bound on book requests in flight at once. */
export const OKX_BOOK_REQUESTS_IN_FLIGHT_MAX = 2;
/** Block after a 429 without Retry-After: OKX's rate-limit window is 2 s. */
export const OKX_RATE_LIMIT_BLOCK_MS_DEFAULT = 2_000;
/** Cap on how long a Retry-After may block calls, ms. */
const RETRY_AFTER_MS_MAX = 10 * 60 * 1000;

/** Paced client of the REST book endpoint. */
export class OkxBookRest {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #inFlightMax: number;
  readonly #fetch: typeof fetch;
  #inFlight = 0;
  readonly #waiters: (() => void)[] = [];
  #blockedUntilMs = 0;
  /** Requests sent, failures, calls refused while blocked by a 429, and 429s received. */
  readonly stats = { requests: 0, failures: 0, refusedWhileBlocked: 0, rateLimited: 0 };
  /** Highest number of requests seen in flight at once. */
  inFlightPeak = 0;

  /** A client; nothing is sent until {@linkcode OkxBookRest.books}. */
  constructor(opts: OkxBookRestOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#inFlightMax = opts.requestsInFlightMax ?? OKX_BOOK_REQUESTS_IN_FLIGHT_MAX;
    this.#fetch = opts.fetch ?? fetch;
    if (!(Number.isInteger(this.#inFlightMax) && this.#inFlightMax >= 1)) {
      throw new RangeError(
        `requestsInFlightMax: expected an integer >= 1, found ${opts.requestsInFlightMax}`,
      );
    }
  }

  /**
   * `GET /api/v5/market/books?instId=&sz=` (`sz` levels per side, capped at 400). Waits for a
   * free slot first; throws {@linkcode OkxRestError} on HTTP, body or rate-limit errors and
   * rejects when `signal` aborts.
   */
  async books(
    instId: string,
    opts: { sz?: number; signal?: AbortSignal } = {},
  ): Promise<OkxRestBook> {
    const sz = Math.max(1, Math.min(400, opts.sz ?? 400));
    const path = `/api/v5/market/books?instId=${encodeURIComponent(instId)}&sz=${sz}`;
    await this.#slot(opts.signal);
    let body: unknown;
    try {
      body = await this.#get(path, opts.signal);
    } finally {
      this.#release();
    }
    const row = (body as { data?: unknown[] }).data?.[0] as Record<string, unknown> | undefined;
    const seqId = row?.seqId;
    if (typeof seqId !== "number" || !Number.isSafeInteger(seqId) || seqId < 0) {
      throw new OkxRestError(
        `GET ${path}: expected data[0].seqId as a non-negative integer, found ${String(seqId)}`,
        path,
        200,
        null,
        0,
      );
    }
    const tsMs = Number(row!.ts);
    return {
      seqId,
      bids: flatten(path, "bids", row!.bids),
      asks: flatten(path, "asks", row!.asks),
      tsMs: Number.isFinite(tsMs) ? tsMs : 0,
    };
  }

  async #slot(signal?: AbortSignal): Promise<void> {
    while (this.#inFlight >= this.#inFlightMax) {
      signal?.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const onAbort = () => resolve();
      signal?.addEventListener("abort", onAbort, { once: true });
      await promise;
      signal?.removeEventListener("abort", onAbort);
      const i = this.#waiters.indexOf(resolve);
      if (i >= 0) this.#waiters.splice(i, 1);
    }
    signal?.throwIfAborted();
    this.#inFlight++;
    this.inFlightPeak = Math.max(this.inFlightPeak, this.#inFlight);
  }

  #release(): void {
    this.#inFlight--;
    this.#waiters.shift()?.();
  }

  async #get(path: string, signal?: AbortSignal): Promise<unknown> {
    const now = Date.now();
    if (now < this.#blockedUntilMs) {
      // Calling again inside a rate-limit block only extends it: refuse locally.
      this.stats.refusedWhileBlocked++;
      const left = this.#blockedUntilMs - now;
      throw new OkxRestError(
        `GET ${path} not sent: rate limited for another ${left} ms`,
        path,
        0,
        null,
        left,
      );
    }
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(this.baseUrl + path, {
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      this.stats.failures++;
      throw new OkxRestError(
        `GET ${path} failed: ${(err as Error).name}: ${(err as Error).message}`,
        path,
        0,
        null,
        0,
      );
    }
    const body = parseBody(text);
    const code = typeof body?.code === "string" ? body.code : null;
    if (res.status === 200 && code === "0") return body;
    this.stats.failures++;
    let retryAfterMs = 0;
    // 50011: OKX's "too many requests" code (normally with HTTP 429).
    if (res.status === 429 || code === "50011") {
      this.stats.rateLimited++;
      const secs = Number(res.headers.get("retry-after"));
      retryAfterMs = Math.min(
        RETRY_AFTER_MS_MAX,
        Number.isFinite(secs) && secs > 0 ? secs * 1000 : OKX_RATE_LIMIT_BLOCK_MS_DEFAULT,
      );
      this.#blockedUntilMs = Math.max(this.#blockedUntilMs, Date.now() + retryAfterMs);
    }
    const msg = typeof body?.msg === "string" ? body.msg : text.slice(0, 200);
    throw new OkxRestError(
      `GET ${path}: expected HTTP 200 with code "0", found HTTP ${res.status} code ${code}: ${msg}`,
      path,
      res.status,
      code,
      retryAfterMs,
    );
  }
}

/** `[[px, sz, "0", n], ...]` -> `[px, sz, ...]`; throws on a malformed level. */
function flatten(path: string, side: string, levels: unknown): string[] {
  if (!Array.isArray(levels)) {
    throw new OkxRestError(
      `GET ${path}: expected ${side} as an array, found ${typeof levels}`,
      path,
      200,
      null,
      0,
    );
  }
  const out: string[] = [];
  for (const l of levels) {
    if (!Array.isArray(l) || typeof l[0] !== "string" || typeof l[1] !== "string") {
      throw new OkxRestError(
        `GET ${path}: expected ${side} levels as [price, size, ...] strings`,
        path,
        200,
        null,
        0,
      );
    }
    out.push(l[0], l[1]);
  }
  return out;
}

/** The decoded body, or null when it is not a JSON object (reported with the raw text). */
function parseBody(text: string): { code?: unknown; msg?: unknown } | null {
  try {
    const body = decodeJson(text, { provider: "okx" });
    return typeof body === "object" && body !== null
      ? body as { code?: unknown; msg?: unknown }
      : null;
  } catch {
    return null;
  }
}
