/**
 * Venue-neutral instrument definitions for the market generator: base and quote assets, tick
 * and step sizes, a starting price and a typical order size. Each simulator derives its own
 * naming (`BTCUSDT`, `BTC-USDT`, `XBT/USDT`) from `base` and `quote`.
 *
 * @module
 */

import { parseDecimalAtoms } from "./decimal_atoms.ts";

/** One instrument as written by a person (decimal strings, not atoms). */
export interface SymbolSpec {
  /** Base asset, upper case (`BTC`). */
  readonly base: string;
  /** Quote asset, upper case (`USDT`). */
  readonly quote: string;
  /** Price increment (`"0.01"`). */
  readonly tickSize: string;
  /** Quantity increment (`"0.00001"`). */
  readonly stepSize: string;
  /** Starting reference price; must be a multiple of `tickSize`. */
  readonly startPrice: string;
  /** A typical order size; must be a multiple of `stepSize`. */
  readonly typicalQty: string;
  /** Relative share of the event stream this instrument gets (a positive integer). */
  readonly weight: number;
  /** Largest accepted order quantity (exchange filter data). */
  readonly maxQty: string;
  /** Largest accepted price (exchange filter data). */
  readonly maxPrice: string;
  /** Smallest accepted order value in the quote asset (exchange filter data). */
  readonly minNotional: string;
}

/**
 * Twelve liquid spot pairs with Binance's real tick and step sizes (2025/2026) and plausible
 * starting prices. The weights make BTC and ETH the busiest books, as on a real venue.
 */
export const DEFAULT_SYMBOL_SPECS: readonly SymbolSpec[] = [
  spec("BTC", "USDT", "0.01", "0.00001", "87250.00", "0.01", 20, "9000", "1000000"),
  spec("ETH", "USDT", "0.01", "0.0001", "3050.00", "0.2", 14, "9000", "1000000"),
  spec("BNB", "USDT", "0.01", "0.001", "880.00", "0.5", 8, "9000", "1000000"),
  spec("SOL", "USDT", "0.01", "0.001", "140.00", "2", 8, "9000", "1000000"),
  spec("XRP", "USDT", "0.0001", "0.1", "2.2000", "300", 7, "9222449", "10000"),
  spec("DOGE", "USDT", "0.00001", "1", "0.15000", "2000", 6, "9000000", "1000"),
  spec("ADA", "USDT", "0.0001", "0.1", "0.4500", "500", 5, "900000", "1000"),
  spec("LTC", "USDT", "0.01", "0.001", "85.00", "2", 4, "90000", "100000"),
  spec("LINK", "USDT", "0.01", "0.01", "13.00", "20", 4, "90000", "100000"),
  spec("AVAX", "USDT", "0.01", "0.01", "14.00", "20", 4, "90000", "100000"),
  spec("TRX", "USDT", "0.0001", "0.1", "0.2800", "1000", 3, "9000000", "1000"),
  spec("ETH", "BTC", "0.00001", "0.0001", "0.03400", "0.2", 3, "100000", "922327", "0.0001"),
];

function spec(
  base: string,
  quote: string,
  tickSize: string,
  stepSize: string,
  startPrice: string,
  typicalQty: string,
  weight: number,
  maxQty: string,
  maxPrice: string,
  minNotional = "5",
): SymbolSpec {
  return {
    base,
    quote,
    tickSize,
    stepSize,
    startPrice,
    typicalQty,
    weight,
    maxQty,
    maxPrice,
    minNotional,
  };
}

/** An instrument resolved to integers: what the generator works with. */
export interface MarketSymbol {
  /** Position in the generator's symbol list. */
  readonly index: number;
  /** The spec it was resolved from. */
  readonly spec: SymbolSpec;
  /** Base asset (`BTC`). */
  readonly base: string;
  /** Quote asset (`USDT`). */
  readonly quote: string;
  /** Canonical name `BASE-QUOTE` (`BTC-USDT`). */
  readonly canonical: string;
  /** Tick size in atoms (10^-8). */
  readonly tickAtoms: number;
  /** Step size in atoms (10^-8). */
  readonly stepAtoms: number;
  /** Starting reference price in ticks (after any venue offset). */
  readonly startTick: number;
  /** Typical order size in steps. */
  readonly typicalSteps: number;
  /** Relative activity weight. */
  readonly weight: number;
  /**
   * Width in ticks of one "price band" step, so books of cheap and dear instruments span a
   * similar relative range (about 0.001 % of the price, at least one tick).
   */
  readonly bandTicks: number;
}

/**
 * Resolves a spec to integers. `priceOffsetBps` shifts the starting price by that many basis
 * points (rounded to a tick) so that several venues can share one seed and still differ.
 *
 * @example
 * ```ts
 * const btc = resolveSymbolSpec(DEFAULT_SYMBOL_SPECS[0], { index: 0 });
 * btc.startTick; // 8_725_000
 * ```
 */
export function resolveSymbolSpec(
  spec: SymbolSpec,
  options: { index: number; priceOffsetBps?: number },
): MarketSymbol {
  const what = `symbol ${spec.base}/${spec.quote}`;
  if (!/^[A-Z0-9]{1,12}$/.test(spec.base) || !/^[A-Z0-9]{1,12}$/.test(spec.quote)) {
    throw new RangeError(`${what}: expected upper-case alphanumeric assets`);
  }
  const tickAtoms = parseDecimalAtoms(spec.tickSize);
  const stepAtoms = parseDecimalAtoms(spec.stepSize);
  if (tickAtoms === 0 || stepAtoms === 0) {
    throw new RangeError(`${what}: expected non-zero tick and step sizes`);
  }
  const startAtoms = parseDecimalAtoms(spec.startPrice);
  const typicalAtoms = parseDecimalAtoms(spec.typicalQty);
  if (startAtoms % tickAtoms !== 0 || typicalAtoms % stepAtoms !== 0) {
    throw new RangeError(`${what}: expected startPrice/typicalQty on the tick/step grid`);
  }
  if (!(Number.isInteger(spec.weight) && spec.weight >= 1)) {
    throw new RangeError(`${what}: expected a positive integer weight, found ${spec.weight}`);
  }
  const offsetBps = options.priceOffsetBps ?? 0;
  if (!(Number.isInteger(offsetBps) && offsetBps > -5000 && offsetBps < 5000)) {
    throw new RangeError(
      `priceOffsetBps: expected an integer in (-5000, 5000), found ${offsetBps}`,
    );
  }
  const baseTick = startAtoms / tickAtoms;
  const startTick = Math.round((baseTick * (10_000 + offsetBps)) / 10_000);
  // Books need room below the price; refuse instruments only a few ticks above zero.
  if (startTick < 1000) {
    throw new RangeError(`${what}: expected startPrice of at least 1000 ticks, found ${startTick}`);
  }
  return {
    index: options.index,
    spec,
    base: spec.base,
    quote: spec.quote,
    canonical: `${spec.base}-${spec.quote}`,
    tickAtoms,
    stepAtoms,
    startTick,
    typicalSteps: Math.max(1, typicalAtoms / stepAtoms),
    weight: spec.weight,
    bandTicks: Math.max(1, Math.floor(startTick / 100_000)),
  };
}
