/**
 * Generic JSON decoding through a chosen engine, with engine errors turned into
 * {@linkcode DecodeError}: the entry point for adapters whose exchange has no specialised
 * decoder (the lint bans raw `JSON.parse` on the hot path).
 *
 * @module
 */

import { DecodeError } from "./decode_error.ts";
import { type JsonEngine, V8_JSON_ENGINE } from "./json_engine.ts";

/** Options of {@linkcode decodeJson}. */
export interface DecodeJsonOptions {
  /** Engine to parse with. Default: {@linkcode V8_JSON_ENGINE}. */
  engine?: JsonEngine;
  /** Exchange named in the error, when the text is a frame of one. */
  provider?: string;
}

function parseErrorOffset(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  // V8 says "... in JSON at position 12 (line 1 column 13)"; simdjson gives no position.
  const m = /at position (\d+)/.exec(e.message);
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses `text` with the engine; throws {@linkcode DecodeError} (with the engine's message, and
 * the offset when the engine reports one) for invalid JSON, never another error type.
 *
 * @example
 * ```ts
 * decodeJson('{"a":1}'); // { a: 1 }
 * decodeJson("{", { provider: "okx" }); // throws DecodeError
 * ```
 */
export function decodeJson(text: string, opts?: DecodeJsonOptions): unknown {
  const engine = opts?.engine ?? V8_JSON_ENGINE;
  try {
    return engine.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new DecodeError(
      `expected a JSON text, found invalid JSON (${engine.name}: ${detail})`,
      text,
      { provider: opts?.provider, offset: parseErrorOffset(e), cause: e },
    );
  }
}
