/**
 * The public market-data REST endpoints of the Binance simulator: `/api/v3/ping`,
 * `/api/v3/time`, `/api/v3/exchangeInfo` and `/api/v3/depth`, with request weights,
 * `X-MBX-USED-WEIGHT-1M`, 429/418 rate limiting and Binance's `{"code","msg"}` errors.
 *
 * @module
 */

import type { WeightLimiter } from "./weight_limiter.ts";

/** What the REST layer needs from the simulator. */
export interface RestContext {
  /** Wall clock, ms since the epoch. */
  readonly clock: () => number;
  /** Request-weight accounting. */
  readonly limiter: WeightLimiter;
  /** Symbols served, upper case. */
  readonly hasSymbol: (symbol: string) => boolean;
  /** exchangeInfo body for the given symbols (all when null). */
  readonly exchangeInfo: (symbols: readonly string[] | null) => string;
  /** Depth body (`{"lastUpdateId","bids","asks"}` JSON) for a known symbol. */
  readonly depth: (symbol: string, limit: number) => Promise<string>;
  /** Server time of `/api/v3/time` (the order side's skewable clock; default `clock`). */
  readonly serverTime?: () => number;
}

const JSON_TYPE = "application/json;charset=UTF-8";
const SYMBOL_RE = /^[A-Z0-9\-_.]{1,20}$/;
const UINT_RE = /^[0-9]{1,20}$/;
const DEPTH_LIMIT_DEFAULT = 100;
const DEPTH_LIMIT_MAX = 5000;
const SYMBOL_STATUSES = new Set(["TRADING", "END_OF_DAY", "HALT", "BREAK", "CANCEL_ONLY"]);

/** An error answer: HTTP status plus Binance code and message. */
class RestError {
  constructor(readonly status: number, readonly code: number, readonly msg: string) {}
}

/**
 * Answers one REST request, or returns null when the path is not a REST endpoint of the
 * simulator (the caller answers 404).
 */
export async function handleRestRequest(
  request: Request,
  ctx: RestContext,
): Promise<Response | null> {
  const url = new URL(request.url);
  const route = ROUTES.get(url.pathname);
  if (route === undefined) return null;
  if (request.method !== "GET") {
    const err = new RestError(405, -1000, `unsupported method ${request.method}: expected GET`);
    return errorResponse(err, ctx.limiter.used(ctx.clock()));
  }
  const params = url.searchParams;
  const verdict = ctx.limiter.charge(route.weight(params), ctx.clock());
  if (verdict.kind === "limited") {
    return jsonResponse(429, {
      body: errorBody(
        -1003,
        `Too much request weight used; current limit is ${verdict.limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      ),
      usedWeight: verdict.usedWeight,
      headers: { "Retry-After": String(verdict.retryAfterS) },
    });
  }
  if (verdict.kind === "banned") {
    return jsonResponse(418, {
      body: errorBody(
        -1003,
        `Way too much request weight used; IP banned until ${verdict.bannedUntilMs}. Please use WebSocket Streams for live updates to avoid bans.`,
      ),
      usedWeight: verdict.usedWeight,
      headers: { "Retry-After": String(verdict.retryAfterS) },
    });
  }
  try {
    const duplicate = firstDuplicate(params);
    if (duplicate !== null) {
      throw new RestError(400, -1101, "Duplicate values for a parameter detected.");
    }
    const body = await route.handle(params, ctx);
    return jsonResponse(200, { body, usedWeight: ctx.limiter.used(ctx.clock()) });
  } catch (err) {
    if (err instanceof RestError) return errorResponse(err, ctx.limiter.used(ctx.clock()));
    throw err;
  }
}

interface Route {
  weight(params: URLSearchParams): number;
  handle(params: URLSearchParams, ctx: RestContext): Promise<string> | string;
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["/api/v3/ping", { weight: () => 1, handle: () => "{}" }],
  ["/api/v3/time", {
    weight: () => 1,
    handle: (_p, ctx) => `{"serverTime":${(ctx.serverTime ?? ctx.clock)()}}`,
  }],
  ["/api/v3/exchangeInfo", { weight: () => 20, handle: handleExchangeInfo }],
  ["/api/v3/depth", { weight: depthWeight, handle: handleDepth }],
]);

/** Documented weights: limit 1-100 → 5, 101-500 → 25, 501-1000 → 50, 1001-5000 → 250. */
export function depthWeightOf(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

function depthWeight(params: URLSearchParams): number {
  const raw = params.get("limit");
  const limit = raw !== null && UINT_RE.test(raw)
    ? Math.min(Number(raw), DEPTH_LIMIT_MAX)
    : DEPTH_LIMIT_DEFAULT;
  return depthWeightOf(limit);
}

async function handleDepth(params: URLSearchParams, ctx: RestContext): Promise<string> {
  const symbol = requireSymbol(params, ctx);
  let limit = DEPTH_LIMIT_DEFAULT;
  const rawLimit = params.get("limit");
  if (rawLimit !== null) {
    if (!UINT_RE.test(rawLimit)) throw illegal("limit", "^[0-9]{1,20}$");
    limit = Math.min(Number(rawLimit), DEPTH_LIMIT_MAX);
    if (limit < 1) throw illegal("limit", "[1, 5000]");
  }
  const status = params.get("symbolStatus");
  if (status !== null) {
    if (!SYMBOL_STATUSES.has(status)) throw illegal("symbolStatus", "TRADING|HALT|BREAK");
    if (status !== "TRADING") {
      throw new RestError(
        400,
        -1220,
        "The symbol's status does not match the requested symbolStatus.",
      );
    }
  }
  return await ctx.depth(symbol, limit);
}

function handleExchangeInfo(params: URLSearchParams, ctx: RestContext): string {
  const selectors = ["symbol", "symbols", "permissions", "symbolStatus"].filter((k) =>
    params.has(k)
  );
  if (selectors.length > 1) {
    throw new RestError(400, -1128, "Combination of optional parameters invalid.");
  }
  if (params.has("symbol")) return ctx.exchangeInfo([requireSymbol(params, ctx)]);
  const rawSymbols = params.get("symbols");
  if (rawSymbols !== null) {
    let list: unknown;
    try {
      list = JSON.parse(rawSymbols);
    } catch {
      list = null;
    }
    if (
      !Array.isArray(list) || list.length === 0 ||
      !list.every((s) => typeof s === "string" && SYMBOL_RE.test(s))
    ) {
      throw illegal("symbols", '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$');
    }
    for (const s of list as string[]) {
      if (!ctx.hasSymbol(s)) throw new RestError(400, -1121, "Invalid symbol.");
    }
    return ctx.exchangeInfo(list as string[]);
  }
  const status = params.get("symbolStatus");
  if (status !== null) {
    if (!SYMBOL_STATUSES.has(status)) {
      throw illegal("symbolStatus", "TRADING|HALT|BREAK|END_OF_DAY|CANCEL_ONLY");
    }
    return ctx.exchangeInfo(status === "TRADING" ? null : []);
  }
  return ctx.exchangeInfo(null);
}

function requireSymbol(params: URLSearchParams, ctx: RestContext): string {
  const symbol = params.get("symbol");
  if (symbol === null || symbol === "") {
    throw new RestError(
      400,
      -1102,
      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    );
  }
  if (!SYMBOL_RE.test(symbol)) throw illegal("symbol", "^[A-Z0-9-_.]{1,20}$");
  if (!ctx.hasSymbol(symbol)) throw new RestError(400, -1121, "Invalid symbol.");
  return symbol;
}

function illegal(name: string, range: string): RestError {
  return new RestError(
    400,
    -1100,
    `Illegal characters found in parameter '${name}'; legal range is '${range}'.`,
  );
}

function firstDuplicate(params: URLSearchParams): string | null {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return null;
}

function errorBody(code: number, msg: string): string {
  return JSON.stringify({ code, msg });
}

function errorResponse(err: RestError, usedWeight: number): Response {
  return jsonResponse(err.status, { body: errorBody(err.code, err.msg), usedWeight });
}

/** A JSON response carrying `X-MBX-USED-WEIGHT-1M` (and any extra headers). */
export function jsonResponse(
  status: number,
  options: {
    readonly body: string;
    readonly usedWeight: number;
    readonly headers?: Record<string, string>;
  },
): Response {
  return new Response(options.body, {
    status,
    headers: {
      "Content-Type": JSON_TYPE,
      "X-MBX-USED-WEIGHT-1M": String(options.usedWeight),
      ...options.headers,
    },
  });
}
