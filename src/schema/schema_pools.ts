/**
 * The six pools of the hot path, created in one place so every part of the gateway uses
 * the same names and capacities.
 *
 * @module
 */

import type { BoundedPool, PoolManager } from "../pool/mod.ts";
import { CanonicalEvent } from "./canonical_event.ts";
import { ExecReport } from "./exec_report.ts";
import { MergedEvent } from "./merged_event.ts";
import { OrderRequest } from "./order_request.ts";
import { ProviderRaw } from "./provider_raw.ts";
import { WsFrame } from "./ws_frame.ts";

/**
 * Default capacity of each pool, in objects in flight. A capacity bounds objects acquired and
 * not yet released; when it is reached, acquisition waits (≤ 100 ms) and then fails, which
 * callers turn into backpressure.
 */
export const DEFAULT_POOL_CAPACITIES: Readonly<SchemaPoolCapacities> = Object.freeze({
  WsFrame: 200,
  ProviderRaw: 200,
  CanonicalEvent: 300,
  MergedEvent: 50,
  // Orders in flight between a command and the exchange's answer (a round trip of tens of ms
  // on a real exchange): 256 sustains a few thousand orders/s. 20 (the seed's value) refused
  // bursts of a single strategy in the order tests and benchmark.
  OrderRequest: 256,
  ExecReport: 20,
});

/** Capacity per pooled type, in objects in flight. */
export interface SchemaPoolCapacities {
  WsFrame: number;
  ProviderRaw: number;
  CanonicalEvent: number;
  MergedEvent: number;
  OrderRequest: number;
  ExecReport: number;
}

/** Registry names of the six pools (used in stats, metrics and leak reports). */
export const SCHEMA_POOL_NAMES = {
  WsFrame: "ws_frame",
  ProviderRaw: "provider_raw",
  CanonicalEvent: "canonical_event",
  MergedEvent: "merged_event",
  OrderRequest: "order_request",
  ExecReport: "exec_report",
} as const;

/** The six pools, one per pooled schema type. */
export interface SchemaPools {
  wsFrame: BoundedPool<WsFrame>;
  providerRaw: BoundedPool<ProviderRaw>;
  canonicalEvent: BoundedPool<CanonicalEvent>;
  mergedEvent: BoundedPool<MergedEvent>;
  orderRequest: BoundedPool<OrderRequest>;
  execReport: BoundedPool<ExecReport>;
}

/**
 * Creates and registers the six pools with `manager`; `capacities` overrides the defaults per
 * type. Throws when a capacity is not an integer ≥ 1 (or the manager refuses a name).
 *
 * @example
 * ```ts
 * const pools = createSchemaPools(new PoolManager(), { CanonicalEvent: 4096 });
 * const ev = pools.canonicalEvent.tryAcquire();
 * ```
 */
export function createSchemaPools(
  manager: PoolManager,
  capacities?: Partial<SchemaPoolCapacities>,
): SchemaPools {
  const d = DEFAULT_POOL_CAPACITIES;
  const c: SchemaPoolCapacities = {
    WsFrame: capacities?.WsFrame ?? d.WsFrame,
    ProviderRaw: capacities?.ProviderRaw ?? d.ProviderRaw,
    CanonicalEvent: capacities?.CanonicalEvent ?? d.CanonicalEvent,
    MergedEvent: capacities?.MergedEvent ?? d.MergedEvent,
    OrderRequest: capacities?.OrderRequest ?? d.OrderRequest,
    ExecReport: capacities?.ExecReport ?? d.ExecReport,
  };
  for (const [type, capacity] of Object.entries(c)) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`expected ${type} pool capacity as an integer >= 1, found ${capacity}`);
    }
  }
  const n = SCHEMA_POOL_NAMES;
  return {
    wsFrame: manager.create({ name: n.WsFrame, capacity: c.WsFrame, create: () => new WsFrame() }),
    providerRaw: manager.create({
      name: n.ProviderRaw,
      capacity: c.ProviderRaw,
      create: () => new ProviderRaw(),
    }),
    canonicalEvent: manager.create({
      name: n.CanonicalEvent,
      capacity: c.CanonicalEvent,
      create: () => new CanonicalEvent(),
    }),
    mergedEvent: manager.create({
      name: n.MergedEvent,
      capacity: c.MergedEvent,
      create: () => new MergedEvent(),
    }),
    orderRequest: manager.create({
      name: n.OrderRequest,
      capacity: c.OrderRequest,
      create: () => new OrderRequest(),
    }),
    execReport: manager.create({
      name: n.ExecReport,
      capacity: c.ExecReport,
      create: () => new ExecReport(),
    }),
  };
}
