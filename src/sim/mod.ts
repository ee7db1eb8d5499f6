/**
 * Fake exchanges on loopback that speak the real wire protocols, plus the shared market
 * generator that drives them.
 *
 * @module
 */

export * from "./market/mod.ts";
export * from "./binance/mod.ts";
export * from "./okx/mod.ts";
export * from "./kraken/mod.ts";
