/**
 * Test endpoints of the simulated order side (not Binance's API):
 *
 * | request | effect |
 * |---|---|
 * | `GET /_sim/orders/stats` | `{"place_requests","accepted","rejected","place_requests_by_client_id"}` |
 * | `POST /_sim/orders/fill` `{"client_id","qty"?,"price"?,"account"?}` | fills an open order as maker |
 * | `POST /_sim/orders/expire` `{"client_id","account"?}` | expires an open order |
 * | `POST /_sim/orders/fault` with an `BinanceOrderFaultCommand` | injects or clears an order fault |
 *
 * @module
 */

import type { SimOrder } from "../../order_engine/mod.ts";
import { BinanceOrderFaultError } from "./order_faults.ts";
import { queryResponse } from "./order_wire.ts";
import type { BinanceSimOrders } from "./sim_orders.ts";

/** Answers a `/_sim/orders/...` request. */
export async function handleOrdersAdminRequest(
  request: Request,
  orders: BinanceSimOrders,
): Promise<Response> {
  const url = new URL(request.url);
  const route = `${request.method} ${url.pathname}`;
  if (route === "GET /_sim/orders/stats") return reply(200, orders.stats());
  let body: Record<string, unknown>;
  try {
    const text = await request.text();
    body = text === "" ? {} : JSON.parse(text);
    if (body === null || typeof body !== "object") throw new TypeError("not an object");
  } catch {
    return reply(400, { error: "expected a JSON object body" });
  }
  const clientId = typeof body.client_id === "string" ? body.client_id : "";
  const account = typeof body.account === "string" ? body.account : undefined;
  try {
    switch (route) {
      case "POST /_sim/orders/fill": {
        if (clientId === "") return reply(400, { error: "client_id: expected a string" });
        const order = orders.fill(clientId, {
          qty: typeof body.qty === "string" ? body.qty : undefined,
          price: typeof body.price === "string" ? body.price : undefined,
          account,
        });
        return orderReply(order, clientId);
      }
      case "POST /_sim/orders/expire": {
        if (clientId === "") return reply(400, { error: "client_id: expected a string" });
        return orderReply(orders.expire(clientId, { account }), clientId);
      }
      case "POST /_sim/orders/fault":
        return reply(200, { ok: true, ...orders.faults.apply(body) });
      default:
        return reply(404, { error: `unknown admin endpoint: ${route}` });
    }
  } catch (err) {
    if (err instanceof BinanceOrderFaultError || err instanceof RangeError) {
      return reply(400, { error: err.message });
    }
    throw err;
  }
}

function orderReply(order: SimOrder | undefined, clientId: string): Response {
  if (order === undefined) {
    return reply(404, { error: `client_id: expected an open order, found none for ${clientId}` });
  }
  const exchange = order.symbol.replace("-", "");
  const [base, quote] = order.symbol.split("-");
  return reply(200, { ok: true, order: queryResponse(order, { exchange, base, quote }) });
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}
