/**
 * Protocol-faithful Binance Spot market-data simulator (streams, REST, faults, replay).
 *
 * @module
 */

export { BinanceSim, type BinanceSimStats, startBinanceSim } from "./binance_sim.ts";
export type { BinanceReplayOptions, BinanceSimOptions } from "./sim_options.ts";
export {
  BinanceSimFaults,
  type ConnectionSelector,
  type FaultCommand,
  FaultCommandError,
} from "./fault_controller.ts";
export type { DepthSnapshot } from "./market_feed.ts";
export type { LevelStrings } from "./market_encoder.ts";
export type { ConnectionInfo, MalformedKind } from "./ws_connection.ts";
export { parseStreamName, type StreamKind, type StreamSpec } from "./stream_name.ts";
export {
  parseHttpRecording,
  parseWsRecording,
  type RecordedFrame,
  type RecordedResponse,
  type WsRecording,
} from "./recording.ts";
export {
  BINANCE_SIM_CREDENTIALS,
  BinanceApiError,
  type BinanceOrderFaultCommand,
  BinanceOrderFaultError,
  type BinanceSimAccount,
  BinanceSimOrderFaults,
  BinanceSimOrders,
  type BinanceSimOrderStats,
  type BinanceUnknownStatusMode,
} from "./orders/mod.ts";
