/**
 * The OKX order side's wire shapes: an `orders` channel row / REST order row built from the
 * engine's order plus what only OKX tracks (ordId, ordType, cumulative fee, last fill), and the
 * `cancelSource` of each engine end reason.
 *
 * `cancelSource` (OKX order-channel docs, §6.3): "0" canceled by the system, "1" canceled by
 * the user, "13" FOK not fully filled, "14" IOC remainder, "31" post-only order would take.
 * The engine's admin `expire` has no OKX equivalent state (OKX has no `expired`); the
 * simulator reports it as `canceled` with cancelSource "0" ("Order canceled by system").
 *
 * @module
 */

import type { SimEndReason, SimOrder } from "../../order_engine/mod.ts";
import { divideDecimal } from "./okx_sim_decimal.ts";

/** The engine's numeric ids are offset so ordIds look like OKX's 18-digit ids. */
export const OKX_ORD_ID_BASE = 735_511_198_274_000_000n;

/** OKX's ordId of an engine order id. */
export function okxOrdId(orderId: number): string {
  return (OKX_ORD_ID_BASE + BigInt(orderId)).toString();
}

/** The engine order id of an OKX ordId, or undefined when it cannot be one. */
export function engineOrderId(ordId: string): number | undefined {
  if (!/^\d{1,20}$/.test(ordId)) return undefined;
  const id = BigInt(ordId) - OKX_ORD_ID_BASE;
  return id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
}

/** cancelSource and its reason text per engine end reason. */
export const CANCEL_SOURCES: Readonly<Record<SimEndReason, readonly [string, string]>> = {
  user: ["1", "Order canceled by user"],
  ioc_remainder: ["14", "IOC order partially canceled due to incompletely filled"],
  fok_unfilled: ["13", "FOK order canceled due to incompletely filled"],
  post_only_would_take: ["31", "The post-only order will take liquidity in maker orders"],
  expired: ["0", "Order canceled by system"],
};

/** One fill as the order rows show it. */
export interface OkxFill {
  readonly tradeId: string;
  readonly fillSz: string;
  readonly fillPx: string;
  /** Fee of this fill, OKX sign (negative = charged). */
  readonly fillFee: string;
  readonly fillFeeCcy: string;
  /** `M` maker, `T` taker. */
  readonly execType: string;
  readonly fillTime: string;
}

/** What the OKX wrapper keeps per order beside the engine. */
export interface OkxOrderMeta {
  readonly ordId: string;
  /** As sent ("" when the client gave none). */
  readonly clOrdId: string;
  readonly instId: string;
  readonly ordType: string;
  /** As sent ("" for market orders). */
  readonly px: string;
  readonly sz: string;
  readonly tgtCcy: string;
  /** Cumulative fee, OKX sign. */
  fee: string;
  feeCcy: string;
  /** The last fill (REST rows show it), or null. */
  lastFill: OkxFill | null;
  /** Market order with the zero-fill fault armed. */
  readonly zeroFill: boolean;
}

/** Builds an `orders` push row / REST order row. `fill` is this push's fill (null: none). */
export function okxOrderRow(
  meta: OkxOrderMeta,
  order: SimOrder,
  options: { state: string; fill: OkxFill | null; uTimeMs: number },
): Record<string, string> {
  const fill = options.fill;
  const ended = order.endReason === "" ? null : CANCEL_SOURCES[order.endReason];
  const canceled = options.state === "canceled";
  return {
    instType: "SPOT",
    instId: meta.instId,
    tgtCcy: meta.tgtCcy,
    ccy: "",
    ordId: meta.ordId,
    clOrdId: meta.clOrdId,
    tag: "",
    px: meta.px,
    sz: meta.sz,
    notionalUsd: "",
    ordType: meta.ordType,
    side: order.side,
    posSide: "",
    tdMode: "cash",
    fillPx: fill?.fillPx ?? "",
    tradeId: fill?.tradeId ?? "",
    fillSz: fill?.fillSz ?? "0",
    fillPnl: "0",
    fillTime: fill?.fillTime ?? "",
    fillFee: fill?.fillFee ?? "0",
    fillFeeCcy: fill?.fillFeeCcy ?? "",
    execType: fill?.execType ?? "",
    fillNotionalUsd: "",
    accFillSz: order.cumQty,
    avgPx: order.cumQty === "0" ? "0" : divideDecimal(order.cumQuote, order.cumQty),
    state: options.state,
    lever: "",
    feeCcy: meta.feeCcy,
    fee: meta.fee,
    rebateCcy: meta.feeCcy,
    rebate: "0",
    pnl: "0",
    source: "",
    cancelSource: canceled && ended !== null ? ended[0] : "",
    cancelSourceReason: canceled && ended !== null ? ended[1] : "",
    category: "normal",
    uTime: String(options.uTimeMs),
    cTime: String(order.createdMs),
    reqId: "",
    amendResult: "",
    reduceOnly: "false",
    amendSource: "",
    stpMode: "",
    lastPx: fill?.fillPx ?? "",
    code: "0",
    msg: "",
  };
}

/** OKX's order state of an engine order. */
export function okxState(order: SimOrder): string {
  switch (order.state) {
    case "new":
      return "live";
    case "partially_filled":
    case "filled":
      return order.state;
    case "canceled":
    case "expired":
      return "canceled";
  }
}
