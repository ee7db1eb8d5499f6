import assert from "node:assert/strict";
import { hotPathCapacitiesFor } from "../../src/gateway/gateway.ts";
import { DEFAULT_POOL_CAPACITIES } from "../../src/schema/mod.ts";

Deno.test("hot-path pools left at their defaults scale with the exchanges carried", () => {
  const caps = hotPathCapacitiesFor(DEFAULT_POOL_CAPACITIES, 3);
  assert.equal(caps.WsFrame, DEFAULT_POOL_CAPACITIES.WsFrame * 3);
  assert.equal(caps.ProviderRaw, DEFAULT_POOL_CAPACITIES.ProviderRaw * 3);
  assert.equal(caps.CanonicalEvent, DEFAULT_POOL_CAPACITIES.CanonicalEvent * 3);
  // Not on the receive path: unchanged.
  assert.equal(caps.OrderRequest, DEFAULT_POOL_CAPACITIES.OrderRequest);
  assert.equal(caps.MergedEvent, DEFAULT_POOL_CAPACITIES.MergedEvent);
});

Deno.test("explicitly set capacities are kept as given", () => {
  const caps = hotPathCapacitiesFor({ ...DEFAULT_POOL_CAPACITIES, WsFrame: 77 }, 3);
  assert.equal(caps.WsFrame, 77);
  assert.equal(caps.ProviderRaw, DEFAULT_POOL_CAPACITIES.ProviderRaw * 3);
  assert.deepEqual(hotPathCapacitiesFor(DEFAULT_POOL_CAPACITIES, 1), DEFAULT_POOL_CAPACITIES);
});
