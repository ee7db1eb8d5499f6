/**
 * The gateway's HTTP face: health, readiness, Prometheus metrics and read-only status
 * (pools, codec engines). Control and data endpoints join it as the pipeline lands.
 *
 * @module
 */

import type { MetricsRegistry } from "../telemetry/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/metrics.ts";

/** What the server reads from the rest of the gateway; every member is cheap to call. */
export interface GatewayStatus {
  /** True once start-up checks passed and until shutdown begins. */
  ready(): boolean;
  /** Why the gateway is not ready (shown on /readyz). */
  notReadyReason(): string;
  /** Pool statistics (JSON-serialisable). */
  pools(): unknown;
  /** Which codec engines are active (JSON-serialisable). */
  codec(): unknown;
  metrics: MetricsRegistry;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Routes one request. Exposed for tests; {@linkcode startHttpServer} serves it.
 */
export function handleRequest(req: Request, status: GatewayStatus): Response {
  const url = new URL(req.url);
  if (req.method !== "GET" && req.method !== "HEAD") {
    return json(405, {
      error: `method ${req.method} not allowed on ${url.pathname}, expected GET`,
    });
  }
  switch (url.pathname) {
    case "/healthz":
      return json(200, { status: "ok" });
    case "/readyz":
      return status.ready()
        ? json(200, { status: "ready" })
        : json(503, { status: "not_ready", reason: status.notReadyReason() });
    case "/metrics":
      return new Response(status.metrics.render(), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    case "/v1/pools":
      return json(200, { pools: status.pools() });
    case "/v1/codec":
      return json(200, status.codec());
    default:
      return json(404, {
        error:
          `no route ${url.pathname}, expected one of /healthz /readyz /metrics /v1/pools /v1/codec`,
      });
  }
}

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  status: GatewayStatus;
  /** Called for a handler error (the client gets a 500). */
  onError?: (err: unknown) => void;
}

/** A running server. */
export interface RunningHttpServer {
  /** Actual bound address (port resolved when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** Stops accepting, finishes in-flight requests. */
  shutdown(): Promise<void>;
}

/** Starts serving; resolves once the socket listens. */
export function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: opts.host,
        port: opts.port,
        onListen: (addr) => {
          resolve({
            host: addr.hostname,
            port: addr.port,
            shutdown: () => server.shutdown(),
          });
        },
        onError: (err) => {
          opts.onError?.(err);
          return json(500, { error: "internal error; see the gateway log" });
        },
      }, (req) => handleRequest(req, opts.status));
    } catch (err) {
      reject(err);
    }
  });
}
