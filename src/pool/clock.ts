/**
 * The time source of the pools: a monotonic "now" and one-shot timers. Injected so tests can
 * drive waits and shutdown deterministically instead of sleeping.
 *
 * @module
 */

/** Monotonic time and one-shot timers, as the pools use them. */
export interface Clock {
  /** Monotonic milliseconds (any origin); only differences are meaningful. */
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; returns an id for {@linkcode Clock.clearTimeout}. */
  setTimeout(callback: () => void, delayMs: number): number;
  /** Cancels a pending timer; unknown or already fired ids are ignored. */
  clearTimeout(timerId: number): void;
}

/** The runtime's clock: `performance.now()` and the global timers. */
export const SYSTEM_CLOCK: Clock = {
  nowMs(): number {
    return performance.now();
  },
  setTimeout(callback: () => void, delayMs: number): number {
    // Deno returns a number; Number() also keeps the type checker happy when Node's typings
    // (where it is a Timeout object with a numeric primitive value) are in scope.
    return Number(setTimeout(callback, delayMs));
  },
  clearTimeout(timerId: number): void {
    clearTimeout(timerId);
  },
};

interface ManualTimer {
  id: number;
  dueMs: number;
  callback: () => void;
}

/**
 * A clock that only moves when told to: for tests and simulations. Timers fire inside
 * {@linkcode ManualClock.advance}, in due order (ties in creation order).
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * let fired = false;
 * clock.setTimeout(() => fired = true, 100);
 * clock.advance(99); // fired === false
 * clock.advance(1); // fired === true
 * ```
 */
export class ManualClock implements Clock {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  /** Current manual time in ms (starts at 0). */
  nowMs(): number {
    return this.now;
  }

  /** Schedules `callback` at now + `delayMs` (negative delays count as 0). */
  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.now + Math.max(0, delayMs), callback });
    return id;
  }

  /** Cancels a pending timer. */
  clearTimeout(timerId: number): void {
    this.timers.delete(timerId);
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `deltaMs`, firing every timer that falls due on the way (time is set
   * to each timer's due time while it runs, so callbacks see the right "now").
   */
  advance(deltaMs: number): void {
    if (!(deltaMs >= 0)) {
      throw new RangeError(`expected a non-negative advance in ms, found ${deltaMs}`);
    }
    const targetMs = this.now + deltaMs;
    for (;;) {
      const next = this.nextDue(targetMs);
      if (next === null) break;
      this.timers.delete(next.id);
      this.now = next.dueMs;
      next.callback();
    }
    this.now = targetMs;
  }

  private nextDue(limitMs: number): ManualTimer | null {
    let best: ManualTimer | null = null;
    for (const t of this.timers.values()) {
      if (t.dueMs > limitMs) continue;
      // Map iteration follows insertion (= id) order, so strict < keeps ties in creation order.
      if (best === null || t.dueMs < best.dueMs) best = t;
    }
    return best;
  }
}
