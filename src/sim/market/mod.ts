/**
 * Exchange-neutral market simulation shared by the venue simulators: a deterministic seeded
 * generator with real order books, exact decimal formatting, and rate pacing.
 *
 * @module
 */

export { SeededRandom } from "./prng.ts";
export {
  ATOM_DECIMALS,
  ATOMS_PER_UNIT,
  formatAtoms,
  formatBigAtoms,
  parseDecimalAtoms,
  trimDecimal,
} from "./decimal_atoms.ts";
export {
  DEFAULT_SYMBOL_SPECS,
  type MarketSymbol,
  resolveSymbolSpec,
  type SymbolSpec,
} from "./symbol_spec.ts";
export { BookSide, type BookSideName, type ReadonlyBookSide } from "./book_side.ts";
export {
  assertBookNotCrossed,
  type BookLevels,
  copyBookLevels,
  OrderBook,
  type ReadonlyOrderBook,
} from "./order_book.ts";
export type {
  LevelChangeReason,
  LevelEvent,
  MarketEvent,
  MarketSink,
  TradeEvent,
} from "./market_event.ts";
export { MarketGenerator, type MarketGeneratorOptions } from "./market_generator.ts";
export { MarketPacer, type MarketPacerOptions, type MarketPacerStats } from "./market_pacer.ts";
