/**
 * Picking the instruments a simulator serves from the shared symbol definitions, by the names
 * the venue writes them in (`BTCUSDT`, `BTC-USDT`, `BTC/USDT`).
 *
 * @module
 */

import type { SymbolSpec } from "../market/mod.ts";

/**
 * The specs named by `names`, in that order (`undefined` or `null`: all of `specs`). `nameOf`
 * writes a spec's name as the venue does. Throws a RangeError naming the known names when a
 * name matches no spec.
 *
 * @example
 * ```ts
 * selectSymbolSpecs(DEFAULT_SYMBOL_SPECS, ["BTC-USDT"], {
 *   nameOf: (s) => `${s.base}-${s.quote}`,
 * });
 * ```
 */
export function selectSymbolSpecs(
  specs: readonly SymbolSpec[],
  names: readonly string[] | null | undefined,
  opts: { nameOf: (spec: SymbolSpec) => string },
): SymbolSpec[] {
  if (names === null || names === undefined) return [...specs];
  return names.map((name) => {
    const found = specs.find((s) => opts.nameOf(s) === name);
    if (found === undefined) {
      const known = specs.map(opts.nameOf).join(", ");
      throw new RangeError(`symbols: expected some of ${known}, found ${name}`);
    }
    return found;
  });
}
