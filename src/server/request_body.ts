/**
 * Reads a JSON request body with a size bound: the HTTP control API accepts small command
 * objects only, so a large or endless body is cut off (413) before it is buffered in full.
 *
 * @module
 */

import { DecodeError, decodeJson } from "../codec/mod.ts";

/** Largest request body the control API reads by default, in bytes (64 KiB). */
export const BODY_BYTES_MAX_DEFAULT = 65_536;

/** Outcome of {@linkcode readJsonBody}: the parsed value, or the HTTP error to answer with. */
export type JsonBodyResult =
  | { readonly ok: true; readonly value: unknown }
  | {
    readonly ok: false;
    /** 400 (no body, not UTF-8, not JSON) or 413 (too large). */
    readonly status: 400 | 413;
    /** `snake_case` error code for an ack. */
    readonly code: "missing_body" | "invalid_json" | "body_too_large";
    /** What was expected and what was found. */
    readonly message: string;
  };

/** Options of {@linkcode readJsonBody}. */
export interface ReadJsonBodyOptions {
  /** Largest body accepted, in bytes. Default {@linkcode BODY_BYTES_MAX_DEFAULT}. */
  bytesMax?: number;
}

/**
 * Reads and parses `req`'s body. A `content-length` above the bound is refused without reading;
 * a body without one is read chunk by chunk and abandoned (the stream cancelled) as soon as it
 * passes the bound. Never throws for client mistakes.
 */
export async function readJsonBody(
  req: Request,
  opts?: ReadJsonBodyOptions,
): Promise<JsonBodyResult> {
  const bytesMax = opts?.bytesMax ?? BODY_BYTES_MAX_DEFAULT;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > bytesMax) {
    await req.body?.cancel();
    return tooLarge(bytesMax, `content-length ${declared}`);
  }
  if (req.body === null) {
    return {
      ok: false,
      status: 400,
      code: "missing_body",
      message: "expected a JSON object in the request body, found no body",
    };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > bytesMax) {
        await reader.cancel();
        return tooLarge(bytesMax, `more than ${bytesMax} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return {
      ok: false,
      status: 400,
      code: "invalid_json",
      message: "expected a UTF-8 JSON text in the request body, found bytes that are not UTF-8",
    };
  }
  if (text.trim() === "") {
    return {
      ok: false,
      status: 400,
      code: "missing_body",
      message: "expected a JSON object in the request body, found an empty body",
    };
  }
  try {
    return { ok: true, value: decodeJson(text) };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { ok: false, status: 400, code: "invalid_json", message: err.reason };
  }
}

function tooLarge(bytesMax: number, found: string): JsonBodyResult {
  return {
    ok: false,
    status: 413,
    code: "body_too_large",
    message: `expected a request body of at most ${bytesMax} bytes, found ${found}`,
  };
}
