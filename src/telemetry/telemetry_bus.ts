/**
 * The ops-only telemetry bus: typed events about what the pipeline decided (resyncs, drops,
 * coalescing, gaps, late and duplicate events, slow consumers). They go to operators — a bounded
 * ring for `/v1/telemetry`, per-type counters on `/metrics`, rate-limited log lines — and are
 * never delivered to strategy consumers.
 *
 * Event fields are snake_case: they are the documented ops schema and appear verbatim in
 * `/v1/telemetry` and in log lines, so publishing needs no translation step. Every event carries
 * `trace_id` (the flow) and `decision_id` (the decision), `NO_ID` (`""`) where one does not
 * apply; see `trace_id.ts`.
 *
 * Publishing is cheap (no allocation besides what the caller built, a clock read, a slot write)
 * and never throws into the caller: failures of a log sink or a listener are counted, not raised.
 * The bus keeps a reference to each event in its ring, so publish a fresh object and do not
 * change it afterwards.
 *
 * @example
 * ```ts
 * const bus = new TelemetryBus();
 * registerTelemetryBusMetrics(metrics, bus);
 * bus.publish({
 *   type: "dropped", consumer: "strat-a", stream: "binance:BTC-USDT:ticker", count: 3,
 *   reason: "queue_full", trace_id: newTraceId(), decision_id: newDecisionId(),
 * });
 * bus.recent(10, { type: "dropped" }); // newest first
 * ```
 *
 * @module
 */

import { componentLogger } from "./logger.ts";
import type { CounterChild, MetricsRegistry } from "./metrics.ts";

/** Every telemetry event type, in a fixed order (metrics and counts follow it). */
export const TELEMETRY_TYPES = [
  "book.resync",
  "merge.late_drop",
  "merge.suppressed_partial",
  "coalesced",
  "dropped",
  "gap",
  "consumer.slow",
  "ordering.late",
  "duplicate",
  "trade.gap",
] as const;

/** The name of one telemetry event type. */
export type TelemetryType = typeof TELEMETRY_TYPES[number];

/** True when `value` names a telemetry event type. */
export function isTelemetryType(value: unknown): value is TelemetryType {
  return typeof value === "string" && TYPE_INDEX.has(value);
}

/** Ids every telemetry event carries; `""` (`NO_ID`) where one does not apply. */
export interface TelemetryIds {
  /** The flow (frame, order) this event belongs to. */
  trace_id: string;
  /** The decision (one coalescing pass, one drop) that produced this event. */
  decision_id: string;
}

/** A provider-side order book is rebuilt (MISSION R-03). */
export interface BookResyncTelemetry extends TelemetryIds {
  type: "book.resync";
  provider: string;
  symbol: string;
  /** Why (`gap`, `checksum`, `stale`, `refresh`, `reconnect`, `requested`, ...). */
  reason: string;
}

/** A fragment reached a merge window after it closed and was dropped (MISSION R-06). */
export interface MergeLateDropTelemetry extends TelemetryIds {
  type: "merge.late_drop";
  symbol: string;
  kind: string;
  provider: string;
  /** The window the fragment belonged to. */
  merge_id: string;
}

/** A merge window closed without every expected provider and was suppressed (MISSION R-06). */
export interface MergeSuppressedPartialTelemetry extends TelemetryIds {
  type: "merge.suppressed_partial";
  symbol: string;
  kind: string;
  /** The expected providers that sent nothing in the window. */
  missing_providers: readonly string[];
  merge_id: string;
}

/** Latest-wins coalescing replaced queued events of a stream for a consumer (MISSION R-10). */
export interface CoalescedTelemetry extends TelemetryIds {
  type: "coalesced";
  consumer: string;
  /** Stream key as text, `provider:symbol:kind`. */
  stream: string;
  /** Events replaced by a newer one. */
  count: number;
}

/** Events of a stream were dropped for a consumer (MISSION R-10). */
export interface DroppedTelemetry extends TelemetryIds {
  type: "dropped";
  consumer: string;
  /** Stream key as text, `provider:symbol:kind`. */
  stream: string;
  count: number;
  /** Why (`queue_full`, `rate_limited`, ...). */
  reason: string;
}

/** A consumer's stream skipped sequence numbers. */
export interface GapTelemetry extends TelemetryIds {
  type: "gap";
  consumer: string;
  /** Stream key as text, `provider:symbol:kind`. */
  stream: string;
  /** First missing sequence number. */
  from_seq: number;
  /** Last missing sequence number. */
  to_seq: number;
  /** Missing events. */
  count: number;
}

/** A consumer falls behind: its transport buffers bytes or its events age. */
export interface ConsumerSlowTelemetry extends TelemetryIds {
  type: "consumer.slow";
  consumer: string;
  buffered_bytes: number;
  behind_ms: number;
}

/** An event arrived after its stream's ordering buffer flushed past it (MISSION R-08). */
export interface OrderingLateTelemetry extends TelemetryIds {
  type: "ordering.late";
  /** Stream key as text, `provider:symbol:kind`. */
  stream: string;
  seq: number;
  lateness_ms: number;
}

/** An event was seen twice and suppressed (MISSION R-09). */
export interface DuplicateTelemetry extends TelemetryIds {
  type: "duplicate";
  /** Stream key as text, `provider:symbol:kind`. */
  stream: string;
  seq: number;
}

/**
 * Trade ids of an exchange whose ids are consecutive per symbol (Binance) were skipped: trades
 * were lost before the gateway (the dispatcher orders trades as increasing, so it cannot tell).
 */
export interface TradeGapTelemetry extends TelemetryIds {
  type: "trade.gap";
  provider: string;
  symbol: string;
  /** First missing trade id. */
  from_seq: number;
  /** Last missing trade id. */
  to_seq: number;
  /** Missing trade ids. */
  count: number;
}

/** One ops telemetry event; `type` tells which. */
export type TelemetryEvent =
  | BookResyncTelemetry
  | MergeLateDropTelemetry
  | MergeSuppressedPartialTelemetry
  | CoalescedTelemetry
  | DroppedTelemetry
  | GapTelemetry
  | ConsumerSlowTelemetry
  | OrderingLateTelemetry
  | DuplicateTelemetry
  | TradeGapTelemetry;

/** One event as the ring keeps it. */
export interface TelemetryRecord {
  /** Bus sequence number, from 1, in publish order (not the event's own `seq`). */
  readonly busSeq: number;
  /** When it was published (the bus clock, ms since the epoch by default). */
  readonly tsMs: number;
  /** The event as published. */
  readonly event: TelemetryEvent;
}

/** Log levels the bus logs at. */
export type TelemetryLogLevel = "debug" | "info" | "warning" | "error";

/** Where the bus writes log lines; the default writes to logtape category `switchyard.telemetry`. */
export type TelemetryLogSink = (
  level: TelemetryLogLevel,
  message: string,
  properties: Record<string, unknown>,
) => void;

/** Called with each published event (after the ring, counters and log). Must not keep it long. */
export type TelemetryListener = (event: TelemetryEvent, tsMs: number) => void;

/** Default level of each type's log lines: losses warn, routine decisions stay quiet. */
export const TELEMETRY_LOG_LEVELS_DEFAULT: Readonly<Record<TelemetryType, TelemetryLogLevel>> = {
  "book.resync": "warning",
  "merge.late_drop": "info",
  "merge.suppressed_partial": "warning",
  "coalesced": "debug",
  "dropped": "warning",
  "gap": "warning",
  "consumer.slow": "warning",
  "ordering.late": "info",
  "duplicate": "debug",
  "trade.gap": "warning",
};

/** Message template of each type's log line (logtape placeholders; the fields are properties). */
const LOG_TEMPLATES: Readonly<Record<TelemetryType, string>> = {
  "book.resync": "book.resync {provider} {symbol} reason={reason}",
  "merge.late_drop": "merge.late_drop {symbol} {kind} from {provider} merge_id={merge_id}",
  "merge.suppressed_partial":
    "merge.suppressed_partial {symbol} {kind} missing={missing_providers} merge_id={merge_id}",
  "coalesced": "coalesced {count} on {stream} for {consumer}",
  "dropped": "dropped {count} on {stream} for {consumer} reason={reason}",
  "gap": "gap {from_seq}..{to_seq} ({count}) on {stream} for {consumer}",
  "consumer.slow": "consumer.slow {consumer} buffered_bytes={buffered_bytes} behind_ms={behind_ms}",
  "ordering.late": "ordering.late {stream} seq={seq} lateness_ms={lateness_ms}",
  "duplicate": "duplicate {stream} seq={seq}",
  "trade.gap": "trade.gap {provider} {symbol} {from_seq}..{to_seq} ({count})",
};

/** Default ring size, events. */
export const RING_EVENTS_MAX_DEFAULT = 2048;
/** Default log lines per type per window. */
export const LOG_LINES_PER_WINDOW_MAX_DEFAULT = 5;
/** Default log rate window, ms. */
export const LOG_WINDOW_MS_DEFAULT = 1000;
/** Bound on listeners, so a subscribe-in-a-loop bug cannot grow the publish cost. */
export const LISTENERS_MAX = 16;

const TYPE_INDEX: ReadonlyMap<string, number> = new Map(
  TELEMETRY_TYPES.map((t, i) => [t, i] as const),
);

/** Options of {@linkcode TelemetryBus}. */
export interface TelemetryBusOptions {
  /** Events the ring keeps for inspection. Default {@linkcode RING_EVENTS_MAX_DEFAULT}. */
  ringEventsMax?: number;
  /** Log lines per type per window; further events only count. Default 5. */
  logLinesPerWindowMax?: number;
  /** Length of the log rate window, ms. Default 1000. */
  logWindowMs?: number;
  /** Per-type log levels, overriding {@linkcode TELEMETRY_LOG_LEVELS_DEFAULT}. */
  logLevels?: Partial<Record<TelemetryType, TelemetryLogLevel>>;
  /** Where log lines go; `false` turns logging off. Default: logtape `switchyard.telemetry`. */
  log?: TelemetryLogSink | false;
  /** Clock, ms. Default `Date.now`. Tests inject one. */
  now?: () => number;
}

/** Counters of a {@linkcode TelemetryBus}. */
export interface TelemetryBusStats {
  /** Events published, all types. */
  published: number;
  /** Events published, by type. */
  byType: Record<TelemetryType, number>;
  /** Events logged individually, all types. */
  logged: number;
  /** Events not logged because their type hit the rate limit, by type. */
  logSuppressedByType: Record<TelemetryType, number>;
  /** Publishes refused: an unknown `type` (an untyped caller) or a failure inside the bus. */
  rejected: number;
  /** Log sink calls that threw. */
  logErrors: number;
  /** Listener calls that threw. */
  listenerErrors: number;
  /** Events in the ring now. */
  ringSize: number;
  /** Ring capacity, events. */
  ringEventsMax: number;
}

/** A ring slot, allocated once and overwritten, so publishing allocates nothing. */
interface Slot {
  busSeq: number;
  tsMs: number;
  event: TelemetryEvent | null;
}

/** Filter of {@linkcode TelemetryBus.recent}. */
export interface RecentFilter {
  /** Only events of this type. */
  type?: TelemetryType;
}

/** The ops telemetry bus: ring, per-type counters, rate-limited log, listeners. */
export class TelemetryBus {
  /** Ring capacity, events. */
  readonly ringEventsMax: number;
  /** Log lines per type per window. */
  readonly logLinesPerWindowMax: number;
  /** Log rate window, ms. */
  readonly logWindowMs: number;

  readonly #now: () => number;
  readonly #log: TelemetryLogSink | null;
  readonly #levels: TelemetryLogLevel[];
  readonly #slots: Slot[];
  #ringNext = 0;
  #ringSize = 0;
  #seq = 0;
  readonly #listeners: TelemetryListener[] = [];

  readonly #counts = new Float64Array(TELEMETRY_TYPES.length);
  readonly #suppressedTotal = new Float64Array(TELEMETRY_TYPES.length);
  // Per-type rate window: start time, lines logged in it, events suppressed in it.
  readonly #windowStartMs = new Float64Array(TELEMETRY_TYPES.length).fill(-Infinity);
  readonly #windowLogged = new Float64Array(TELEMETRY_TYPES.length);
  readonly #windowSuppressed = new Float64Array(TELEMETRY_TYPES.length);
  #logged = 0;
  #rejected = 0;
  #logErrors = 0;
  #listenerErrors = 0;

  /** Makes a bus; bounds are checked (a bad bound is a programming error and throws). */
  constructor(opts: TelemetryBusOptions = {}) {
    this.ringEventsMax = positiveInteger(
      "ringEventsMax",
      opts.ringEventsMax,
      RING_EVENTS_MAX_DEFAULT,
    );
    this.logLinesPerWindowMax = positiveInteger(
      "logLinesPerWindowMax",
      opts.logLinesPerWindowMax,
      LOG_LINES_PER_WINDOW_MAX_DEFAULT,
    );
    this.logWindowMs = positiveInteger("logWindowMs", opts.logWindowMs, LOG_WINDOW_MS_DEFAULT);
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log === false ? null : opts.log ?? logtapeSink();
    this.#levels = TELEMETRY_TYPES.map((t) =>
      opts.logLevels?.[t] ?? TELEMETRY_LOG_LEVELS_DEFAULT[t]
    );
    this.#slots = [];
    for (let i = 0; i < this.ringEventsMax; i++) {
      this.#slots.push({ busSeq: 0, tsMs: 0, event: null });
    }
  }

  /**
   * Records one event: ring, counter, rate-limited log line, listeners. Never throws; an event
   * with an unknown `type` is counted as rejected and otherwise ignored.
   */
  publish(event: TelemetryEvent): void {
    try {
      const index = TYPE_INDEX.get(event?.type as string);
      if (index === undefined) {
        this.#rejected++;
        return;
      }
      const tsMs = this.#now();
      this.#seq++;
      this.#counts[index]++;
      const slot = this.#slots[this.#ringNext];
      slot.busSeq = this.#seq;
      slot.tsMs = tsMs;
      slot.event = event;
      this.#ringNext = this.#ringNext + 1 === this.ringEventsMax ? 0 : this.#ringNext + 1;
      if (this.#ringSize < this.ringEventsMax) this.#ringSize++;
      if (this.#log !== null) this.#logLimited(index, event, tsMs);
      for (let i = 0; i < this.#listeners.length; i++) {
        try {
          this.#listeners[i](event, tsMs);
        } catch {
          this.#listenerErrors++;
        }
      }
    } catch {
      // Only a broken clock or similar gets here; the caller's work must go on regardless.
      this.#rejected++;
    }
  }

  #logLimited(index: number, event: TelemetryEvent, tsMs: number): void {
    if (tsMs - this.#windowStartMs[index] >= this.logWindowMs) {
      this.#closeWindow(index);
      this.#windowStartMs[index] = tsMs;
    }
    if (this.#windowLogged[index] >= this.logLinesPerWindowMax) {
      this.#windowSuppressed[index]++;
      this.#suppressedTotal[index]++;
      return;
    }
    this.#windowLogged[index]++;
    this.#logged++;
    // The event itself is the property bag: no copy per log line.
    this.#emit(
      this.#levels[index],
      LOG_TEMPLATES[event.type],
      event as unknown as Record<string, unknown>,
    );
  }

  /** Ends a type's window: logs the "suppressed K" summary when the limit was hit in it. */
  #closeWindow(index: number): void {
    const suppressed = this.#windowSuppressed[index];
    this.#windowLogged[index] = 0;
    this.#windowSuppressed[index] = 0;
    this.#windowStartMs[index] = -Infinity;
    if (suppressed === 0) return;
    this.#emit(
      this.#levels[index],
      "telemetry {type}: suppressed {suppressed} more log lines in {window_ms} ms",
      {
        type: TELEMETRY_TYPES[index],
        suppressed,
        window_ms: this.logWindowMs,
        limit_per_window: this.logLinesPerWindowMax,
      },
    );
  }

  #emit(level: TelemetryLogLevel, message: string, properties: Record<string, unknown>): void {
    try {
      this.#log!(level, message, properties);
    } catch {
      this.#logErrors++;
    }
  }

  /**
   * Logs the "suppressed K" summary of every type whose window has ended, even when no later
   * event of that type arrives to close it. Call it now and then (a 1 s timer); never throws.
   * Returns how many summaries were logged.
   */
  flushLogSummaries(): number {
    if (this.#log === null) return 0;
    let flushed = 0;
    try {
      const now = this.#now();
      for (let i = 0; i < TELEMETRY_TYPES.length; i++) {
        if (this.#windowSuppressed[i] === 0) continue;
        if (now - this.#windowStartMs[i] < this.logWindowMs) continue;
        this.#closeWindow(i);
        flushed++;
      }
    } catch {
      this.#rejected++;
    }
    return flushed;
  }

  /**
   * The newest `n` events (newest first), optionally of one type. Allocates the answer; meant
   * for inspection, not the hot path.
   */
  recent(n: number, filter?: RecentFilter): TelemetryRecord[] {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`recent: expected n a non-negative integer, found ${n}`);
    }
    const type = filter?.type;
    const out: TelemetryRecord[] = [];
    let i = this.#ringNext;
    for (let k = 0; k < this.#ringSize && out.length < n; k++) {
      i = i === 0 ? this.ringEventsMax - 1 : i - 1;
      const slot = this.#slots[i];
      const event = slot.event!;
      if (type !== undefined && event.type !== type) continue;
      out.push({ busSeq: slot.busSeq, tsMs: slot.tsMs, event });
    }
    return out;
  }

  /**
   * Adds a listener called after each publish (e.g. a forwarder to OpenTelemetry). Returns the
   * function that removes it. Throws past {@linkcode LISTENERS_MAX} listeners.
   */
  subscribe(listener: TelemetryListener): () => void {
    if (this.#listeners.length >= LISTENERS_MAX) {
      throw new Error(
        `telemetry bus: expected at most ${LISTENERS_MAX} listeners, found one more`,
      );
    }
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  /** Events published of one type. */
  count(type: TelemetryType): number {
    const index = TYPE_INDEX.get(type);
    return index === undefined ? 0 : this.#counts[index];
  }

  /** A snapshot of the counters. */
  stats(): TelemetryBusStats {
    const byType = {} as Record<TelemetryType, number>;
    const logSuppressedByType = {} as Record<TelemetryType, number>;
    let published = 0;
    for (let i = 0; i < TELEMETRY_TYPES.length; i++) {
      byType[TELEMETRY_TYPES[i]] = this.#counts[i];
      logSuppressedByType[TELEMETRY_TYPES[i]] = this.#suppressedTotal[i];
      published += this.#counts[i];
    }
    return {
      published,
      byType,
      logged: this.#logged,
      logSuppressedByType,
      rejected: this.#rejected,
      logErrors: this.#logErrors,
      listenerErrors: this.#listenerErrors,
      ringSize: this.#ringSize,
      ringEventsMax: this.ringEventsMax,
    };
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${name}: expected a positive integer, found ${v}`);
  }
  return v;
}

/** The default sink: logtape category `switchyard.telemetry`. */
function logtapeSink(): TelemetryLogSink {
  const logger = componentLogger("telemetry");
  return (level, message, properties) => {
    switch (level) {
      case "debug":
        logger.debug(message, properties);
        return;
      case "info":
        logger.info(message, properties);
        return;
      case "warning":
        logger.warning(message, properties);
        return;
      case "error":
        logger.error(message, properties);
        return;
    }
  };
}

/**
 * Registers the bus's counters, read at scrape time: `switchyard_telemetry_events_total{type}`,
 * `switchyard_telemetry_log_suppressed_total{type}`, `switchyard_telemetry_rejected_total`,
 * `switchyard_telemetry_listener_errors_total`, `switchyard_telemetry_log_errors_total`.
 * Every type's series exists from the start (at 0), so rates work from the first scrape.
 */
export function registerTelemetryBusMetrics(metrics: MetricsRegistry, bus: TelemetryBus): void {
  const events = metrics.counter(
    "switchyard_telemetry_events_total",
    "Ops telemetry events published, by type",
    ["type"],
  );
  const suppressed = metrics.counter(
    "switchyard_telemetry_log_suppressed_total",
    "Telemetry events not logged because their type hit the log rate limit, by type",
    ["type"],
  );
  const rejected = metrics.counter(
    "switchyard_telemetry_rejected_total",
    "Telemetry publishes refused (unknown type or a failure inside the bus)",
  ).labels();
  const listenerErrors = metrics.counter(
    "switchyard_telemetry_listener_errors_total",
    "Telemetry listener calls that threw",
  ).labels();
  const logErrors = metrics.counter(
    "switchyard_telemetry_log_errors_total",
    "Telemetry log sink calls that threw",
  ).labels();
  const children: [TelemetryType, CounterChild, CounterChild][] = TELEMETRY_TYPES.map((t) => [
    t,
    events.labels(t),
    suppressed.labels(t),
  ]);
  metrics.collect(() => {
    const s = bus.stats();
    for (const [t, e, sup] of children) {
      e.syncTo(s.byType[t]);
      sup.syncTo(s.logSuppressedByType[t]);
    }
    rejected.syncTo(s.rejected);
    listenerErrors.syncTo(s.listenerErrors);
    logErrors.syncTo(s.logErrors);
  });
}
