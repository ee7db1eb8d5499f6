/**
 * Adapts the market generator's live books to the engine's {@linkcode SimBookSource}, and
 * derives engine instruments from the generator's symbols.
 *
 * @module
 */

import type { MarketGenerator } from "../market/market_generator.ts";
import type { SimBookLevel, SimBookSource, SimInstrument } from "./sim_order_types.ts";
import { formatAtomsMinimal } from "./sim_atoms.ts";

/**
 * A {@linkcode SimBookSource} reading a {@linkcode MarketGenerator}'s books by canonical symbol
 * (`BTC-USDT`). Levels are read at call time, so they follow the generator as it runs.
 *
 * @example
 * ```ts
 * const source = new MarketBookSource(new MarketGenerator({ seed: 1 }));
 * source.levels("BTC-USDT", "ask", 5); // five best asks, cheapest first
 * ```
 */
export class MarketBookSource implements SimBookSource {
  readonly #market: MarketGenerator;

  /** A source over `market` (not copied). */
  constructor(market: MarketGenerator) {
    this.#market = market;
  }

  /** Best levels of one side, best first, at most `levelsMax`; [] for an unknown symbol. */
  levels(symbol: string, side: "bid" | "ask", levelsMax: number): SimBookLevel[] {
    const index = this.#market.indexOf(symbol);
    if (index === -1) return [];
    const { tickAtoms, stepAtoms } = this.#market.symbols[index];
    const book = this.#market.book(index);
    const top = (side === "bid" ? book.bids : book.asks).topLevels(levelsMax);
    return top.map(([tick, steps]) => ({
      price: formatAtomsMinimal(BigInt(tick) * BigInt(tickAtoms)),
      qty: formatAtomsMinimal(BigInt(steps) * BigInt(stepAtoms)),
    }));
  }
}

/**
 * Engine instruments for every symbol of `market`: its tick and step sizes, min quantity one
 * step, and its spec's min notional.
 */
export function simInstrumentsFromMarket(market: MarketGenerator): SimInstrument[] {
  return market.symbols.map((s) => ({
    symbol: s.canonical,
    base: s.base,
    quote: s.quote,
    tickSize: s.spec.tickSize,
    stepSize: s.spec.stepSize,
    minQty: s.spec.stepSize,
    minNotional: s.spec.minNotional,
  }));
}
