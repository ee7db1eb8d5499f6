/**
 * Exchange filters checked before an order is journaled or sent: tick size, step size, minimum
 * quantity and minimum notional, in exact decimal arithmetic (see `exact_decimal.ts`). An order
 * the exchange would refuse for these reasons is refused locally, with a message naming the
 * rule, the expected value and the value found.
 *
 * @module
 */

import {
  compareDecimal,
  type ExactDecimal,
  formatDecimal,
  isMultipleOf,
  isPositive,
  isZero,
  multiplyDecimal,
  parseDecimal,
  trimDecimal,
} from "./exact_decimal.ts";
import type { InstrumentRules, VenueOrder } from "./order_venue.ts";

/** Options of {@linkcode checkOrderFilters}. */
export interface OrderFilterOptions {
  /**
   * Market orders only: a reference price (e.g. the best opposite quote) to check the minimum
   * notional with. Without it a market order's notional is not checked (the exchange still is).
   */
  referencePrice?: string;
}

/**
 * Checks `order` against `rules`; returns null when it passes, else what was expected and what
 * was found. Throws when `rules` itself is not decimal (a venue bug, not an order error).
 *
 * @example
 * ```ts
 * const rules = { symbol: "BTC-USDT", tickSize: "0.01", stepSize: "0.00001", minQty: "0.00001", minNotional: "5" };
 * checkOrderFilters({ ...order, price: "30000.005" }, rules);
 * // "price: expected a multiple of tick size 0.01, found 30000.005"
 * ```
 */
export function checkOrderFilters(
  order: VenueOrder,
  rules: InstrumentRules,
  opts?: OrderFilterOptions,
): string | null {
  const tick = ruleDecimal(rules, "tickSize");
  const step = ruleDecimal(rules, "stepSize");
  const minQty = ruleDecimal(rules, "minQty");
  const minNotional = ruleDecimal(rules, "minNotional");

  const qty = parseDecimal(order.qty);
  if (qty === null || !isPositive(qty)) {
    return `qty: expected a decimal greater than 0, found "${order.qty}"`;
  }
  if (!isMultipleOf(qty, step)) {
    return `qty: expected a multiple of step size ${rules.stepSize}, found ${order.qty}`;
  }
  if (compareDecimal(qty, minQty) < 0) {
    return `qty: expected at least min qty ${rules.minQty}, found ${order.qty}`;
  }

  let price: ExactDecimal | null = null;
  if (order.orderType === "limit") {
    price = parseDecimal(order.price);
    if (price === null || !isPositive(price)) {
      return `price: expected a decimal greater than 0, found "${order.price}"`;
    }
    if (!isMultipleOf(price, tick)) {
      return `price: expected a multiple of tick size ${rules.tickSize}, found ${order.price}`;
    }
  } else if (opts?.referencePrice !== undefined && opts.referencePrice !== "") {
    price = parseDecimal(opts.referencePrice);
    if (price === null || !isPositive(price)) {
      return `reference price: expected a decimal greater than 0, found "${opts.referencePrice}"`;
    }
  }

  if (price !== null && !isZero(minNotional)) {
    const notional = multiplyDecimal(price, qty);
    if (compareDecimal(notional, minNotional) < 0) {
      return `notional (price × qty): expected at least min notional ${rules.minNotional}, found ${
        formatDecimal(trimDecimal(notional))
      }`;
    }
  }
  return null;
}

function ruleDecimal(
  rules: InstrumentRules,
  field: "tickSize" | "stepSize" | "minQty" | "minNotional",
): ExactDecimal {
  const d = parseDecimal(rules[field]);
  if (d === null || d.units < 0n) {
    throw new RangeError(
      `instrument rules of ${rules.symbol}: expected ${field} as a decimal >= 0, found "${
        rules[field]
      }"`,
    );
  }
  return d;
}
