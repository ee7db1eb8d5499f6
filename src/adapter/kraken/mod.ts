/**
 * Kraken Spot WebSocket v2 market-data adapter: books verified by CRC32 on every message,
 * trades, tickers, idle watchdog.
 *
 * @module
 */
export * from "./kraken_adapter.ts";
export * from "./kraken_book.ts";
export * from "./book_checksum.ts";
export * from "./normalize.ts";
export * from "./orders/mod.ts";
