/**
 * Small encoders shared by the Kraken simulator: RFC 3339 timestamps with microseconds and the
 * method response envelopes (success / error) of protocol notes kraken.md §2.
 *
 * @module
 */

/**
 * RFC 3339 UTC time with 6 fraction digits, as v2 prints it.
 *
 * @example
 * ```ts
 * rfc3339Micros(0); // "1970-01-01T00:00:00.000000Z"
 * ```
 */
export function rfc3339Micros(timeMs: number): string {
  const iso = new Date(Math.floor(timeMs)).toISOString(); // ...:SS.mmmZ
  return iso.slice(0, -1) + "000Z";
}

/** A method response with `success:true`. `reqId` undefined leaves `req_id` out. */
export function successResponse(
  method: string,
  fields: { result?: unknown; reqId?: number; timeInMs: number; timeOutMs: number },
): string {
  const body: Record<string, unknown> = { method };
  if (fields.result !== undefined) body.result = fields.result;
  body.success = true;
  body.time_in = rfc3339Micros(fields.timeInMs);
  body.time_out = rfc3339Micros(fields.timeOutMs);
  if (fields.reqId !== undefined) body.req_id = fields.reqId;
  return JSON.stringify(body);
}

/** A method response with `success:false` and an `error` text (`symbol` when per symbol). */
export function errorResponse(
  method: string,
  fields: { error: string; symbol?: string; reqId?: number; timeInMs: number; timeOutMs: number },
): string {
  const body: Record<string, unknown> = { error: fields.error, method, success: false };
  if (fields.symbol !== undefined) body.symbol = fields.symbol;
  body.time_in = rfc3339Micros(fields.timeInMs);
  body.time_out = rfc3339Micros(fields.timeOutMs);
  if (fields.reqId !== undefined) body.req_id = fields.reqId;
  return JSON.stringify(body);
}
