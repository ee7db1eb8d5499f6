/**
 * Exact decimal arithmetic on the strings OKX sends (`accFillSz`, `fillPx`, `fillFee`), for the
 * order venue's cumulative quote amount and fee sign. BigInt inside; nothing is rounded.
 *
 * @module
 */

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** True when `text` is a plain decimal (`"-0.001"`, `"63000"`). */
export function isOkxDecimal(text: string): boolean {
  return DECIMAL_RE.test(text);
}

interface Scaled {
  units: bigint;
  scale: number;
}

function scaled(text: string): Scaled {
  if (!DECIMAL_RE.test(text)) {
    throw new RangeError(`expected a plain decimal, found "${text}"`);
  }
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf(".");
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const units = BigInt(digits);
  return { units: negative ? -units : units, scale: dot < 0 ? 0 : body.length - dot - 1 };
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  let text = (negative ? -units : units).toString();
  if (scale > 0) {
    text = text.padStart(scale + 1, "0");
    text = `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, "");
  }
  return negative && text !== "0" ? `-${text}` : text;
}

/** `a + b`, trailing zeros trimmed. */
export function decimalAdd(a: string, b: string): string {
  const x = scaled(a);
  const y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  return format(
    x.units * 10n ** BigInt(scale - x.scale) + y.units * 10n ** BigInt(scale - y.scale),
    scale,
  );
}

/** `a × b`, exact, trailing zeros trimmed. */
export function decimalMul(a: string, b: string): string {
  const x = scaled(a);
  const y = scaled(b);
  return format(x.units * y.units, x.scale + y.scale);
}

/** `-a`. */
export function decimalNegate(a: string): string {
  const x = scaled(a);
  return format(-x.units, x.scale);
}

/** Sign of `a - b`: -1, 0 or 1. */
export function decimalCompare(a: string, b: string): number {
  const x = scaled(a);
  const y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  const d = x.units * 10n ** BigInt(scale - x.scale) - y.units * 10n ** BigInt(scale - y.scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** True when `a` is a decimal greater than zero. */
export function decimalIsPositive(a: string): boolean {
  return DECIMAL_RE.test(a) && scaled(a).units > 0n;
}
