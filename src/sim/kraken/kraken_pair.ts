/**
 * Kraken v2 view of a generator instrument: the `BASE/QUOTE` name, the precisions the
 * `instrument` channel publishes (and the book checksum pads to), and exact number rendering.
 *
 * @module
 */

import { formatAtoms, type MarketSymbol, trimDecimal } from "../market/mod.ts";
import { padDecimal } from "./book_checksum.ts";

/** How prices and quantities are written as JSON number literals. */
export type NumberStyle = "fixed" | "trimmed";

/** One tradable pair. */
export interface KrakenPair {
  /** v2 name, `BTC/USDT`. */
  readonly name: string;
  /** The generator instrument. */
  readonly market: MarketSymbol;
  /** Decimals of a price (the decimals of the tick size). */
  readonly pricePrecision: number;
  /** Decimals of a quantity (the decimals of the step size). */
  readonly qtyPrecision: number;
}

/** Builds the pair of a generator instrument. */
export function krakenPairOf(market: MarketSymbol): KrakenPair {
  return {
    name: `${market.base}/${market.quote}`,
    market,
    pricePrecision: decimalsOf(market.spec.tickSize),
    qtyPrecision: decimalsOf(market.spec.stepSize),
  };
}

function decimalsOf(text: string): number {
  const dot = text.indexOf(".");
  if (dot === -1) return 0;
  return text.slice(dot + 1).replace(/0+$/, "").length;
}

/** A price in ticks as a decimal string with exactly the pair's price precision. */
export function priceText(pair: KrakenPair, tick: number): string {
  return padDecimal(formatAtoms(tick * pair.market.tickAtoms), pair.pricePrecision);
}

/** A quantity in steps as a decimal string with exactly the pair's quantity precision. */
export function qtyText(pair: KrakenPair, steps: number): string {
  return padDecimal(formatAtoms(steps * pair.market.stepAtoms), pair.qtyPrecision);
}

/** A fixed-precision decimal as a JSON number literal in the chosen style. */
export function numberLiteral(text: string, style: NumberStyle): string {
  return style === "fixed" ? text : trimDecimal(text);
}

/** The `pairs[]` entry of the instrument channel. */
export function instrumentPairJson(pair: KrakenPair): Record<string, unknown> {
  const spec = pair.market.spec;
  return {
    symbol: pair.name,
    base: pair.market.base,
    quote: pair.market.quote,
    status: "online",
    qty_precision: pair.qtyPrecision,
    qty_increment: Number(spec.stepSize),
    price_precision: pair.pricePrecision,
    price_increment: Number(spec.tickSize),
    cost_precision: 5,
    cost_min: Number(spec.minNotional),
    qty_min: Number(spec.stepSize),
    marginable: false,
    has_index: true,
    tick_size: Number(spec.tickSize),
  };
}

/** The `assets[]` entries of the instrument channel for a set of pairs. */
export function instrumentAssetsJson(pairs: readonly KrakenPair[]): Record<string, unknown>[] {
  const precision = new Map<string, number>();
  for (const pair of pairs) {
    const base = pair.market.base;
    precision.set(base, Math.max(precision.get(base) ?? 0, pair.qtyPrecision, 8));
    const quote = pair.market.quote;
    precision.set(quote, Math.max(precision.get(quote) ?? 0, pair.pricePrecision, 8));
  }
  return [...precision].map(([id, digits]) => ({
    id,
    status: "enabled",
    precision: digits,
    precision_display: Math.min(digits, 5),
    borrowable: false,
    collateral_value: 0,
    margin_rate: 0,
  }));
}
