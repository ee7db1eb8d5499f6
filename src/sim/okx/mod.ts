/**
 * Protocol-faithful OKX simulator: public market data (WS v5 public/business, REST books and
 * instruments, faults) and the order side (`/ws/v5/private` login, `orders` channel, trading
 * ops, signed `/api/v5/trade/*` REST, `/_sim/orders/*` admin).
 *
 * @module
 */

export { OkxSim, type OkxSimOptions, type OkxSimStats, startOkxSim } from "./okx_sim.ts";
export { type OkxConnectionSelector, OkxSimFaults } from "./okx_faults.ts";
export type { OkxConnectionInfo, OkxEndpoint } from "./okx_connection.ts";
export type { BooksMode, ChecksumMode, OkxBookSnapshot, OkxLevel } from "./okx_market_feed.ts";
export { checksumText, crc32, okxChecksum } from "./okx_checksum.ts";
export {
  OKX_SIM_CREDENTIALS,
  type OkxOrderFaultKind,
  OkxOrderFaults,
  OkxOrderSide,
  type OkxOrderStats,
  type OkxSimAccount,
  okxSimSign,
} from "./orders/mod.ts";
