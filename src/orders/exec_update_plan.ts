/**
 * Turns one venue update (or one reconciled order status) into the execution reports a
 * consumer has not seen yet, given what the journal says was reported so far. Pure: the gateway
 * journals the resulting change and delivers the reports.
 *
 * Rules, in order:
 * - nothing changes a terminal intent (terminal only once);
 * - a fill whose cumulative quantity is not above the journal's is a replay (cumulative
 *   monotonicity; the trade-id check happens before, against the journal's fills table);
 * - a consumer sees ACK before anything else: when the first update of an order is already a
 *   fill or a cancel, an ACK is synthesized first (never twice: the journal state says whether
 *   one was reported);
 * - the sum of the reported `lastQty` equals the reported `cumQty`: when the cumulative quantity
 *   grew by more than this update's fill (fills missed during a disconnect), one synthesized
 *   report covers the gap (`exchangeTradeId` "", `lastPx` derived from the cumulative quote
 *   amount when known);
 * - states never go backwards (a late `new` after a fill is ignored).
 *
 * @module
 */

import type { ExecState } from "../schema/exec_report.ts";
import {
  addDecimal,
  compareDecimal,
  divideDecimal,
  type ExactDecimal,
  formatDecimal,
  isPositive,
  multiplyDecimal,
  parseDecimal,
  subtractDecimal,
} from "./exact_decimal.ts";
import {
  type IntentChange,
  type IntentRow,
  intentStateRank,
  isTerminalIntentState,
} from "./intent_journal.ts";
import type { VenueExecUpdate, VenueOrderState, VenueOrderStatus } from "./order_venue.ts";

/** Canonical state of an exchange-neutral venue state. */
export function execStateOf(state: VenueOrderState): Exclude<ExecState, ""> {
  switch (state) {
    case "new":
      return "ACK";
    case "partially_filled":
      return "PARTIAL";
    case "filled":
      return "FILLED";
    case "canceled":
      return "CANCELLED";
    case "rejected":
      return "REJECTED";
    case "expired":
      return "EXPIRED";
  }
}

/** One report to deliver, in the order planned (the order-level fields come from the intent). */
export interface PlannedReport {
  state: Exclude<ExecState, "">;
  cumQty: string;
  cumQuote: string;
  /** "" on reports without a fill. */
  lastQty: string;
  lastPx: string;
  fee: string;
  feeAsset: string;
  /** "" on synthesized fills and reports without a fill. */
  exchangeTradeId: string;
  reasonCode: string;
  reasonText: string;
  exchangeTsMs: number;
  /** True when the gateway inferred this report (missed ACK or missed fills). */
  synthesized: boolean;
}

/** Outcome of {@linkcode planExecUpdate}. */
export interface ExecUpdatePlan {
  /** Reports to deliver, in order (possibly none). */
  reports: PlannedReport[];
  /** The journal change that records them (null: nothing to write). */
  change: Omit<IntentChange, "updatedMs"> | null;
  /**
   * Why nothing was planned when nothing was: `terminal` (the intent is closed), `replay` (a
   * fill at or below the journal's cumulative quantity), `inconsistent` (FILLED without any
   * quantity growth while the journal is below the order quantity), or "" when reports exist
   * or the update simply changed nothing (a repeated state).
   */
  ignored: "" | "terminal" | "replay" | "inconsistent";
}

/** Options of {@linkcode planExecUpdate}. */
export interface ExecUpdatePlanOptions {
  /** Average fill price from an order query, used to price a synthesized fill. */
  avgPrice?: string;
}

/**
 * Plans the reports for update `u` of intent `row` (see the module doc for the rules).
 *
 * @example
 * ```ts
 * const plan = planExecUpdate(row, update); // row.state "ACK", update: partially_filled 0.4
 * plan.reports; // [{ state: "PARTIAL", lastQty: "0.4", cumQty: "0.4", ... }]
 * ```
 */
export function planExecUpdate(
  row: IntentRow,
  u: VenueExecUpdate,
  opts?: ExecUpdatePlanOptions,
): ExecUpdatePlan {
  if (isTerminalIntentState(row.state)) {
    return { reports: [], change: null, ignored: "terminal" };
  }
  const target = execStateOf(u.state);
  const cumOld = decimalOr(row.cumQty, ZERO);
  const cumNew = decimalOr(u.cumQty, cumOld);
  const lastQty = decimalOr(u.lastQty, ZERO);
  const hasFill = u.tradeId !== "" && isPositive(lastQty);
  const grew = compareDecimal(cumNew, cumOld) > 0;
  if (hasFill && !grew) return { reports: [], change: null, ignored: "replay" };

  const reports: PlannedReport[] = [];
  const base = {
    fee: "",
    feeAsset: "",
    exchangeTradeId: "",
    reasonCode: "",
    reasonText: "",
    exchangeTsMs: u.exchangeTsMs,
  };
  const exchangeOrderId = u.exchangeOrderId !== "" ? u.exchangeOrderId : row.exchangeOrderId;

  if (target === "REJECTED") {
    reports.push({
      ...base,
      state: "REJECTED",
      cumQty: row.cumQty,
      cumQuote: row.cumQuote,
      lastQty: "",
      lastPx: "",
      reasonCode: u.reasonCode,
      reasonText: u.reasonText,
      synthesized: false,
    });
    return {
      reports,
      change: {
        state: "REJECTED",
        exchangeOrderId,
        reasonCode: u.reasonCode,
        reasonText: u.reasonText,
      },
      ignored: "",
    };
  }

  if (intentStateRank(row.state) === 0) {
    reports.push({
      ...base,
      state: "ACK",
      cumQty: row.cumQty,
      cumQuote: row.cumQuote,
      lastQty: "",
      lastPx: "",
      synthesized: target !== "ACK",
    });
  }

  let cumQty = row.cumQty;
  let cumQuote = row.cumQuote;
  if (grew) {
    const fills = planFills(row, u, { cumOld, cumNew, lastQty, hasFill, target }, opts);
    for (const f of fills) reports.push({ ...base, ...f });
    cumQty = u.cumQty;
    cumQuote = fills[fills.length - 1].cumQuote;
  }

  if (target === "CANCELLED" || target === "EXPIRED") {
    reports.push({
      ...base,
      state: target,
      cumQty,
      cumQuote,
      lastQty: "",
      lastPx: "",
      reasonCode: u.reasonCode,
      reasonText: u.reasonText,
      synthesized: false,
    });
  } else if (target === "FILLED" && !grew && reports.length === 0) {
    // FILLED needs a fill to report (lastQty > 0); with no growth there is none. Leave the
    // intent open: a later reconcile, which sees the exchange's cumulative, settles it.
    return { reports, change: null, ignored: "inconsistent" };
  }

  if (reports.length === 0) {
    const idChanged = exchangeOrderId !== row.exchangeOrderId;
    return { reports, change: idChanged ? { exchangeOrderId } : null, ignored: "" };
  }
  const last = reports[reports.length - 1];
  return {
    reports,
    change: {
      state: last.state,
      exchangeOrderId,
      cumQty,
      cumQuote,
      reasonCode: last.reasonCode,
      reasonText: last.reasonText,
    },
    ignored: "",
  };
}

/**
 * Converts an order status (query, open-orders listing) into an update without a fill, so the
 * planner synthesizes whatever quantity grew. A missing cumulative quote amount is derived from
 * the average price when the exchange gives one.
 */
export function updateOfStatus(s: VenueOrderStatus): VenueExecUpdate {
  let cumQuote = s.cumQuote;
  const avg = parseDecimal(s.avgPrice);
  const cum = parseDecimal(s.cumQty);
  if (cumQuote === "" && avg !== null && cum !== null && isPositive(avg)) {
    cumQuote = formatDecimal(multiplyDecimal(avg, cum));
  }
  return {
    venueClientId: s.venueClientId,
    exchangeOrderId: s.exchangeOrderId,
    symbol: s.symbol,
    state: s.state,
    cumQty: s.cumQty,
    cumQuote,
    lastQty: "0",
    lastPrice: "",
    fee: "",
    feeAsset: "",
    tradeId: "",
    reasonCode: s.reasonCode,
    reasonText: s.reasonText,
    exchangeTsMs: s.updateTsMs,
  };
}

const ZERO: ExactDecimal = { units: 0n, scale: 0 };

interface FillInputs {
  cumOld: ExactDecimal;
  cumNew: ExactDecimal;
  lastQty: ExactDecimal;
  hasFill: boolean;
  target: Exclude<ExecState, "">;
}

type FillReport =
  & Omit<
    PlannedReport,
    "reasonCode" | "reasonText" | "exchangeTsMs" | "fee" | "feeAsset" | "exchangeTradeId"
  >
  & { fee: string; feeAsset: string; exchangeTradeId: string };

/** The fill reports for a cumulative growth: a synthesized gap (if any), then the real fill. */
function planFills(
  row: IntentRow,
  u: VenueExecUpdate,
  f: FillInputs,
  opts?: ExecUpdatePlanOptions,
): FillReport[] {
  const delta = subtractDecimal(f.cumNew, f.cumOld);
  // A fill larger than the growth overlaps quantity already reported: report only the growth.
  const fillQty = !f.hasFill ? ZERO : compareDecimal(f.lastQty, delta) > 0 ? delta : f.lastQty;
  const gap = subtractDecimal(delta, fillQty);
  const fillPx = decimalOr(u.lastPrice, ZERO);
  const fillQuote = multiplyDecimal(fillQty, fillPx);
  const quoteOld = decimalOr(row.cumQuote, ZERO);
  const quoteNewKnown = parseDecimal(u.cumQuote);
  const finalState = isFinalFill(row, f);

  const out: FillReport[] = [];
  let quote = quoteOld;
  if (isPositive(gap)) {
    let gapQuote: ExactDecimal | null = null;
    if (quoteNewKnown !== null) {
      const q = subtractDecimal(subtractDecimal(quoteNewKnown, fillQuote), quoteOld);
      if (isPositive(q)) gapQuote = q;
    }
    const px = gapQuote !== null ? divideDecimal(gapQuote, gap) : fallbackPrice(row, u, opts);
    gapQuote ??= multiplyDecimal(gap, px);
    quote = addDecimal(quote, gapQuote);
    out.push({
      state: f.hasFill ? "PARTIAL" : finalState,
      cumQty: f.hasFill ? formatDecimal(addDecimal(f.cumOld, gap)) : u.cumQty,
      cumQuote: f.hasFill ? formatDecimal(quote) : u.cumQuote || formatDecimal(quote),
      lastQty: formatDecimal(gap),
      lastPx: formatDecimal(px),
      fee: "",
      feeAsset: "",
      exchangeTradeId: "",
      synthesized: true,
    });
  }
  if (f.hasFill) {
    quote = addDecimal(quote, fillQuote);
    out.push({
      state: finalState,
      cumQty: u.cumQty,
      cumQuote: u.cumQuote !== "" ? u.cumQuote : formatDecimal(quote),
      lastQty: fillQty === f.lastQty ? u.lastQty : formatDecimal(fillQty),
      lastPx: u.lastPrice,
      fee: u.fee,
      feeAsset: u.feeAsset,
      exchangeTradeId: u.tradeId,
      synthesized: false,
    });
  }
  return out;
}

/** FILLED when the venue says so or the order quantity is reached; else PARTIAL. */
function isFinalFill(row: IntentRow, f: FillInputs): "FILLED" | "PARTIAL" {
  if (f.target === "FILLED") return "FILLED";
  const qty = parseDecimal(row.qty);
  return qty !== null && compareDecimal(f.cumNew, qty) >= 0 ? "FILLED" : "PARTIAL";
}

/** Price of a synthesized fill when the quote amounts do not tell it. */
function fallbackPrice(
  row: IntentRow,
  u: VenueExecUpdate,
  opts?: ExecUpdatePlanOptions,
): ExactDecimal {
  for (const candidate of [opts?.avgPrice ?? "", u.lastPrice, row.price]) {
    const d = parseDecimal(candidate);
    if (d !== null && isPositive(d)) return d;
  }
  return ZERO;
}

function decimalOr(text: string, fallback: ExactDecimal): ExactDecimal {
  return parseDecimal(text) ?? fallback;
}
