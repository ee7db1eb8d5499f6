/**
 * A delay that ends early when a signal aborts: what the adapters' bounded start-up retries
 * wait with, so close() never waits out a backoff.
 *
 * @module
 */

/**
 * Resolves after `delayMs`, or at once when `signal` aborts (already aborted: at once). The
 * timer and the listener are removed either way, so nothing outlives the wait.
 *
 * @example
 * ```ts
 * const closing = new AbortController();
 * await abortableDelay(250, closing.signal);
 * ```
 */
export function abortableDelay(delayMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, delayMs);
    signal.addEventListener("abort", done);
  });
}
