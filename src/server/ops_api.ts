/**
 * The ops inspection API: read-only JSON views of the dead-letter queue and of recent ops
 * telemetry, for operators (strategy consumers never see either).
 *
 * | route | methods | query | answer |
 * | --- | --- | --- | --- |
 * | `/v1/dlq` | GET | `limit`, `priority`, `reason`, `consumer`, `stream` | entries newest first, totals, eviction counters |
 * | `/v1/telemetry` | GET | `limit`, `type` | recent events newest first, per-type counts |
 *
 * `limit` is an integer 1..{@linkcode OPS_LIMIT_MAX} (default {@linkcode OPS_LIMIT_DEFAULT}).
 * A malformed, repeated or unknown query parameter answers 400 saying what was expected, so a
 * typo (`?prio=high`) is not silently ignored. An unwired source answers 503.
 *
 * @module
 */

import {
  type DeadLetterEntry,
  type DeadLetterFilter,
  type DeadLetterPriorityStats,
  type DeadLetterQueue,
  isDeadLetterPriority,
} from "../telemetry/dead_letter_queue.ts";
import {
  isTelemetryType,
  TELEMETRY_TYPES,
  type TelemetryBus,
  type TelemetryRecord,
  type TelemetryType,
} from "../telemetry/telemetry_bus.ts";
import { methodNotAllowed } from "./control_api.ts";
import { errorResponse, jsonResponse } from "./http_response.ts";

/** Path of the dead-letter queue view. */
export const DLQ_PATH = "/v1/dlq";
/** Path of the recent-telemetry view. */
export const TELEMETRY_PATH = "/v1/telemetry";
/** Default `limit`, entries or events. */
export const OPS_LIMIT_DEFAULT = 100;
/** Largest `limit` accepted. */
export const OPS_LIMIT_MAX = 1000;

/** Longest `reason`, `consumer` or `stream` filter value, characters. */
const FILTER_CHARS_MAX = 128;
const READ_METHODS: readonly string[] = ["GET", "HEAD"];
const LIMIT_RE = /^[0-9]{1,7}$/;
// Printable ASCII without spaces: what reasons, consumer ids and stream keys are made of.
const FILTER_RE = /^[\x21-\x7e]+$/;

/** What the ops routes read; either may be absent (its route answers 503). */
export interface OpsSources {
  /** The dead-letter queue (`/v1/dlq`). */
  dlq?: DeadLetterQueue;
  /** The ops telemetry bus (`/v1/telemetry`). */
  telemetry?: TelemetryBus;
}

/** Answers an ops route, or returns null when `req` names none (the caller goes on routing). */
export function routeOps(req: Request, sources: OpsSources | undefined): Response | null {
  const url = new URL(req.url);
  switch (url.pathname) {
    case DLQ_PATH:
      if (!READ_METHODS.includes(req.method)) return methodNotAllowed(req, READ_METHODS);
      if (sources?.dlq === undefined) return notWired("the dead-letter queue");
      return dlqRoute(sources.dlq, url.searchParams);
    case TELEMETRY_PATH:
      if (!READ_METHODS.includes(req.method)) return methodNotAllowed(req, READ_METHODS);
      if (sources?.telemetry === undefined) return notWired("the telemetry bus");
      return telemetryRoute(sources.telemetry, url.searchParams);
    default:
      return null;
  }
}

/** A parsed query: the values by name, or the 400 to answer. */
type ParsedQuery = { ok: true; values: Map<string, string> } | { ok: false; response: Response };

/** Checks that every parameter is known and given once. */
function readQuery(params: URLSearchParams, allowed: readonly string[]): ParsedQuery {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!allowed.includes(name)) {
      return badQuery(
        `query parameter: expected one of ${allowed.join(", ")}, found "${clipText(name)}"`,
      );
    }
    if (values.has(name)) {
      return badQuery(`query parameter ${name}: expected it once, found it repeated`);
    }
    values.set(name, value);
  }
  return { ok: true, values };
}

function badQuery(message: string): ParsedQuery {
  return { ok: false, response: errorResponse(400, message) };
}

function parseLimit(raw: string | undefined): number | Response {
  if (raw === undefined) return OPS_LIMIT_DEFAULT;
  const n = LIMIT_RE.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= OPS_LIMIT_MAX)) {
    return errorResponse(
      400,
      `query parameter limit: expected an integer 1..${OPS_LIMIT_MAX}, found "${clipText(raw)}"`,
    );
  }
  return n;
}

function parseFilterText(name: string, raw: string | undefined): string | undefined | Response {
  if (raw === undefined) return undefined;
  if (raw.length > FILTER_CHARS_MAX || !FILTER_RE.test(raw)) {
    return errorResponse(
      400,
      `query parameter ${name}: expected 1..${FILTER_CHARS_MAX} printable characters without spaces, found "${
        clipText(raw)
      }"`,
    );
  }
  return raw;
}

function dlqRoute(dlq: DeadLetterQueue, params: URLSearchParams): Response {
  const query = readQuery(params, ["limit", "priority", "reason", "consumer", "stream"]);
  if (!query.ok) return query.response;
  const limit = parseLimit(query.values.get("limit"));
  if (limit instanceof Response) return limit;
  const filter: DeadLetterFilter = {};
  const priority = query.values.get("priority");
  if (priority !== undefined) {
    if (!isDeadLetterPriority(priority)) {
      return errorResponse(
        400,
        `query parameter priority: expected "low" or "high", found "${clipText(priority)}"`,
      );
    }
    filter.priority = priority;
  }
  for (const name of ["reason", "consumer", "stream"] as const) {
    const value = parseFilterText(name, query.values.get(name));
    if (value instanceof Response) return value;
    if (value !== undefined) filter[name] = value;
  }
  const result = dlq.query(limit, filter);
  const s = dlq.stats();
  return jsonResponse(200, {
    entries: result.entries.map(entryView),
    returned: result.entries.length,
    matched: result.matched,
    limit,
    filter,
    totals: {
      entries: s.entries,
      bytes: s.bytes,
      entries_max: s.entriesMax,
      bytes_max: s.bytesMax,
      errors: dlq.errors,
    },
    by_priority: { low: priorityView(s.low), high: priorityView(s.high) },
    evictions: { low: s.low.evicted, high: s.high.evicted },
  });
}

function entryView(e: DeadLetterEntry) {
  return {
    id: e.id,
    ts_ms: e.ts_ms,
    time: isoTime(e.ts_ms),
    priority: e.priority,
    reason: e.reason,
    stream: e.stream,
    consumer: e.consumer,
    trace_id: e.trace_id,
    decision_id: e.decision_id,
    payload: e.payload,
    bytes: e.bytes,
  };
}

function priorityView(p: DeadLetterPriorityStats) {
  return {
    entries: p.entries,
    bytes: p.bytes,
    added: p.added,
    evicted: p.evicted,
    refused: p.refused,
  };
}

function telemetryRoute(bus: TelemetryBus, params: URLSearchParams): Response {
  const query = readQuery(params, ["limit", "type"]);
  if (!query.ok) return query.response;
  const limit = parseLimit(query.values.get("limit"));
  if (limit instanceof Response) return limit;
  const type = query.values.get("type");
  let typeFilter: TelemetryType | undefined;
  if (type !== undefined) {
    if (!isTelemetryType(type)) {
      return errorResponse(
        400,
        `query parameter type: expected one of ${TELEMETRY_TYPES.join(", ")}, found "${
          clipText(type)
        }"`,
      );
    }
    typeFilter = type;
  }
  const events = bus.recent(limit, { type: typeFilter });
  const s = bus.stats();
  return jsonResponse(200, {
    events: events.map(recordView),
    returned: events.length,
    limit,
    filter: typeFilter === undefined ? {} : { type: typeFilter },
    published: s.published,
    counts: s.byType,
    log_suppressed: s.logSuppressedByType,
    logged: s.logged,
    rejected: s.rejected,
    listener_errors: s.listenerErrors,
    log_errors: s.logErrors,
    ring: { size: s.ringSize, capacity: s.ringEventsMax },
  });
}

/** Flat JSON of one record: bus fields first, then the event's own (its `seq` is the stream's). */
function recordView(r: TelemetryRecord) {
  return { bus_seq: r.busSeq, ts_ms: r.tsMs, time: isoTime(r.tsMs), ...r.event };
}

/** ISO-8601 text of a clock reading; "" when it is no valid date (an odd injected clock). */
function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

function clipText(s: string): string {
  return s.length <= 80 ? s : s.slice(0, 79) + "…";
}

function notWired(what: string): Response {
  return errorResponse(503, `expected the gateway to provide ${what}, found none wired`);
}
