/**
 * The simulator's signed REST order endpoints (protocol notes §4, §5): `POST`, `DELETE` and
 * `GET /api/v3/order` and `GET /api/v3/openOrders`, verified as Binance does (raw query + raw
 * body, percent-encoded, `signature` removed; -2014/-2015/-1022/-1021/-1102) and answered with
 * Binance's bodies, `X-MBX-USED-WEIGHT-1M` and `{"code","msg"}` errors.
 *
 * @module
 */

import { jsonResponse } from "../rest_api.ts";
import type { WeightLimiter } from "../weight_limiter.ts";
import { BinanceApiError, verifyRestRequest } from "./request_auth.ts";
import type { BinanceSimOrders, OrderMethod } from "./sim_orders.ts";

/** Paths this module serves. */
export const REST_ORDER_PATHS: ReadonlySet<string> = new Set([
  "/api/v3/order",
  "/api/v3/openOrders",
]);

/** What the REST order endpoints need. */
export interface RestOrdersContext {
  readonly orders: BinanceSimOrders;
  readonly limiter: WeightLimiter;
  /** Wall clock of the simulator (weight windows), ms. */
  readonly clock: () => number;
  /** A sleep cut short when the simulator closes (response-delay fault). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** Answers a request to one of {@linkcode REST_ORDER_PATHS}. */
export async function handleRestOrderRequest(
  request: Request,
  ctx: RestOrdersContext,
): Promise<Response> {
  const url = new URL(request.url);
  const rawQuery = url.search.startsWith("?") ? url.search.slice(1) : url.search;
  const rawBody = request.body === null ? "" : await request.text();
  const method = methodOf(request.method, url.pathname);
  const used = () => ctx.limiter.used(ctx.clock());
  if (method === null) {
    return jsonResponse(405, {
      body: JSON.stringify({
        code: -1000,
        msg: `unsupported method ${request.method} on ${url.pathname}`,
      }),
      usedWeight: used(),
    });
  }
  // Documented weights: place/cancel 1, query 4, openOrders 6 with a symbol, 80 without.
  let weight = 1;
  if (method === "order.status") weight = 4;
  if (method === "openOrders.status") weight = url.searchParams.has("symbol") ? 6 : 80;
  const verdict = ctx.limiter.charge(weight, ctx.clock());
  if (verdict.kind !== "ok") {
    return jsonResponse(verdict.kind === "limited" ? 429 : 418, {
      body: JSON.stringify({ code: -1003, msg: "Too much request weight used." }),
      usedWeight: verdict.usedWeight,
      headers: { "Retry-After": String(verdict.retryAfterS) },
    });
  }
  // The query string wins when a parameter is in both (§3.1).
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(rawBody)) params.set(k, v);
  for (const [k, v] of url.searchParams) params.set(k, v);
  params.delete("signature");
  if (method === "order.place") ctx.orders.countPlaceRequest(params.get("newClientOrderId"));
  let account: string;
  try {
    account = verifyRestRequest(ctx.orders.accounts, {
      apiKey: request.headers.get("X-MBX-APIKEY"),
      rawQuery,
      rawBody,
      params,
      nowMs: ctx.orders.serverTimeMs(),
    }).apiKey;
  } catch (err) {
    if (!(err instanceof BinanceApiError)) throw err;
    return errorResponse(err.status, err.code, err.msg, used());
  }
  for (const name of ["apiKey", "recvWindow", "timestamp"]) params.delete(name);
  const outcome = ctx.orders.execute(method, { account, params });
  if (outcome.reportFirst) ctx.orders.deliver(outcome.events);
  if (outcome.delayMs > 0) await ctx.sleep(outcome.delayMs);
  let response: Response;
  if (outcome.unknown === "http5xx" || outcome.unknown === "drop") {
    // REST cannot "not answer" without holding the socket; a 503 is the REST form of it.
    response = errorResponse(
      503,
      -1007,
      "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
      used(),
    );
  } else if (outcome.unknown === "code1007") {
    response = errorResponse(
      400,
      -1007,
      "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
      used(),
    );
  } else {
    response = jsonResponse(outcome.status, {
      body: JSON.stringify(outcome.body),
      usedWeight: used(),
    });
  }
  if (!outcome.reportFirst) queueMicrotask(() => ctx.orders.deliver(outcome.events));
  return response;
}

function methodOf(httpMethod: string, path: string): OrderMethod | null {
  if (path === "/api/v3/openOrders") return httpMethod === "GET" ? "openOrders.status" : null;
  switch (httpMethod) {
    case "POST":
      return "order.place";
    case "DELETE":
      return "order.cancel";
    case "GET":
      return "order.status";
    default:
      return null;
  }
}

function errorResponse(status: number, code: number, msg: string, usedWeight: number): Response {
  return jsonResponse(status, { body: JSON.stringify({ code, msg }), usedWeight });
}
