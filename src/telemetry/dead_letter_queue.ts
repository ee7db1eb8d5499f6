/**
 * The dead-letter queue: a bounded in-memory store of what the gateway could not deliver, kept
 * for operators (`GET /v1/dlq`) — never replayed to consumers.
 *
 * Entries have a priority. `low` is for coalescable market data dropped under backpressure:
 * losing some of those records is expected. `high` is for anything involving orders, ExecReports
 * or control: each one matters. The queue is bounded by entries and by approximate bytes; when
 * full it evicts the OLDEST LOW entries first. A high entry is evicted only when no low entry
 * remains, and each such eviction is counted (`switchyard_dlq_evictions_total{priority="high"}`)
 * and logged as an error. A low entry that arrives when only high entries are left is refused
 * (counted as `refused`) rather than pushing out a high one.
 *
 * An entry keeps a bounded summary of the payload (scalar fields, clipped strings), not the
 * payload itself: the payload is read once during {@linkcode DeadLetterQueue.add} and no
 * reference to it is kept, so a pooled object may be released right after.
 *
 * Entry fields are snake_case: entries appear verbatim in `/v1/dlq`.
 *
 * @example
 * ```ts
 * const dlq = new DeadLetterQueue({ entriesMax: 10_000, bytesMax: 4 << 20 });
 * registerDeadLetterMetrics(metrics, dlq);
 * dlq.add({
 *   priority: "low", reason: "queue_full", consumer: "strat-a",
 *   stream: "binance:BTC-USDT:ticker", trace_id: traceId, decision_id: decisionId,
 *   payload: clone, // summarised, not kept
 * });
 * dlq.query(50, { priority: "high" }); // newest first
 * ```
 *
 * @module
 */

import { componentLogger } from "./logger.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** DLQ priorities, lowest first. */
export const DEAD_LETTER_PRIORITIES = ["low", "high"] as const;

/** `low`: coalescable market data; `high`: orders, ExecReports, control. */
export type DeadLetterPriority = typeof DEAD_LETTER_PRIORITIES[number];

/** True when `value` names a DLQ priority. */
export function isDeadLetterPriority(value: unknown): value is DeadLetterPriority {
  return value === "low" || value === "high";
}

/** A bounded, flat summary of a payload: scalar fields only, strings clipped. */
export type PayloadSummary = Record<string, string | number | boolean | null>;

/** What a producer hands to {@linkcode DeadLetterQueue.add}. */
export interface DeadLetterInput {
  /** `low` for coalescable market data, `high` for orders / ExecReports / control. */
  priority: DeadLetterPriority;
  /** Why it was not delivered (`queue_full`, `coalesce_overflow`, ...); clipped to 64 chars. */
  reason: string;
  /** Stream key as text, `provider:symbol:kind`, or `""`; clipped to 128 chars. */
  stream: string;
  /** Consumer id, or `""`; clipped to 128 chars. */
  consumer: string;
  /** The flow (frame, order), or `""`; clipped to 64 chars. */
  trace_id: string;
  /** The decision that dead-lettered it, or `""`; clipped to 64 chars. */
  decision_id: string;
  /** What was not delivered; only a bounded summary is kept (see {@linkcode summarizePayload}). */
  payload?: unknown;
}

/** One stored entry. */
export interface DeadLetterEntry {
  /** Increasing from 1 in arrival order, across priorities. */
  readonly id: number;
  /** Arrival time (the queue's clock, ms since the epoch by default). */
  readonly ts_ms: number;
  readonly priority: DeadLetterPriority;
  readonly reason: string;
  readonly stream: string;
  readonly consumer: string;
  readonly trace_id: string;
  readonly decision_id: string;
  /** Bounded summary of the payload. */
  readonly payload: PayloadSummary;
  /** Approximate heap bytes the entry holds (what the byte bound counts). */
  readonly bytes: number;
}

/** Filter of {@linkcode DeadLetterQueue.query}; every given field must match exactly. */
export interface DeadLetterFilter {
  priority?: DeadLetterPriority;
  reason?: string;
  consumer?: string;
  stream?: string;
}

/** Answer of {@linkcode DeadLetterQueue.query}. */
export interface DeadLetterQueryResult {
  /** Matching entries, newest first, at most the limit asked. */
  entries: DeadLetterEntry[];
  /** How many stored entries match (may exceed `entries.length`). */
  matched: number;
}

/** Counters of one priority. */
export interface DeadLetterPriorityStats {
  /** Entries stored now. */
  entries: number;
  /** Approximate bytes stored now. */
  bytes: number;
  /** Entries ever accepted. */
  added: number;
  /** Entries evicted to make room. */
  evicted: number;
  /** Entries refused on arrival (low only: the queue held nothing but high entries). */
  refused: number;
}

/** A snapshot of a {@linkcode DeadLetterQueue}'s state. */
export interface DeadLetterStats {
  /** Entries stored now, both priorities. */
  entries: number;
  /** Approximate bytes stored now, both priorities. */
  bytes: number;
  /** Bound on entries. */
  entriesMax: number;
  /** Bound on approximate bytes. */
  bytesMax: number;
  low: DeadLetterPriorityStats;
  high: DeadLetterPriorityStats;
}

/** Default bound on entries. */
export const DLQ_ENTRIES_MAX_DEFAULT = 10_000;
/** Default bound on approximate bytes (4 MiB). */
export const DLQ_BYTES_MAX_DEFAULT = 4 * 1024 * 1024;
/** Default bound on payload summary fields. */
export const SUMMARY_FIELDS_MAX_DEFAULT = 16;
/** Default bound on each summary string value, characters. */
export const SUMMARY_CHARS_MAX_DEFAULT = 96;

const REASON_CHARS_MAX = 64;
const NAME_CHARS_MAX = 128;
const ID_CHARS_MAX = 64;
const KEY_CHARS_MAX = 32;
/** Marker key set when a payload had more fields than the summary keeps. */
const TRUNCATED_KEY = "_truncated";

// Byte estimates: V8 object and string headers plus 2 bytes per character (the worst case of
// two-byte strings). Rough on purpose — the bound only has to track memory use, not equal it.
const ENTRY_BASE_BYTES = 160;
const STRING_BASE_BYTES = 16;
const SCALAR_BYTES = 16;
const SUMMARY_BASE_BYTES = 64;

function stringBytes(s: string): number {
  return STRING_BASE_BYTES + 2 * s.length;
}

/** Options of {@linkcode summarizePayload}. */
export interface SummarizeOptions {
  /** Fields kept. Default {@linkcode SUMMARY_FIELDS_MAX_DEFAULT}. */
  fieldsMax?: number;
  /** Characters kept per string value. Default {@linkcode SUMMARY_CHARS_MAX_DEFAULT}. */
  charsMax?: number;
}

function clip(value: unknown, charsMax: number): string {
  const s = typeof value === "string" ? value : String(value ?? "");
  return s.length <= charsMax ? s : s.slice(0, charsMax - 1) + "…";
}

function scalarOf(value: unknown, charsMax: number): string | number | boolean | null | undefined {
  switch (typeof value) {
    case "string":
      return clip(value, charsMax);
    case "number":
      return Number.isFinite(value) ? value : clip(String(value), charsMax);
    case "boolean":
      return value;
    case "bigint":
      return clip(String(value), charsMax);
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) return clip(`[array ${value.length}]`, charsMax);
      return clip(`[object ${value.constructor?.name ?? "Object"}]`, charsMax);
    default:
      return undefined; // functions, symbols, undefined: no JSON form, left out
  }
}

/**
 * A bounded summary of any value: an object's own enumerable scalar fields (nested objects and
 * arrays shown as `[object Name]` / `[array n]`), at most `fieldsMax` of them (then
 * `_truncated: true`), strings clipped to `charsMax`; a bare string becomes `{text}`, another
 * scalar `{value}`, an array `{array_length}`. Never throws (a throwing getter yields
 * `{summary_error}`).
 */
export function summarizePayload(value: unknown, opts?: SummarizeOptions): PayloadSummary {
  const fieldsMax = opts?.fieldsMax ?? SUMMARY_FIELDS_MAX_DEFAULT;
  const charsMax = opts?.charsMax ?? SUMMARY_CHARS_MAX_DEFAULT;
  const out: PayloadSummary = {};
  try {
    if (value === undefined || value === null) return out;
    if (typeof value !== "object") {
      const scalar = scalarOf(value, charsMax);
      if (typeof scalar === "string" && typeof value === "string") out.text = scalar;
      else if (scalar !== undefined) out.value = scalar;
      return out;
    }
    if (Array.isArray(value)) {
      out.array_length = value.length;
      return out;
    }
    let kept = 0;
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const scalar = scalarOf(record[key], charsMax);
      if (scalar === undefined) continue;
      if (kept === fieldsMax) {
        out[TRUNCATED_KEY] = true;
        break;
      }
      out[clip(key, KEY_CHARS_MAX)] = scalar;
      kept++;
    }
  } catch (err) {
    return { summary_error: clip((err as Error)?.message ?? String(err), charsMax) };
  }
  return out;
}

function summaryBytes(summary: PayloadSummary): number {
  let bytes = SUMMARY_BASE_BYTES;
  for (const key in summary) {
    const v = summary[key];
    bytes += stringBytes(key) + (typeof v === "string" ? stringBytes(v) : SCALAR_BYTES);
  }
  return bytes;
}

/** Log sink for high-priority evictions; the default logs at error on `switchyard.dlq`. */
export type DeadLetterErrorLog = (message: string, properties: Record<string, unknown>) => void;

/** Options of {@linkcode DeadLetterQueue}. */
export interface DeadLetterQueueOptions {
  /** Bound on entries. Default {@linkcode DLQ_ENTRIES_MAX_DEFAULT}. */
  entriesMax?: number;
  /** Bound on approximate bytes. Default {@linkcode DLQ_BYTES_MAX_DEFAULT}. */
  bytesMax?: number;
  /** Payload summary fields kept. Default {@linkcode SUMMARY_FIELDS_MAX_DEFAULT}. */
  summaryFieldsMax?: number;
  /** Characters kept per payload summary string. Default {@linkcode SUMMARY_CHARS_MAX_DEFAULT}. */
  summaryCharsMax?: number;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /** Where high-priority evictions are logged. Default: logtape `switchyard.dlq`, level error. */
  errorLog?: DeadLetterErrorLog;
}

/** Entries of one priority, oldest first; popping the oldest is O(1) amortised. */
class EntryFifo {
  #items: DeadLetterEntry[] = [];
  #head = 0;
  bytes = 0;
  added = 0;
  evicted = 0;
  refused = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(entry: DeadLetterEntry): void {
    this.#items.push(entry);
    this.bytes += entry.bytes;
    this.added++;
  }

  /** Removes and returns the oldest entry; the FIFO must not be empty. */
  shiftOldest(): DeadLetterEntry {
    if (this.size === 0) throw new Error("dlq fifo: expected an entry to evict, found none");
    const entry = this.#items[this.#head];
    // Drop the reference so the entry can be collected before the next compaction.
    (this.#items as (DeadLetterEntry | undefined)[])[this.#head] = undefined;
    this.#head++;
    this.bytes -= entry.bytes;
    this.evicted++;
    // Compact once the dead prefix dominates, so memory stays proportional to live entries.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }

  /** The entry `k` places from the newest (0 = newest); `k` must be < size. */
  fromNewest(k: number): DeadLetterEntry {
    return this.#items[this.#items.length - 1 - k];
  }

  stats(): DeadLetterPriorityStats {
    return {
      entries: this.size,
      bytes: this.bytes,
      added: this.added,
      evicted: this.evicted,
      refused: this.refused,
    };
  }
}

/** The bounded dead-letter queue; see the module docs for its eviction rules. */
export class DeadLetterQueue {
  /** Bound on entries. */
  readonly entriesMax: number;
  /** Bound on approximate bytes. */
  readonly bytesMax: number;
  /** Payload summary fields kept. */
  readonly summaryFieldsMax: number;
  /** Characters kept per payload summary string. */
  readonly summaryCharsMax: number;
  readonly #now: () => number;
  readonly #errorLog: DeadLetterErrorLog;
  readonly #low = new EntryFifo();
  readonly #high = new EntryFifo();
  #lastId = 0;
  #errors = 0;

  /** Makes a queue; throws when a bound is not a positive integer or too small for one entry. */
  constructor(opts: DeadLetterQueueOptions = {}) {
    this.entriesMax = positiveInteger("entriesMax", opts.entriesMax, DLQ_ENTRIES_MAX_DEFAULT);
    this.bytesMax = positiveInteger("bytesMax", opts.bytesMax, DLQ_BYTES_MAX_DEFAULT);
    this.summaryFieldsMax = positiveInteger(
      "summaryFieldsMax",
      opts.summaryFieldsMax,
      SUMMARY_FIELDS_MAX_DEFAULT,
    );
    this.summaryCharsMax = positiveInteger(
      "summaryCharsMax",
      opts.summaryCharsMax,
      SUMMARY_CHARS_MAX_DEFAULT,
    );
    const largest = this.entryBytesBound();
    if (this.bytesMax < largest) {
      throw new RangeError(
        `bytesMax: expected at least ${largest} (the largest possible entry), found ${this.bytesMax}`,
      );
    }
    this.#now = opts.now ?? Date.now;
    this.#errorLog = opts.errorLog ?? defaultErrorLog();
  }

  /** Upper bound of one entry's byte estimate under this queue's summary limits. */
  entryBytesBound(): number {
    const idsAndNames = 2 * stringBytes("x".repeat(ID_CHARS_MAX)) +
      2 * stringBytes("x".repeat(NAME_CHARS_MAX)) + stringBytes("x".repeat(REASON_CHARS_MAX));
    const field = stringBytes("x".repeat(KEY_CHARS_MAX)) +
      Math.max(SCALAR_BYTES, stringBytes("x".repeat(this.summaryCharsMax)));
    const truncatedMarker = stringBytes(TRUNCATED_KEY) + SCALAR_BYTES;
    return ENTRY_BASE_BYTES + idsAndNames + SUMMARY_BASE_BYTES +
      this.summaryFieldsMax * field + truncatedMarker;
  }

  /**
   * Stores one dead letter, evicting as the module docs describe. Returns the entry's id, or 0
   * when a low entry was refused (only high entries left to evict). Never throws.
   */
  add(input: DeadLetterInput): number {
    try {
      const priority: DeadLetterPriority = input.priority === "low" ? "low" : "high";
      const payload = summarizePayload(input.payload, {
        fieldsMax: this.summaryFieldsMax,
        charsMax: this.summaryCharsMax,
      });
      const reason = clip(input.reason, REASON_CHARS_MAX);
      const stream = clip(input.stream, NAME_CHARS_MAX);
      const consumer = clip(input.consumer, NAME_CHARS_MAX);
      const traceId = clip(input.trace_id, ID_CHARS_MAX);
      const decisionId = clip(input.decision_id, ID_CHARS_MAX);
      const bytes = ENTRY_BASE_BYTES + stringBytes(reason) + stringBytes(stream) +
        stringBytes(consumer) + stringBytes(traceId) + stringBytes(decisionId) +
        summaryBytes(payload);
      if (!this.#makeRoom(priority, bytes)) return 0;
      const entry: DeadLetterEntry = {
        id: ++this.#lastId,
        ts_ms: this.#now(),
        priority,
        reason,
        stream,
        consumer,
        trace_id: traceId,
        decision_id: decisionId,
        payload,
        bytes,
      };
      (priority === "low" ? this.#low : this.#high).push(entry);
      return entry.id;
    } catch (err) {
      // Dead-lettering runs on the delivery path: a bug here must not break delivery.
      this.#errors++;
      this.#logError("dlq add failed: {error}", { error: err });
      return 0;
    }
  }

  #logError(message: string, properties: Record<string, unknown>): void {
    try {
      this.#errorLog(message, properties);
    } catch {
      // A broken log sink must not lose the entry being added; the metrics still count it.
    }
  }

  /** Evicts until an entry of `bytes` fits; false when a low entry must be refused instead. */
  #makeRoom(priority: DeadLetterPriority, bytes: number): boolean {
    const high = this.#high;
    const low = this.#low;
    if (
      priority === "low" &&
      (high.size + 1 > this.entriesMax || high.bytes + bytes > this.bytesMax)
    ) {
      // Even with every low entry gone it would not fit: refuse it, keep the low ones.
      low.refused++;
      return false;
    }
    while (
      low.size + high.size + 1 > this.entriesMax || low.bytes + high.bytes + bytes > this.bytesMax
    ) {
      if (low.size > 0) {
        low.shiftOldest();
        continue;
      }
      // Only high entries remain and this one is high too: losing the oldest is the lesser harm.
      const lost = high.shiftOldest();
      this.#logError(
        "dlq evicted HIGH-priority entry {id} ({reason}); raise the DLQ bounds",
        {
          id: lost.id,
          reason: lost.reason,
          consumer: lost.consumer,
          stream: lost.stream,
          trace_id: lost.trace_id,
          decision_id: lost.decision_id,
          ts_ms: lost.ts_ms,
          high_evictions_total: high.evicted,
        },
      );
    }
    return true;
  }

  /**
   * Matching entries, newest first, at most `limit`, plus how many match in all. Scans every
   * stored entry (bounded by `entriesMax`); meant for inspection.
   */
  query(limit: number, filter?: DeadLetterFilter): DeadLetterQueryResult {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`query: expected limit a non-negative integer, found ${limit}`);
    }
    const entries: DeadLetterEntry[] = [];
    let matched = 0;
    const low = filter?.priority === "high" ? 0 : this.#low.size;
    const high = filter?.priority === "low" ? 0 : this.#high.size;
    let i = 0;
    let j = 0;
    // Merge the two FIFOs from their newest ends by id, which is the arrival order.
    while (i < low || j < high) {
      let entry: DeadLetterEntry;
      if (j >= high || (i < low && this.#low.fromNewest(i).id > this.#high.fromNewest(j).id)) {
        entry = this.#low.fromNewest(i++);
      } else {
        entry = this.#high.fromNewest(j++);
      }
      if (!matches(entry, filter)) continue;
      matched++;
      if (entries.length < limit) entries.push(entry);
    }
    return { entries, matched };
  }

  /** Entries stored now. */
  get size(): number {
    return this.#low.size + this.#high.size;
  }

  /** Failures inside {@linkcode add} (bugs), counted and logged rather than thrown. */
  get errors(): number {
    return this.#errors;
  }

  /** A snapshot of sizes and counters. */
  stats(): DeadLetterStats {
    return {
      entries: this.size,
      bytes: this.#low.bytes + this.#high.bytes,
      entriesMax: this.entriesMax,
      bytesMax: this.bytesMax,
      low: this.#low.stats(),
      high: this.#high.stats(),
    };
  }
}

function matches(entry: DeadLetterEntry, filter: DeadLetterFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.reason !== undefined && entry.reason !== filter.reason) return false;
  if (filter.consumer !== undefined && entry.consumer !== filter.consumer) return false;
  if (filter.stream !== undefined && entry.stream !== filter.stream) return false;
  return true;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${name}: expected a positive integer, found ${v}`);
  }
  return v;
}

function defaultErrorLog(): DeadLetterErrorLog {
  const logger = componentLogger("dlq");
  return (message, properties) => logger.error(message, properties);
}

/**
 * Registers the queue's gauges and counters, read at scrape time:
 * `switchyard_dlq_entries{priority}`, `switchyard_dlq_bytes{priority}`,
 * `switchyard_dlq_added_total{priority}`, `switchyard_dlq_evictions_total{priority}`,
 * `switchyard_dlq_refused_total{priority}`, `switchyard_dlq_errors_total` and
 * `switchyard_dlq_bound{bound="entries"|"bytes"}`.
 */
export function registerDeadLetterMetrics(metrics: MetricsRegistry, dlq: DeadLetterQueue): void {
  const entries = metrics.gauge("switchyard_dlq_entries", "DLQ entries stored, by priority", [
    "priority",
  ]);
  const bytes = metrics.gauge(
    "switchyard_dlq_bytes",
    "DLQ approximate bytes stored, by priority",
    ["priority"],
  );
  const added = metrics.counter("switchyard_dlq_added_total", "DLQ entries accepted", [
    "priority",
  ]);
  const evictions = metrics.counter(
    "switchyard_dlq_evictions_total",
    "DLQ entries evicted to make room (high: each one is also logged as an error)",
    ["priority"],
  );
  const refused = metrics.counter(
    "switchyard_dlq_refused_total",
    "DLQ entries refused on arrival (low entries when only high ones are stored)",
    ["priority"],
  );
  const errors = metrics.counter(
    "switchyard_dlq_errors_total",
    "DLQ add calls that failed inside the queue",
  ).labels();
  const bound = metrics.gauge("switchyard_dlq_bound", "DLQ bounds (entries, approximate bytes)", [
    "bound",
  ]);
  bound.labels("entries").set(dlq.entriesMax);
  bound.labels("bytes").set(dlq.bytesMax);
  const series = DEAD_LETTER_PRIORITIES.map((p) => ({
    priority: p,
    entries: entries.labels(p),
    bytes: bytes.labels(p),
    added: added.labels(p),
    evictions: evictions.labels(p),
    refused: refused.labels(p),
  }));
  metrics.collect(() => {
    const s = dlq.stats();
    for (const x of series) {
      const p = s[x.priority];
      x.entries.set(p.entries);
      x.bytes.set(p.bytes);
      x.added.syncTo(p.added);
      x.evictions.syncTo(p.evicted);
      x.refused.syncTo(p.refused);
    }
    errors.syncTo(dlq.errors);
  });
}
