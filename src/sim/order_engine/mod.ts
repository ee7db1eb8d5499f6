/**
 * The simulators' shared order side: an exchange-neutral matching engine over the simulated
 * public book, its types, and the adapter to the market generator.
 *
 * @module
 */

export type {
  SimBookLevel,
  SimBookSource,
  SimCancelResult,
  SimEndReason,
  SimInstrument,
  SimOrder,
  SimOrderEvent,
  SimOrderInput,
  SimOrderListener,
  SimOrderRef,
  SimOrderState,
  SimOrderType,
  SimPlaceResult,
  SimRejectReason,
  SimSide,
  SimTimeInForce,
} from "./sim_order_types.ts";
export {
  SIM_TAKE_LEVELS_MAX,
  SimOrderEngine,
  type SimOrderEngineOptions,
} from "./sim_order_engine.ts";
export { MarketBookSource, simInstrumentsFromMarket } from "./market_book_source.ts";
export { formatAtomsMinimal, parseAtoms } from "./sim_atoms.ts";
