/**
 * The bounded retry an adapter's start() wraps around its one REST call before connecting
 * (Binance's exchangeInfo, OKX's instrument list): a few attempts with backoff, cut short when
 * the adapter is closed meanwhile.
 *
 * @module
 */

import { abortableDelay } from "./abortable_delay.ts";
import { Backoff } from "./backoff.ts";

/** First wait between start-up attempts, ms. */
export const STARTUP_RETRY_INITIAL_MS = 250;
/** Longest wait between start-up attempts, ms. */
export const STARTUP_RETRY_MAX_MS = 5_000;

/** Options of {@linkcode loadWithRetries}. */
export interface StartupRetryOptions {
  /** Prefix of the error messages (the provider name, `binance`). */
  provider: string;
  /** What is loaded, for the error messages (`exchangeInfo`, `instruments`). */
  what: string;
  /** Attempts before giving up (>= 1). */
  attemptsMax: number;
  /** Aborted when the adapter closes: no further attempt starts, a pending wait ends. */
  signal: AbortSignal;
  /** One failed attempt (numbered from 1), with the error as `Name: message`. */
  onFailure: (attempt: number, error: string) => void;
}

/** What {@linkcode loadWithRetries} resolves to. */
export interface StartupRetryResult<T> {
  /** The loaded value. */
  value: T;
  /** The attempt that succeeded (numbered from 1). */
  attempt: number;
}

/**
 * Calls `load` until it resolves, at most `attemptsMax` times, waiting with backoff (250 ms
 * doubling to 5 s) in between. Throws when every attempt failed, or when `signal` is aborted
 * before an attempt or after a failed one.
 *
 * @example
 * ```ts
 * const { value, attempt } = await loadWithRetries(() => rest.exchangeInfo(), {
 *   provider: "binance",
 *   what: "exchangeInfo",
 *   attemptsMax: 8,
 *   signal: closing.signal,
 *   onFailure: (n, error) => console.warn(n, error),
 * });
 * ```
 */
export async function loadWithRetries<T>(
  load: () => Promise<T>,
  opts: StartupRetryOptions,
): Promise<StartupRetryResult<T>> {
  if (!(Number.isInteger(opts.attemptsMax) && opts.attemptsMax >= 1)) {
    throw new RangeError(`attemptsMax: expected an integer >= 1, found ${opts.attemptsMax}`);
  }
  const backoff = new Backoff({ initialMs: STARTUP_RETRY_INITIAL_MS, maxMs: STARTUP_RETRY_MAX_MS });
  for (let attempt = 1;; attempt++) {
    if (opts.signal.aborted) {
      throw new Error(
        `${opts.provider}: expected an open adapter to load ${opts.what}, found it closed`,
      );
    }
    try {
      return { value: await load(), attempt };
    } catch (err) {
      const error = `${(err as Error).name}: ${(err as Error).message}`;
      opts.onFailure(attempt, error);
      if (attempt >= opts.attemptsMax || opts.signal.aborted) {
        throw new Error(`${opts.provider}: ${opts.what} failed ${attempt} times, last: ${error}`);
      }
      await abortableDelay(backoff.next(), opts.signal);
    }
  }
}
