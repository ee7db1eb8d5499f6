/**
 * BoundedPool: a fixed-capacity pool of reusable objects for the hot path of a single-threaded
 * runtime.
 *
 * - Capacity bounds the objects *in flight* (acquired, not yet released): at most `capacity`
 *   objects ever exist, created lazily.
 * - `tryAcquire()` is synchronous and allocates nothing once the pool is warm (a free-list pop
 *   over typed arrays). `acquire()` adds a bounded FIFO wait for the exhausted case.
 * - All bookkeeping lives in the pool (a map from object to slot, typed arrays of state); the
 *   objects carry no pool fields, so `reset()` tests can compare them with fresh ones.
 * - Debug mode poisons released objects and records acquire/release stacks. When off, no stack
 *   is ever captured.
 * - Unpooled mode (`unpooled: true`) is the no-reuse baseline the benchmarks compare against:
 *   every acquisition is a fresh `create()` and a release drops the object. Capacity, waits,
 *   timeouts and counters behave exactly as when pooled, so only the allocation pattern differs.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "./clock.ts";
import { PoolClosedError, PoolExhaustedError, PoolMisuseError } from "./pool_errors.ts";
import type { Poolable } from "./poolable.ts";

/** How long `acquire()` waits for a release by default, in ms. */
export const ACQUIRE_TIMEOUT_MS_DEFAULT = 100;
/** Bound on callers queued in `acquire()` per pool by default. */
export const WAITERS_MAX_DEFAULT = 4096;

/** Counters and gauges of one pool (a snapshot). */
export interface PoolStats {
  /** Pool name. */
  name: string;
  /** Maximum number of objects in flight. */
  capacity: number;
  /** Objects acquired and not yet released. */
  inFlight: number;
  /** Objects created and sitting on the free list (lazily created objects not counted). */
  free: number;
  /** Successful acquisitions (fast path and waits that got an object). */
  acquires: number;
  /** Successful releases. */
  releases: number;
  /** `acquire()` calls that had to wait because the pool was exhausted. */
  waits: number;
  /** Acquisitions that failed with {@linkcode PoolExhaustedError}. */
  timeouts: number;
  /** Largest `inFlight` seen. */
  highWater: number;
}

/** Options of {@linkcode BoundedPool}. */
export interface BoundedPoolOptions<T> {
  /** Unique name, used in errors, stats and leak reports. */
  name: string;
  /** Maximum objects in flight (integer >= 1). */
  capacity: number;
  /**
   * Makes a fresh object; called lazily, at most `capacity` times (unpooled: once per
   * acquisition). Must return a new object.
   */
  create: () => T;
  /** Poison released objects and record stacks. Default false. */
  debug?: boolean;
  /** Time source for waits (tests inject a manual clock). Default: the system clock. */
  clock?: Clock;
  /** Bound on callers queued in `acquire()`; beyond it acquire fails at once. Default 4096. */
  waitersMax?: number;
  /**
   * No reuse (the benchmarks' baseline, the gateway's pools-off mode): every acquisition returns
   * a new object from `create()` and `release()` drops it, with no `reset()`. The capacity check
   * stays (at most `capacity` objects in flight, waits and timeouts as usual), so only the
   * allocation pattern differs from pooled mode. Objects are tracked only in debug mode (ids,
   * stacks, double-release detection, poisoning); without debug the pool keeps counts alone,
   * because a per-object map would add about 65 heap bytes per acquisition to the baseline:
   * `idOf()` is then -1, `isInFlight()` false, `inFlightIds()` empty, and the only misuse caught
   * is a release with nothing in flight. Default false.
   */
  unpooled?: boolean;
}

/** Options of {@linkcode BoundedPool.acquire}. */
export interface AcquireOptions {
  /** Longest wait for a release when the pool is exhausted, in ms. Default 100; 0 = no wait. */
  timeoutMs?: number;
  /** Abandons the wait; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

const SLOT_FREE = 0;
const SLOT_IN_FLIGHT = 1;

/** Unpooled debug mode: what the pool remembers about one object it handed out. */
interface UnpooledRecord {
  /** Acquisition serial number (1, 2, ...): the object's id while it is tracked. */
  readonly id: number;
  /** Trace of the acquisition. */
  readonly acquireTrace: Error | undefined;
  /** Trace of the release, once released. */
  releaseTrace: Error | undefined;
}

/** One queued `acquire()`: a node of the pool's FIFO waiter list. */
class Waiter<T> {
  prev: Waiter<T> | null = null;
  next: Waiter<T> | null = null;
  timerId = 0;
  signal: AbortSignal | null = null;
  onAbort: (() => void) | null = null;
  /** True while the waiter is in the queue; guards against unlinking twice. */
  queued = false;

  constructor(
    readonly resolve: (obj: T) => void,
    readonly reject: (reason: unknown) => void,
    readonly startMs: number,
    /** Debug mode: trace of the `acquire()` call, recorded as the acquire stack on hand-off. */
    readonly trace: Error | undefined,
  ) {}
}

/**
 * A fixed-capacity pool of reusable objects.
 *
 * @example
 * ```ts
 * const pool = new BoundedPool({ name: "events", capacity: 1024, create: () => new CanonicalEvent() });
 * const ev = pool.tryAcquire() ?? await pool.acquire(); // sync when free, waits ≤ 100 ms otherwise
 * try {
 *   fill(ev);
 *   dispatch(ev);
 * } finally {
 *   pool.release(ev); // reset, then reused
 * }
 * ```
 */
export class BoundedPool<T extends Poolable> {
  /** Pool name. */
  readonly name: string;
  /** Maximum objects in flight. */
  readonly capacity: number;
  /** Whether released objects are poisoned and stacks recorded. */
  readonly debug: boolean;
  /** Bound on queued `acquire()` callers. */
  readonly waitersMax: number;
  /** Whether every acquisition creates a new object and releases drop it (no reuse). */
  readonly unpooled: boolean;

  private readonly createObject: () => T;
  private readonly clock: Clock;
  /** Object -> slot index (0-based; the object id is index + 1). */
  private readonly slots = new Map<T, number>();
  /** Slot index -> object, for slots created so far. */
  private readonly objects: T[] = [];
  /** Slot index -> SLOT_FREE | SLOT_IN_FLIGHT. */
  private readonly state: Uint8Array;
  /** Stack of free slot indexes; `freeTop` entries are valid. LIFO keeps hot objects hot. */
  private readonly freeStack: Uint32Array;
  private freeTop = 0;
  private inFlight = 0;
  private closedFlag = false;
  private waitHead: Waiter<T> | null = null;
  private waitTail: Waiter<T> | null = null;
  private waiterCount = 0;
  private idleListener: (() => void) | null = null;
  /**
   * Debug mode only (null otherwise): per slot, trace of the latest acquisition. Error objects,
   * not strings: V8 captures the frames cheaply at `new Error()` and formats the text only when
   * `.stack` is read (about 10x the cost), which happens only when a report needs it.
   */
  private readonly acquireTraces: (Error | undefined)[] | null;
  /** Debug mode only (null otherwise): per slot, trace of the release that freed it. */
  private readonly releaseTraces: (Error | undefined)[] | null;
  /** Unpooled debug mode only (null otherwise): objects in flight and their records. */
  private readonly unpooledInFlight: Map<T, UnpooledRecord> | null;
  /** Unpooled debug mode only (null otherwise): released objects, to name a double release. */
  private readonly unpooledReleased: WeakMap<T, UnpooledRecord> | null;
  private unpooledSerial = 0;

  private acquires = 0;
  private releases = 0;
  private waits = 0;
  private timeouts = 0;
  private highWater = 0;

  /** Creates an empty pool; objects are made on demand, up to `capacity`. */
  constructor(opts: BoundedPoolOptions<T>) {
    if (typeof opts.name !== "string" || opts.name.length === 0) {
      throw new TypeError(`expected a non-empty pool name, found ${JSON.stringify(opts.name)}`);
    }
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1 || opts.capacity > 0xffffffff) {
      throw new RangeError(
        `pool "${opts.name}": expected an integer capacity >= 1, found ${opts.capacity}`,
      );
    }
    const waitersMax = opts.waitersMax ?? WAITERS_MAX_DEFAULT;
    if (!Number.isInteger(waitersMax) || waitersMax < 0) {
      throw new RangeError(
        `pool "${opts.name}": expected an integer waitersMax >= 0, found ${waitersMax}`,
      );
    }
    this.name = opts.name;
    this.capacity = opts.capacity;
    this.debug = opts.debug ?? false;
    this.waitersMax = waitersMax;
    this.unpooled = opts.unpooled ?? false;
    this.createObject = opts.create;
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    // Unpooled: no slots at all, so no typed arrays sized by capacity either.
    const slotCount = this.unpooled ? 0 : opts.capacity;
    this.state = new Uint8Array(slotCount);
    this.freeStack = new Uint32Array(slotCount);
    const slotTraces = this.debug && !this.unpooled;
    this.acquireTraces = slotTraces ? [] : null;
    this.releaseTraces = slotTraces ? [] : null;
    const tracked = this.debug && this.unpooled;
    this.unpooledInFlight = tracked ? new Map() : null;
    this.unpooledReleased = tracked ? new WeakMap() : null;
  }

  /** True once {@linkcode BoundedPool.close} has been called: no more objects are handed out. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Takes a free object, or creates one while fewer than `capacity` exist; null when every
   * object is in flight or the pool is closed. Synchronous; allocates nothing once warm (debug
   * mode aside, which records a trace). Unpooled: a new object from `create()` each time.
   */
  tryAcquire(): T | null {
    if (this.closedFlag) return null;
    if (this.unpooled) return this.acquireUnpooled();
    let index: number;
    if (this.freeTop > 0) {
      index = this.freeStack[--this.freeTop];
    } else if (this.objects.length < this.capacity) {
      index = this.createSlot();
    } else {
      return null;
    }
    assert(this.state[index] === SLOT_FREE, "free list held an object in flight");
    this.state[index] = SLOT_IN_FLIGHT;
    this.inFlight++;
    if (this.inFlight > this.highWater) this.highWater = this.inFlight;
    this.acquires++;
    const obj = this.objects[index];
    if (this.debug) this.recordAcquire(obj, index, new Error("acquired"));
    return obj;
  }

  /**
   * Acquires an object: resolves at once when one is free (use {@linkcode tryAcquire} on the
   * hot path: this still allocates a resolved promise), else waits in FIFO order for a release,
   * up to `timeoutMs` (default 100), then rejects with {@linkcode PoolExhaustedError}. Rejects
   * with {@linkcode PoolClosedError} once the pool is closed, and with `signal.reason` on abort.
   */
  acquire(opts?: AcquireOptions): Promise<T> {
    const signal = opts?.signal;
    if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
    if (this.closedFlag) return Promise.reject(new PoolClosedError(this.name));
    const obj = this.tryAcquire();
    if (obj !== null) return Promise.resolve(obj);
    const timeoutMs = opts?.timeoutMs ?? ACQUIRE_TIMEOUT_MS_DEFAULT;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(
        new RangeError(`pool "${this.name}": expected a finite timeoutMs >= 0, found ${timeoutMs}`),
      );
    }
    if (timeoutMs === 0) return this.failFast("no wait requested");
    if (this.waiterCount >= this.waitersMax) {
      return this.failFast(`waiter queue full at ${this.waitersMax}`);
    }
    return this.enqueueWaiter(timeoutMs, signal);
  }

  /**
   * Returns an object: `reset()` it, then hands it to the oldest waiter if any, else puts it on
   * the free list (debug mode: poisons it and records the release stack). Throws
   * {@linkcode PoolMisuseError} at once on a double release or a foreign object. Unpooled: drops
   * the object (no reset) and gives the oldest waiter, if any, a new one.
   */
  release(obj: T): void {
    if (this.unpooled) return this.releaseUnpooled(obj);
    const index = this.slots.get(obj);
    if (index === undefined) throw this.foreignObject();
    if (this.state[index] !== SLOT_IN_FLIGHT) throw this.doubleRelease(index);
    obj.reset();
    this.releases++;
    // Rare branches live in their own methods: a small release() stays cheap to inline.
    if (this.waitHead !== null) return this.handOff(obj, index, this.waitHead);
    this.state[index] = SLOT_FREE;
    this.freeStack[this.freeTop++] = index;
    this.inFlight--;
    assert(this.inFlight >= 0 && this.freeTop <= this.capacity, "in-flight count went negative");
    if (this.debug) this.poisonFree(obj, index);
    if (this.inFlight === 0) this.notifyIdle();
  }

  /**
   * Stable id of `obj` within this pool (1..capacity), or -1 when the pool never made it.
   * Unpooled: the acquisition serial number in debug mode, else -1.
   */
  idOf(obj: T): number {
    if (this.unpooled) {
      const record = this.unpooledInFlight?.get(obj) ?? this.unpooledReleased?.get(obj);
      return record === undefined ? -1 : record.id;
    }
    const index = this.slots.get(obj);
    return index === undefined ? -1 : index + 1;
  }

  /** True while `obj` is acquired from this pool and not yet released (unpooled: debug only). */
  isInFlight(obj: T): boolean {
    if (this.unpooled) return this.unpooledInFlight?.has(obj) ?? false;
    const index = this.slots.get(obj);
    return index !== undefined && this.state[index] === SLOT_IN_FLIGHT;
  }

  /** Number of objects in flight (cheap; no snapshot allocated). */
  inFlightCount(): number {
    return this.inFlight;
  }

  /** Ids of the objects in flight, ascending (diagnostics: allocates; unpooled: debug only). */
  inFlightIds(): number[] {
    const ids: number[] = [];
    if (this.unpooled) {
      for (const record of this.unpooledRecords()) ids.push(record.id);
      return ids;
    }
    for (let i = 0; i < this.objects.length; i++) {
      if (this.state[i] === SLOT_IN_FLIGHT) ids.push(i + 1);
    }
    return ids;
  }

  /**
   * Debug mode: stacks of the latest acquisition of each object in flight, in id order.
   * Empty when debug mode is off.
   */
  inFlightStacks(): string[] {
    const stacks: string[] = [];
    if (this.unpooled) {
      for (const record of this.unpooledRecords()) {
        stacks.push(stackText(record.acquireTrace) ?? "");
      }
      return stacks;
    }
    if (this.acquireTraces === null) return stacks;
    for (let i = 0; i < this.objects.length; i++) {
      if (this.state[i] === SLOT_IN_FLIGHT) stacks.push(stackText(this.acquireTraces[i]) ?? "");
    }
    return stacks;
  }

  /** Debug mode: where `obj` was last acquired; undefined when debug is off or `obj` is foreign. */
  acquireStack(obj: T): string | undefined {
    if (this.unpooled) return stackText(this.unpooledInFlight?.get(obj)?.acquireTrace);
    const index = this.slots.get(obj);
    if (index === undefined || this.acquireTraces === null) return undefined;
    return stackText(this.acquireTraces[index]);
  }

  /** A snapshot of the pool's counters and gauges. */
  stats(): PoolStats {
    return {
      name: this.name,
      capacity: this.capacity,
      inFlight: this.inFlight,
      free: this.freeTop,
      acquires: this.acquires,
      releases: this.releases,
      waits: this.waits,
      timeouts: this.timeouts,
      highWater: this.highWater,
    };
  }

  /**
   * Stops handing out objects (shutdown): `tryAcquire()` returns null from now on, `acquire()`
   * rejects with {@linkcode PoolClosedError}, and queued waiters are rejected with it. Releases
   * keep working so objects in flight can come home. Idempotent.
   */
  close(): void {
    this.closedFlag = true;
    for (let w = this.waitHead; w !== null; w = this.waitHead) {
      this.unlinkWaiter(w);
      this.disarmWaiter(w);
      w.reject(new PoolClosedError(this.name));
    }
  }

  /**
   * Sets the single listener called each time the in-flight count drops to zero (the pool
   * manager uses it to end shutdown early); null removes it.
   */
  setIdleListener(listener: (() => void) | null): void {
    this.idleListener = listener;
  }

  /** Unpooled `tryAcquire()`: a new object while fewer than `capacity` are in flight. */
  private acquireUnpooled(): T | null {
    if (this.inFlight >= this.capacity) return null;
    const obj = this.createObject();
    if (this.unpooledInFlight !== null) this.trackUnpooled(obj, new Error("acquired"));
    this.countAcquire();
    return obj;
  }

  /** Unpooled `release()`: the object is dropped; a waiter gets a new one in its place. */
  private releaseUnpooled(obj: T): void {
    if (this.unpooledInFlight !== null) this.untrackUnpooled(obj);
    else if (this.inFlight === 0) throw this.foreignObject(); // all the counts can tell
    this.releases++;
    if (this.waitHead !== null) return this.handOffFresh(this.waitHead);
    this.inFlight--;
    assert(this.inFlight >= 0, "in-flight count went negative");
    if (this.inFlight === 0) this.notifyIdle();
  }

  /** Unpooled: the oldest waiter takes over the released object's place with a new object. */
  private handOffFresh(waiter: Waiter<T>): void {
    this.unlinkWaiter(waiter);
    this.disarmWaiter(waiter);
    let obj: T;
    try {
      obj = this.createObject();
      if (this.unpooledInFlight !== null) this.trackUnpooled(obj, waiter.trace);
    } catch (err) {
      // The place stays empty: the releaser must not see the waiter's failure.
      this.inFlight--;
      waiter.reject(err);
      if (this.inFlight === 0) this.notifyIdle();
      return;
    }
    this.acquires++;
    waiter.resolve(obj);
  }

  private countAcquire(): void {
    this.inFlight++;
    if (this.inFlight > this.highWater) this.highWater = this.inFlight;
    this.acquires++;
  }

  private trackUnpooled(obj: T, trace: Error | undefined): void {
    const inFlight = this.unpooledInFlight!;
    if (inFlight.has(obj)) {
      throw new TypeError(
        `pool "${this.name}": expected create() to return a new object, found one in flight`,
      );
    }
    inFlight.set(obj, { id: ++this.unpooledSerial, acquireTrace: trace, releaseTrace: undefined });
  }

  private untrackUnpooled(obj: T): void {
    const record = this.unpooledInFlight!.get(obj);
    if (record === undefined) {
      const released = this.unpooledReleased!.get(obj);
      if (released === undefined) throw this.foreignObject();
      throw new PoolMisuseError(this.name, {
        objectId: released.id,
        kind: "double_release",
        acquireStack: stackText(released.acquireTrace),
        firstReleaseStack: stackText(released.releaseTrace),
      });
    }
    this.unpooledInFlight!.delete(obj);
    record.releaseTrace = new Error("released");
    this.unpooledReleased!.set(obj, record);
    obj.poison?.();
  }

  /** Unpooled debug mode: records of the objects in flight, by ascending id. */
  private unpooledRecords(): UnpooledRecord[] {
    if (this.unpooledInFlight === null) return [];
    return [...this.unpooledInFlight.values()].sort((a, b) => a.id - b.id);
  }

  private createSlot(): number {
    const obj = this.createObject();
    if (this.slots.has(obj)) {
      throw new TypeError(
        `pool "${this.name}": expected create() to return a new object, found one already pooled`,
      );
    }
    const index = this.objects.length;
    this.objects.push(obj);
    this.slots.set(obj, index);
    return index;
  }

  /** Gives a released object straight to the oldest waiter; it stays in flight throughout. */
  private handOff(obj: T, index: number, waiter: Waiter<T>): void {
    this.unlinkWaiter(waiter);
    this.disarmWaiter(waiter);
    this.acquires++;
    if (this.debug) this.recordAcquire(obj, index, waiter.trace);
    waiter.resolve(obj);
  }

  private poisonFree(obj: T, index: number): void {
    this.releaseTraces![index] = new Error("released");
    obj.poison?.();
  }

  private notifyIdle(): void {
    if (this.idleListener !== null) this.idleListener();
  }

  private foreignObject(): PoolMisuseError {
    return new PoolMisuseError(this.name, { objectId: -1, kind: "foreign_object" });
  }

  private recordAcquire(obj: T, index: number, trace: Error | undefined): void {
    // A free object is poisoned in debug mode; the new holder must see a clean one.
    obj.reset();
    this.acquireTraces![index] = trace;
    this.releaseTraces![index] = undefined;
  }

  private doubleRelease(index: number): PoolMisuseError {
    return new PoolMisuseError(this.name, {
      objectId: index + 1,
      kind: "double_release",
      acquireStack: stackText(this.acquireTraces?.[index]),
      firstReleaseStack: stackText(this.releaseTraces?.[index]),
    });
  }

  private failFast(detail: string): Promise<T> {
    this.timeouts++;
    return Promise.reject(
      new PoolExhaustedError(this.name, this.capacity, { waitedMs: 0, detail }),
    );
  }

  private enqueueWaiter(timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
    const trace = this.debug ? new Error("acquired") : undefined;
    return new Promise<T>((resolve, reject) => {
      const waiter = new Waiter<T>(resolve, reject, this.clock.nowMs(), trace);
      waiter.timerId = this.clock.setTimeout(() => this.expireWaiter(waiter), timeoutMs);
      if (signal !== undefined) {
        waiter.signal = signal;
        waiter.onAbort = () => this.abortWaiter(waiter);
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.linkWaiter(waiter);
      this.waits++;
    });
  }

  private expireWaiter(waiter: Waiter<T>): void {
    // The timer has fired, so only the abort listener remains to remove.
    waiter.timerId = 0;
    this.unlinkWaiter(waiter);
    this.disarmWaiter(waiter);
    this.timeouts++;
    const waitedMs = this.clock.nowMs() - waiter.startMs;
    waiter.reject(new PoolExhaustedError(this.name, this.capacity, { waitedMs }));
  }

  private abortWaiter(waiter: Waiter<T>): void {
    const reason = waiter.signal!.reason;
    this.unlinkWaiter(waiter);
    this.disarmWaiter(waiter);
    waiter.reject(reason);
  }

  /** Cancels the waiter's timer and abort listener (every way out of the queue calls this). */
  private disarmWaiter(waiter: Waiter<T>): void {
    if (waiter.timerId !== 0) this.clock.clearTimeout(waiter.timerId);
    waiter.timerId = 0;
    if (waiter.signal !== null && waiter.onAbort !== null) {
      waiter.signal.removeEventListener("abort", waiter.onAbort);
    }
    waiter.signal = null;
    waiter.onAbort = null;
  }

  private linkWaiter(waiter: Waiter<T>): void {
    waiter.prev = this.waitTail;
    if (this.waitTail === null) this.waitHead = waiter;
    else this.waitTail.next = waiter;
    this.waitTail = waiter;
    waiter.queued = true;
    this.waiterCount++;
  }

  private unlinkWaiter(waiter: Waiter<T>): void {
    assert(waiter.queued, "waiter unlinked twice");
    waiter.queued = false;
    if (waiter.prev === null) this.waitHead = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === null) this.waitTail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = null;
    waiter.next = null;
    this.waiterCount--;
    assert(this.waiterCount >= 0, "waiter count went negative");
  }
}

/** The frames of a recorded trace, without its `Error: ...` header line. */
function stackText(trace: Error | undefined): string | undefined {
  if (trace === undefined) return undefined;
  const stack = trace.stack ?? "";
  const firstNewline = stack.indexOf("\n");
  return firstNewline === -1 ? stack : stack.slice(firstNewline + 1);
}

/** Invariant check: a failure is a bug in the pool, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`pool invariant violated: ${what}`);
}
