/**
 * Fault injection of the Kraken simulator (protocol notes kraken.md §8): wrong book checksums,
 * dropped book updates (a gap the next checksum exposes), connections that go silent after a
 * subscription ack, stalls, abrupt disconnects and system status changes.
 *
 * @module
 */

/** What the controller needs from the simulator. */
export interface KrakenFaultHost {
  /** Cuts every open connection at the TCP level (no close frame); returns how many. */
  dropAll(): number;
  /** Sends a `status` update with `system` to every connection. */
  broadcastStatus(system: KrakenSystemStatus): void;
}

/** Values of the status channel's `system` field. */
export type KrakenSystemStatus = "online" | "maintenance" | "cancel_only" | "post_only";

/** The fault knobs. Counters are consumed by the simulator as it sends. */
export class KrakenSimFaults {
  readonly #host: KrakenFaultHost;
  #corruptChecksums = 0;
  #dropBookUpdates = 0;
  #silentSubscriptions = 0;
  #silentAlways = false;
  #stallUntilMs = 0;
  #system: KrakenSystemStatus = "online";

  /** Use the simulator's `faults` field. */
  constructor(host: KrakenFaultHost) {
    this.#host = host;
  }

  /** The next `count` book messages (snapshot or update) carry a wrong checksum. */
  corruptChecksums(count = 1): void {
    this.#corruptChecksums += checkCount(count);
  }

  /**
   * The next `count` book updates are not sent, while the simulator's view of what the client
   * holds advances as if they were: a gap that the next checksum exposes.
   */
  dropBookUpdates(count = 1): void {
    this.#dropBookUpdates += checkCount(count);
  }

  /**
   * The next `count` connections that subscribe are acked and then receive nothing more: no
   * data, no heartbeats (method responses such as pong still flow).
   */
  silentAfterAck(count = 1): void {
    this.#silentSubscriptions += checkCount(count);
  }

  /** While on, every connection that subscribes goes silent after its ack. */
  setSilentAfterAck(enabled: boolean): void {
    this.#silentAlways = enabled;
  }

  /** Sends nothing but method responses on any connection for `durationMs` (frames are lost). */
  stall(durationMs: number): void {
    if (!(Number.isFinite(durationMs) && durationMs >= 0)) {
      throw new RangeError(`durationMs: expected a non-negative number, found ${durationMs}`);
    }
    this.#stallUntilMs = Math.max(this.#stallUntilMs, performance.now() + durationMs);
  }

  /** Cuts every connection abruptly (TCP close, no WebSocket close frame); returns how many. */
  disconnectAll(): number {
    return this.#host.dropAll();
  }

  /** Switches the system status and announces it on every connection. */
  setSystemStatus(system: KrakenSystemStatus): void {
    this.#system = system;
    this.#host.broadcastStatus(system);
  }

  /** Current system status. */
  get systemStatus(): KrakenSystemStatus {
    return this.#system;
  }

  /** Whether market data is stalled now. */
  stalled(nowMs: number): boolean {
    return nowMs < this.#stallUntilMs;
  }

  /** Consumes one pending checksum corruption; true when this message must be corrupted. */
  takeCorruptChecksum(): boolean {
    if (this.#corruptChecksums === 0) return false;
    this.#corruptChecksums--;
    return true;
  }

  /** Consumes one pending update drop; true when this update must not be sent. */
  takeDropBookUpdate(): boolean {
    if (this.#dropBookUpdates === 0) return false;
    this.#dropBookUpdates--;
    return true;
  }

  /** Consumes one pending silent subscription; true when the connection goes silent. */
  takeSilentAfterAck(): boolean {
    if (this.#silentAlways) return true;
    if (this.#silentSubscriptions === 0) return false;
    this.#silentSubscriptions--;
    return true;
  }
}

function checkCount(count: number): number {
  if (!(Number.isSafeInteger(count) && count >= 1)) {
    throw new RangeError(`count: expected a positive integer, found ${count}`);
  }
  return count;
}
