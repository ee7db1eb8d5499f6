/**
 * ConsumerRegistry: creates, finds and removes the in-process consumers, and keeps the routing
 * table in step (a consumer is registered with the table on creation; removing or closing it
 * unsubscribes everything it held).
 *
 * It also owns what its consumers share: the durable {@linkcode ExecReportLog} (given, or a
 * `:memory:` one it creates and closes in {@linkcode ConsumerRegistry.close}), the per-stream
 * {@linkcode FairShareScheduler} (when `streamRateEventsPerSec` is set), the clock and the
 * telemetry hooks.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";
import type { ExecReportData } from "../schema/exec_report.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";
import { CONSUMER_ID_LENGTH_MAX, isConsumerId } from "../schema/order_request.ts";
import {
  Consumer,
  type ConsumerErrorHandler,
  type ConsumerHooks,
  type ConsumerStats,
  type ExecAckMode,
  QUEUE_EVENTS_MAX_DEFAULT,
} from "./consumer.ts";
import type { MergedRoutes } from "./merged_routes.ts";
import type { ConsumerRoutes } from "./consumer_routes.ts";
import { DeliveryClasses } from "./delivery_class.ts";
import { ExecReportLog } from "./exec_report_log.ts";
import { FairShareScheduler, type StreamShareStats } from "./fair_share.ts";

/** Options of {@linkcode ConsumerRegistry}. */
export interface ConsumerRegistryOptions {
  /** The routing table (the dispatcher's `RoutingTable`). */
  routes: ConsumerRoutes;
  /** Default market-event bound of new consumers. Default {@linkcode QUEUE_EVENTS_MAX_DEFAULT}. */
  queueEventsMax?: number;
  /** Default lossless bound of new consumers. Default: their `queueEventsMax`. */
  losslessEventsMax?: number;
  /** Kinds coalesced (latest wins). Default: ticker, kline, book_snapshot. */
  coalescableKinds?: readonly MarketEventKind[];
  /** Default budget of new consumers, market events/s. Default `Infinity` (unlimited). */
  rateEventsPerSec?: number;
  /** Default burst of new consumers. Default 100 ms worth of their rate. */
  burstEvents?: number;
  /**
   * Fan-out capacity of each stream, deliveries/s to all its consumers together, shared fairly
   * (see `fair_share.ts`). Default `Infinity`: no per-stream capacity, no fair-share scheduling.
   */
  streamRateEventsPerSec?: number;
  /** Credits of one stream's share. Default 64. */
  streamBurstEvents?: number;
  /** Guaranteed fraction of each consumer's weight on a stream. Default 0.25. */
  shareFloor?: number;
  /**
   * The durable exec report log shared by the consumers (the caller closes it). Absent: a
   * `:memory:` log the registry closes in `close()`.
   */
  execLog?: ExecReportLog;
  /** Time source of token buckets and throttle timers. Default the system clock. */
  clock?: Clock;
  /** Telemetry callbacks of every consumer. */
  hooks?: ConsumerHooks;
  /** Told about exceptions from any consumer's `onEvent` handler. */
  onError?: ConsumerErrorHandler;
  /** The merged-stream registry every consumer subscribes merged streams through. */
  merged?: MergedRoutes;
  /** Merged events each consumer queues. Default 64 (`MERGED_EVENTS_MAX_DEFAULT`). */
  mergedEventsMax?: number;
}

/** Options of {@linkcode ConsumerRegistry.create}. */
export interface CreateConsumerOptions {
  /** Market-event bound of this consumer; defaults to the registry's. */
  queueEventsMax?: number;
  /** Lossless bound of this consumer; defaults to the registry's, else its `queueEventsMax`. */
  losslessEventsMax?: number;
  /** Budget of this consumer, market events/s; defaults to the registry's. */
  rateEventsPerSec?: number;
  /** Burst of this consumer; defaults to the registry's. */
  burstEvents?: number;
  /** Exec report acknowledgement; default `delivered`. */
  execAck?: ExecAckMode;
}

/**
 * The set of live consumers.
 *
 * @example
 * ```ts
 * const registry = new ConsumerRegistry({ routes: routingTable, execLog });
 * const c = registry.create("my-strategy");
 * c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * c.onEvent((msg) => console.log(msg));
 * registry.enqueueExecReport(report); // to report.consumerId, live or not
 * registry.remove("my-strategy"); // unsubscribes everything, closes the consumer
 * ```
 */
export class ConsumerRegistry {
  readonly #routes: ConsumerRoutes;
  readonly #queueEventsMax: number;
  readonly #losslessEventsMax: number | undefined;
  readonly #rateEventsPerSec: number | undefined;
  readonly #burstEvents: number | undefined;
  readonly #classes: DeliveryClasses;
  readonly #shares: FairShareScheduler | null;
  readonly #log: ExecReportLog;
  readonly #ownsLog: boolean;
  readonly #clock: Clock;
  readonly #hooks: ConsumerHooks | undefined;
  readonly #onError: ConsumerErrorHandler | undefined;
  readonly #merged: MergedRoutes | undefined;
  readonly #mergedEventsMax: number | undefined;
  readonly #consumers = new Map<string, Consumer>();
  readonly #forget = (consumer: Consumer): void => {
    // Only forget the consumer registered under that id (a closed one is never re-added).
    if (this.#consumers.get(consumer.id) === consumer) this.#consumers.delete(consumer.id);
  };

  /** Creates an empty registry over `opts.routes`. */
  constructor(opts: ConsumerRegistryOptions) {
    this.#routes = opts.routes;
    this.#queueEventsMax = opts.queueEventsMax ?? QUEUE_EVENTS_MAX_DEFAULT;
    this.#losslessEventsMax = opts.losslessEventsMax;
    this.#rateEventsPerSec = opts.rateEventsPerSec;
    this.#burstEvents = opts.burstEvents;
    this.#classes = new DeliveryClasses(opts.coalescableKinds);
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    const streamRate = opts.streamRateEventsPerSec ?? Infinity;
    this.#shares = Number.isFinite(streamRate)
      ? new FairShareScheduler({
        streamRateEventsPerSec: streamRate,
        streamBurstEvents: opts.streamBurstEvents,
        shareFloor: opts.shareFloor,
        clock: this.#clock,
      })
      : null;
    this.#ownsLog = opts.execLog === undefined;
    this.#log = opts.execLog ?? new ExecReportLog();
    this.#hooks = opts.hooks;
    this.#onError = opts.onError;
    this.#merged = opts.merged;
    this.#mergedEventsMax = opts.mergedEventsMax;
  }

  /** Number of live consumers. */
  get size(): number {
    return this.#consumers.size;
  }

  /** The exec report log the consumers share. */
  get execLog(): ExecReportLog {
    return this.#log;
  }

  /**
   * Creates and registers an open consumer with no subscriptions. Throws when `id` is not a
   * consumer id (1..64 of `A-Z a-z 0-9 . _ : -`), is already live, or the routing table is full.
   * Exec reports stored for `id` and not yet acknowledged are delivered to it first.
   */
  create(id: string, opts?: CreateConsumerOptions): Consumer {
    if (!isConsumerId(id)) {
      throw new TypeError(
        `expected a consumer id of 1..${CONSUMER_ID_LENGTH_MAX} of A-Z a-z 0-9 . _ : -, found "${
          String(id)
        }"`,
      );
    }
    if (this.#consumers.has(id)) {
      throw new Error(`expected a new consumer id, found "${id}" already in use`);
    }
    const consumer = new Consumer({
      id,
      routes: this.#routes,
      queueEventsMax: opts?.queueEventsMax ?? this.#queueEventsMax,
      losslessEventsMax: opts?.losslessEventsMax ?? this.#losslessEventsMax,
      classes: this.#classes,
      rateEventsPerSec: opts?.rateEventsPerSec ?? this.#rateEventsPerSec,
      burstEvents: opts?.burstEvents ?? this.#burstEvents,
      shares: this.#shares,
      execLog: this.#log,
      execAck: opts?.execAck,
      clock: this.#clock,
      hooks: this.#hooks,
      onError: this.#onError,
      onClose: this.#forget,
      merged: this.#merged,
      mergedEventsMax: this.#mergedEventsMax,
    });
    const added = this.#routes.addConsumer(consumer);
    if (!added.ok) {
      consumer.close();
      throw new Error(added.error);
    }
    this.#consumers.set(id, consumer);
    return consumer;
  }

  /** The live consumer with this id, if any. */
  get(id: string): Consumer | undefined {
    return this.#consumers.get(id);
  }

  /**
   * Stores an execution report for `report.consumerId` and delivers it to that consumer if it
   * is live (else to the next consumer created with that id); returns the per-consumer
   * sequence assigned. Throws when the id is not a consumer id or the log fails: a report is
   * never dropped silently.
   */
  enqueueExecReport(report: ExecReportData): number {
    const id = report.consumerId;
    if (!isConsumerId(id)) {
      throw new TypeError(`expected an exec report with a consumer id, found "${String(id)}"`);
    }
    const consumer = this.#consumers.get(id);
    if (consumer !== undefined) return consumer.enqueueExecReport(report);
    return this.#log.append(id, report).seq;
  }

  /** Closes and forgets the consumer (unsubscribing everything); false when no such consumer. */
  remove(id: string): boolean {
    const consumer = this.#consumers.get(id);
    if (consumer === undefined) return false;
    consumer.close();
    assert(!this.#consumers.has(id), "a closed consumer stayed registered");
    return true;
  }

  /** The live consumers, in creation order. */
  list(): Consumer[] {
    return [...this.#consumers.values()];
  }

  /** Counters of every live consumer. */
  stats(): ConsumerStats[] {
    return this.list().map((c) => c.stats());
  }

  /** Per-stream fair shares (empty without a per-stream capacity). */
  shareStats(): StreamShareStats[] {
    return this.#shares?.stats() ?? [];
  }

  /** Closes every consumer (shutdown); the registry stays usable. */
  closeAll(): void {
    for (const consumer of this.list()) consumer.close();
  }

  /** Closes every consumer and the exec report log if the registry created it. Idempotent. */
  close(): void {
    this.closeAll();
    if (this.#ownsLog) this.#log.close();
  }
}

/** Invariant check: a failure is a bug in the registry, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`consumer registry invariant violated: ${what}`);
}
