/**
 * The HTTP control API: JSON routes that mirror the WebSocket commands and show the control
 * plane's state.
 *
 * | route | methods | answer |
 * | --- | --- | --- |
 * | `/v1/routing` | GET | routing-table snapshot with its version |
 * | `/v1/consumers` | GET | every live consumer with its counters (and its connection's) |
 * | `/v1/consumers/{id}` | GET | one consumer |
 * | `/v1/consumers/{id}/subscriptions` | GET, POST, DELETE | list; subscribe; unsubscribe (ack) |
 * | `/v1/consumers/{id}/merged-subscriptions` | GET, POST, DELETE | list; merged_subscribe; merged_unsubscribe (ack) |
 * | `/v1/books` | GET | per-symbol book sync state |
 * | `/v1/books/{provider}/{symbol}` | GET | one book's state |
 * | `/v1/consumers/{id}/orders` | POST, GET | order_submit (ack); recent orders (`?limit=`) |
 * | `/v1/consumers/{id}/orders/cancel` | POST | order_cancel (ack) |
 * | `/v1/trading/{id}` | GET, PUT | the trading switch; set it (`{"enabled": bool}`, ack) |
 *
 * Subscription changes take the fields of the WebSocket command (`provider`, `symbol`, `kind`,
 * optionally `req_id`, `v`, and `type` when it matches the method) and answer with the same
 * `ack` object, whatever the outcome; the HTTP status mirrors it (200, 400, 404, 409, 413).
 *
 * The order routes (`order_api.ts`) need a bearer token: the consumer's trading token, or the
 * admin token where allowed; the consumer need not be connected. Statuses: 200, 400, 401, 403,
 * 404 (`unknown_order`), 409 (`duplicate_client_order_id`), 413, 503 (no order gateway).
 *
 * @module
 */

import type { Consumer, ConsumerRegistry } from "../consumer/mod.ts";
import { type AckError, errorAck, requestIdOf, SCHEMA_VERSION } from "../schema/mod.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import { type CommandOutcome, handleCommandValue } from "./command_handler.ts";
import type { GatewayStatus } from "./gateway_status.ts";
import { routeConsumerOrders, routeTrading } from "./order_api.ts";
import type { OrderControl } from "./order_control.ts";
import { ackResponse, errorResponse, jsonResponse, methodNotAllowed } from "./http_response.ts";
import { BODY_BYTES_MAX_DEFAULT, readJsonBody } from "./request_body.ts";
import type { StreamServer } from "./stream_server.ts";

export { methodNotAllowed };

const READ_METHODS: readonly string[] = ["GET", "HEAD"];
/** Path segment of a consumer's merged subscriptions. */
const MERGED_SUBSCRIPTIONS_SEGMENT = "merged-subscriptions";
/** Path segment of a consumer's orders. */
const ORDERS_SEGMENT = "orders";

/** Default `req_id` of an HTTP subscription command that names none. */
export const HTTP_REQ_ID_DEFAULT = "http";

/** Counters of the HTTP subscription commands. */
export interface ControlCounters {
  /** Commands carried out. */
  applied: number;
  /** Commands refused as unreadable or invalid (body, JSON, schema). */
  rejected: number;
  /** Commands the routing table refused. */
  refused: number;
  /** Commands naming no live consumer. */
  unknownConsumer: number;
}

/** Fresh control counters, all zero. */
export function newControlCounters(): ControlCounters {
  return { applied: 0, rejected: 0, refused: 0, unknownConsumer: 0 };
}

/** Registers `switchyard_http_control_commands_total{outcome}`, read from `counters`. */
export function registerControlMetrics(metrics: MetricsRegistry, counters: ControlCounters): void {
  const family = metrics.counter(
    "switchyard_http_control_commands_total",
    "HTTP subscription commands, by outcome",
    ["outcome"],
  );
  const children = (Object.keys(counters) as (keyof ControlCounters)[]).map((k) =>
    [k, family.labels(snakeCase(k))] as const
  );
  metrics.collect(() => {
    for (const [k, child] of children) child.syncTo(counters[k]);
  });
}

/** What the control routes read. */
export interface ControlContext {
  /** The gateway's status sources. */
  status: GatewayStatus;
  /** The WebSocket endpoint, for per-connection counters. */
  stream?: StreamServer;
  /** Largest request body, bytes. Default 64 KiB. */
  bodyBytesMax?: number;
  /** Where HTTP commands are counted. */
  counters?: ControlCounters;
  /** The order plane behind the order and trading routes (absent: they answer 503). */
  orders?: OrderControl;
}

/**
 * Answers a control route, or returns null when `req` names none (the caller answers 404).
 */
export function routeControl(
  req: Request,
  ctx: ControlContext,
): Response | Promise<Response> | null {
  const path = new URL(req.url).pathname;
  const parts = path.split("/");
  // parts[0] is "" (leading slash); parts[1] is "v1".
  if (parts[1] !== "v1") return null;
  let segments: string[];
  try {
    segments = parts.slice(2).map(decodeURIComponent);
  } catch {
    return errorResponse(400, `expected a percent-encoded path, found "${path.slice(0, 200)}"`);
  }
  switch (segments[0]) {
    case "routing":
      if (segments.length !== 1) return null;
      return readOnly(req) ?? routingRoute(ctx.status);
    case "consumers":
      return consumersRoute(req, segments, ctx);
    case "books":
      if (segments.length !== 1 && segments.length !== 3) return null;
      return readOnly(req) ?? booksRoute(ctx.status, segments);
    case "trading":
      return routeTrading(req, segments, ctx);
    default:
      return null;
  }
}

function consumersRoute(
  req: Request,
  segments: string[],
  ctx: ControlContext,
): Response | Promise<Response> | null {
  if (segments.length === 1) {
    return readOnly(req) ?? listConsumers(ctx);
  }
  const id = segments[1];
  if (segments.length === 2) {
    return readOnly(req) ?? oneConsumer(ctx, id);
  }
  if (segments[2] === ORDERS_SEGMENT) {
    return routeConsumerOrders(req, id, segments.slice(3), ctx);
  }
  if (segments.length !== 3) return null;
  if (segments[2] === MERGED_SUBSCRIPTIONS_SEGMENT) return mergedRoute(req, id, ctx);
  if (segments[2] !== "subscriptions") return null;
  switch (req.method) {
    case "GET":
    case "HEAD": {
      const found = findConsumer(ctx, id);
      if (found instanceof Response) return found;
      return jsonResponse(200, { consumer_id: id, subscriptions: found.subscriptions() });
    }
    case "POST":
      return changeSubscription(req, id, "subscribe", ctx);
    case "DELETE":
      return changeSubscription(req, id, "unsubscribe", ctx);
    default:
      return methodNotAllowed(req, ["GET", "HEAD", "POST", "DELETE"]);
  }
}

/** `/v1/consumers/{id}/merged-subscriptions`: list, add (POST) or remove (DELETE). */
function mergedRoute(
  req: Request,
  id: string,
  ctx: ControlContext,
): Response | Promise<Response> {
  switch (req.method) {
    case "GET":
    case "HEAD": {
      const found = findConsumer(ctx, id);
      if (found instanceof Response) return found;
      return jsonResponse(200, {
        consumer_id: id,
        merged_subscriptions: found.mergedSubscriptions().map((m) => ({
          symbol: m.symbol,
          kind: m.kind,
          providers: m.providers,
          window_ms: m.windowMs,
          max_events: m.maxEvents,
          partial_policy: m.partialPolicy,
        })),
      });
    }
    case "POST":
      return changeSubscription(req, id, "merged_subscribe", ctx);
    case "DELETE":
      return changeSubscription(req, id, "merged_unsubscribe", ctx);
    default:
      return methodNotAllowed(req, ["GET", "HEAD", "POST", "DELETE"]);
  }
}

function routingRoute(status: GatewayStatus): Response {
  if (status.routing === undefined) return notWired("the routing table");
  return jsonResponse(200, status.routing());
}

function booksRoute(status: GatewayStatus, segments: string[]): Response {
  if (status.books === undefined) return notWired("book state");
  const books = status.books();
  if (segments.length === 1) return jsonResponse(200, { books });
  const [, provider, symbol] = segments;
  const book = books.find((b) => b.provider === provider && b.symbol === symbol);
  if (book === undefined) {
    return errorResponse(
      404,
      `expected a tracked book (GET /v1/books lists ${books.length}), found none for provider "${provider}" symbol "${symbol}"`,
    );
  }
  return jsonResponse(200, book);
}

function listConsumers(ctx: ControlContext): Response {
  const registry = ctx.status.consumers;
  if (registry === undefined) return notWired("the consumer registry");
  const body: Record<string, unknown> = {
    consumers: registry.list().map((c) => consumerEntry(c, ctx.stream)),
  };
  if (ctx.stream !== undefined) body.stream = ctx.stream.stats();
  return jsonResponse(200, body);
}

function oneConsumer(ctx: ControlContext, id: string): Response {
  const found = findConsumer(ctx, id);
  if (found instanceof Response) return found;
  return jsonResponse(200, consumerEntry(found, ctx.stream));
}

function consumerEntry(consumer: Consumer, stream: StreamServer | undefined) {
  const session = stream?.session(consumer.id);
  let connection: Record<string, unknown> | null = null;
  if (session !== undefined && session.consumer === consumer) {
    const { consumer: _own, ...rest } = session.stats();
    connection = rest;
  }
  return {
    id: consumer.id,
    transport: connection === null ? "in_process" : "websocket",
    subscriptions: consumer.subscriptions(),
    stats: consumer.stats(),
    connection,
  };
}

function findConsumer(ctx: ControlContext, id: string): Consumer | Response {
  const registry: ConsumerRegistry | undefined = ctx.status.consumers;
  if (registry === undefined) return notWired("the consumer registry");
  const consumer = registry.get(id);
  if (consumer === undefined) return errorResponse(404, unknownConsumerMessage(id));
  return consumer;
}

async function changeSubscription(
  req: Request,
  id: string,
  type: "subscribe" | "unsubscribe" | "merged_subscribe" | "merged_unsubscribe",
  ctx: ControlContext,
): Promise<Response> {
  const counters = ctx.counters ?? newControlCounters();
  const registry = ctx.status.consumers;
  if (registry === undefined) {
    await req.body?.cancel();
    return notWired("the consumer registry");
  }
  const body = await readJsonBody(req, { bytesMax: ctx.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT });
  if (!body.ok) {
    counters.rejected++;
    return ackResponse(body.status, errorAck("", { code: body.code, message: body.message }));
  }
  const raw = body.value;
  const reqId = requestIdOf(raw);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    counters.rejected++;
    return ackResponse(
      400,
      errorAck("", {
        code: "not_an_object",
        message: `expected a JSON object with the ${type} fields, found ${
          Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw
        }`,
      }),
    );
  }
  const fields = raw as Record<string, unknown>;
  if (fields.type !== undefined && fields.type !== type) {
    counters.rejected++;
    return ackResponse(
      400,
      errorAck(reqId, {
        code: "invalid_field",
        message: `expected type "${type}" (${req.method}) or none, found ${
          typeof fields.type === "string" ? `"${fields.type.slice(0, 40)}"` : typeof fields.type
        }`,
      }),
    );
  }
  const consumer = registry.get(id);
  if (consumer === undefined) {
    counters.unknownConsumer++;
    const error: AckError = { code: "unknown_consumer", message: unknownConsumerMessage(id) };
    return ackResponse(404, errorAck(reqId, error));
  }
  const command = { v: SCHEMA_VERSION, req_id: HTTP_REQ_ID_DEFAULT, ...fields, type };
  const outcome: CommandOutcome = handleCommandValue(command, consumer);
  switch (outcome.status) {
    case "applied":
      counters.applied++;
      return ackResponse(200, outcome.ack);
    case "refused":
      counters.refused++;
      return ackResponse(409, outcome.ack);
    case "rejected":
    case "unsupported":
      counters.rejected++;
      return ackResponse(400, outcome.ack);
  }
}

function unknownConsumerMessage(id: string): string {
  return `expected a live consumer id (connect to /v1/stream?consumer=<id> first), found no consumer "${
    id.slice(0, 80)
  }"`;
}

function notWired(what: string): Response {
  return errorResponse(503, `expected the gateway to provide ${what}, found none wired`);
}

/** 405 unless `req` reads. */
function readOnly(req: Request): Response | null {
  if (req.method === "GET" || req.method === "HEAD") return null;
  return methodNotAllowed(req, READ_METHODS);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}
