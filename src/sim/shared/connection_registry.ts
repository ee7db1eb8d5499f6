/**
 * The open WebSocket connections of a simulator, with the frame counts of the ones already
 * closed, so the simulator's totals never go down when a client leaves. Also the bounded
 * close-all of a shutdown.
 *
 * @module
 */

/** Wait for every connection to finish its close handshake on shutdown, ms. */
export const SHUTDOWN_DRAIN_MS = 1000;
/** Poll period of that wait, ms. */
const DRAIN_POLL_MS = 10;

/** What the registry needs of a connection. */
export interface CountedConnection {
  /** Unique among the simulator's connections. */
  readonly id: number;
  /** Frames sent so far. */
  readonly framesSent: number;
  /** Frames not sent (stalls, faults) so far. */
  readonly framesDropped: number;
  /** Starts the close handshake. */
  close(code: number, reason: string): void;
}

/** Frames of every connection, open and closed. */
export interface FrameTotals {
  /** Frames sent. */
  framesSent: number;
  /** Frames dropped. */
  framesDropped: number;
}

/**
 * Open connections by id.
 *
 * @example
 * ```ts
 * const connections = new ConnectionRegistry<MyConnection>();
 * connections.add(connection); // on upgrade
 * connections.remove(connection); // from the connection's close handler
 * connections.frameTotals(); // { framesSent, framesDropped }
 * ```
 */
export class ConnectionRegistry<C extends CountedConnection> {
  readonly #open = new Map<number, C>();
  #closedFramesSent = 0;
  #closedFramesDropped = 0;

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Registers a new connection; its id must be new. */
  add(connection: C): void {
    if (this.#open.has(connection.id)) {
      throw new Error(`connection: expected a new id, found ${connection.id} open already`);
    }
    this.#open.set(connection.id, connection);
  }

  /**
   * Forgets a closed connection and keeps its frame counts. False when it is not the one
   * registered under its id (already removed): a close reported twice is counted once.
   */
  remove(connection: C): boolean {
    if (this.#open.get(connection.id) !== connection) return false;
    this.#open.delete(connection.id);
    this.#closedFramesSent += connection.framesSent;
    this.#closedFramesDropped += connection.framesDropped;
    return true;
  }

  /** The open connections, in the order they were added. */
  values(): IterableIterator<C> {
    return this.#open.values();
  }

  /** A copy of the open connections (safe to iterate while they close). */
  list(): C[] {
    return [...this.#open.values()];
  }

  /** Frames over open and closed connections. */
  frameTotals(): FrameTotals {
    let framesSent = this.#closedFramesSent;
    let framesDropped = this.#closedFramesDropped;
    for (const c of this.#open.values()) {
      framesSent += c.framesSent;
      framesDropped += c.framesDropped;
    }
    return { framesSent, framesDropped };
  }

  /** Sends every open connection a close frame with `code` and `reason`. */
  closeAll(code: number, reason: string): void {
    for (const c of this.#open.values()) c.close(code, reason);
  }
}

/**
 * Waits until `openCount()` is 0 or `waitMs` has passed (checked every 10 ms): the bounded wait
 * of a shutdown for close handshakes to finish before the server goes away.
 */
export async function waitUntilDrained(openCount: () => number, waitMs: number): Promise<void> {
  const deadlineMs = performance.now() + waitMs;
  while (openCount() > 0 && performance.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
