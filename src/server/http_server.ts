/**
 * The gateway's HTTP face: health, readiness, Prometheus metrics, read-only status (pools, codec
 * engines), the consumer WebSocket endpoint (`/v1/stream`) and the HTTP control API
 * (`/v1/routing`, `/v1/consumers...`, `/v1/books...`, the order routes `/v1/consumers/{id}/orders...`
 * and `/v1/trading/{id}`) and the ops views (`/v1/dlq`,
 * `/v1/telemetry`).
 *
 * {@linkcode handleRequest} routes one request and is what tests call without a socket;
 * {@linkcode startHttpServer} serves it with `Deno.serve`.
 *
 * @module
 */

import type { MetricsRegistry } from "../telemetry/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/metrics.ts";
import {
  type ControlCounters,
  methodNotAllowed,
  newControlCounters,
  registerControlMetrics,
  routeControl,
} from "./control_api.ts";
import type { GatewayStatus } from "./gateway_status.ts";
import { errorResponse, jsonResponse } from "./http_response.ts";
import { DLQ_PATH, type OpsSources, routeOps, TELEMETRY_PATH } from "./ops_api.ts";
import type { OrderControl } from "./order_control.ts";
import { STREAM_PATH, type StreamServer } from "./stream_server.ts";

export type { GatewayStatus } from "./gateway_status.ts";

const READ_METHODS: readonly string[] = ["GET", "HEAD"];

/** Every route, as listed in the 404 answer. */
export const ROUTES: readonly string[] = [
  "/healthz",
  "/readyz",
  "/metrics",
  "/v1/pools",
  "/v1/codec",
  STREAM_PATH,
  "/v1/routing",
  "/v1/consumers",
  "/v1/consumers/{id}",
  "/v1/consumers/{id}/subscriptions",
  "/v1/consumers/{id}/merged-subscriptions",
  "/v1/consumers/{id}/orders",
  "/v1/consumers/{id}/orders/cancel",
  "/v1/trading/{id}",
  "/v1/books",
  "/v1/books/{provider}/{symbol}",
  DLQ_PATH,
  TELEMETRY_PATH,
];

/** Options of {@linkcode handleRequest}. */
export interface HandleRequestOptions {
  /** The WebSocket endpoint serving `/v1/stream` (absent: that route answers 503). */
  stream?: StreamServer;
  /** Largest control request body, bytes. Default 64 KiB. */
  bodyBytesMax?: number;
  /** Where HTTP subscription commands are counted. */
  counters?: ControlCounters;
  /** The dead-letter queue and telemetry bus behind `/v1/dlq` and `/v1/telemetry`. */
  ops?: OpsSources;
  /** The order plane behind the order and trading routes (absent: they answer 503). */
  orders?: OrderControl;
}

/**
 * Routes one request. Exposed for tests; {@linkcode startHttpServer} serves it.
 */
export async function handleRequest(
  req: Request,
  status: GatewayStatus,
  opts?: HandleRequestOptions,
): Promise<Response> {
  return await route(req, status, opts);
}

function route(
  req: Request,
  status: GatewayStatus,
  opts: HandleRequestOptions | undefined,
): Response | Promise<Response> {
  const path = new URL(req.url).pathname;
  const readOnly = req.method === "GET" || req.method === "HEAD";
  switch (path) {
    case "/healthz":
      if (!readOnly) return methodNotAllowed(req, READ_METHODS);
      return jsonResponse(200, { status: "ok" });
    case "/readyz":
      if (!readOnly) return methodNotAllowed(req, READ_METHODS);
      return status.ready()
        ? jsonResponse(200, { status: "ready" })
        : jsonResponse(503, { status: "not_ready", reason: status.notReadyReason() });
    case "/metrics":
      if (!readOnly) return methodNotAllowed(req, READ_METHODS);
      return new Response(status.metrics.render(), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    case "/v1/pools":
      if (!readOnly) return methodNotAllowed(req, READ_METHODS);
      return jsonResponse(200, { pools: status.pools() });
    case "/v1/codec":
      if (!readOnly) return methodNotAllowed(req, READ_METHODS);
      return jsonResponse(200, status.codec());
    case STREAM_PATH:
      if (req.method !== "GET") return methodNotAllowed(req, ["GET"]);
      if (opts?.stream === undefined) {
        return errorResponse(503, "expected the WebSocket endpoint to be enabled, found it off");
      }
      return opts.stream.upgrade(req);
  }
  const ops = routeOps(req, opts?.ops);
  if (ops !== null) return ops;
  const control = routeControl(req, {
    status,
    stream: opts?.stream,
    bodyBytesMax: opts?.bodyBytesMax,
    counters: opts?.counters,
    orders: opts?.orders,
  });
  if (control !== null) return control;
  return errorResponse(404, `no route ${path}, expected one of ${ROUTES.join(" ")}`);
}

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  /** Interface to bind (the config's job; the gateway's default is 127.0.0.1). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** What the routes read. */
  status: GatewayStatus;
  /** The WebSocket endpoint; closed (1001) at shutdown before the HTTP server stops. */
  stream?: StreamServer;
  /** Largest control request body, bytes. Default 64 KiB. */
  bodyBytesMax?: number;
  /** How long shutdown waits for WebSockets to finish closing, ms. Default 2000. */
  shutdownCloseTimeoutMs?: number;
  /** When given, the HTTP control counters are registered here. */
  metrics?: MetricsRegistry;
  /** The dead-letter queue and telemetry bus behind `/v1/dlq` and `/v1/telemetry`. */
  ops?: OpsSources;
  /**
   * The order plane behind the order and trading routes; pass the same object to the
   * `StreamServer` (it registers `switchyard_order_commands_total` once, when built with
   * `metrics`).
   */
  orders?: OrderControl;
  /** Called for a handler error (the client gets a 500). */
  onError?: (err: unknown) => void;
}

/** A running server. */
export interface RunningHttpServer {
  /** Actual bound address (port resolved when 0 was asked). */
  readonly host: string;
  /** Actual bound port. */
  readonly port: number;
  /** Counters of the HTTP subscription commands. */
  controlStats(): ControlCounters;
  /**
   * Closes every WebSocket (1001 "server shutting down", bounded wait), then stops accepting
   * and finishes in-flight requests. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** Starts serving; resolves once the socket listens. */
export function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const counters = newControlCounters();
  if (opts.metrics !== undefined) registerControlMetrics(opts.metrics, counters);
  const handleOpts: HandleRequestOptions = {
    stream: opts.stream,
    bodyBytesMax: opts.bodyBytesMax,
    counters,
    ops: opts.ops,
    orders: opts.orders,
  };
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: opts.host,
        port: opts.port,
        onListen: (addr) => {
          let stopping: Promise<void> | null = null;
          resolve({
            host: addr.hostname,
            port: addr.port,
            controlStats: () => ({ ...counters }),
            shutdown: () => {
              stopping ??= (async () => {
                await opts.stream?.close({ timeoutMs: opts.shutdownCloseTimeoutMs });
                await server.shutdown();
              })();
              return stopping;
            },
          });
        },
        onError: (err) => {
          opts.onError?.(err);
          return errorResponse(500, "internal error; see the gateway log");
        },
      }, (req) => handleRequest(req, opts.status, handleOpts));
    } catch (err) {
      reject(err);
    }
  });
}
