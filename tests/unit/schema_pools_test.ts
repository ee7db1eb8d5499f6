import assert from "node:assert/strict";
import { PoolManager } from "../../src/pool/mod.ts";
import {
  CanonicalEvent,
  createSchemaPools,
  DEFAULT_POOL_CAPACITIES,
  ExecReport,
  MergedEvent,
  OrderRequest,
  POISON_STRING,
  ProviderRaw,
  SCHEMA_POOL_NAMES,
  validateCanonicalEvent,
  WsFrame,
} from "../../src/schema/mod.ts";
import { sampleTrade } from "../support/schema_samples.ts";

Deno.test("createSchemaPools registers the six pools with the default capacities", async () => {
  const manager = new PoolManager();
  const pools = createSchemaPools(manager);
  assert.deepStrictEqual(
    manager.stats().map((s) => [s.name, s.capacity]),
    [
      ["ws_frame", 200],
      ["provider_raw", 200],
      ["canonical_event", 300],
      ["merged_event", 50],
      ["order_request", 256],
      ["exec_report", 20],
    ],
  );
  assert.deepStrictEqual(DEFAULT_POOL_CAPACITIES, {
    WsFrame: 200,
    ProviderRaw: 200,
    CanonicalEvent: 300,
    MergedEvent: 50,
    OrderRequest: 256,
    ExecReport: 20,
  });
  const frame = pools.wsFrame.tryAcquire();
  const raw = pools.providerRaw.tryAcquire();
  const event = pools.canonicalEvent.tryAcquire();
  const merged = pools.mergedEvent.tryAcquire();
  const order = pools.orderRequest.tryAcquire();
  const report = pools.execReport.tryAcquire();
  assert.ok(frame instanceof WsFrame);
  assert.ok(raw instanceof ProviderRaw);
  assert.ok(event instanceof CanonicalEvent);
  assert.ok(merged instanceof MergedEvent);
  assert.ok(order instanceof OrderRequest);
  assert.ok(report instanceof ExecReport);
  assert.strictEqual(manager.totalInFlight(), 6);
  pools.wsFrame.release(frame);
  pools.providerRaw.release(raw);
  pools.canonicalEvent.release(event);
  pools.mergedEvent.release(merged);
  pools.orderRequest.release(order);
  pools.execReport.release(report);
  assert.strictEqual(manager.totalInFlight(), 0);
  await manager.shutdown();
});

Deno.test("createSchemaPools takes capacities per type and rejects bad ones", async (t) => {
  await t.step("overrides apply, the rest keep defaults", async () => {
    const manager = new PoolManager();
    const pools = createSchemaPools(manager, { CanonicalEvent: 2, OrderRequest: undefined });
    assert.strictEqual(pools.canonicalEvent.capacity, 2);
    assert.strictEqual(pools.orderRequest.capacity, 256);
    assert.strictEqual(
      manager.get(SCHEMA_POOL_NAMES.CanonicalEvent),
      pools.canonicalEvent as never,
    );
    await manager.shutdown();
  });
  await t.step("zero or fractional capacity throws before any pool is made", () => {
    const manager = new PoolManager();
    assert.throws(
      () => createSchemaPools(manager, { MergedEvent: 0 }),
      /expected MergedEvent pool capacity as an integer >= 1, found 0/,
    );
    assert.throws(() => createSchemaPools(manager, { ExecReport: 1.5 }), /found 1.5/);
    assert.strictEqual(manager.pools().length, 0);
  });
});

Deno.test("a released event is reset; in debug mode it is poisoned until reacquired", async () => {
  const manager = new PoolManager({ debug: true });
  const pools = createSchemaPools(manager, { CanonicalEvent: 1 });
  const ev = pools.canonicalEvent.tryAcquire()!;
  ev.copyFrom(sampleTrade());
  pools.canonicalEvent.release(ev);
  // Use after release must fail loudly, not read stale data.
  assert.strictEqual(ev.provider, POISON_STRING);
  assert.notStrictEqual(validateCanonicalEvent(ev), null);
  const again = pools.canonicalEvent.tryAcquire()!;
  assert.strictEqual(again, ev);
  assert.deepStrictEqual(again.clone(), new CanonicalEvent().clone());
  pools.canonicalEvent.release(again);
  await manager.shutdown();
});
