/**
 * Typed errors of the pools. Exhaustion and closure are operating conditions that callers turn
 * into backpressure; misuse is a programmer error and is thrown at the faulty call.
 *
 * @module
 */

/** Options of {@linkcode PoolExhaustedError}. */
export interface PoolExhaustedErrorOptions {
  /** How long the caller waited before giving up, in ms (0 when it did not wait). */
  waitedMs: number;
  /** Why no wait happened, when none did (e.g. the waiter queue is full). */
  detail?: string;
}

/**
 * No object became free within the allowed wait: every object of the pool is in flight.
 * Callers shed load or slow their producer (backpressure); it is not a bug by itself.
 */
export class PoolExhaustedError extends Error {
  /** Name of the exhausted pool. */
  readonly pool: string;
  /** The pool's capacity (objects in flight at the time). */
  readonly capacity: number;
  /** How long the caller waited, in ms. */
  readonly waitedMs: number;

  /** Builds the error for pool `pool` of `capacity` objects. */
  constructor(pool: string, capacity: number, opts: PoolExhaustedErrorOptions) {
    const waited = opts.waitedMs.toFixed(1);
    const detail = opts.detail === undefined ? "" : ` (${opts.detail})`;
    super(
      `pool "${pool}" exhausted: expected a free object within ${waited} ms, found all ${capacity} in flight${detail}`,
    );
    this.name = "PoolExhaustedError";
    this.pool = pool;
    this.capacity = capacity;
    this.waitedMs = opts.waitedMs;
  }
}

/** What a {@linkcode PoolMisuseError} is about. */
export type PoolMisuseKind = "double_release" | "foreign_object";

/** Options of {@linkcode PoolMisuseError}. */
export interface PoolMisuseErrorOptions {
  /** Id of the object within its pool (1..capacity), -1 for a foreign object. */
  objectId: number;
  /** What went wrong. */
  kind: PoolMisuseKind;
  /** Debug mode: where the object was last acquired. */
  acquireStack?: string;
  /** Debug mode: where the object was first released (double release only). */
  firstReleaseStack?: string;
}

/**
 * A pooled object was released twice, or an object the pool never handed out was released.
 * Thrown immediately at the faulty `release()`; in debug mode it carries both stacks.
 */
export class PoolMisuseError extends Error {
  /** Name of the pool the release was made to. */
  readonly pool: string;
  /** Id of the object within the pool (1..capacity), -1 for a foreign object. */
  readonly objectId: number;
  /** What went wrong. */
  readonly kind: PoolMisuseKind;
  /** Debug mode: where the object was last acquired. */
  readonly acquireStack?: string;
  /** Debug mode: where the object was first released. */
  readonly firstReleaseStack?: string;

  /** Builds the error for pool `pool`. */
  constructor(pool: string, opts: PoolMisuseErrorOptions) {
    super(misuseMessage(pool, opts));
    this.name = "PoolMisuseError";
    this.pool = pool;
    this.objectId = opts.objectId;
    this.kind = opts.kind;
    if (opts.acquireStack !== undefined) this.acquireStack = opts.acquireStack;
    if (opts.firstReleaseStack !== undefined) this.firstReleaseStack = opts.firstReleaseStack;
  }
}

function misuseMessage(pool: string, opts: PoolMisuseErrorOptions): string {
  if (opts.kind === "foreign_object") {
    return `pool "${pool}": expected an object acquired from this pool, found a foreign object`;
  }
  // Stacks go into the message too, so an uncaught error printed by the runtime shows them.
  let text =
    `pool "${pool}": object ${opts.objectId} released twice: expected an object in flight, found it already free`;
  if (opts.acquireStack !== undefined) text += `\nacquired at:\n${opts.acquireStack}`;
  if (opts.firstReleaseStack !== undefined) {
    text += `\nfirst released at:\n${opts.firstReleaseStack}`;
  }
  return text;
}

/**
 * The pool no longer hands out objects because shutdown has begun. Callers stop producing;
 * objects already in flight can (and should) still be released.
 */
export class PoolClosedError extends Error {
  /** Name of the closed pool. */
  readonly pool: string;

  /** Builds the error for pool `pool`. */
  constructor(pool: string) {
    super(
      `pool "${pool}" is closed: expected an acquire before shutdown, found shutdown under way`,
    );
    this.name = "PoolClosedError";
    this.pool = pool;
  }
}
