/**
 * MergedEvent: the same market on several providers, collected over one merge window and
 * emitted as one event. Pooled: acquired by the conductor when a window closes, released
 * once by the dispatcher after fan-out.
 *
 * The fragments are plain heap clones, not pooled events: a window stays open for up to 10 s, and
 * holding pooled `CanonicalEvent`s that long would pin pool capacity that the hot path needs. The
 * conductor therefore copies each fragment in ({@linkcode MergedEvent.addFragment}) and releases
 * the pooled original at once.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import {
  type CanonicalEventData,
  type CanonicalEventLike,
  cloneCanonicalEventData,
  copyArrayInto,
  validateCanonicalEvent,
} from "./canonical_event.ts";
import { isMarketEventKind, type MarketEventKind } from "./event_kind.ts";
import {
  isCanonicalSymbol,
  isProviderName,
  isSequenceNumber,
  isTimestampMs,
} from "./exact_values.ts";
import { isPoisoned, POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** Why a merge window closed: its time ran out, or it reached its event count. */
export type MergeCloseReason = "time" | "count" | "";

/** Longest merge id accepted, in characters. */
export const MERGE_ID_LENGTH_MAX = 64;

const MERGE_ID_RE = /^[\x21-\x7e]+$/;

/** The plain-object form of a {@linkcode MergedEvent}: what consumers receive (a clone). */
export interface MergedEventData {
  /** Gateway-unique id of this merged event (printable ASCII, ≤ 64 chars); dedup key. */
  mergeId: string;
  /** Version of the routing table the merged subscription was applied under. */
  routingVersion: number;
  kind: MarketEventKind | "";
  /** Canonical symbol shared by every fragment. */
  symbol: string;
  /** Providers the merged subscription expects, in subscription order. */
  providers: string[];
  /** Expected providers with no fragment in the window (empty for an emitted event: R-06). */
  missing: string[];
  /** Receive time of the first fragment, which opened the window, ms since epoch. */
  windowOpenMs: number;
  /** Time the window closed, ms since epoch. */
  windowCloseMs: number;
  closeReason: MergeCloseReason;
  /** The window's fragments in arrival order, each a plain clone that this event owns. */
  fragments: CanonicalEventData[];
}

/** A pooled merged event. */
export class MergedEvent implements Poolable, MergedEventData {
  mergeId = "";
  routingVersion = 0;
  kind: MarketEventKind | "" = "";
  symbol = "";
  providers: string[] = [];
  missing: string[] = [];
  windowOpenMs = 0;
  windowCloseMs = 0;
  closeReason: MergeCloseReason = "";
  fragments: CanonicalEventData[] = [];

  /** Zeroes every field; arrays are emptied in place (the fragment clones become garbage). */
  reset(): void {
    this.mergeId = "";
    this.routingVersion = 0;
    this.kind = "";
    this.symbol = "";
    this.providers.length = 0;
    this.missing.length = 0;
    this.windowOpenMs = 0;
    this.windowCloseMs = 0;
    this.closeReason = "";
    this.fragments.length = 0;
  }

  /** Debug mode: sentinel values (see `schema/poison.ts`). */
  poison(): void {
    this.mergeId = POISON_STRING;
    this.routingVersion = POISON_NUMBER;
    this.symbol = POISON_STRING;
    this.providers.length = 0;
    this.providers.push(POISON_STRING);
    this.missing.length = 0;
    this.missing.push(POISON_STRING);
    this.windowOpenMs = POISON_NUMBER;
    this.windowCloseMs = POISON_NUMBER;
    this.fragments.length = 0;
  }

  /** Appends a plain clone of `fragment`; the caller keeps (and releases) the original. */
  addFragment(fragment: CanonicalEventLike): void {
    this.fragments.push(cloneCanonicalEventData(fragment));
  }

  /** A plain heap copy, arrays and every fragment copied deep; the receiver owns it. */
  clone(): MergedEventData {
    return cloneMergedEventData(this);
  }

  /** Copies every field of `src` into this object (arrays in place, fragments cloned). */
  copyFrom(src: MergedEventData): this {
    this.mergeId = src.mergeId;
    this.routingVersion = src.routingVersion;
    this.kind = src.kind;
    this.symbol = src.symbol;
    copyArrayInto(this.providers, src.providers);
    copyArrayInto(this.missing, src.missing);
    this.windowOpenMs = src.windowOpenMs;
    this.windowCloseMs = src.windowCloseMs;
    this.closeReason = src.closeReason;
    this.fragments.length = src.fragments.length;
    for (let i = 0; i < src.fragments.length; i++) {
      this.fragments[i] = cloneCanonicalEventData(src.fragments[i]);
    }
    return this;
  }
}

/** A plain deep copy of any merged event, pooled or plain. */
export function cloneMergedEventData(src: MergedEventData): MergedEventData {
  const fragments = new Array<CanonicalEventData>(src.fragments.length);
  for (let i = 0; i < src.fragments.length; i++) {
    fragments[i] = cloneCanonicalEventData(src.fragments[i]);
  }
  return {
    mergeId: src.mergeId,
    routingVersion: src.routingVersion,
    kind: src.kind,
    symbol: src.symbol,
    providers: src.providers.slice(),
    missing: src.missing.slice(),
    windowOpenMs: src.windowOpenMs,
    windowCloseMs: src.windowCloseMs,
    closeReason: src.closeReason,
    fragments,
  };
}

/**
 * Checks a merged event; returns null when valid, else what was expected and what was found.
 * Beyond each field, it checks that the window is consistent: at least one fragment, every
 * fragment valid and of the event's kind and symbol, from an expected provider, and `missing`
 * a subset of `providers`.
 */
export function validateMergedEvent(m: MergedEventData): string | null {
  if (!isMergeId(m.mergeId)) {
    return `expected a merge id of 1..${MERGE_ID_LENGTH_MAX} printable characters, found "${m.mergeId}"`;
  }
  if (!isSequenceNumber(m.routingVersion)) {
    return `expected routingVersion as a non-negative integer, found ${m.routingVersion}`;
  }
  if (!isMarketEventKind(m.kind)) return `expected a market event kind, found "${m.kind}"`;
  if (!isCanonicalSymbol(m.symbol)) return `expected a BASE-QUOTE symbol, found "${m.symbol}"`;
  const providersError = validateProviderList("providers", m.providers);
  if (providersError !== null) return providersError;
  if (m.providers.length === 0) return "expected at least one provider, found none";
  const missingError = validateProviderList("missing", m.missing);
  if (missingError !== null) return missingError;
  for (const p of m.missing) {
    if (!m.providers.includes(p)) {
      return `expected missing providers among [${m.providers.join(", ")}], found "${p}"`;
    }
  }
  if (!isTimestampMs(m.windowOpenMs) || !isTimestampMs(m.windowCloseMs)) {
    return `expected windowOpenMs and windowCloseMs as ms timestamps, found ${m.windowOpenMs} and ${m.windowCloseMs}`;
  }
  if (m.windowCloseMs < m.windowOpenMs) {
    return `expected windowCloseMs >= windowOpenMs (${m.windowOpenMs}), found ${m.windowCloseMs}`;
  }
  if (m.closeReason !== "time" && m.closeReason !== "count") {
    return `expected closeReason time or count, found "${m.closeReason}"`;
  }
  if (m.fragments.length === 0) return "expected at least one fragment, found none";
  for (let i = 0; i < m.fragments.length; i++) {
    const error = validateFragment(m, i);
    if (error !== null) return error;
  }
  return null;
}

/** True when `value` is a merge id: 1..64 printable ASCII characters, no spaces. */
export function isMergeId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MERGE_ID_LENGTH_MAX &&
    MERGE_ID_RE.test(value);
}

function validateProviderList(name: string, providers: readonly string[]): string | null {
  for (let i = 0; i < providers.length; i++) {
    const p = providers[i];
    if (!isProviderName(p) || isPoisoned(p)) {
      return `expected a provider name at ${name}[${i}], found "${p}"`;
    }
    if (providers.indexOf(p) !== i) return `expected distinct ${name}, found "${p}" twice`;
  }
  return null;
}

function validateFragment(m: MergedEventData, i: number): string | null {
  const f = m.fragments[i];
  const error = validateCanonicalEvent(f);
  if (error !== null) return `fragments[${i}]: ${error}`;
  if (f.kind !== m.kind || f.symbol !== m.symbol) {
    return `fragments[${i}]: expected ${m.kind} ${m.symbol}, found ${f.kind} ${f.symbol}`;
  }
  if (!m.providers.includes(f.provider)) {
    return `fragments[${i}]: expected a provider among [${
      m.providers.join(", ")
    }], found "${f.provider}"`;
  }
  if (m.missing.includes(f.provider)) {
    return `fragments[${i}]: expected no fragment from missing provider "${f.provider}", found one`;
  }
  return null;
}
