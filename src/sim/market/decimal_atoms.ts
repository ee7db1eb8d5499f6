/**
 * Exact decimal arithmetic for the simulators: prices and quantities are integers counted in
 * *atoms* of 10^-8 (the precision Binance prints), so every string a simulator sends is produced
 * by integer formatting and can never show float drift.
 *
 * @module
 */

import { isDecimalString } from "../../schema/exact_values.ts";

/** Decimal places of one atom: an atom is 10^-8. */
export const ATOM_DECIMALS = 8;

/** Atoms in one whole unit (10^8). */
export const ATOMS_PER_UNIT = 100_000_000;

const ZEROS = "000000000000000000000000";

/**
 * The number of atoms (10^-`decimals`) in a non-negative decimal string.
 * Throws when the text is not a plain decimal, is negative, has more fraction digits than
 * `decimals`, or does not fit a safe integer.
 *
 * @example
 * ```ts
 * parseDecimalAtoms("0.01"); // 1_000_000
 * parseDecimalAtoms("87250.01"); // 8_725_001_000_000
 * ```
 */
export function parseDecimalAtoms(text: string, decimals: number = ATOM_DECIMALS): number {
  if (!isDecimalString(text) || text.startsWith("-")) {
    throw new RangeError(`expected a non-negative decimal string, found ${JSON.stringify(text)}`);
  }
  const dot = text.indexOf(".");
  const whole = dot === -1 ? text : text.slice(0, dot);
  const fraction = dot === -1 ? "" : text.slice(dot + 1).replace(/0+$/, "");
  if (fraction.length > decimals) {
    throw new RangeError(
      `expected at most ${decimals} fraction digits, found ${JSON.stringify(text)}`,
    );
  }
  const atoms = Number(whole + fraction + ZEROS.slice(0, decimals - fraction.length));
  if (!Number.isSafeInteger(atoms)) {
    throw new RangeError(`expected a value below 2^53 atoms, found ${JSON.stringify(text)}`);
  }
  return atoms;
}

/**
 * Formats an integer count of atoms with exactly `decimals` fraction digits.
 *
 * @example
 * ```ts
 * formatAtoms(8_725_001_000_000); // "87250.01000000"
 * formatAtoms(0); // "0.00000000"
 * formatAtoms(-5, 2); // "-0.05"
 * ```
 */
export function formatAtoms(atoms: number, decimals: number = ATOM_DECIMALS): string {
  if (!Number.isSafeInteger(atoms)) {
    throw new RangeError(`atoms: expected a safe integer, found ${atoms}`);
  }
  const negative = atoms < 0;
  let digits = String(negative ? -atoms : atoms);
  if (decimals === 0) return negative ? "-" + digits : digits;
  if (digits.length <= decimals) digits = ZEROS.slice(0, decimals + 1 - digits.length) + digits;
  const cut = digits.length - decimals;
  const text = digits.slice(0, cut) + "." + digits.slice(cut);
  return negative ? "-" + text : text;
}

/** Like {@link formatAtoms} for a `bigint` count (sums that may pass 2^53). */
export function formatBigAtoms(atoms: bigint, decimals: number = ATOM_DECIMALS): string {
  const negative = atoms < 0n;
  let digits = (negative ? -atoms : atoms).toString();
  if (decimals === 0) return negative ? "-" + digits : digits;
  if (digits.length <= decimals) digits = ZEROS.slice(0, decimals + 1 - digits.length) + digits;
  const cut = digits.length - decimals;
  const text = digits.slice(0, cut) + "." + digits.slice(cut);
  return negative ? "-" + text : text;
}

/**
 * Drops trailing fraction zeros (and a bare trailing dot): the minimal form some venues send.
 *
 * @example
 * ```ts
 * trimDecimal("87250.01000000"); // "87250.01"
 * trimDecimal("2.00000000"); // "2"
 * ```
 */
export function trimDecimal(text: string): string {
  if (text.indexOf(".") === -1) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (text.charCodeAt(end - 1) === 46 /* . */) end--;
  return text.slice(0, end);
}
