/**
 * Venue client ids: the client order id the gateway sends to an exchange, derived from the
 * intent journal's row id (`sy` + base-36 digits). The consumer's own id never reaches an
 * exchange, so it may use characters some exchanges refuse, and two consumers may share one.
 *
 * The journal's row ids come from an AUTOINCREMENT key: SQLite never hands out the same id
 * twice, even after rows are deleted, so a venue client id is never reused.
 *
 * @module
 */

import { VENUE_CLIENT_ID_LENGTH_MAX } from "./order_venue.ts";

/** Prefix of every gateway-derived venue client id. */
export const VENUE_CLIENT_ID_PREFIX = "sy";

/**
 * Base-36 digits after the prefix. 11 digits hold every safe integer (36^11 > 2^53), so the
 * id has one fixed length, 13, well within {@linkcode VENUE_CLIENT_ID_LENGTH_MAX}.
 */
export const VENUE_CLIENT_ID_DIGITS = 11;

const VENUE_CLIENT_ID_RE = /^sy[0-9a-z]{11}$/;

/**
 * The venue client id of journal row `rowId` (an integer >= 1).
 *
 * @example
 * ```ts
 * venueClientIdOf(1); // "sy00000000001"
 * venueClientIdOf(36); // "sy00000000010"
 * ```
 */
export function venueClientIdOf(rowId: number): string {
  if (!Number.isSafeInteger(rowId) || rowId < 1) {
    throw new RangeError(`expected a journal row id as a safe integer >= 1, found ${rowId}`);
  }
  const id = VENUE_CLIENT_ID_PREFIX + rowId.toString(36).padStart(VENUE_CLIENT_ID_DIGITS, "0");
  // Holds by construction (36^11 > 2^53); checked because every exchange depends on it.
  if (id.length > VENUE_CLIENT_ID_LENGTH_MAX) {
    throw new Error(`venue client id invariant violated: ${id} is over 18 characters`);
  }
  return id;
}

/**
 * The journal row id of a gateway-derived venue client id; null when `venueClientId` is not one
 * (an order placed by something else on the same account).
 */
export function rowIdOfVenueClientId(venueClientId: string): number | null {
  if (!VENUE_CLIENT_ID_RE.test(venueClientId)) return null;
  const rowId = parseInt(venueClientId.slice(VENUE_CLIENT_ID_PREFIX.length), 36);
  return Number.isSafeInteger(rowId) && rowId >= 1 ? rowId : null;
}
