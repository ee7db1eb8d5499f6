/**
 * `/metrics` of the order side: the {@linkcode OrderGateway}'s counters, read at scrape time.
 *
 * @module
 */

import type { OrderGateway, OrderGatewayStats } from "../orders/mod.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";

/**
 * Registers `switchyard_orders_total{event}`: one series per counter of
 * {@linkcode OrderGatewayStats} (`submitted`, `duplicates`, `timeouts`, `fills_deduplicated`,
 * `reconciled`, ...), in snake_case.
 */
export function registerOrderMetrics(metrics: MetricsRegistry, orders: OrderGateway): void {
  const family = metrics.counter(
    "switchyard_orders_total",
    "Order gateway events: submits, refusals, sends, answers, de-duplicated fills, reconciled reports",
    ["event"],
  );
  const keys = Object.keys(orders.stats()) as (keyof OrderGatewayStats)[];
  const children = keys.map((k) => [k, family.labels(snakeCase(k))] as const);
  metrics.collect(() => {
    const stats = orders.stats();
    for (const [k, child] of children) child.syncTo(stats[k]);
  });
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
