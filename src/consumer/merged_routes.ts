/**
 * What a consumer needs of the merged-stream registry (MISSION R-06): subscribe and unsubscribe
 * merged streams for itself, and drop them all when it closes. The registry itself
 * (`MergedStreams`, in the conductor) owns the merge windows; this interface keeps the consumer
 * free of any dependency on it.
 *
 * @module
 */

import type { MergedEventData } from "../schema/merged_event.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";
import type { SubscriptionResult } from "./consumer_routes.ts";

/** One merged subscription as a consumer asks for it. */
export interface MergedSpec {
  /** Canonical symbol (BASE-QUOTE). */
  symbol: string;
  /** Market-data kind. */
  kind: MarketEventKind;
  /** Expected providers, 1..16, distinct (order does not matter: they are sorted). */
  providers: readonly string[];
  /** Window length, ms. Default 10 000. */
  windowMs?: number;
  /** Fragments that close a window early. Default 1000. */
  maxEvents?: number;
  /** What a partial window does. Default (and only) "suppress". */
  partialPolicy?: "suppress";
}

/** The market a merged subscription is about: what `merged_unsubscribe` names. */
export interface MergedMarket {
  /** Canonical symbol. */
  symbol: string;
  /** Market-data kind. */
  kind: MarketEventKind;
  /** Expected providers (any order). */
  providers: readonly string[];
}

/** A merged subscription as the registry stores it (providers sorted, bounds resolved). */
export interface MergedSubscription {
  /** Canonical symbol. */
  symbol: string;
  /** Market-data kind. */
  kind: MarketEventKind;
  /** Expected providers, sorted. */
  providers: string[];
  /** Window length, ms. */
  windowMs: number;
  /** Fragments that close a window early. */
  maxEvents: number;
  /** What a partial window does. */
  partialPolicy: "suppress";
}

/** A receiver of merged-event clones (the in-process `Consumer` is one). */
export interface MergedTarget {
  /** Consumer id. */
  readonly id: string;
  /**
   * Takes ownership of `merged`, a plain clone made for this target alone. False when refused
   * (queue full, closed). Must not call back into the registry or the dispatcher.
   */
  enqueueMerged(merged: MergedEventData): boolean;
}

/** The merged-stream registry as a consumer sees it. */
export interface MergedRoutes {
  /**
   * Subscribes `target` to a merged stream. Idempotent for the same spec; a different window or
   * count for the same market replaces the consumer's earlier one (one version step).
   */
  subscribe(target: MergedTarget, spec: MergedSpec): SubscriptionResult;
  /** Removes the consumer's merged subscription of that market (absent: ok, unchanged). */
  unsubscribe(consumerId: string, market: MergedMarket): SubscriptionResult;
  /** Removes every merged subscription of the consumer (on close). */
  removeConsumer(consumerId: string): void;
  /** The consumer's merged subscriptions, in subscription order. */
  subscriptionsOf(consumerId: string): MergedSubscription[];
}
