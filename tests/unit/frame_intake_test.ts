import assert from "node:assert/strict";
import { DecodeError, decodeJson } from "../../src/codec/mod.ts";
import { FrameIntake, type FrameIntakePool } from "../../src/adapter/shared/frame_intake.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools, type SchemaPools } from "../../src/schema/schema_pools.ts";

interface Seen {
  routed: { provider: string; recvTsMs: number; body: unknown }[];
  exhausted: FrameIntakePool[];
  decodeErrors: string[];
}

function intakeFor(pools: SchemaPools, route?: () => void): { intake: FrameIntake; seen: Seen } {
  const seen: Seen = { routed: [], exhausted: [], decodeErrors: [] };
  const intake = new FrameIntake({
    provider: "test",
    pools,
    decode: (text, raw) => {
      raw.body = decodeJson(text, { provider: "test" });
    },
    route: (raw) => {
      seen.routed.push({ provider: raw.provider, recvTsMs: raw.recvTsMs, body: raw.body });
      route?.();
    },
    onPoolExhausted: (pool) => seen.exhausted.push(pool),
    onDecodeError: (err) => seen.decodeErrors.push(err.message),
  });
  return { intake, seen };
}

function assertAllFree(pools: SchemaPools): void {
  assert.equal(pools.wsFrame.stats().inFlight, 0);
  assert.equal(pools.providerRaw.stats().inFlight, 0);
}

Deno.test("frame intake decodes, stamps and routes a frame, then frees both pooled objects", () => {
  const pools = createSchemaPools(new PoolManager(), { WsFrame: 1, ProviderRaw: 1 });
  const { intake, seen } = intakeFor(pools);
  intake.receive('{"a":1}', 1_700_000_000_000, 3);
  intake.receive('{"a":2}', 1_700_000_000_001, 3);
  assert.deepEqual(seen.routed, [
    { provider: "test", recvTsMs: 1_700_000_000_000, body: { a: 1 } },
    { provider: "test", recvTsMs: 1_700_000_000_001, body: { a: 2 } },
  ]);
  assertAllFree(pools);
});

Deno.test("frame intake reports a bad frame and routes nothing", () => {
  const pools = createSchemaPools(new PoolManager(), { WsFrame: 1, ProviderRaw: 1 });
  const { intake, seen } = intakeFor(pools);
  intake.receive("{not json", 1, 1);
  assert.equal(seen.routed.length, 0);
  assert.equal(seen.decodeErrors.length, 1);
  assertAllFree(pools);
});

Deno.test("frame intake names the empty pool and drops the frame", async (t) => {
  await t.step("ws_frame", () => {
    const pools = createSchemaPools(new PoolManager(), { WsFrame: 1, ProviderRaw: 1 });
    const held = pools.wsFrame.tryAcquire()!;
    const { intake, seen } = intakeFor(pools);
    intake.receive("{}", 1, 1);
    assert.deepEqual(seen.exhausted, ["ws_frame"]);
    pools.wsFrame.release(held);
    assertAllFree(pools);
  });
  await t.step("provider_raw", () => {
    const pools = createSchemaPools(new PoolManager(), { WsFrame: 1, ProviderRaw: 1 });
    const held = pools.providerRaw.tryAcquire()!;
    const { intake, seen } = intakeFor(pools);
    intake.receive("{}", 1, 1);
    assert.deepEqual(seen.exhausted, ["provider_raw"]);
    pools.providerRaw.release(held);
    assertAllFree(pools);
  });
});

Deno.test("frame intake frees the raw when routing throws, and lets errors other than DecodeError out", () => {
  const pools = createSchemaPools(new PoolManager(), { WsFrame: 1, ProviderRaw: 1 });
  const { intake } = intakeFor(pools, () => {
    throw new Error("route bug");
  });
  assert.throws(() => intake.receive("{}", 1, 1), /route bug/);
  assertAllFree(pools);
  const broken = new FrameIntake({
    provider: "test",
    pools,
    decode: () => {
      throw new TypeError("decoder bug");
    },
    route: () => assert.fail("expected no routing"),
    onPoolExhausted: () => assert.fail("expected free pools"),
    onDecodeError: (err: DecodeError) => assert.fail(`expected a bug, found ${err.message}`),
  });
  assert.throws(() => broken.receive("{}", 1, 1), TypeError);
  assertAllFree(pools);
});
