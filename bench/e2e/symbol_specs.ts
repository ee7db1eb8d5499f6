/**
 * The 50 instruments of the end-to-end benchmark: the simulator's twelve defaults plus 38
 * synthetic ones (`SIM13-USDT` ...) cloned from them in turn, so tick sizes, prices and the
 * activity skew (BTC and ETH busiest) stay realistic.
 *
 * @module
 */

import { DEFAULT_SYMBOL_SPECS, type SymbolSpec } from "../../src/sim/market/mod.ts";

/** Instruments the benchmark carries by default. */
export const E2E_SYMBOLS_DEFAULT = 50;

/**
 * `count` instrument specs: the defaults first, then clones named `SIM<n>` over the same quotes.
 *
 * @example
 * ```ts
 * benchSymbolSpecs(50).length; // 50
 * ```
 */
export function benchSymbolSpecs(count: number): SymbolSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new RangeError(`expected a symbol count in 1..1000, found ${count}`);
  }
  const specs: SymbolSpec[] = DEFAULT_SYMBOL_SPECS.slice(0, count);
  for (let i = specs.length; i < count; i++) {
    const template = DEFAULT_SYMBOL_SPECS[i % DEFAULT_SYMBOL_SPECS.length];
    specs.push({ ...template, base: `SIM${i + 1}` });
  }
  return specs;
}
