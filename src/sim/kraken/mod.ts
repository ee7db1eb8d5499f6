/**
 * Protocol-faithful Kraken Spot WebSocket v2 public market-data simulator (book with v2
 * checksums, trade, ticker, ohlc, instrument, heartbeats, faults).
 *
 * @module
 */

export {
  diffSide,
  KrakenSim,
  type KrakenSimOptions,
  type KrakenSimStats,
  type KrakenSimTiming,
  startKrakenSim,
} from "./kraken_sim.ts";
export { KrakenSimFaults, type KrakenSystemStatus } from "./fault_controller.ts";
export {
  bookChecksum,
  CHECKSUM_LEVELS,
  type ChecksumLevel,
  checksumPayload,
  checksumToken,
  crc32Ascii,
  padDecimal,
} from "./book_checksum.ts";
export type { KrakenPair, NumberStyle } from "./kraken_pair.ts";
export { BOOK_DEPTHS, type KrakenChannel } from "./kraken_connection.ts";
export { OHLC_INTERVALS } from "./market_state.ts";
export {
  KRAKEN_SIM_CREDENTIALS,
  KrakenOrderDesk,
  type KrakenResponseOrder,
  type KrakenSimAccount,
  type KrakenSimOrderOptions,
  type KrakenSimOrderStats,
} from "./orders/mod.ts";
