/**
 * Binance Spot REST client for market data: exchangeInfo (symbols, filters) and depth snapshots.
 * Every call is bounded by a timeout; weight headers are tracked; 429/418 turn into a typed error
 * carrying Retry-After and block further calls until it has passed (hammering past a 429 gets
 * the IP banned).
 *
 * @module
 */

import { decodeJson } from "../../codec/mod.ts";
import { isDecimalString } from "../../schema/exact_values.ts";
import type { BinanceDepthSnapshot } from "./book_assembler.ts";

/** Trading rules of one symbol, as exchangeInfo states them (exact decimal strings). */
export interface BinanceSymbolInfo {
  /** Exchange symbol, `BTCUSDT`. */
  symbol: string;
  /** Canonical symbol, `BTC-USDT`. */
  canonical: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
}

/** A REST call that failed; `code`/`msg` are Binance's when the body carried them. */
export class BinanceRestError extends Error {
  override name = "BinanceRestError";
  constructor(
    message: string,
    readonly path: string,
    readonly status: number,
    readonly code: number | null,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Options of {@linkcode BinanceRest}. */
export interface BinanceRestOptions {
  /** `https://api.binance.com` live, or the simulator's URL. */
  baseUrl: string;
  /** Bound on one request, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /**
   * Depth snapshots in flight at once (default 2). Resyncing many symbols together must not
   * burst the weight budget: a 429 answered to one request gets the next one banned (418).
   */
  depthRequestsMax?: number;
}

/** Cap on how long a Retry-After may block calls, ms (Binance bans last up to 3 days). */
const RETRY_AFTER_MS_MAX = 3 * 24 * 3600 * 1000;

/** Market-data REST client. */
export class BinanceRest {
  readonly baseUrl: string;
  readonly requestTimeoutMs: number;
  readonly #fetch: typeof fetch;
  #blockedUntilMs = 0;
  readonly #depthRequestsMax: number;
  #depthInFlight = 0;
  readonly #depthWaiters: (() => void)[] = [];
  /** Last `X-MBX-USED-WEIGHT-1M` seen. */
  usedWeight1m = 0;
  /** Calls made, and calls refused locally while blocked by a Retry-After. */
  readonly stats = { requests: 0, failures: 0, refusedWhileBlocked: 0, rateLimited: 0 };

  constructor(opts: BinanceRestOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#fetch = opts.fetch ?? fetch;
    this.#depthRequestsMax = opts.depthRequestsMax ?? 2;
    if (!(this.#depthRequestsMax >= 1)) {
      throw new RangeError(`expected depthRequestsMax >= 1, found ${opts.depthRequestsMax}`);
    }
  }

  /** Waits for a depth slot; rejects when `signal` aborts first. */
  async #depthSlot(signal?: AbortSignal): Promise<void> {
    while (this.#depthInFlight >= this.#depthRequestsMax) {
      signal?.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#depthWaiters.push(resolve);
      const onAbort = () => resolve();
      signal?.addEventListener("abort", onAbort, { once: true });
      await promise;
      signal?.removeEventListener("abort", onAbort);
      const i = this.#depthWaiters.indexOf(resolve);
      if (i >= 0) this.#depthWaiters.splice(i, 1);
    }
    signal?.throwIfAborted();
    this.#depthInFlight++;
  }

  #releaseDepthSlot(): void {
    this.#depthInFlight--;
    this.#depthWaiters.shift()?.();
  }

  async #get(path: string, signal?: AbortSignal): Promise<unknown> {
    const now = Date.now();
    if (now < this.#blockedUntilMs) {
      this.stats.refusedWhileBlocked++;
      throw new BinanceRestError(
        `GET ${path} not sent: rate limited for another ${this.#blockedUntilMs - now} ms`,
        path,
        0,
        null,
        this.#blockedUntilMs - now,
      );
    }
    this.stats.requests++;
    let res: Response;
    try {
      res = await this.#fetch(this.baseUrl + path, {
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs)])
          : AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (err) {
      this.stats.failures++;
      throw new BinanceRestError(
        `GET ${path} failed: ${(err as Error).name}: ${(err as Error).message}`,
        path,
        0,
        null,
        0,
      );
    }
    const weight = Number(res.headers.get("x-mbx-used-weight-1m"));
    if (Number.isFinite(weight) && weight > 0) this.usedWeight1m = weight;
    const text = await res.text();
    if (res.status === 200) {
      return decodeJson(text, { provider: "binance" });
    }
    this.stats.failures++;
    let code: number | null = null;
    let msg = text.slice(0, 200);
    try {
      const body = decodeJson(text) as { code?: unknown; msg?: unknown };
      if (typeof body.code === "number") code = body.code;
      if (typeof body.msg === "string") msg = body.msg;
    } catch {
      // not JSON: keep the raw text in the message
    }
    let retryAfterMs = 0;
    if (res.status === 429 || res.status === 418) {
      this.stats.rateLimited++;
      const secs = Number(res.headers.get("retry-after"));
      retryAfterMs = Math.min(
        RETRY_AFTER_MS_MAX,
        Number.isFinite(secs) && secs > 0 ? secs * 1000 : 60_000,
      );
      this.#blockedUntilMs = Date.now() + retryAfterMs;
    }
    throw new BinanceRestError(
      `GET ${path}: HTTP ${res.status}${code !== null ? ` code ${code}` : ""}: ${msg}`,
      path,
      res.status,
      code,
      retryAfterMs,
    );
  }

  /** Symbols and their filters. Throws {@linkcode BinanceRestError} on a malformed reply. */
  async exchangeInfo(): Promise<BinanceSymbolInfo[]> {
    const path = "/api/v3/exchangeInfo";
    const body = await this.#get(path) as { symbols?: unknown };
    if (!Array.isArray(body?.symbols)) {
      throw new BinanceRestError(
        `GET ${path}: expected a symbols array, found none`,
        path,
        200,
        null,
        0,
      );
    }
    const out: BinanceSymbolInfo[] = [];
    for (const s of body.symbols as Record<string, unknown>[]) {
      if (
        typeof s?.symbol !== "string" || typeof s.baseAsset !== "string" ||
        typeof s.quoteAsset !== "string"
      ) {
        throw new BinanceRestError(
          `GET ${path}: expected symbol, baseAsset and quoteAsset strings`,
          path,
          200,
          null,
          0,
        );
      }
      const filters = Array.isArray(s.filters) ? s.filters as Record<string, unknown>[] : [];
      const filter = (type: string) => filters.find((f) => f?.filterType === type) ?? {};
      const dec = (v: unknown) => (isDecimalString(v) ? v : "0");
      const notional = filter("NOTIONAL");
      out.push({
        symbol: s.symbol,
        canonical: `${s.baseAsset}-${s.quoteAsset}`,
        status: typeof s.status === "string" ? s.status : "",
        baseAsset: s.baseAsset,
        quoteAsset: s.quoteAsset,
        tickSize: dec(filter("PRICE_FILTER").tickSize),
        stepSize: dec(filter("LOT_SIZE").stepSize),
        minQty: dec(filter("LOT_SIZE").minQty),
        minNotional: dec(notional.minNotional ?? filter("MIN_NOTIONAL").minNotional),
      });
    }
    return out;
  }

  /**
   * `GET /api/v3/depth` with levels flattened to `[price, qty, ...]`. `limit` (default 1000:
   * weight 50, where 5000 costs 250) is capped at 5000 as Binance does.
   */
  async depth(
    symbol: string,
    opts: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<BinanceDepthSnapshot> {
    const limit = Math.min(5000, opts.limit ?? 1000);
    const path = `/api/v3/depth?symbol=${encodeURIComponent(symbol)}&limit=${limit}`;
    await this.#depthSlot(opts.signal);
    let body: { lastUpdateId?: unknown; bids?: unknown; asks?: unknown };
    try {
      body = await this.#get(path, opts.signal) as typeof body;
    } finally {
      this.#releaseDepthSlot();
    }
    if (!Number.isSafeInteger(body?.lastUpdateId)) {
      throw new BinanceRestError(
        `GET ${path}: expected an integer lastUpdateId`,
        path,
        200,
        null,
        0,
      );
    }
    return {
      lastUpdateId: body.lastUpdateId as number,
      bids: flattenLevels(path, "bids", body.bids),
      asks: flattenLevels(path, "asks", body.asks),
    };
  }
}

function flattenLevels(path: string, side: string, levels: unknown): string[] {
  if (!Array.isArray(levels)) {
    throw new BinanceRestError(
      `GET ${path}: expected ${side} as an array, found ${typeof levels}`,
      path,
      200,
      null,
      0,
    );
  }
  const out: string[] = [];
  for (const lv of levels) {
    if (!Array.isArray(lv) || !isDecimalString(lv[0]) || !isDecimalString(lv[1])) {
      throw new BinanceRestError(
        `GET ${path}: expected ${side} levels as [price, qty] decimal strings`,
        path,
        200,
        null,
        0,
      );
    }
    out.push(lv[0], lv[1]);
  }
  return out;
}
