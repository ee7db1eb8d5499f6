/**
 * Exact decimals on Kraken's v2 wire, where prices and quantities are JSON numbers: frames are
 * parsed keeping each number's source text ({@linkcode parseExactJson}), and texts are
 * normalised to plain decimals padded to a precision ({@linkcode formatDecimal}) with string
 * arithmetic only, never through a binary double.
 *
 * @module
 */

import { decodeJson } from "../../../codec/mod.ts";

const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;
const EXPONENT = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/;

/**
 * Parses a JSON text keeping numbers as their exact source text (`0.10000000` stays
 * `"0.10000000"`, `1e-7` stays `"1e-7"`). Integers (`req_id`, `sequence`) come back as strings
 * too; callers convert them. Throws the codec's `DecodeError` for invalid JSON.
 */
export function parseExactJson(text: string): unknown {
  return decodeJson(quoteNumbers(text), { provider: "kraken" });
}

/**
 * Wraps every number literal outside strings in quotes, so the (engine-neutral) decoder cannot
 * turn it into a double. Strings are skipped with their escapes; the text is otherwise unchanged.
 */
export function quoteNumbers(text: string): string {
  let out = "";
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < n && /[0-9.eE+-]/.test(text[end])) end++;
      out += text.slice(from, i) + '"' + text.slice(i, end) + '"';
      from = end;
      i = end;
      continue;
    }
    i++;
  }
  return out + text.slice(from);
}

/**
 * A JSON number text as a plain decimal with at least `places` fraction digits (padded with
 * zeros; more digits are kept, never rounded away). Undefined when `text` is not a number.
 *
 * @example
 * ```ts
 * formatDecimal("0.5", 8); // "0.50000000"
 * formatDecimal("1e-7", 8); // "0.00000010"
 * formatDecimal("63000", 2); // "63000.00"
 * ```
 */
export function formatDecimal(text: string, places: number): string | undefined {
  const plain = plainDecimal(text);
  if (plain === undefined) return undefined;
  const dot = plain.indexOf(".");
  const fraction = dot === -1 ? "" : plain.slice(dot + 1);
  if (fraction.length >= places) return plain;
  return (dot === -1 ? plain + (places > 0 ? "." : "") : plain) +
    "0".repeat(places - fraction.length);
}

/** A JSON number text (maybe with exponent) as a plain decimal; undefined when malformed. */
export function plainDecimal(text: string): string | undefined {
  if (PLAIN.test(text)) return text;
  const m = EXPONENT.exec(text);
  if (m === null) return undefined;
  const sign = m[1];
  const digits = m[2] + (m[3] ?? "");
  const exponent = Number(m[4]);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return undefined;
  let point = m[2].length + exponent;
  let body = digits;
  if (point <= 0) {
    body = "0".repeat(1 - point) + body;
    point = 1;
  } else if (point > body.length) {
    body = body + "0".repeat(point - body.length);
  }
  let whole = body.slice(0, point).replace(/^0+(?=\d)/, "");
  const fraction = body.slice(point);
  if (whole === "") whole = "0";
  return fraction === "" ? sign + whole : `${sign}${whole}.${fraction}`;
}

/** True for an unsigned plain decimal (`"0.001"`, `"63000"`): what may go onto the wire. */
export function isPlainDecimal(text: string): boolean {
  return /^\d+(\.\d+)?$/.test(text);
}

/** Decimal places of a plain decimal step such as `"0.00001"` (5) or `"1"` (0). */
export function decimalPlaces(step: string): number {
  const dot = step.indexOf(".");
  return dot === -1 ? 0 : step.length - dot - 1;
}
