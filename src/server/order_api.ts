/**
 * The HTTP routes of the order plane (MISSION R-11, R-12, R-14). Every route takes a bearer
 * token (`Authorization: Bearer <token>`); the consumer need not be connected.
 *
 * | route | method | token | answer |
 * | --- | --- | --- | --- |
 * | `/v1/consumers/{id}/orders` | POST | `{id}`'s | `order_submit` fields → `ack` |
 * | `/v1/consumers/{id}/orders/cancel` | POST | `{id}`'s | `order_cancel` fields → `ack` |
 * | `/v1/consumers/{id}/orders?limit=` | GET | `{id}`'s or admin | `{consumer_id, orders}`, newest first |
 * | `/v1/trading/{id}` | GET | `{id}`'s or admin | `{consumer_id, enabled}` |
 * | `/v1/trading/{id}` | PUT | admin; `{id}`'s may only disable | `{"enabled": bool}` → `ack` |
 *
 * Command routes answer an `ack` whatever the outcome, with the status: 200 ok; 400 invalid
 * body or order; 401 missing or wrong token (with `www-authenticate: Bearer`); 403 `forbidden`
 * or `trading_disabled`; 404 `unknown_order`; 409 `duplicate_client_order_id`; 413 body too
 * large; 503 no order gateway, venue unavailable, internal error. Each command's outcome is
 * counted in `switchyard_order_commands_total{surface="http",outcome}`.
 *
 * @module
 */

import {
  type AckError,
  commandFromWire,
  type ControlCommand,
  errorAck,
  isConsumerId,
  requestIdOf,
  SCHEMA_VERSION,
  WireFormatError,
} from "../schema/mod.ts";
import { bearerToken, type TokenRole } from "./consumer_auth.ts";
import { ackResponse, errorResponse, jsonResponse, methodNotAllowed } from "./http_response.ts";
import { applyOrderCommand, type OrderCommand, unauthorizedMessage } from "./order_commands.ts";
import { httpStatusOfOrder, type OrderCommandOutcome, type OrderControl } from "./order_control.ts";
import { ORDER_CODES } from "./order_desk.ts";
import { BODY_BYTES_MAX_DEFAULT, readJsonBody } from "./request_body.ts";

/** Default `limit` of the order list. */
export const ORDERS_LIMIT_DEFAULT = 100;
/** Largest `limit` of the order list. */
export const ORDERS_LIMIT_MAX = 1000;
/** Default `req_id` of an HTTP order command that names none. */
const HTTP_REQ_ID = "http";
const LIMIT_RE = /^[0-9]{1,7}$/;
const UNAUTHORIZED_HEADERS = { "www-authenticate": "Bearer" };

/** What the order routes read. */
export interface OrderApiContext {
  /** The order plane; absent: every order route answers 503. */
  orders?: OrderControl;
  /** Largest request body, bytes. Default 64 KiB. */
  bodyBytesMax?: number;
}

/**
 * `/v1/consumers/{id}/orders[/cancel]`: `rest` is what follows `orders` in the path. Null when
 * the path names no order route.
 */
export function routeConsumerOrders(
  req: Request,
  id: string,
  rest: readonly string[],
  ctx: OrderApiContext,
): Response | Promise<Response> | null {
  if (rest.length === 0) {
    switch (req.method) {
      case "GET":
      case "HEAD":
        return listOrders(req, id, ctx.orders);
      case "POST":
        return orderCommandRoute(req, id, "order_submit", ctx);
      default:
        return methodNotAllowed(req, ["GET", "HEAD", "POST"]);
    }
  }
  if (rest.length === 1 && rest[0] === "cancel") {
    if (req.method !== "POST") return methodNotAllowed(req, ["POST"]);
    return orderCommandRoute(req, id, "order_cancel", ctx);
  }
  return null;
}

/** `/v1/trading/{id}`: `segments` are the path segments after `/v1/`. Null when no route. */
export function routeTrading(
  req: Request,
  segments: readonly string[],
  ctx: OrderApiContext,
): Response | Promise<Response> | null {
  if (segments.length !== 2) return null;
  const id = segments[1];
  switch (req.method) {
    case "GET":
    case "HEAD": {
      const checked = readAccess(req, id, ctx.orders);
      if (checked instanceof Response) return checked;
      return jsonResponse(200, {
        consumer_id: id,
        enabled: checked.desk.tradingEnabled(id),
      });
    }
    case "PUT":
      return orderCommandRoute(req, id, "trading", ctx);
    default:
      return methodNotAllowed(req, ["GET", "HEAD", "PUT"]);
  }
}

/** GET `/v1/consumers/{id}/orders`: the consumer's recent orders. */
function listOrders(req: Request, id: string, control: OrderControl | undefined): Response {
  const checked = readAccess(req, id, control);
  if (checked instanceof Response) return checked;
  const params = new URL(req.url).searchParams;
  for (const name of params.keys()) {
    if (name !== "limit") {
      return errorResponse(
        400,
        `expected only the query parameter "limit", found "${name.slice(0, 40)}"`,
      );
    }
  }
  const limits = params.getAll("limit");
  let limit = ORDERS_LIMIT_DEFAULT;
  if (limits.length > 0) {
    const text = limits[0];
    limit = limits.length === 1 && LIMIT_RE.test(text) ? Number(text) : NaN;
    if (!(limit >= 1 && limit <= ORDERS_LIMIT_MAX)) {
      return errorResponse(
        400,
        `expected limit to be given once, an integer from 1 to ${ORDERS_LIMIT_MAX}, found ${
          limits.length === 1 ? `"${text.slice(0, 40)}"` : `${limits.length} values`
        }`,
      );
    }
  }
  return jsonResponse(200, { consumer_id: id, orders: checked.desk.orders(id, limit) });
}

/** The desk when the request may read `id`'s order state (own token or admin), else the error. */
function readAccess(
  req: Request,
  id: string,
  control: OrderControl | undefined,
): Response | { desk: NonNullable<OrderControl["desk"]> } {
  const desk = control?.desk;
  if (control === undefined || desk === undefined) return noDesk();
  if (!isConsumerId(id)) return badId(id);
  const role = control.auth.role(id, bearerToken(req.headers));
  if (role === "owner" || role === "admin") return { desk };
  return errorResponse(401, unauthorizedMessage({ consumerId: id, role, surface: "http" }), {
    headers: UNAUTHORIZED_HEADERS,
  });
}

/** POST orders, POST orders/cancel, PUT trading: authenticate, parse, apply, count. */
async function orderCommandRoute(
  req: Request,
  id: string,
  type: OrderCommand["type"],
  ctx: OrderApiContext,
): Promise<Response> {
  const control = ctx.orders;
  if (control === undefined || control.desk === undefined) {
    await req.body?.cancel();
    control?.count("http", "unavailable");
    return ackResponse(
      503,
      errorAck("", {
        code: ORDER_CODES.notSupported,
        message: `expected an order gateway behind ${type}, found none configured on this gateway`,
      }),
    );
  }
  const count = (outcome: OrderCommandOutcome, status: number, error: AckError, reqId = "") => {
    control.count("http", outcome);
    return ackResponse(status, errorAck(reqId, error), authHeaders(status));
  };
  if (!isConsumerId(id)) {
    await req.body?.cancel();
    return count("invalid", 400, { code: "invalid_field", message: badIdMessage(id) });
  }
  // The credential is checked before the body is read: nothing of an unauthenticated request
  // is parsed.
  const role: TokenRole = control.auth.role(id, bearerToken(req.headers));
  if (role === "none" || role === "invalid") {
    await req.body?.cancel();
    return count("unauthorized", 401, {
      code: ORDER_CODES.unauthorized,
      message: unauthorizedMessage({ consumerId: id, role, surface: "http" }),
    });
  }
  const body = await readJsonBody(req, { bytesMax: ctx.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT });
  if (!body.ok) return count("invalid", body.status, { code: body.code, message: body.message });
  const raw = body.value;
  const reqId = requestIdOf(raw);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return count("invalid", 400, {
      code: "not_an_object",
      message: `expected a JSON object with the ${type} fields, found ${
        Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw
      }`,
    });
  }
  const fields = raw as Record<string, unknown>;
  if (fields.type !== undefined && fields.type !== type) {
    return count("invalid", 400, {
      code: "invalid_field",
      message: `expected type "${type}" or none, found ${
        typeof fields.type === "string" ? `"${fields.type.slice(0, 40)}"` : typeof fields.type
      }`,
    }, reqId);
  }
  if (type === "trading" && fields.consumer_id !== undefined && fields.consumer_id !== id) {
    return count("invalid", 400, {
      code: "invalid_field",
      message: `expected consumer_id "${id}" (the id in the path) or none, found ${
        typeof fields.consumer_id === "string"
          ? `"${fields.consumer_id.slice(0, 80)}"`
          : typeof fields.consumer_id
      }`,
    }, reqId);
  }
  const wire: Record<string, unknown> = { v: SCHEMA_VERSION, req_id: HTTP_REQ_ID, ...fields, type };
  if (type === "trading") wire.consumer_id = id;
  let cmd: ControlCommand;
  try {
    cmd = commandFromWire(wire);
  } catch (err) {
    if (!(err instanceof WireFormatError)) throw err;
    return count("invalid", 400, { code: err.code, message: err.message }, reqId);
  }
  const result = applyOrderCommand(cmd as OrderCommand, {
    control,
    consumerId: id,
    role,
    surface: "http",
  });
  control.count("http", result.orderOutcome);
  const status = httpStatusOfOrder(result.orderOutcome, result.ack.error?.code ?? "");
  return ackResponse(status, result.ack, authHeaders(status));
}

/** A 401 names the scheme the client should use. */
function authHeaders(status: number): { headers: HeadersInit } | undefined {
  return status === 401 ? { headers: UNAUTHORIZED_HEADERS } : undefined;
}

function noDesk(): Response {
  return errorResponse(
    503,
    "expected an order gateway behind the order routes, found none configured on this gateway",
  );
}

function badId(id: string): Response {
  return errorResponse(400, badIdMessage(id));
}

function badIdMessage(id: string): string {
  return `expected a consumer id of 1..64 of A-Z a-z 0-9 . _ : - in the path, found "${
    id.slice(0, 80)
  }"`;
}
