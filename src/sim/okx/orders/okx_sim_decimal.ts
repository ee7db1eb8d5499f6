/**
 * Exact decimal arithmetic on strings for the OKX order side's wire fields (cumulative fee,
 * average price). BigInt inside, so no value is ever rounded by a float.
 *
 * @module
 */

/** A plain decimal: optional minus, digits, optional fraction (`"-0.0010"`). */
const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** Decimals kept by {@linkcode divideDecimal} when the quotient does not terminate. */
export const AVG_PX_DECIMALS_MAX = 16;

interface Scaled {
  units: bigint;
  scale: number;
}

function scaled(text: string): Scaled {
  if (!DECIMAL_RE.test(text)) {
    throw new RangeError(`expected a plain decimal, found ${JSON.stringify(text)}`);
  }
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf(".");
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const units = BigInt(digits);
  return { units: negative ? -units : units, scale: dot < 0 ? 0 : body.length - dot - 1 };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    let text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    text = text.replace(/\.?0+$/, "");
    digits = text;
  }
  return negative && digits !== "0" ? `-${digits}` : digits;
}

/** `a + b`, trailing zeros trimmed. */
export function addDecimal(a: string, b: string): string {
  const x = scaled(a);
  const y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  return format(rescale(x, scale) + rescale(y, scale), scale);
}

/** `-a` (`"0"` stays `"0"`). */
export function negateDecimal(a: string): string {
  const x = scaled(a);
  return format(-x.units, x.scale);
}

/** True when `a` is greater than zero. */
export function isPositiveDecimal(a: string): boolean {
  return DECIMAL_RE.test(a) && scaled(a).units > 0n;
}

/**
 * `a / b` for `b > 0`, exact when the quotient terminates within
 * {@linkcode AVG_PX_DECIMALS_MAX} decimals, otherwise truncated there; `"0"` when `a` is zero.
 */
export function divideDecimal(a: string, b: string): string {
  const x = scaled(a);
  const y = scaled(b);
  if (y.units <= 0n) throw new RangeError(`expected a positive divisor, found ${b}`);
  const scale = AVG_PX_DECIMALS_MAX;
  // a/b = (xu / 10^xs) / (yu / 10^ys) = xu * 10^(ys + scale - xs) / yu, in units of 10^-scale.
  const shift = y.scale + scale - x.scale;
  const numerator = shift >= 0 ? x.units * 10n ** BigInt(shift) : x.units / 10n ** BigInt(-shift);
  return format(numerator / y.units, scale);
}
