/**
 * MergedStreams: the registry of merged subscriptions (MISSION R-06), what `merged_subscribe`
 * and `merged_unsubscribe` act on.
 *
 * A merged stream is keyed by (symbol, kind, sorted providers, windowMs, maxEvents). Consumers
 * asking for the same key share one {@linkcode MergeWindow}: it sees each fragment once, and its
 * emitted merged event is fanned out by the {@linkcode MergedDispatcher} as one clone per
 * subscriber. Different keys get separate windows (and separate merge ids), so overlapping
 * subscriptions never interfere. The first subscriber creates the window and registers it with
 * the conductor; the last one to leave unregisters it and `close()`s it (its timer stops, its
 * open window is discarded).
 *
 * Per consumer, a merged subscription is identified by its market (symbol, kind, sorted
 * providers), which is all `merged_unsubscribe` names: a consumer holds at most one per market.
 * Subscribing the same spec again is an idempotent no-op; another window or count for the same
 * market replaces the earlier one. Every effective change bumps the routing-table version, so
 * acks of plain and merged subscriptions share one version sequence.
 *
 * The window's providers are the sorted list (the merged event's `providers` follow that order).
 *
 * @module
 */

import type {
  MergedMarket,
  MergedRoutes,
  MergedSpec,
  MergedSubscription,
  MergedTarget,
  SubscriptionResult,
} from "../consumer/mod.ts";
import { MergedDispatcher } from "../dispatcher/merged_dispatcher.ts";
import type { Clock } from "../pool/clock.ts";
import { isMarketEventKind } from "../schema/event_kind.ts";
import type { MergedEvent } from "../schema/merged_event.ts";
import type { MergeStage } from "./merge_stage.ts";
import {
  MERGE_WINDOW_EVENTS_MAX_DEFAULT,
  MERGE_WINDOW_MS_DEFAULT,
  type MergeLateDrop,
  type MergePoolExhausted,
  type MergeSuppressed,
  MergeWindow,
  type MergeWindowStats,
} from "./merge_window.ts";

/** Merged subscriptions one consumer may hold by default. */
export const MERGED_SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT = 64;

/** The conductor as the registry uses it. */
export interface MergeStageHost {
  /** Registers a stage; throws when it cannot (duplicate id, limit reached). */
  addMergeStage(stage: MergeStage): void;
  /** Unregisters a stage by id. */
  removeMergeStage(stageId: string): boolean;
}

/** The routing-table version the registry shares (`RoutingTable` fits). */
export interface RoutingVersion {
  /** The current version. */
  readonly version: number;
  /** Counts one effective change; returns the new version. */
  bumpVersion(): number;
}

/** Options of {@linkcode MergedStreams}. */
export interface MergedStreamsOptions {
  /** The conductor the windows are registered with. */
  conductor: MergeStageHost;
  /** The merged-event pool the windows acquire from (and the dispatcher releases to). */
  pool: { tryAcquire(): MergedEvent | null; release(merged: MergedEvent): void };
  /** The routing-table version, bumped on every effective change. */
  versions: RoutingVersion;
  /** The fan-out. Default: a new {@linkcode MergedDispatcher} over `pool`. */
  dispatcher?: MergedDispatcher;
  /** Most merged subscriptions per consumer. Default 64. */
  subscriptionsPerConsumerMax?: number;
  /** Told about each suppressed partial window. Must not throw. */
  onSuppressed?: (info: MergeSuppressed) => void;
  /** Told about each late fragment dropped. Must not throw. */
  onLateDrop?: (info: MergeLateDrop) => void;
  /** Told about each complete window lost to an exhausted pool. Must not throw. */
  onPoolExhausted?: (info: MergePoolExhausted) => void;
  /** Clock of the windows. Default: the system clock. */
  clock?: Clock;
  /** Window timers on (default) or off (tests tick the windows themselves). */
  timer?: boolean;
  /** Epoch ms minus clock ms for the windows. Default: measured by each window. */
  epochOffsetMs?: number;
}

/** One merged stream in {@linkcode MergedStreams.streams}. */
export interface MergedStreamInfo {
  /** The stream's key. */
  spec: MergedSubscription;
  /** The stage id of its window. */
  stageId: string;
  /** Subscribed consumer ids. */
  consumers: string[];
  /** The window's counters. */
  window: MergeWindowStats;
}

/** One shared window and its subscribers. */
interface StreamEntry {
  readonly key: string;
  readonly spec: MergedSubscription;
  readonly window: MergeWindow;
  /** Frozen, replaced on change (copy-on-write), so an emit in progress sees a stable list. */
  targets: readonly MergedTarget[];
}

/** One consumer's subscription: the stream key it is in. */
interface ConsumerSub {
  readonly target: MergedTarget;
  /** Market key -> stream key. */
  readonly byMarket: Map<string, string>;
}

/**
 * The merged-stream registry.
 *
 * @example
 * ```ts
 * const merged = new MergedStreams({ conductor, pool: pools.mergedEvent, versions: routes });
 * const consumers = new ConsumerRegistry({ routes, merged });
 * consumers.create("a").mergedSubscribe({
 *   symbol: "BTC-USDT", kind: "trade", providers: ["binance", "okx"], windowMs: 1000,
 * });
 * // on shutdown
 * merged.close();
 * ```
 */
export class MergedStreams implements MergedRoutes {
  /** Most merged subscriptions per consumer. */
  readonly subscriptionsPerConsumerMax: number;

  readonly #conductor: MergeStageHost;
  readonly #pool: MergedStreamsOptions["pool"];
  readonly #versions: RoutingVersion;
  readonly #dispatcher: MergedDispatcher;
  readonly #opts: MergedStreamsOptions;
  readonly #streams = new Map<string, StreamEntry>();
  readonly #consumers = new Map<string, ConsumerSub>();
  #closed = false;

  /** Creates an empty registry. */
  constructor(opts: MergedStreamsOptions) {
    const max = opts.subscriptionsPerConsumerMax ?? MERGED_SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`expected an integer subscriptionsPerConsumerMax >= 1, found ${max}`);
    }
    this.subscriptionsPerConsumerMax = max;
    this.#conductor = opts.conductor;
    this.#pool = opts.pool;
    this.#versions = opts.versions;
    this.#dispatcher = opts.dispatcher ?? new MergedDispatcher({ pool: opts.pool });
    this.#opts = opts;
  }

  /** The fan-out (for its counters). */
  get dispatcher(): MergedDispatcher {
    return this.#dispatcher;
  }

  /** Merged streams (shared windows) alive now. */
  get size(): number {
    return this.#streams.size;
  }

  /** Subscribes `target` to the merged stream of `spec` (see the module doc). */
  subscribe(target: MergedTarget, spec: MergedSpec): SubscriptionResult {
    if (this.#closed) return this.#fail("expected an open merged-stream registry, found it closed");
    const resolved = resolveSpec(spec);
    if (typeof resolved === "string") return this.#fail(resolved);
    const market = marketKey(resolved);
    const key = `${market}|${resolved.windowMs}|${resolved.maxEvents}`;
    const sub = this.#consumers.get(target.id);
    if (sub !== undefined && sub.target !== target) {
      return this.#fail(
        `expected consumer "${target.id}" to be the one subscribed under that id, found another`,
      );
    }
    const previous = sub?.byMarket.get(market);
    if (previous === key) return this.#unchanged();
    if (
      previous === undefined && sub !== undefined &&
      sub.byMarket.size >= this.subscriptionsPerConsumerMax
    ) {
      return this.#fail(
        `consumer "${target.id}": expected at most ${this.subscriptionsPerConsumerMax} merged subscriptions, found ${sub.byMarket.size} already`,
      );
    }
    let entry = this.#streams.get(key);
    if (entry === undefined) {
      const created = this.#createStream(key, resolved);
      if (typeof created === "string") return this.#fail(created);
      entry = created;
    }
    if (previous !== undefined) this.#leave(previous, target);
    entry.targets = Object.freeze([...entry.targets, target]);
    let own = sub;
    if (own === undefined) {
      own = { target, byMarket: new Map() };
      this.#consumers.set(target.id, own);
    }
    own.byMarket.set(market, key);
    return this.#changed();
  }

  /** Removes the consumer's merged subscription of that market (absent: ok, unchanged). */
  unsubscribe(consumerId: string, market: MergedMarket): SubscriptionResult {
    const sub = this.#consumers.get(consumerId);
    const mKey = marketKey({ ...market, providers: [...market.providers].sort() });
    const key = sub?.byMarket.get(mKey);
    if (sub === undefined || key === undefined) return this.#unchanged();
    sub.byMarket.delete(mKey);
    if (sub.byMarket.size === 0) this.#consumers.delete(consumerId);
    this.#leave(key, sub.target);
    return this.#changed();
  }

  /** Removes every merged subscription of the consumer (one version step when it had any). */
  removeConsumer(consumerId: string): void {
    const sub = this.#consumers.get(consumerId);
    if (sub === undefined) return;
    this.#consumers.delete(consumerId);
    for (const key of sub.byMarket.values()) this.#leave(key, sub.target);
    this.#versions.bumpVersion();
  }

  /** The consumer's merged subscriptions, in subscription order (copies). */
  subscriptionsOf(consumerId: string): MergedSubscription[] {
    const sub = this.#consumers.get(consumerId);
    if (sub === undefined) return [];
    const out: MergedSubscription[] = [];
    for (const key of sub.byMarket.values()) {
      const entry = this.#streams.get(key);
      assert(entry !== undefined, "a consumer's merged subscription has no stream");
      out.push(copySpec(entry.spec));
    }
    return out;
  }

  /** Every merged stream alive, with its subscribers and window counters. */
  streams(): MergedStreamInfo[] {
    return [...this.#streams.values()].map((e) => ({
      spec: copySpec(e.spec),
      stageId: e.window.id,
      consumers: e.targets.map((t) => t.id),
      window: e.window.stats(),
    }));
  }

  /** Closes every window and forgets every subscription (shutdown). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#streams.values()) {
      this.#conductor.removeMergeStage(entry.window.id);
      entry.window.close();
    }
    this.#streams.clear();
    this.#consumers.clear();
  }

  #createStream(key: string, spec: MergedSubscription): StreamEntry | string {
    const opts = this.#opts;
    let entry: StreamEntry | null = null;
    let window: MergeWindow;
    try {
      window = new MergeWindow(spec, {
        pool: this.#pool,
        // The entry exists before the first emit can happen (no fragment was observed yet).
        emit: (merged) => this.#dispatcher.dispatchMerged(merged, entry!.targets),
        routingVersion: () => this.#versions.version,
        onSuppressed: opts.onSuppressed,
        onLateDrop: opts.onLateDrop,
        onPoolExhausted: opts.onPoolExhausted,
        clock: opts.clock,
        timer: opts.timer,
        epochOffsetMs: opts.epochOffsetMs,
      });
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    try {
      this.#conductor.addMergeStage(window);
    } catch (err) {
      window.close();
      return err instanceof Error ? err.message : String(err);
    }
    entry = { key, spec, window, targets: Object.freeze([]) };
    this.#streams.set(key, entry);
    return entry;
  }

  /** Takes `target` out of a stream; the last one out closes the window. */
  #leave(key: string, target: MergedTarget): void {
    const entry = this.#streams.get(key);
    assert(entry !== undefined, "left a merged stream that does not exist");
    const kept = entry.targets.filter((t) => t !== target);
    assert(kept.length === entry.targets.length - 1, "left a merged stream not subscribed");
    if (kept.length > 0) {
      entry.targets = Object.freeze(kept);
      return;
    }
    entry.targets = Object.freeze([]);
    this.#streams.delete(key);
    this.#conductor.removeMergeStage(entry.window.id);
    entry.window.close();
  }

  #changed(): SubscriptionResult {
    return { ok: true, changed: true, version: this.#versions.bumpVersion() };
  }

  #unchanged(): SubscriptionResult {
    return { ok: true, changed: false, version: this.#versions.version };
  }

  #fail(error: string): SubscriptionResult {
    return { ok: false, error, version: this.#versions.version };
  }
}

/** The spec with defaults applied and providers sorted, or what is wrong with it. */
function resolveSpec(spec: MergedSpec): MergedSubscription | string {
  if (typeof spec.symbol !== "string" || spec.symbol.length === 0) {
    return `expected a merged subscription symbol, found "${String(spec.symbol)}"`;
  }
  if (!isMarketEventKind(spec.kind)) {
    return `expected a market event kind, found "${String(spec.kind)}"`;
  }
  if (!Array.isArray(spec.providers)) {
    return `expected a list of providers, found ${typeof spec.providers}`;
  }
  const partialPolicy = spec.partialPolicy ?? "suppress";
  if (partialPolicy !== "suppress") {
    return `expected partialPolicy "suppress", found "${String(partialPolicy)}"`;
  }
  return {
    symbol: spec.symbol,
    kind: spec.kind,
    providers: [...spec.providers].sort(),
    windowMs: spec.windowMs ?? MERGE_WINDOW_MS_DEFAULT,
    maxEvents: spec.maxEvents ?? MERGE_WINDOW_EVENTS_MAX_DEFAULT,
    partialPolicy,
  };
}

/** Key of a market: symbol, kind and sorted providers (`|` and `,` occur in none of them). */
function marketKey(m: { symbol: string; kind: string; providers: readonly string[] }): string {
  return `${m.symbol}|${m.kind}|${m.providers.join(",")}`;
}

function copySpec(s: MergedSubscription): MergedSubscription {
  return { ...s, providers: [...s.providers] };
}

/** Invariant check: a failure is a bug in the registry, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`merged streams invariant violated: ${what}`);
}
