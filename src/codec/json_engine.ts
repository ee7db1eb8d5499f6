/**
 * The JSON engine interface the decoders parse through, and V8's built-in engine.
 *
 * @module
 */

/** Names of the JSON engines the codec knows. */
export type JsonEngineName = "v8-json" | "simdjson";

/**
 * A whole-document JSON parser. `parse` throws (any error type) on invalid JSON; decoders turn
 * that into a {@linkcode DecodeError}.
 */
export interface JsonEngine {
  /** Which engine this is; printed in the startup log and in bench tables. */
  readonly name: JsonEngineName;
  /** Parses one JSON text into plain JS values (objects, arrays, strings, numbers, ...). */
  parse(text: string): unknown;
}

function v8Parse(text: string): unknown {
  return JSON.parse(text);
}

/**
 * V8's `JSON.parse`: always available, and the fastest generic engine measured here for
 * exchange-sized messages (see `bench/codec_bench.ts`).
 *
 * @example
 * ```ts
 * V8_JSON_ENGINE.parse('{"a":1}'); // { a: 1 }
 * ```
 */
export const V8_JSON_ENGINE: JsonEngine = Object.freeze({ name: "v8-json", parse: v8Parse });
