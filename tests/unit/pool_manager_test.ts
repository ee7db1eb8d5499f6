import assert from "node:assert/strict";
import {
  type LeakReport,
  ManualClock,
  PoolClosedError,
  PoolManager,
  type ShutdownReport,
} from "../../src/pool/mod.ts";
import type { Poolable } from "../../src/pool/mod.ts";
import { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { ProviderRaw } from "../../src/schema/provider_raw.ts";
import { WsFrame } from "../../src/schema/ws_frame.ts";

/** Stand-in for pooled types not under test here. */
class Probe implements Poolable {
  value = 0;

  reset(): void {
    this.value = 0;
  }
}

/** Lets pending promise reactions run (a real 0 ms timer, always fired, so no leak). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Registers the gateway's six pools. */
function registerSix(manager: PoolManager) {
  return {
    wsFrame: manager.create({ name: "ws_frame", capacity: 8, create: () => new WsFrame() }),
    providerRaw: manager.create({
      name: "provider_raw",
      capacity: 8,
      create: () => new ProviderRaw(),
    }),
    canonical: manager.create({
      name: "canonical_event",
      capacity: 4,
      create: () => new CanonicalEvent(),
    }),
    merged: manager.create({ name: "merged_event", capacity: 4, create: () => new Probe() }),
    order: manager.create({ name: "order_request", capacity: 2, create: () => new Probe() }),
    exec: manager.create({ name: "exec_report", capacity: 2, create: () => new Probe() }),
  };
}

Deno.test("the manager registers six pools and accounts for objects in flight", () => {
  const manager = new PoolManager();
  const pools = registerSix(manager);
  assert.deepEqual(manager.pools().map((p) => p.name), [
    "ws_frame",
    "provider_raw",
    "canonical_event",
    "merged_event",
    "order_request",
    "exec_report",
  ]);
  assert.equal(manager.get("canonical_event"), pools.canonical);
  assert.equal(manager.get("nope"), undefined);
  assert.equal(manager.debug, false);
  assert.ok(manager.pools().every((p) => p.debug === false));
  const frame = pools.wsFrame.tryAcquire()!;
  const ev = pools.canonical.tryAcquire()!;
  pools.canonical.tryAcquire();
  assert.equal(manager.totalInFlight(), 3);
  const stats = manager.stats();
  assert.equal(stats.length, 6);
  assert.deepEqual(stats.map((s) => s.inFlight), [1, 0, 2, 0, 0, 0]);
  assert.equal(stats[2].capacity, 4);
  pools.wsFrame.release(frame);
  pools.canonical.release(ev);
  assert.equal(manager.totalInFlight(), 1);
});

Deno.test("a duplicate pool name throws", () => {
  const manager = new PoolManager();
  manager.create({ name: "ws_frame", capacity: 1, create: () => new WsFrame() });
  assert.throws(
    () => manager.create({ name: "ws_frame", capacity: 2, create: () => new Probe() }),
    /pool "ws_frame" not created: expected a unique pool name, found it already registered/,
  );
  assert.equal(manager.pools().length, 1);
});

Deno.test("debug mode of the manager applies to every pool", () => {
  const manager = new PoolManager({ debug: true });
  const pools = registerSix(manager);
  assert.ok(manager.pools().every((p) => p.debug));
  const ev = pools.canonical.tryAcquire()!;
  pools.canonical.release(ev);
  assert.ok(Number.isNaN(ev.seq), "released objects are poisoned");
});

Deno.test("shutdown with nothing in flight is clean at once", async () => {
  const leaks: LeakReport[] = [];
  const clock = new ManualClock();
  const manager = new PoolManager({ clock, onLeak: (r) => leaks.push(r) });
  const pools = registerSix(manager);
  pools.exec.release(pools.exec.tryAcquire()!);
  const report = await manager.shutdown();
  assert.deepEqual(report, { clean: true, waitedMs: 0, leaks: [] });
  assert.deepEqual(leaks, []);
  assert.equal(clock.pendingTimers(), 0);
});

Deno.test("shutdown waits for a late release and ends as soon as it happens", async () => {
  const leaks: LeakReport[] = [];
  const manager = new PoolManager({ onLeak: (r) => leaks.push(r) });
  const pools = registerSix(manager);
  const ev = pools.canonical.tryAcquire()!;
  const frame = pools.wsFrame.tryAcquire()!;
  pools.wsFrame.release(frame);
  const late = new Promise<void>((resolve) => {
    setTimeout(() => {
      pools.canonical.release(ev);
      resolve();
    }, 30);
  });
  const t0 = performance.now();
  const report = await manager.shutdown({ timeoutMs: 2000 });
  const elapsedMs = performance.now() - t0;
  await late; // the timer has fired: nothing left for the ops sanitizer
  assert.equal(report.clean, true);
  assert.deepEqual(report.leaks, []);
  assert.ok(report.waitedMs >= 20, `waited ${report.waitedMs} ms`);
  assert.ok(elapsedMs < 1500, `woken by the release, not the timeout (${elapsedMs} ms)`);
  assert.deepEqual(leaks, []);
  assert.equal(manager.totalInFlight(), 0);
});

Deno.test("shutdown with leaks reports count and ids per pool", async (t) => {
  await t.step("debug off: after the default 5 s, ids without stacks", async () => {
    const leaks: LeakReport[] = [];
    const clock = new ManualClock();
    const manager = new PoolManager({ clock, onLeak: (r) => leaks.push(r) });
    const pools = registerSix(manager);
    const evs = [1, 2, 3].map(() => pools.canonical.tryAcquire()!);
    pools.canonical.release(evs[1]);
    pools.order.tryAcquire();
    const done: { report?: ShutdownReport } = {};
    manager.shutdown().then((r) => done.report = r);
    clock.advance(4999);
    await settle();
    assert.equal(done.report, undefined, "still waiting before 5 s");
    pools.canonical.release(evs[0]); // one comes home in time
    clock.advance(1);
    await settle();
    const report = done.report as ShutdownReport | undefined; // undo the narrowing above
    assert.ok(report !== undefined);
    assert.equal(report.clean, false);
    assert.equal(report.waitedMs, 5000);
    assert.deepEqual(report.leaks, [
      { pool: "canonical_event", count: 1, ids: [3], stacks: [] },
      { pool: "order_request", count: 1, ids: [1], stacks: [] },
    ]);
    assert.deepEqual(leaks, report.leaks, "onLeak is called once per leaking pool");
    assert.equal(clock.pendingTimers(), 0);
  });
  await t.step("debug on: acquire stacks of the unreturned objects", async () => {
    const leaks: LeakReport[] = [];
    const clock = new ManualClock();
    const manager = new PoolManager({ clock, debug: true, onLeak: (r) => leaks.push(r) });
    const pools = registerSix(manager);
    function forgetfulDecoder(): void {
      pools.canonical.tryAcquire();
      pools.canonical.tryAcquire();
    }
    forgetfulDecoder();
    const shutdown = manager.shutdown({ timeoutMs: 100 });
    clock.advance(100);
    const report = await shutdown;
    assert.equal(leaks.length, 1);
    assert.equal(leaks[0].pool, "canonical_event");
    assert.equal(leaks[0].count, 2);
    assert.deepEqual(leaks[0].ids, [1, 2]);
    assert.equal(leaks[0].stacks.length, 2);
    for (const stack of leaks[0].stacks) assert.match(stack, /forgetfulDecoder/);
    assert.deepEqual(report.leaks, leaks);
  });
});

Deno.test("acquisition is refused once shutdown has begun", async () => {
  const clock = new ManualClock();
  const manager = new PoolManager({ clock });
  const pools = registerSix(manager);
  const held = pools.order.tryAcquire()!;
  pools.order.tryAcquire();
  const queued = pools.order.acquire().then(() => null, (e) => e);
  const shutdown = manager.shutdown({ timeoutMs: 50 });
  assert.ok(await queued instanceof PoolClosedError, "waiters are rejected at shutdown");
  assert.equal(pools.canonical.tryAcquire(), null);
  const err = await pools.canonical.acquire().then(() => null, (e) => e);
  assert.ok(err instanceof PoolClosedError);
  assert.match(err.message, /pool "canonical_event" is closed/);
  assert.throws(
    () => manager.create({ name: "late", capacity: 1, create: () => new Probe() }),
    /expected a running pool manager, found shutdown under way/,
  );
  pools.order.release(held); // releases still count during shutdown
  assert.equal(manager.shutdown(), shutdown, "a second call returns the same shutdown");
  clock.advance(50);
  const report = await shutdown;
  assert.deepEqual(report.leaks.map((l) => [l.pool, l.ids]), [["order_request", [2]]]);
});
