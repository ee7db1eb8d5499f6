/**
 * What the dispatcher delivers to: anything with an id that accepts clones. The in-process
 * `Consumer` is one; the WebSocket server's per-session sender will be another.
 *
 * @module
 */

import type { CanonicalEventData } from "../schema/canonical_event.ts";

/** A receiver of per-subscriber clones. */
export interface DeliveryTarget {
  /** Consumer id, unique in the routing table. */
  readonly id: string;
  /**
   * Takes ownership of `ev`, a clone made for this target alone. Returns false when the target
   * refused it (queue full, closed). Must not call back into the dispatcher.
   */
  enqueue(ev: CanonicalEventData): boolean;
}
