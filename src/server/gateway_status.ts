/**
 * GatewayStatus: everything the HTTP face reads from the rest of the gateway. Every member is
 * cheap to call; the optional ones are wired by the gateway as its parts land (a route whose
 * source is missing answers 503 saying so).
 *
 * @module
 */

import type { ConsumerRegistry } from "../consumer/mod.ts";
import type { RoutingSnapshot } from "../dispatcher/routing_table.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import type { BookStateView } from "./book_state_view.ts";

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
  /** The registry `/metrics` renders. */
  metrics: MetricsRegistry;
  /** Live consumers: `/v1/consumers` and the HTTP subscription commands act on them. */
  consumers?: ConsumerRegistry;
  /** The routing table as plain data (`/v1/routing`). */
  routing?(): RoutingSnapshot;
  /** Per-symbol book sync state (`/v1/books`). */
  books?(): BookStateView[];
}
