/**
 * PoolManager: the registry of every pool of the process, in-flight accounting across them, and
 * graceful shutdown that waits (bounded) for outstanding objects and reports the ones that never
 * came back.
 *
 * @module
 */

import { BoundedPool, type BoundedPoolOptions, type PoolStats } from "./bounded_pool.ts";
import { type Clock, SYSTEM_CLOCK } from "./clock.ts";
import type { Poolable } from "./poolable.ts";

/** How long shutdown waits for objects in flight by default, in ms. */
export const SHUTDOWN_TIMEOUT_MS_DEFAULT = 5000;

/** Objects of one pool still in flight when shutdown gave up waiting. */
export interface LeakReport {
  /** Pool name. */
  pool: string;
  /** Number of objects not returned. */
  count: number;
  /** Their ids within the pool, ascending (empty for an unpooled pool outside debug mode). */
  ids: number[];
  /** Debug mode: where each was acquired, in `ids` order; empty when debug is off. */
  stacks: string[];
}

/** Outcome of {@linkcode PoolManager.shutdown}. */
export interface ShutdownReport {
  /** True when every object came back before the timeout. */
  clean: boolean;
  /** How long shutdown waited for releases, in ms. */
  waitedMs: number;
  /** One entry per pool with objects still in flight (empty when clean). */
  leaks: LeakReport[];
}

/** Options of {@linkcode PoolManager}. */
export interface PoolManagerOptions {
  /** Debug mode for every pool created here (poisoning, stacks). Default false. */
  debug?: boolean;
  /** Called once per leaking pool at shutdown (the gateway wires it to its logger). */
  onLeak?: (report: LeakReport) => void;
  /** Time source for pools and shutdown. Default: the system clock. */
  clock?: Clock;
  /**
   * Unpooled mode for every pool created here: no reuse, a new object per acquisition (the
   * benchmarks' baseline; see `BoundedPoolOptions.unpooled`). Default false.
   */
  unpooled?: boolean;
}

/** Options of {@linkcode PoolManager.shutdown}. */
export interface ShutdownOptions {
  /** Longest wait for objects in flight to be released, in ms. Default 5000. */
  timeoutMs?: number;
}

/**
 * Registry of all pools.
 *
 * @example
 * ```ts
 * const pools = new PoolManager({ debug: config.debugPools, onLeak: (r) => log.warn("pool leak", r) });
 * const events = pools.create({ name: "canonical_event", capacity: 4096, create: () => new CanonicalEvent() });
 * // ... run ...
 * const report = await pools.shutdown(); // waits up to 5 s for events in flight
 * ```
 */
export class PoolManager {
  /** Debug mode of every pool created by this manager. */
  readonly debug: boolean;
  /** Whether every pool created by this manager is unpooled (no reuse). */
  readonly unpooled: boolean;

  private readonly onLeak: ((report: LeakReport) => void) | undefined;
  private readonly clock: Clock;
  private readonly registry = new Map<string, BoundedPool<Poolable>>();
  private shutdownPromise: Promise<ShutdownReport> | null = null;

  /** Creates an empty registry. */
  constructor(opts?: PoolManagerOptions) {
    this.debug = opts?.debug ?? false;
    this.unpooled = opts?.unpooled ?? false;
    this.onLeak = opts?.onLeak;
    this.clock = opts?.clock ?? SYSTEM_CLOCK;
  }

  /**
   * Creates and registers a pool with the manager's debug mode, unpooled mode and clock. Throws
   * when the name is already registered or shutdown has begun.
   */
  create<T extends Poolable>(
    opts: Omit<BoundedPoolOptions<T>, "debug" | "clock" | "unpooled">,
  ): BoundedPool<T> {
    if (this.shutdownPromise !== null) {
      throw new Error(
        `pool "${opts.name}" not created: expected a running pool manager, found shutdown under way`,
      );
    }
    if (this.registry.has(opts.name)) {
      throw new Error(
        `pool "${opts.name}" not created: expected a unique pool name, found it already registered`,
      );
    }
    const pool = new BoundedPool<T>({
      ...opts,
      debug: this.debug,
      clock: this.clock,
      unpooled: this.unpooled,
    });
    this.registry.set(pool.name, pool as unknown as BoundedPool<Poolable>);
    return pool;
  }

  /** The pool registered under `name`, if any. */
  get(name: string): BoundedPool<Poolable> | undefined {
    return this.registry.get(name);
  }

  /** Every registered pool, in creation order. */
  pools(): BoundedPool<Poolable>[] {
    return [...this.registry.values()];
  }

  /** A stats snapshot of every pool, in creation order. */
  stats(): PoolStats[] {
    const out: PoolStats[] = [];
    for (const pool of this.registry.values()) out.push(pool.stats());
    return out;
  }

  /** Objects in flight across all pools. */
  totalInFlight(): number {
    let total = 0;
    for (const pool of this.registry.values()) total += pool.inFlightCount();
    return total;
  }

  /**
   * Graceful shutdown: closes every pool (no new acquisitions; queued waiters are rejected),
   * then waits until nothing is in flight or `timeoutMs` (default 5000) has passed, woken by
   * releases rather than polling. Calls `onLeak` once per pool with objects still out and
   * returns the report. Calling it again returns the same report.
   */
  shutdown(opts?: ShutdownOptions): Promise<ShutdownReport> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    const timeoutMs = opts?.timeoutMs ?? SHUTDOWN_TIMEOUT_MS_DEFAULT;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(
        new RangeError(`expected a finite shutdown timeoutMs >= 0, found ${timeoutMs}`),
      );
    }
    this.shutdownPromise = this.drain(timeoutMs);
    return this.shutdownPromise;
  }

  private async drain(timeoutMs: number): Promise<ShutdownReport> {
    for (const pool of this.registry.values()) pool.close();
    const startMs = this.clock.nowMs();
    if (this.totalInFlight() > 0 && timeoutMs > 0) await this.waitIdle(timeoutMs);
    const waitedMs = this.clock.nowMs() - startMs;
    const leaks: LeakReport[] = [];
    for (const pool of this.registry.values()) {
      if (pool.inFlightCount() === 0) continue;
      const ids = pool.inFlightIds();
      const report: LeakReport = {
        pool: pool.name,
        // The count, not ids.length: an unpooled pool outside debug mode keeps no ids.
        count: pool.inFlightCount(),
        ids,
        stacks: pool.inFlightStacks(),
      };
      leaks.push(report);
      this.onLeak?.(report);
    }
    return { clean: leaks.length === 0, waitedMs, leaks };
  }

  /** Resolves when no pool has objects in flight, or after `timeoutMs`; leaves no timer. */
  private waitIdle(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timerId = 0;
      const finish = (): void => {
        this.clock.clearTimeout(timerId);
        for (const pool of this.registry.values()) pool.setIdleListener(null);
        resolve();
      };
      const check = (): void => {
        if (this.totalInFlight() === 0) finish();
      };
      timerId = this.clock.setTimeout(finish, timeoutMs);
      for (const pool of this.registry.values()) pool.setIdleListener(check);
    });
  }
}
