/**
 * Wire form of a merged event (`type: "merged"`): merged event data to a plain snake_case
 * object, fragments as wire events, and back.
 *
 * @module
 */

import { type MarketEventKind, SCHEMA_VERSION } from "./event_kind.ts";
import { isMergeId, type MergedEventData, validateMergedEvent } from "./merged_event.ts";
import {
  describeFound,
  enumRule,
  type FieldRule,
  MARKET_KIND,
  PROVIDER,
  SEQUENCE,
  SYMBOL,
  TIMESTAMP_MS,
  WireReader,
} from "./wire_fields.ts";
import { emptyEventData, eventToWire, readWireEventBody, type WireEvent } from "./wire_event.ts";
import type { CanonicalEventData } from "./canonical_event.ts";

/** Most providers one merged subscription can name. */
export const MERGE_PROVIDERS_MAX = 16;
/** Most fragments one merged event can carry (the largest `max_events` a client may ask for). */
export const MERGE_EVENTS_MAX = 10_000;

/** A merged event on the wire. */
export interface WireMerged {
  v: number;
  type: "merged";
  merge_id: string;
  routing_version: number;
  kind: MarketEventKind;
  symbol: string;
  providers: string[];
  missing: string[];
  /** Window open time (first fragment), ms since epoch. */
  window_open: number;
  /** Window close time, ms since epoch. */
  window_close: number;
  close_reason: "time" | "count";
  fragments: WireEvent[];
}

const MERGE_ID: FieldRule<string> = {
  expected: "1..64 printable ASCII characters",
  test: isMergeId,
};
const CLOSE_REASON = enumRule(["time", "count"] as const);

/** The wire object of a merged event (does not validate; see `validateMergedEvent`). */
export function mergedToWire(m: MergedEventData): WireMerged {
  if (m.kind === "" || m.closeReason === "") {
    throw new Error(
      `mergedToWire: expected a kind and a close reason, found "${m.kind}" and "${m.closeReason}"`,
    );
  }
  const fragments = new Array<WireEvent>(m.fragments.length);
  for (let i = 0; i < m.fragments.length; i++) fragments[i] = eventToWire(m.fragments[i]);
  return {
    v: SCHEMA_VERSION,
    type: "merged",
    merge_id: m.mergeId,
    routing_version: m.routingVersion,
    kind: m.kind,
    symbol: m.symbol,
    providers: m.providers.slice(),
    missing: m.missing.slice(),
    window_open: m.windowOpenMs,
    window_close: m.windowCloseMs,
    close_reason: m.closeReason,
    fragments,
  };
}

/**
 * Reads and validates a wire merged event (fields, every fragment, and the consistency checks of
 * `validateMergedEvent`); throws a `WireFormatError` that names the field. Unknown fields are
 * ignored.
 */
export function mergedFromWire(value: unknown): MergedEventData {
  const r = new WireReader(value, { context: "merged" });
  r.version();
  const type = r.raw("type");
  if (type !== "merged") {
    r.fail("unknown_type", "type", `expected type "merged", found ${describeFound(type)}`);
  }
  const providerBounds = { itemsMin: 0, itemsMax: MERGE_PROVIDERS_MAX };
  const m: MergedEventData = {
    mergeId: r.read("merge_id", MERGE_ID),
    routingVersion: r.read("routing_version", SEQUENCE),
    kind: r.read("kind", MARKET_KIND),
    symbol: r.read("symbol", SYMBOL),
    providers: r.readList("providers", PROVIDER, providerBounds),
    missing: r.readList("missing", PROVIDER, providerBounds),
    windowOpenMs: r.read("window_open", TIMESTAMP_MS),
    windowCloseMs: r.read("window_close", TIMESTAMP_MS),
    closeReason: r.read("close_reason", CLOSE_REASON),
    fragments: [],
  };
  const raw = r.readArray("fragments", { itemsMin: 1, itemsMax: MERGE_EVENTS_MAX });
  m.fragments = new Array<CanonicalEventData>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const path = `fragments[${i}]`;
    const fr = new WireReader(raw[i], { context: "merged", path });
    fr.version();
    if (fr.raw("type") !== "event") {
      fr.failExpected("type", `"event"`, fr.raw("type"));
    }
    m.fragments[i] = readWireEventBody(fr, emptyEventData());
  }
  const error = validateMergedEvent(m);
  if (error !== null) r.fail("invalid_field", "", error);
  return m;
}
