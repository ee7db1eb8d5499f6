/**
 * Exact decimal arithmetic for order bookkeeping: quantities, prices and notionals are scaled
 * BigInts, never floats (a float would turn `0.1 + 0.2` into `0.30000000000000004` and a
 * cumulative quantity into something the exchange never reported).
 *
 * @module
 */

/** A decimal as an integer of units and the number of digits after the point. */
export interface ExactDecimal {
  /** The value times 10^scale. */
  units: bigint;
  /** Digits after the decimal point (>= 0). */
  scale: number;
}

/** Most digits after the point a derived quotient keeps (average prices). */
export const QUOTIENT_SCALE_MAX = 12;

const DECIMAL_RE = /^(-?)([0-9]+)(?:\.([0-9]*))?$/;

/**
 * Parses `"12.3400"` (optional leading `-`, no exponent); null when `text` is not a decimal.
 *
 * @example
 * ```ts
 * parseDecimal("0.010"); // { units: 10n, scale: 3 }
 * ```
 */
export function parseDecimal(text: string): ExactDecimal | null {
  const m = DECIMAL_RE.exec(text);
  if (m === null) return null;
  const fraction = m[3] ?? "";
  const units = BigInt(m[2] + fraction);
  return { units: m[1] === "-" ? -units : units, scale: fraction.length };
}

/** Parses `text`, throwing when it is not a decimal (`what` names the field in the error). */
export function decimalOf(text: string, what: string): ExactDecimal {
  const d = parseDecimal(text);
  if (d === null) throw new RangeError(`expected ${what} as a decimal string, found "${text}"`);
  return d;
}

/** `d` rescaled to `scale` (>= d.scale; exact). */
function rescale(d: ExactDecimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`. */
export function compareDecimal(a: ExactDecimal, b: ExactDecimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `a + b`, exact. */
export function addDecimal(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

/** `a - b`, exact. */
export function subtractDecimal(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) - rescale(b, scale), scale };
}

/** `a × b`, exact. */
export function multiplyDecimal(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/**
 * `a ÷ b` truncated to `scaleMax` digits (default {@linkcode QUOTIENT_SCALE_MAX}) and trimmed of
 * trailing zeros; used only for derived prices, which are labelled as derived. Throws on b = 0.
 */
export function divideDecimal(
  a: ExactDecimal,
  b: ExactDecimal,
  scaleMax = QUOTIENT_SCALE_MAX,
): ExactDecimal {
  if (b.units === 0n) throw new RangeError("expected a non-zero divisor, found 0");
  // a/b = (a.units / 10^a.scale) / (b.units / 10^b.scale); scale the numerator so the integer
  // quotient carries scaleMax fraction digits.
  const numerator = a.units * 10n ** BigInt(scaleMax + b.scale);
  const denominator = b.units * 10n ** BigInt(a.scale);
  return trimDecimal({ units: numerator / denominator, scale: scaleMax });
}

/** `d` without trailing fraction zeros (`1.2300` → `1.23`). */
export function trimDecimal(d: ExactDecimal): ExactDecimal {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { units, scale };
}

/** True when `d` is 0. */
export function isZero(d: ExactDecimal): boolean {
  return d.units === 0n;
}

/** True when `d` is greater than 0. */
export function isPositive(d: ExactDecimal): boolean {
  return d.units > 0n;
}

/** True when `value` is an integer multiple of `increment` (an increment of 0 allows anything). */
export function isMultipleOf(value: ExactDecimal, increment: ExactDecimal): boolean {
  if (increment.units === 0n) return true;
  const scale = Math.max(value.scale, increment.scale);
  return rescale(value, scale) % rescale(increment, scale) === 0n;
}

/**
 * The decimal string of `d`, with exactly `d.scale` fraction digits.
 *
 * @example
 * ```ts
 * formatDecimal({ units: -5n, scale: 3 }); // "-0.005"
 * ```
 */
export function formatDecimal(d: ExactDecimal): string {
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString();
  if (d.scale === 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(d.scale + 1, "0");
  const point = padded.length - d.scale;
  return `${negative ? "-" : ""}${padded.slice(0, point)}.${padded.slice(point)}`;
}
