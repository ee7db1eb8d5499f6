/**
 * Encoding side of the codec: the canonical wire format is JSON text.
 *
 * This is the one module the lint lets call `JSON.stringify` on the hot path, so every encoder
 * goes through one place that can be measured and swapped.
 *
 * @module
 */

/**
 * Serialises a JSON-compatible value (plain objects, arrays, strings, finite numbers, booleans,
 * null). Throws a `TypeError` when the value has no JSON form (`undefined`, a function, a
 * symbol) and whatever `JSON.stringify` throws for cycles and BigInts.
 *
 * @example
 * ```ts
 * encodeJson({ v: 1, kind: "trade" }); // '{"v":1,"kind":"trade"}'
 * ```
 */
export function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (typeof text !== "string") {
    throw new TypeError(`expected a JSON-serialisable value, found ${typeof value}`);
  }
  return text;
}
