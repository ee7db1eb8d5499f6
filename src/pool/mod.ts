/**
 * Bounded object pools for the hot path: {@linkcode BoundedPool} (synchronous `tryAcquire`,
 * bounded FIFO wait in `acquire`, misuse detection, debug poisoning) and
 * {@linkcode PoolManager} (registry, in-flight accounting, graceful shutdown with leak reports).
 * The pools know nothing of the objects they hold beyond {@linkcode Poolable}.
 *
 * @module
 */

export type { Poolable } from "./poolable.ts";
export type { Clock } from "./clock.ts";
export { ManualClock, SYSTEM_CLOCK } from "./clock.ts";
export {
  PoolClosedError,
  PoolExhaustedError,
  type PoolExhaustedErrorOptions,
  PoolMisuseError,
  type PoolMisuseErrorOptions,
  type PoolMisuseKind,
} from "./pool_errors.ts";
export {
  ACQUIRE_TIMEOUT_MS_DEFAULT,
  type AcquireOptions,
  BoundedPool,
  type BoundedPoolOptions,
  type PoolStats,
  WAITERS_MAX_DEFAULT,
} from "./bounded_pool.ts";
export {
  type LeakReport,
  PoolManager,
  type PoolManagerOptions,
  SHUTDOWN_TIMEOUT_MS_DEFAULT,
  type ShutdownOptions,
  type ShutdownReport,
} from "./pool_manager.ts";
