/**
 * RoutingTable: who receives which stream (MISSION R-07).
 *
 * Two planes, kept apart:
 *
 * - The control plane records each consumer's subscriptions (exact `(provider, symbol, kind)`
 *   keys, or `("*", symbol, kind)` for every provider). Commands are idempotent: subscribing
 *   twice, or unsubscribing an absent subscription, returns ok with `changed: false` and leaves
 *   the version alone. Every effective change (a consumer added or removed, a subscription added
 *   or removed) increments `version` by one.
 * - The data plane answers {@linkcode RoutingTable.lookup} with a precomputed, frozen array of
 *   targets per stream, found through nested maps provider -> symbol -> kind: no key string is
 *   built and nothing is allocated per event. A change rebuilds only the arrays of the streams
 *   it touches, as new arrays (copy-on-write), so a dispatch that is iterating an old array when
 *   a consumer unsubscribes (from inside a callback, say) finishes on a consistent list.
 *
 * Changes apply synchronously: the next event dispatched after a command returns already sees
 * it, well within R-07's one second.
 *
 * Overlapping subscriptions do not interfere: each stream keeps the set of its subscribers, and
 * removing one consumer from it leaves the others. A consumer holding both an exact and a
 * wildcard subscription to the same stream is listed once, so it receives each event once.
 *
 * @module
 */

import {
  ANY_PROVIDER,
  type ConsumerRoutes,
  type StreamKey,
  type SubscriptionResult,
  validateStreamKey,
} from "../consumer/mod.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";
import { CONSUMER_ID_LENGTH_MAX, isConsumerId } from "../schema/order_request.ts";
import type { DeliveryTarget } from "./delivery_target.ts";

/** Consumers a routing table holds by default. */
export const CONSUMERS_MAX_DEFAULT = 1024;
/** Subscriptions one consumer may hold by default. */
export const SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT = 4096;

/** Options of {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** Most consumers registered at once. Default {@linkcode CONSUMERS_MAX_DEFAULT}. */
  consumersMax?: number;
  /** Most subscriptions per consumer. Default {@linkcode SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT}. */
  subscriptionsPerConsumerMax?: number;
}

/** One consumer in a {@linkcode RoutingSnapshot}. */
export interface RoutingSnapshotConsumer {
  /** Consumer id. */
  id: string;
  /** Its subscriptions, in the order they were made. */
  subscriptions: StreamKey[];
}

/** The routing table as plain data (for the HTTP control API). */
export interface RoutingSnapshot {
  /** Version the snapshot was taken at. */
  version: number;
  /** Registered consumers, in registration order. */
  consumers: RoutingSnapshotConsumer[];
  /** Distinct subscribed stream keys (a wildcard key counts once). */
  streams: number;
}

/** A consumer and its subscriptions, keyed by the control-plane key string. */
interface ConsumerEntry<T> {
  readonly target: T;
  readonly subscriptions: Map<string, StreamKey>;
}

type KindRoutes<T> = Map<string, readonly T[]>;

const NO_TARGETS: readonly never[] = Object.freeze([]);

/**
 * The versioned routing table.
 *
 * @example
 * ```ts
 * const table = new RoutingTable<Consumer>();
 * table.addConsumer(consumer);
 * table.subscribe("my-strategy", { provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * table.lookup("binance", "BTC-USDT", "trade"); // [consumer]
 * ```
 */
export class RoutingTable<T extends DeliveryTarget = DeliveryTarget> implements ConsumerRoutes<T> {
  /** Most consumers registered at once. */
  readonly consumersMax: number;
  /** Most subscriptions per consumer. */
  readonly subscriptionsPerConsumerMax: number;

  #version = 0;
  readonly #consumers = new Map<string, ConsumerEntry<T>>();
  /** Control plane: key string -> subscribers, in subscription order. */
  readonly #subscribers = new Map<string, Set<T>>();
  /** Data plane, exact keys: provider -> symbol -> kind -> exact ∪ wildcard subscribers. */
  readonly #exact = new Map<string, Map<string, KindRoutes<T>>>();
  /** Data plane, wildcard keys: symbol -> kind -> wildcard subscribers. */
  readonly #wildcard = new Map<string, KindRoutes<T>>();

  /** Creates an empty table at version 0. */
  constructor(opts?: RoutingTableOptions) {
    this.consumersMax = positiveInteger("consumersMax", opts?.consumersMax, CONSUMERS_MAX_DEFAULT);
    this.subscriptionsPerConsumerMax = positiveInteger(
      "subscriptionsPerConsumerMax",
      opts?.subscriptionsPerConsumerMax,
      SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT,
    );
  }

  /** Increments on every effective change; never on an idempotent repeat or a failure. */
  get version(): number {
    return this.#version;
  }

  /**
   * Counts one effective change made outside this table (a merged subscription added or
   * removed), so acks of every routing change share one version sequence. Returns the new version.
   */
  bumpVersion(): number {
    this.#version++;
    return this.#version;
  }

  /**
   * Registers `target` under its id, with no subscriptions. Registering the same object again
   * is an idempotent no-op; another object under a taken id, a bad id, or a full table fail.
   */
  addConsumer(target: T): SubscriptionResult {
    if (!isConsumerId(target.id)) {
      return this.#fail(
        `expected a consumer id of 1..${CONSUMER_ID_LENGTH_MAX} of A-Z a-z 0-9 . _ : -, found "${
          String(target.id)
        }"`,
      );
    }
    const existing = this.#consumers.get(target.id);
    if (existing !== undefined) {
      if (existing.target === target) return this.#unchanged();
      return this.#fail(`expected a unique consumer id, found "${target.id}" already registered`);
    }
    if (this.#consumers.size >= this.consumersMax) {
      return this.#fail(
        `expected at most ${this.consumersMax} consumers, found ${this.#consumers.size} registered`,
      );
    }
    this.#consumers.set(target.id, { target, subscriptions: new Map() });
    return this.#changed();
  }

  /**
   * Unregisters the consumer and all its subscriptions (one version step); absent ids: no-op.
   * With `expected`, a no-op unless that object is the one registered under the id (so a stale
   * consumer closing late cannot unregister a newer one that reused its id).
   */
  removeConsumer(consumerId: string, expected?: T): SubscriptionResult {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined) return this.#unchanged();
    if (expected !== undefined && entry.target !== expected) return this.#unchanged();
    this.#consumers.delete(consumerId);
    for (const [keyId, key] of entry.subscriptions) {
      this.#removeSubscriber(keyId, key, entry.target);
    }
    return this.#changed();
  }

  /** True when a consumer is registered under this id. */
  hasConsumer(consumerId: string): boolean {
    return this.#consumers.has(consumerId);
  }

  /** The target registered under this id, if any. */
  targetOf(consumerId: string): T | undefined {
    return this.#consumers.get(consumerId)?.target;
  }

  /** Subscribes a registered consumer to a stream (idempotent). */
  subscribe(consumerId: string, key: StreamKey): SubscriptionResult {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined) return this.#unknownConsumer(consumerId);
    const problem = validateStreamKey(key);
    if (problem !== null) return this.#fail(problem);
    const keyId = keyString(key.provider, key.symbol, key.kind);
    if (entry.subscriptions.has(keyId)) return this.#unchanged();
    if (entry.subscriptions.size >= this.subscriptionsPerConsumerMax) {
      return this.#fail(
        `consumer "${consumerId}": expected at most ${this.subscriptionsPerConsumerMax} subscriptions, found ${entry.subscriptions.size} already`,
      );
    }
    // Keep our own frozen copy: the caller may reuse or mutate its object.
    const stored: StreamKey = Object.freeze({
      provider: key.provider,
      symbol: key.symbol,
      kind: key.kind,
    });
    entry.subscriptions.set(keyId, stored);
    let subscribers = this.#subscribers.get(keyId);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#subscribers.set(keyId, subscribers);
    }
    subscribers.add(entry.target);
    this.#rebuild(stored);
    return this.#changed();
  }

  /** Removes one subscription of a registered consumer (absent subscription: ok, unchanged). */
  unsubscribe(consumerId: string, key: StreamKey): SubscriptionResult {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined) return this.#unknownConsumer(consumerId);
    const problem = validateStreamKey(key);
    if (problem !== null) return this.#fail(problem);
    const keyId = keyString(key.provider, key.symbol, key.kind);
    const stored = entry.subscriptions.get(keyId);
    if (stored === undefined) return this.#unchanged();
    entry.subscriptions.delete(keyId);
    this.#removeSubscriber(keyId, stored, entry.target);
    return this.#changed();
  }

  /** The consumer's subscriptions in subscription order (empty when unknown). */
  subscriptionsOf(consumerId: string): StreamKey[] {
    const entry = this.#consumers.get(consumerId);
    return entry === undefined ? [] : [...entry.subscriptions.values()];
  }

  /**
   * The targets of one stream, each once: exact subscribers of `(provider, symbol, kind)` and
   * wildcard subscribers of `(*, symbol, kind)`. Hot path: O(1), allocates nothing. The array is
   * frozen and stays valid (unchanged) after later routing changes.
   */
  lookup(provider: string, symbol: string, kind: MarketEventKind | ""): readonly T[] {
    const bySymbol = this.#exact.get(provider);
    if (bySymbol !== undefined) {
      const byKind = bySymbol.get(symbol);
      if (byKind !== undefined) {
        const targets = byKind.get(kind);
        if (targets !== undefined) return targets;
      }
    }
    const wildByKind = this.#wildcard.get(symbol);
    if (wildByKind !== undefined) {
      const targets = wildByKind.get(kind);
      if (targets !== undefined) return targets;
    }
    return NO_TARGETS;
  }

  /** The table as plain data: version, consumers and their subscriptions. */
  snapshot(): RoutingSnapshot {
    const consumers: RoutingSnapshotConsumer[] = [];
    for (const [id, entry] of this.#consumers) {
      consumers.push({
        id,
        subscriptions: [...entry.subscriptions.values()].map((k) => ({ ...k })),
      });
    }
    return { version: this.#version, consumers, streams: this.#subscribers.size };
  }

  #removeSubscriber(keyId: string, key: StreamKey, target: T): void {
    const subscribers = this.#subscribers.get(keyId);
    assert(subscribers !== undefined && subscribers.has(target), "subscription without subscriber");
    subscribers.delete(target);
    if (subscribers.size === 0) this.#subscribers.delete(keyId);
    this.#rebuild(key);
  }

  /** Recomputes the data-plane arrays a change of `key`'s subscribers affects. */
  #rebuild(key: StreamKey): void {
    if (key.provider !== ANY_PROVIDER) {
      this.#rebuildExact(key.provider, key.symbol, key.kind);
      return;
    }
    const wild = this.#subscribers.get(keyString(ANY_PROVIDER, key.symbol, key.kind));
    setRoute(this.#wildcard, key.symbol, key.kind, wild === undefined ? null : freeze([...wild]));
    // Every exact route of this symbol and kind embeds the wildcard subscribers: refresh them.
    for (const [provider, bySymbol] of this.#exact) {
      if (bySymbol.get(key.symbol)?.has(key.kind)) {
        this.#rebuildExact(provider, key.symbol, key.kind);
      }
    }
  }

  #rebuildExact(provider: string, symbol: string, kind: string): void {
    const exact = this.#subscribers.get(keyString(provider, symbol, kind));
    let bySymbol = this.#exact.get(provider);
    if (exact === undefined) {
      // No exact subscriber left: lookups fall through to the wildcard route.
      if (bySymbol !== undefined && setRoute(bySymbol, symbol, kind, null)) {
        this.#exact.delete(provider);
      }
      return;
    }
    const targets = [...exact];
    const wild = this.#subscribers.get(keyString(ANY_PROVIDER, symbol, kind));
    if (wild !== undefined) {
      for (const t of wild) if (!exact.has(t)) targets.push(t);
    }
    if (bySymbol === undefined) {
      bySymbol = new Map();
      this.#exact.set(provider, bySymbol);
    }
    setRoute(bySymbol, symbol, kind, freeze(targets));
  }

  #changed(): SubscriptionResult {
    this.#version++;
    return { ok: true, changed: true, version: this.#version };
  }

  #unchanged(): SubscriptionResult {
    return { ok: true, changed: false, version: this.#version };
  }

  #fail(error: string): SubscriptionResult {
    return { ok: false, error, version: this.#version };
  }

  #unknownConsumer(consumerId: string): SubscriptionResult {
    return this.#fail(`expected a registered consumer, found no consumer "${consumerId}"`);
  }
}

/** Control-plane key; `|` appears in no provider, symbol or kind (their validators forbid it). */
function keyString(provider: string, symbol: string, kind: string): string {
  return `${provider}|${symbol}|${kind}`;
}

/**
 * Sets (or, with null, deletes) `bySymbol[symbol][kind]`, dropping an emptied inner map.
 * Returns true when `bySymbol` itself is left empty.
 */
function setRoute<T>(
  bySymbol: Map<string, KindRoutes<T>>,
  symbol: string,
  kind: string,
  targets: readonly T[] | null,
): boolean {
  let byKind = bySymbol.get(symbol);
  if (targets !== null) {
    if (byKind === undefined) {
      byKind = new Map();
      bySymbol.set(symbol, byKind);
    }
    byKind.set(kind, targets);
    return false;
  }
  if (byKind !== undefined) {
    byKind.delete(kind);
    if (byKind.size === 0) bySymbol.delete(symbol);
  }
  return bySymbol.size === 0;
}

function freeze<T>(targets: T[]): readonly T[] {
  return Object.freeze(targets);
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`expected an integer ${name} >= 1, found ${n}`);
  }
  return n;
}

/** Invariant check: a failure is a bug in the table, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`routing table invariant violated: ${what}`);
}
