import assert from "node:assert/strict";
import {
  BoundedPool,
  ManualClock,
  PoolClosedError,
  PoolExhaustedError,
  PoolManager,
  PoolMisuseError,
} from "../../src/pool/mod.ts";
import type { Poolable } from "../../src/pool/mod.ts";
import { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { POISON_NUMBER, POISON_STRING } from "../../src/schema/poison.ts";

/** A small pooled object with a number, a string and an array (capacity kept across reset). */
class Probe implements Poolable {
  owner = 0;
  label = "";
  values: number[] = [];

  reset(): void {
    this.owner = 0;
    this.label = "";
    this.values.length = 0;
  }

  poison(): void {
    this.owner = POISON_NUMBER;
    this.label = POISON_STRING;
    this.values.length = 0;
    this.values.push(POISON_NUMBER);
  }
}

function probePool(capacity: number, extra?: { debug?: boolean; clock?: ManualClock }) {
  return new BoundedPool<Probe>({ name: "probes", capacity, create: () => new Probe(), ...extra });
}

/** Lets pending promise reactions run (a real 0 ms timer, always fired, so no leak). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Tracks whether a promise has settled, without an unhandled rejection. */
function observe<T>(p: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (value) => {
      state.done = true;
      state.value = value;
    },
    (error) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

/** What `fn` throws (fails the test when it does not throw). */
function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected a throw, found none");
}

function fillTrade(ev: CanonicalEvent, seq: number): void {
  ev.kind = "trade";
  ev.provider = "binance";
  ev.symbol = "BTC-USDT";
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.exchangeTsMs = 1_700_000_000_000 + seq;
  ev.recvTsMs = 1_700_000_000_000.25 + seq;
  ev.tradeId = String(seq);
  ev.price = "87250.01000000";
  ev.qty = "0.00120000";
  ev.side = "buy";
  ev.pushBid("87250.00", "1.5");
}

Deno.test("tryAcquire hands out an object and release makes it reusable", () => {
  let created = 0;
  const pool = new BoundedPool<Probe>({
    name: "probes",
    capacity: 2,
    create: () => {
      created++;
      return new Probe();
    },
  });
  const a = pool.tryAcquire();
  assert.ok(a !== null);
  assert.equal(pool.idOf(a), 1);
  assert.equal(pool.isInFlight(a), true);
  assert.deepEqual(pool.inFlightIds(), [1]);
  a.owner = 7;
  a.label = "x";
  a.values.push(1, 2, 3);
  pool.release(a);
  assert.equal(pool.isInFlight(a), false);
  assert.deepEqual(pool.inFlightIds(), []);
  assert.equal(a.owner, 0, "release resets the object");
  assert.equal(a.values.length, 0);
  const b = pool.tryAcquire();
  assert.equal(b, a, "the free object is reused rather than a new one created");
  assert.equal(created, 1);
  assert.equal(pool.idOf(b!), 1);
});

Deno.test("capacity bounds the objects in flight", () => {
  let created = 0;
  const pool = new BoundedPool<Probe>({
    name: "probes",
    capacity: 3,
    create: () => {
      created++;
      return new Probe();
    },
  });
  const held = [pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire()];
  assert.ok(held.every((p) => p !== null));
  assert.deepEqual(held.map((p) => pool.idOf(p!)), [1, 2, 3]);
  assert.equal(pool.tryAcquire(), null, "a fourth object would exceed the in-flight bound");
  assert.equal(created, 3);
  pool.release(held[1]!);
  const again = pool.tryAcquire();
  assert.equal(again, held[1]);
  assert.equal(pool.tryAcquire(), null);
  assert.equal(created, 3, "never more than capacity objects are created");
  assert.deepEqual(pool.inFlightIds(), [1, 2, 3]);
});

Deno.test("pooled objects carry no pool bookkeeping and reset to a fresh state", async (t) => {
  await t.step("test probe, debug off and on", () => {
    for (const debug of [false, true]) {
      const pool = probePool(1, { debug });
      const p = pool.tryAcquire()!;
      p.owner = 3;
      p.label = "used";
      p.values.push(4, 5);
      pool.release(p);
      const q = pool.tryAcquire()!;
      assert.equal(q, p);
      assert.deepEqual({ ...q }, { ...new Probe() }, `debug=${debug}`);
      assert.deepEqual(Object.keys(q), Object.keys(new Probe()));
    }
  });
  await t.step("CanonicalEvent: every own property equals a fresh one's", () => {
    const pool = new BoundedPool<CanonicalEvent>({
      name: "events",
      capacity: 1,
      create: () => new CanonicalEvent(),
    });
    const ev = pool.tryAcquire()!;
    fillTrade(ev, 42);
    pool.release(ev);
    const fresh = new CanonicalEvent();
    assert.deepEqual(Object.keys(ev), Object.keys(fresh));
    for (const key of Object.keys(fresh) as (keyof CanonicalEvent)[]) {
      if (key === "bidStore" || key === "askStore") {
        // Level storage is kept across reuse on purpose (its counts are zeroed): no data in it.
        assert.ok(ev[key].every((v) => v === ""), `field ${key} holds stale levels`);
      } else {
        assert.deepEqual(ev[key], fresh[key], `field ${key}`);
      }
    }
  });
});

Deno.test("double release throws PoolMisuseError naming pool and id", async (t) => {
  await t.step("debug off: no stacks", () => {
    const pool = probePool(2);
    pool.tryAcquire();
    const p = pool.tryAcquire()!;
    pool.release(p);
    const err = thrownBy(() => pool.release(p));
    assert.ok(err instanceof PoolMisuseError);
    assert.equal(err.pool, "probes");
    assert.equal(err.objectId, 2);
    assert.equal(err.kind, "double_release");
    assert.match(err.message, /pool "probes": object 2 released twice/);
    assert.equal(err.acquireStack, undefined);
    assert.equal(err.firstReleaseStack, undefined);
    assert.equal(pool.stats().releases, 1, "the faulty release changed nothing");
    assert.equal(pool.stats().free, 1);
  });
  await t.step("debug on: stacks of acquire and first release", () => {
    const pool = probePool(1, { debug: true });
    function acquireForTest(): Probe {
      return pool.tryAcquire()!;
    }
    function releaseForTest(p: Probe): void {
      pool.release(p);
    }
    const p = acquireForTest();
    releaseForTest(p);
    const err = thrownBy(() => pool.release(p));
    assert.ok(err instanceof PoolMisuseError);
    assert.equal(err.objectId, 1);
    assert.match(err.acquireStack ?? "", /acquireForTest/);
    assert.match(err.firstReleaseStack ?? "", /releaseForTest/);
    assert.match(err.message, /acquired at:[\s\S]*acquireForTest/);
    assert.match(err.message, /first released at:[\s\S]*releaseForTest/);
  });
});

Deno.test("releasing a foreign object throws PoolMisuseError", () => {
  const pool = probePool(2);
  const other = probePool(2);
  const mine = pool.tryAcquire()!;
  const theirs = other.tryAcquire()!;
  for (const foreign of [new Probe(), theirs]) {
    const err = thrownBy(() => pool.release(foreign));
    assert.ok(err instanceof PoolMisuseError);
    assert.equal(err.kind, "foreign_object");
    assert.equal(err.objectId, -1);
    assert.equal(err.pool, "probes");
    assert.equal(pool.idOf(foreign), -1);
    assert.equal(pool.isInFlight(foreign), false);
  }
  assert.equal(pool.isInFlight(mine), true);
  assert.equal(pool.stats().inFlight, 1);
});

Deno.test("exhausted acquire rejects with PoolExhaustedError after about 100 ms", async () => {
  const pool = probePool(1);
  const held = pool.tryAcquire()!;
  const t0 = performance.now();
  const err = await pool.acquire().then(() => null, (e) => e);
  const elapsedMs = performance.now() - t0;
  assert.ok(err instanceof PoolExhaustedError);
  assert.equal(err.pool, "probes");
  assert.equal(err.capacity, 1);
  assert.ok(elapsedMs >= 90, `expected >= 90 ms, waited ${elapsedMs}`);
  assert.ok(err.waitedMs >= 90);
  assert.match(err.message, /pool "probes" exhausted/);
  assert.equal(pool.isInFlight(held), true);
  assert.equal(pool.stats().timeouts, 1);
});

Deno.test("exhaustion timing with an injected clock", async (t) => {
  await t.step("rejects exactly at the default 100 ms", async () => {
    const clock = new ManualClock();
    const pool = probePool(1, { clock });
    pool.tryAcquire();
    const waiting = observe(pool.acquire());
    clock.advance(99);
    await settle();
    assert.equal(waiting.done, false);
    clock.advance(1);
    await settle();
    assert.ok(waiting.error instanceof PoolExhaustedError);
    assert.equal(waiting.error.waitedMs, 100);
    assert.equal(clock.pendingTimers(), 0);
    const s = pool.stats();
    assert.equal(s.waits, 1);
    assert.equal(s.timeouts, 1);
  });
  await t.step("honours a custom timeout; timeoutMs 0 fails at once", async () => {
    const clock = new ManualClock();
    const pool = probePool(1, { clock });
    pool.tryAcquire();
    const waiting = observe(pool.acquire({ timeoutMs: 250 }));
    clock.advance(249);
    await settle();
    assert.equal(waiting.done, false);
    clock.advance(1);
    await settle();
    assert.ok(waiting.error instanceof PoolExhaustedError);
    const immediate = await pool.acquire({ timeoutMs: 0 }).then(() => null, (e) => e);
    assert.ok(immediate instanceof PoolExhaustedError);
    assert.equal(immediate.waitedMs, 0);
    assert.equal(clock.pendingTimers(), 0);
  });
});

Deno.test("acquire resolves at once when an object is free", async () => {
  const pool = probePool(1);
  const p = await pool.acquire();
  assert.equal(pool.idOf(p), 1);
  assert.equal(pool.stats().waits, 0);
  pool.release(p);
});

Deno.test("a waiter gets the released object directly", async () => {
  const clock = new ManualClock();
  const pool = probePool(1, { clock });
  const p = pool.tryAcquire()!;
  p.owner = 9;
  const waiting = observe(pool.acquire());
  await settle();
  assert.equal(waiting.done, false);
  pool.release(p);
  assert.equal(pool.isInFlight(p), true, "handed over without ever being free");
  assert.equal(pool.tryAcquire(), null, "nobody can grab it in between");
  await settle();
  assert.equal(waiting.value, p);
  assert.equal(p.owner, 0, "reset before hand-off");
  assert.equal(clock.pendingTimers(), 0, "the waiter's timeout was cancelled");
  const s = pool.stats();
  assert.equal(s.acquires, 2);
  assert.equal(s.releases, 1);
  assert.equal(s.inFlight, 1);
  assert.equal(s.free, 0);
});

Deno.test("an abort signal cancels the wait", async (t) => {
  await t.step(
    "abort while waiting rejects with the reason and frees the slot in the queue",
    async () => {
      const clock = new ManualClock();
      const pool = probePool(1, { clock });
      const p = pool.tryAcquire()!;
      const controller = new AbortController();
      const waiting = observe(pool.acquire({ signal: controller.signal }));
      const reason = new Error("caller gave up");
      controller.abort(reason);
      await settle();
      assert.equal(waiting.error, reason);
      assert.equal(clock.pendingTimers(), 0);
      pool.release(p);
      assert.equal(pool.isInFlight(p), false, "the aborted waiter does not receive the object");
      assert.equal(pool.stats().timeouts, 0);
    },
  );
  await t.step("an already aborted signal rejects without taking an object", async () => {
    const pool = probePool(1);
    const err = await pool.acquire({ signal: AbortSignal.abort() }).then(() => null, (e) => e);
    assert.ok(err instanceof DOMException);
    assert.equal(err.name, "AbortError");
    assert.equal(pool.stats().inFlight, 0);
  });
  await t.step("abort after hand-off changes nothing", async () => {
    const pool = probePool(1);
    const p = pool.tryAcquire()!;
    const controller = new AbortController();
    const waiting = pool.acquire({ signal: controller.signal });
    pool.release(p);
    controller.abort();
    assert.equal(await waiting, p);
    assert.equal(pool.isInFlight(p), true);
    pool.release(p);
  });
});

Deno.test("waiters are served in FIFO order, skipping those that left", async () => {
  const clock = new ManualClock();
  const pool = probePool(1, { clock });
  const p = pool.tryAcquire()!;
  const order: string[] = [];
  const controller = new AbortController();
  const names = ["first", "second", "third", "fourth"];
  const waits = names.map((name) =>
    pool.acquire({ timeoutMs: 1000, signal: name === "second" ? controller.signal : undefined })
      .then(
        () => order.push(name),
        (e) => order.push(`${name}:${(e as Error).name}`),
      )
  );
  controller.abort();
  // Capacity 1: the single object travels from waiter to waiter; each holder releases it.
  for (let i = 0; i < 3; i++) {
    pool.release(p);
    await settle();
  }
  await Promise.all(waits);
  assert.deepEqual(order, ["second:AbortError", "first", "third", "fourth"]);
  assert.equal(clock.pendingTimers(), 0);
  pool.release(p);
  assert.equal(pool.stats().inFlight, 0);
});

Deno.test("debug mode poisons released objects and resets them on acquire", async (t) => {
  await t.step("poisoned while free, clean when acquired again", () => {
    const pool = probePool(1, { debug: true });
    const p = pool.tryAcquire()!;
    p.owner = 5;
    p.label = "live";
    pool.release(p);
    assert.ok(Number.isNaN(p.owner), "a use after release reads a sentinel");
    assert.equal(p.label, POISON_STRING);
    assert.equal(p.values.length, 1);
    const q = pool.tryAcquire()!;
    assert.equal(q, p);
    assert.deepEqual({ ...q }, { ...new Probe() });
  });
  await t.step("CanonicalEvent sentinel values after release", () => {
    const pool = new BoundedPool<CanonicalEvent>({
      name: "events",
      capacity: 1,
      create: () => new CanonicalEvent(),
      debug: true,
    });
    const ev = pool.tryAcquire()!;
    fillTrade(ev, 1);
    pool.release(ev);
    assert.equal(ev.price, POISON_STRING);
    assert.ok(Number.isNaN(ev.seq));
    assert.equal(pool.tryAcquire()!.price, "");
  });
  await t.step("acquire stacks are recorded, including on hand-off to a waiter", async () => {
    const pool = probePool(1, { debug: true });
    function firstHolder(): Probe {
      return pool.tryAcquire()!;
    }
    function secondHolder(): Promise<Probe> {
      return pool.acquire();
    }
    const p = firstHolder();
    assert.match(pool.acquireStack(p) ?? "", /firstHolder/);
    const waiting = secondHolder();
    pool.release(p);
    assert.equal(await waiting, p);
    assert.equal(p.label, "", "handed over reset, not poisoned");
    assert.match(pool.acquireStack(p) ?? "", /secondHolder/);
    assert.deepEqual(pool.inFlightStacks().length, 1);
    pool.release(p);
  });
  await t.step("debug off: no poisoning, no stacks", () => {
    const pool = probePool(1);
    assert.equal(pool.debug, false);
    const p = pool.tryAcquire()!;
    pool.release(p);
    assert.equal(p.owner, 0);
    assert.equal(pool.acquireStack(p), undefined);
    assert.deepEqual(pool.inFlightStacks(), []);
  });
});

Deno.test("stats count acquires, releases, waits, timeouts and the high-water mark", async () => {
  const clock = new ManualClock();
  const pool = probePool(3, { clock });
  assert.deepEqual(pool.stats(), {
    name: "probes",
    capacity: 3,
    inFlight: 0,
    free: 0,
    acquires: 0,
    releases: 0,
    waits: 0,
    timeouts: 0,
    highWater: 0,
  });
  const a = pool.tryAcquire()!;
  const b = pool.tryAcquire()!;
  pool.release(a);
  const c = pool.tryAcquire()!; // reuses a
  const d = pool.tryAcquire()!;
  assert.equal(pool.tryAcquire(), null, "a failed tryAcquire is not counted");
  const timedOut = observe(pool.acquire({ timeoutMs: 10 }));
  const served = observe(pool.acquire({ timeoutMs: 50 }));
  clock.advance(10);
  await settle();
  assert.ok(timedOut.error instanceof PoolExhaustedError);
  pool.release(b); // handed to the second waiter
  await settle();
  assert.equal(served.value, b);
  pool.release(b);
  pool.release(c);
  assert.deepEqual(pool.stats(), {
    name: "probes",
    capacity: 3,
    inFlight: 1,
    free: 2,
    acquires: 5,
    releases: 4,
    waits: 2,
    timeouts: 1,
    highWater: 3,
  });
  pool.release(d);
  assert.equal(pool.stats().inFlight, 0);
  assert.equal(pool.stats().highWater, 3);
});

Deno.test("no object is handed out again while an awaiting holder still owns it", async () => {
  const pool = probePool(2);
  const owners = new Map<number, number>();
  let maxConcurrent = 0;
  let handled = 0;
  async function worker(task: number, rounds: number): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      const p = await pool.acquire({ timeoutMs: 2000 });
      const id = pool.idOf(p);
      assert.equal(owners.get(id), undefined, `object ${id} already owned by ${owners.get(id)}`);
      owners.set(id, task);
      maxConcurrent = Math.max(maxConcurrent, owners.size);
      p.owner = task;
      p.values.push(task, r);
      // Yield across a macrotask and several microtasks while other tasks acquire and release.
      if ((task + r) % 2 === 0) await settle();
      for (let i = 0; i < task % 4; i++) await Promise.resolve();
      assert.equal(p.owner, task, "fields still hold what this holder wrote");
      assert.deepEqual(p.values, [task, r]);
      assert.equal(owners.get(id), task);
      assert.equal(pool.isInFlight(p), true);
      owners.delete(id);
      handled++;
      pool.release(p);
    }
  }
  const tasks = 8;
  const rounds = 12;
  await Promise.all(Array.from({ length: tasks }, (_, i) => worker(i + 1, rounds)));
  assert.equal(handled, tasks * rounds);
  assert.equal(maxConcurrent, 2, "capacity 2 was fully used but never exceeded");
  const s = pool.stats();
  assert.equal(s.inFlight, 0);
  assert.equal(s.highWater, 2);
  assert.ok(s.waits > 0, "tasks really contended");
  assert.equal(s.timeouts, 0);
});

Deno.test("a closed pool refuses acquisitions but accepts releases", async () => {
  const clock = new ManualClock();
  const pool = probePool(1, { clock });
  const p = pool.tryAcquire()!;
  const waiting = observe(pool.acquire());
  pool.close();
  await settle();
  assert.ok(waiting.error instanceof PoolClosedError, "queued waiters are rejected");
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(pool.closed, true);
  pool.release(p);
  assert.equal(pool.tryAcquire(), null);
  const err = await pool.acquire().then(() => null, (e) => e);
  assert.ok(err instanceof PoolClosedError);
  assert.match(err.message, /pool "probes" is closed/);
});

Deno.test("the waiter queue is bounded", async () => {
  const clock = new ManualClock();
  const pool = new BoundedPool<Probe>({
    name: "probes",
    capacity: 1,
    create: () => new Probe(),
    clock,
    waitersMax: 1,
  });
  const p = pool.tryAcquire()!;
  const queued = pool.acquire();
  const err = await pool.acquire().then(() => null, (e) => e);
  assert.ok(err instanceof PoolExhaustedError);
  assert.match(err.message, /waiter queue full at 1/);
  pool.release(p);
  assert.equal(await queued, p);
});

Deno.test("invalid options and a misbehaving create are rejected", () => {
  const make = () => new Probe();
  assert.throws(() => new BoundedPool({ name: "", capacity: 1, create: make }), TypeError);
  for (const capacity of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new BoundedPool({ name: "p", capacity, create: make }),
      /expected an integer capacity >= 1/,
    );
  }
  const shared = new Probe();
  const pool = new BoundedPool({ name: "p", capacity: 2, create: () => shared });
  pool.tryAcquire();
  assert.throws(() => pool.tryAcquire(), /expected create\(\) to return a new object/);
});

function unpooledProbePool(
  capacity: number,
  extra?: { debug?: boolean; clock?: ManualClock; create?: () => Probe },
) {
  return new BoundedPool<Probe>({
    name: "probes",
    capacity,
    create: extra?.create ?? (() => new Probe()),
    debug: extra?.debug,
    clock: extra?.clock,
    unpooled: true,
  });
}

Deno.test("unpooled mode creates an object per acquisition and drops released ones", async (t) => {
  await t.step("new object each time, no reset on release, counts as when pooled", () => {
    let created = 0;
    const pool = unpooledProbePool(2, {
      create: () => {
        created++;
        return new Probe();
      },
    });
    assert.equal(pool.unpooled, true);
    const a = pool.tryAcquire()!;
    a.owner = 7;
    a.values.push(1, 2);
    pool.release(a);
    assert.equal(a.owner, 7, "a dropped object is not reset");
    assert.equal(a.values.length, 2);
    const b = pool.tryAcquire()!;
    assert.notEqual(b, a, "never reused");
    assert.equal(b.owner, 0);
    assert.equal(created, 2);
    const s = pool.stats();
    assert.equal(s.acquires, 2);
    assert.equal(s.releases, 1);
    assert.equal(s.inFlight, 1);
    assert.equal(s.free, 0);
    assert.equal(s.highWater, 1);
    pool.release(b);
    assert.equal(pool.inFlightCount(), 0);
  });
  await t.step("capacity still bounds the objects in flight", () => {
    const pool = unpooledProbePool(2);
    const held = [pool.tryAcquire(), pool.tryAcquire()];
    assert.ok(held.every((p) => p !== null));
    assert.equal(pool.tryAcquire(), null);
    pool.release(held[0]!);
    assert.ok(pool.tryAcquire() !== null);
    assert.equal(pool.stats().highWater, 2);
  });
  await t.step("without debug, objects are not tracked: no ids, counts only", () => {
    const pool = unpooledProbePool(2);
    const a = pool.tryAcquire()!;
    assert.equal(pool.idOf(a), -1);
    assert.equal(pool.isInFlight(a), false);
    assert.deepEqual(pool.inFlightIds(), []);
    assert.deepEqual(pool.inFlightStacks(), []);
    pool.release(a);
    const err = thrownBy(() => pool.release(a));
    assert.ok(err instanceof PoolMisuseError, "a release with nothing in flight is caught");
    assert.equal(err.kind, "foreign_object");
    assert.equal(pool.inFlightCount(), 0);
  });
  await t.step("a closed unpooled pool refuses acquisitions and accepts releases", () => {
    const pool = unpooledProbePool(2);
    const a = pool.tryAcquire()!;
    pool.close();
    assert.equal(pool.tryAcquire(), null);
    pool.release(a);
    assert.equal(pool.inFlightCount(), 0);
  });
});

Deno.test("unpooled mode: a waiter gets a new object when one is released", async (t) => {
  await t.step("hand-off keeps the in-flight count and cancels the timeout", async () => {
    const clock = new ManualClock();
    const pool = unpooledProbePool(1, { clock });
    const a = pool.tryAcquire()!;
    const waiting = observe(pool.acquire());
    await settle();
    assert.equal(waiting.done, false);
    pool.release(a);
    assert.equal(pool.inFlightCount(), 1, "the waiter takes the released place at once");
    assert.equal(pool.tryAcquire(), null, "nobody can grab the place in between");
    await settle();
    assert.ok(waiting.value instanceof Probe);
    assert.notEqual(waiting.value, a);
    assert.equal(clock.pendingTimers(), 0);
    const s = pool.stats();
    assert.equal(s.acquires, 2);
    assert.equal(s.waits, 1);
    pool.release(waiting.value);
    assert.equal(pool.inFlightCount(), 0);
  });
  await t.step("waits still time out after 100 ms", async () => {
    const clock = new ManualClock();
    const pool = unpooledProbePool(1, { clock });
    pool.tryAcquire();
    const waiting = observe(pool.acquire());
    clock.advance(100);
    await settle();
    assert.ok(waiting.error instanceof PoolExhaustedError);
    assert.equal(pool.stats().timeouts, 1);
  });
  await t.step(
    "a create() that throws during hand-off rejects the waiter, not the releaser",
    async () => {
      const clock = new ManualClock();
      let fail = false;
      const pool = unpooledProbePool(1, {
        clock,
        create: () => {
          if (fail) throw new Error("create failed");
          return new Probe();
        },
      });
      const a = pool.tryAcquire()!;
      const waiting = observe(pool.acquire());
      fail = true;
      pool.release(a);
      await settle();
      assert.ok(waiting.error instanceof Error);
      assert.equal((waiting.error as Error).message, "create failed");
      assert.equal(pool.inFlightCount(), 0);
      assert.equal(clock.pendingTimers(), 0);
    },
  );
});

Deno.test("unpooled debug mode tracks ids and stacks, poisons and names misuse", async (t) => {
  await t.step("ids are acquisition serials; stacks point at the acquirer", () => {
    const pool = unpooledProbePool(4, { debug: true });
    function leakyHandler(): Probe {
      return pool.tryAcquire()!;
    }
    const a = leakyHandler();
    const b = pool.tryAcquire()!;
    assert.equal(pool.idOf(a), 1);
    assert.equal(pool.idOf(b), 2);
    assert.equal(pool.isInFlight(a), true);
    assert.deepEqual(pool.inFlightIds(), [1, 2]);
    assert.match(pool.acquireStack(a) ?? "", /leakyHandler/);
    assert.equal(pool.inFlightStacks().length, 2);
    pool.release(b);
    assert.deepEqual(pool.inFlightIds(), [1]);
  });
  await t.step("a released object is poisoned", () => {
    const pool = unpooledProbePool(1, { debug: true });
    const a = pool.tryAcquire()!;
    pool.release(a);
    assert.equal(a.owner, POISON_NUMBER);
    assert.equal(a.label, POISON_STRING);
    assert.equal(pool.isInFlight(a), false);
  });
  await t.step("double release names the object and both stacks", () => {
    const pool = unpooledProbePool(2, { debug: true });
    const a = pool.tryAcquire()!;
    pool.tryAcquire(); // keeps the count above zero: only tracking can catch the misuse
    pool.release(a);
    const err = thrownBy(() => pool.release(a));
    assert.ok(err instanceof PoolMisuseError);
    assert.equal(err.kind, "double_release");
    assert.equal(err.objectId, 1);
    assert.ok(err.acquireStack !== undefined && err.firstReleaseStack !== undefined);
  });
  await t.step("a foreign object is refused", () => {
    const pool = unpooledProbePool(2, { debug: true });
    pool.tryAcquire();
    const err = thrownBy(() => pool.release(new Probe()));
    assert.ok(err instanceof PoolMisuseError);
    assert.equal(err.kind, "foreign_object");
    assert.equal(pool.inFlightCount(), 1);
  });
});

Deno.test("a pool manager in unpooled mode applies it to every pool and reports leaks by count", async () => {
  const clock = new ManualClock();
  const manager = new PoolManager({ clock, unpooled: true });
  assert.equal(manager.unpooled, true);
  const events = manager.create({
    name: "canonical_event",
    capacity: 4,
    create: () => new CanonicalEvent(),
  });
  const probes = manager.create({ name: "probes", capacity: 2, create: () => new Probe() });
  assert.equal(events.unpooled, true);
  assert.equal(probes.unpooled, true);
  const ev = events.tryAcquire()!;
  fillTrade(ev, 1);
  events.release(ev);
  assert.notEqual(events.tryAcquire(), ev);
  probes.tryAcquire();
  const shutdown = manager.shutdown({ timeoutMs: 50 });
  clock.advance(50);
  const report = await shutdown;
  assert.equal(report.clean, false);
  assert.deepEqual(report.leaks, [
    { pool: "canonical_event", count: 1, ids: [], stacks: [] },
    { pool: "probes", count: 1, ids: [], stacks: [] },
  ]);
});
