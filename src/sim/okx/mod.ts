/**
 * Protocol-faithful OKX public market-data simulator (WS v5 public/business, REST books and
 * instruments, faults).
 *
 * @module
 */

export { OkxSim, type OkxSimOptions, type OkxSimStats, startOkxSim } from "./okx_sim.ts";
export { type OkxConnectionSelector, OkxSimFaults } from "./okx_faults.ts";
export type { OkxConnectionInfo, OkxEndpoint } from "./okx_connection.ts";
export type { ChecksumMode, OkxBookSnapshot, OkxLevel } from "./okx_market_feed.ts";
export { checksumText, crc32, okxChecksum } from "./okx_checksum.ts";
