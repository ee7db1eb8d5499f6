/**
 * What a consumer's reader receives: {@linkcode ConsumerMessage}, a union discriminated by
 * `type`, mirroring the wire format's `type` field:
 *
 * - `undefined` (no `type` field): a market event, the dispatcher's plain clone
 *   ({@linkcode CanonicalEventData}) handed over unchanged, so the hot path adds nothing to it.
 *   On the wire it becomes an `event` message (`eventToWire`).
 * - `"gap"`: a {@linkcode GapMessage}: the consumer will not receive the events
 *   `fromSeq..toSeq` (provider sequences, `count` events) of one stream; the wire `gap`
 *   message (`controlToWire`).
 * - `"exec_report"`: an {@linkcode ExecReportMessage}, an execution report read back from the
 *   consumer's durable log, `seq` being its per-consumer sequence; the wire `exec_report`
 *   (`execReportToWire`).
 * - `"merged"`: a {@linkcode MergedMessage}, one merged window of a merged subscription (a plain
 *   clone the consumer owns); the wire `merged` message (`mergedToWire`).
 *
 * @example
 * ```ts
 * for await (const msg of consumer.events()) {
 *   switch (msg.type) {
 *     case "gap": resync(msg.provider, msg.symbol, msg.kind); break;
 *     case "exec_report": onFill(msg.clientOrderId, msg.state); break;
 *     default: onMarket(msg); // CanonicalEventData
 *   }
 * }
 * ```
 *
 * @module
 */

import type { CanonicalEventData } from "../schema/canonical_event.ts";
import type { ExecReportData } from "../schema/exec_report.ts";
import type { MergedEventData } from "../schema/merged_event.ts";
import type { GapMessage } from "../schema/wire_control.ts";

/** A market event clone as a consumer message: it carries no `type` field. */
export type MarketMessage = CanonicalEventData & { readonly type?: undefined };

/** An execution report delivered to its consumer (never dropped or coalesced). */
export interface ExecReportMessage extends ExecReportData {
  /** Discriminant. */
  readonly type: "exec_report";
}

/**
 * A merged event delivered to a merged subscriber (a clone it owns). Merged messages come only
 * after a `mergedSubscribe`; `provider` and `seq` are declared absent so that readers written
 * before this variant (a `default:` branch reading market fields) still type-check, reading
 * `undefined` there.
 */
export interface MergedMessage extends MergedEventData {
  /** Discriminant. */
  readonly type: "merged";
  /** Absent: a merged event spans several providers (see `providers`). */
  readonly provider?: never;
  /** Absent: a merged event has no provider sequence (see `mergeId`). */
  readonly seq?: never;
}

/** Everything a consumer's reader can receive. */
export type ConsumerMessage = MarketMessage | GapMessage | ExecReportMessage | MergedMessage;

/** True for a merged event. */
export function isMergedMessage(msg: ConsumerMessage): msg is MergedMessage {
  return msg.type === "merged";
}

/** The message form of a merged clone: its fields (arrays shared, not copied) and the type. */
export function mergedMessage(data: MergedEventData): MergedMessage {
  return {
    type: "merged",
    mergeId: data.mergeId,
    routingVersion: data.routingVersion,
    kind: data.kind,
    symbol: data.symbol,
    providers: data.providers,
    missing: data.missing,
    windowOpenMs: data.windowOpenMs,
    windowCloseMs: data.windowCloseMs,
    closeReason: data.closeReason,
    fragments: data.fragments,
  };
}

/** True for a market event (the dispatcher's clone). */
export function isMarketMessage(msg: ConsumerMessage): msg is MarketMessage {
  return msg.type === undefined;
}

/** True for a gap marker. */
export function isGapMessage(msg: ConsumerMessage): msg is GapMessage {
  return msg.type === "gap";
}

/** True for an execution report. */
export function isExecReportMessage(msg: ConsumerMessage): msg is ExecReportMessage {
  return msg.type === "exec_report";
}

/** The message form of report data: a copy with `type: "exec_report"`. */
export function execReportMessage(data: ExecReportData): ExecReportMessage {
  return {
    type: "exec_report",
    seq: data.seq,
    consumerId: data.consumerId,
    provider: data.provider,
    symbol: data.symbol,
    clientOrderId: data.clientOrderId,
    exchangeOrderId: data.exchangeOrderId,
    side: data.side,
    orderType: data.orderType,
    state: data.state,
    price: data.price,
    qty: data.qty,
    cumQty: data.cumQty,
    lastQty: data.lastQty,
    lastPx: data.lastPx,
    cumQuote: data.cumQuote,
    fee: data.fee,
    feeAsset: data.feeAsset,
    exchangeTradeId: data.exchangeTradeId,
    reasonCode: data.reasonCode,
    reasonText: data.reasonText,
    exchangeTsMs: data.exchangeTsMs,
    recvTsMs: data.recvTsMs,
    traceId: data.traceId,
  };
}
