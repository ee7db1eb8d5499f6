/**
 * Exact decimal atoms for the matching engine: every price, quantity and balance is a `bigint`
 * count of 10^-8 units, so sums and products (price × qty easily passes 2^53 atoms²) stay exact.
 *
 * @module
 */

import { isDecimalString } from "../../schema/exact_values.ts";
import { formatBigAtoms, trimDecimal } from "../market/decimal_atoms.ts";

/** Atoms in one whole unit (10^8) as a bigint. */
export const UNIT_ATOMS = 100_000_000n;

const FRACTION_DIGITS_MAX = 8;
const ZEROS = "00000000";

/**
 * The atoms of a non-negative decimal string with at most 8 fraction digits (trailing zeros
 * beyond that are allowed), or `undefined` when the text is not such a decimal.
 *
 * @example
 * ```ts
 * parseAtoms("0.01"); // 1_000_000n
 * parseAtoms("-1"); // undefined
 * ```
 */
export function parseAtoms(text: string): bigint | undefined {
  if (!isDecimalString(text) || text.charCodeAt(0) === 45 /* - */) return undefined;
  const dot = text.indexOf(".");
  const whole = dot === -1 ? text : text.slice(0, dot);
  const fraction = dot === -1 ? "" : text.slice(dot + 1).replace(/0+$/, "");
  if (fraction.length > FRACTION_DIGITS_MAX) return undefined;
  return BigInt((whole === "" ? "0" : whole) + fraction + ZEROS.slice(fraction.length));
}

/**
 * Formats atoms in minimal decimal form: no trailing fraction zeros (`"0.5"`, `"100"`, `"0"`).
 *
 * @example
 * ```ts
 * formatAtomsMinimal(150_000_000n); // "1.5"
 * ```
 */
export function formatAtomsMinimal(atoms: bigint): string {
  return trimDecimal(formatBigAtoms(atoms));
}

/** `a × b` for two atom counts, in atoms, rounded down (e.g. price × qty → quote). */
export function mulAtomsFloor(a: bigint, b: bigint): bigint {
  return (a * b) / UNIT_ATOMS;
}

/** `a × b` for two atom counts, in atoms, rounded up. */
export function mulAtomsCeil(a: bigint, b: bigint): bigint {
  const product = a * b;
  const quotient = product / UNIT_ATOMS;
  return product % UNIT_ATOMS === 0n ? quotient : quotient + 1n;
}
