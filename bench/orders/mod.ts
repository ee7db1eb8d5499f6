/**
 * The order round-trip benchmark's parts (`bench/orders_bench.ts` runs them): the gateway child
 * process, the simulators' child process, the trader consumer with its fixed-rate order flow, exact pricing on the simulator
 * instruments' filters, HdrHistogram latency sets and the Markdown report.
 *
 * @module
 */

export { type BookRow, GatewayProcess, type GatewayProcessOptions } from "./gateway_process.ts";
export { ALL_PROVIDERS, LatencySet, type LatencySummary } from "./latency_set.ts";
export {
  type ByProvider,
  OrderFlow,
  type OrderFlowOptions,
  type RateResult,
  type RateRunOptions,
} from "./order_flow.ts";
export {
  atomsToDecimal,
  decimalToAtoms,
  InstrumentPricer,
  type PricedOrder,
  type PriceOptions,
  simInstrumentPricers,
} from "./order_pricing.ts";
export {
  cpuUsPerOrder,
  type JournalRuns,
  renderCpuPerOrder,
  renderJournalCost,
  renderLatencyTable,
  renderOutcomes,
  simCpuUsPerOrder,
} from "./orders_report.ts";
export { SimProcess, type SimProcessOptions } from "./sim_process.ts";
export { procCpuMs } from "./proc_cpu.ts";
