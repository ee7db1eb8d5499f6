/**
 * Binance's decimal strings for one instrument: prices, quantities and quote amounts with
 * 8 decimals, produced from integer ticks and steps (never from floats).
 *
 * @module
 */

import { ATOMS_PER_UNIT, formatAtoms, formatBigAtoms, type MarketSymbol } from "../market/mod.ts";

/** Formats ticks, steps and tick×step sums of one symbol. */
export class SymbolFormat {
  readonly #tickAtoms: number;
  readonly #stepAtoms: number;
  readonly #quoteFactor: bigint;
  readonly #priceCache = new Map<number, string>();

  /** Formatter for `symbol`. */
  constructor(symbol: MarketSymbol) {
    this.#tickAtoms = symbol.tickAtoms;
    this.#stepAtoms = symbol.stepAtoms;
    this.#quoteFactor = BigInt(symbol.tickAtoms) * BigInt(symbol.stepAtoms);
  }

  /** Price of `tick` (`"87250.01000000"`). */
  price(tick: number): string {
    // Few distinct prices recur near the top of the book; a small cache saves the formatting.
    let text = this.#priceCache.get(tick);
    if (text === undefined) {
      if (this.#priceCache.size >= 4096) this.#priceCache.clear();
      text = formatAtoms(tick * this.#tickAtoms);
      this.#priceCache.set(tick, text);
    }
    return text;
  }

  /** Signed price difference of `ticks` (`"-512.30000000"`). */
  priceDelta(ticks: number): string {
    return formatAtoms(ticks * this.#tickAtoms);
  }

  /** Quantity of `steps` (`"0.00120000"`); exact for long-run volume sums too. */
  qty(steps: number): string {
    const atoms = steps * this.#stepAtoms;
    // A day of volume of a coarse-step coin (DOGE: 1 step = 10^8 atoms) passes 2^53 atoms.
    if (Number.isSafeInteger(atoms)) return formatAtoms(atoms);
    return formatBigAtoms(BigInt(steps) * BigInt(this.#stepAtoms));
  }

  /** Quote amount of a sum of `tick × steps` products, truncated to 8 decimals. */
  quote(tickSteps: bigint): string {
    return formatBigAtoms((tickSteps * this.#quoteFactor) / BigInt(ATOMS_PER_UNIT));
  }

  /** Volume-weighted price from a `tick × steps` sum and a volume in steps (truncated). */
  weightedPrice(tickSteps: bigint, volumeSteps: number): string {
    if (volumeSteps === 0) return formatAtoms(0);
    return formatBigAtoms((tickSteps * BigInt(this.#tickAtoms)) / BigInt(volumeSteps));
  }
}
