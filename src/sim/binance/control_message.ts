/**
 * The live control protocol of Binance market streams (client → server JSON):
 * SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY, and the server's
 * `{"result":...,"id":...}` / `{"error":{"code","msg"},"id":...}` replies (error codes 0-3).
 *
 * @module
 */

import { parseStreamName } from "./stream_name.ts";

/** A request id as Binance accepts it: a 64-bit integer, a short alphanumeric string, or null. */
export type ControlId = number | string | null;

/** A well-formed control request. */
export type ControlRequest =
  | {
    readonly method: "SUBSCRIBE" | "UNSUBSCRIBE";
    readonly streams: string[];
    readonly id: ControlId;
  }
  | { readonly method: "LIST_SUBSCRIPTIONS"; readonly id: ControlId }
  | { readonly method: "SET_PROPERTY"; readonly value: boolean; readonly id: ControlId }
  | { readonly method: "GET_PROPERTY"; readonly id: ControlId };

/** A rejected message: what the server sends back. */
export interface ControlFailure {
  /** 0 unknown property, 1 wrong value type, 2 invalid request, 3 invalid JSON. */
  readonly code: 0 | 1 | 2 | 3;
  /** Message text in Binance's wording. */
  readonly msg: string;
  /** The request's id when it was readable, else null. */
  readonly id: ControlId;
}

/** Result of {@link parseControlMessage}. */
export type ControlParse =
  | { readonly ok: true; readonly request: ControlRequest }
  | { readonly ok: false; readonly failure: ControlFailure };

const METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`";
const ID_STRING_RE = /^[A-Za-z0-9]{1,36}$/;
const INT64_MAX = 9223372036854775807;

/**
 * Parses one inbound text frame. Never throws.
 *
 * @example
 * ```ts
 * const parsed = parseControlMessage('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}');
 * if (parsed.ok) parsed.request.method; // "SUBSCRIBE"
 * ```
 */
export function parseControlMessage(text: string): ControlParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const { line, column } = jsonErrorPosition(text, err);
    return fail(3, `Invalid JSON: expected value at line ${line} column ${column}`, null);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(2, "Invalid request: expected a JSON object", null);
  }
  const message = value as Record<string, unknown>;
  const rawId = message.id;
  if (!isValidId(rawId)) {
    return fail(
      2,
      "Invalid request: request ID must be a signed 64-bit integer, an alphanumeric string of up to 36 characters, or null",
      null,
    );
  }
  const id: ControlId = rawId ?? null;
  const method = message.method;
  if (method === undefined) return fail(2, "Invalid request: missing field `method`", id);
  if (typeof method !== "string") return fail(2, "Invalid request: `method` must be a string", id);
  const params = message.params;
  switch (method) {
    case "SUBSCRIBE":
    case "UNSUBSCRIBE":
      return parseStreamsRequest(method, params, id);
    case "LIST_SUBSCRIPTIONS":
      if (params !== undefined && !(Array.isArray(params) && params.length === 0)) {
        return fail(2, "Invalid request: too many parameters", id);
      }
      return { ok: true, request: { method, id } };
    case "SET_PROPERTY":
      return parseSetProperty(params, id);
    case "GET_PROPERTY":
      return parseGetProperty(params, id);
    default:
      return fail(
        2,
        `Invalid request: unknown variant \`${method}\`, expected one of ${METHODS}`,
        id,
      );
  }
}

/** The reply to a successful request: `{"result":<result>,"id":<id>}`. */
export function encodeResult(result: null | boolean | readonly string[], id: ControlId): string {
  return `{"result":${JSON.stringify(result)},"id":${JSON.stringify(id)}}`;
}

/** The reply to a failed request: `{"error":{"code":N,"msg":"..."},"id":<id>}`. */
export function encodeFailure(failure: ControlFailure): string {
  return `{"error":{"code":${failure.code},"msg":${JSON.stringify(failure.msg)}},"id":${
    JSON.stringify(failure.id)
  }}`;
}

function parseStreamsRequest(
  method: "SUBSCRIBE" | "UNSUBSCRIBE",
  params: unknown,
  id: ControlId,
): ControlParse {
  if (params === undefined) return fail(2, "Invalid request: missing field `params`", id);
  if (!Array.isArray(params)) return fail(2, "Invalid request: `params` must be an array", id);
  const streams: string[] = [];
  for (const param of params) {
    if (typeof param !== "string" || parseStreamName(param) === null) {
      return fail(2, "Invalid request: invalid stream", id);
    }
    streams.push(param);
  }
  return { ok: true, request: { method, streams, id } };
}

function parseSetProperty(params: unknown, id: ControlId): ControlParse {
  if (!Array.isArray(params) || params.length < 2) {
    return fail(2, "Invalid request: expected a property name and a value", id);
  }
  if (params.length > 2) return fail(2, "Invalid request: too many parameters", id);
  if (typeof params[0] !== "string") {
    return fail(2, "Invalid request: property name must be a string", id);
  }
  if (params[0] !== "combined") return fail(0, "Unknown property", id);
  if (typeof params[1] !== "boolean") return fail(1, "Invalid value type: expected Boolean", id);
  return { ok: true, request: { method: "SET_PROPERTY", value: params[1], id } };
}

function parseGetProperty(params: unknown, id: ControlId): ControlParse {
  if (!Array.isArray(params) || params.length < 1) {
    return fail(2, "Invalid request: expected a property name", id);
  }
  if (params.length > 1) return fail(2, "Invalid request: too many parameters", id);
  if (typeof params[0] !== "string") {
    return fail(2, "Invalid request: property name must be a string", id);
  }
  if (params[0] !== "combined") return fail(0, "Unknown property", id);
  return { ok: true, request: { method: "GET_PROPERTY", id } };
}

function isValidId(id: unknown): id is ControlId | undefined {
  if (id === undefined || id === null) return true;
  if (typeof id === "number") return Number.isInteger(id) && Math.abs(id) <= INT64_MAX;
  return typeof id === "string" && ID_STRING_RE.test(id);
}

function fail(code: 0 | 1 | 2 | 3, msg: string, id: ControlId): ControlParse {
  return { ok: false, failure: { code, msg, id } };
}

/**
 * 1-based line and column of a JSON syntax error, recovered from V8's message (which gives a
 * position for some errors and only the offending character for others).
 */
function jsonErrorPosition(text: string, err: unknown): { line: number; column: number } {
  const message = err instanceof Error ? err.message : "";
  let offset = text.length;
  const position = /at position (\d+)/.exec(message);
  const token = /^Unexpected token '(.)'/.exec(message);
  if (position !== null) offset = Number(position[1]);
  else if (token !== null && text.indexOf(token[1]) !== -1) offset = text.indexOf(token[1]);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
