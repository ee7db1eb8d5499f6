/**
 * JSON responses of the HTTP face: one helper for bodies, one for errors, one for acks, so every
 * route answers in the same shape and content type.
 *
 * The status routes are not the data path, but their bodies still go through `src/codec`'s
 * encoder so there is a single place that turns values into JSON text.
 *
 * @module
 */

import { encodeJson } from "../codec/mod.ts";
import { type AckMessage, controlToWire } from "../schema/mod.ts";

/** Content type of every JSON body the server sends. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Options of {@linkcode jsonResponse} and {@linkcode errorResponse}. */
export interface JsonResponseOptions {
  /** Extra headers (`allow`, `upgrade`, ...). */
  headers?: HeadersInit;
}

/** A JSON response: `body` encoded on one line, then a newline (friendly to `curl`). */
export function jsonResponse(status: number, body: unknown, opts?: JsonResponseOptions): Response {
  const h = new Headers(opts?.headers);
  h.set("content-type", JSON_CONTENT_TYPE);
  return new Response(encodeJson(body) + "\n", { status, headers: h });
}

/** An error response `{"error": message}`; `message` says what was expected and what was found. */
export function errorResponse(
  status: number,
  message: string,
  opts?: JsonResponseOptions,
): Response {
  return jsonResponse(status, { error: message }, opts);
}

/** An `ack` in the canonical wire format (the HTTP control routes answer like the WebSocket). */
export function ackResponse(
  status: number,
  ack: AckMessage,
  opts?: JsonResponseOptions,
): Response {
  return jsonResponse(status, controlToWire(ack), opts);
}

/** A 405 for `req` naming the allowed methods (also in the `allow` header). */
export function methodNotAllowed(req: Request, allowed: readonly string[]): Response {
  const path = new URL(req.url).pathname;
  return errorResponse(
    405,
    `method ${req.method} not allowed on ${path}, expected ${allowed.join(" or ")}`,
    { headers: { allow: allowed.join(", ") } },
  );
}
