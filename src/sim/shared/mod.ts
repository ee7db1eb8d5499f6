/**
 * Venue-neutral simulator parts: the loopback server (a TCP front that can cut connections
 * abruptly, piping to `Deno.serve`), the bookkeeping of open connections and the bounded
 * shutdown drain, picking served symbols by venue name, and the CRC32 table of the venues' book
 * checksums.
 *
 * @module
 */
export * from "./connection_registry.ts";
export * from "./crc32.ts";
export * from "./loopback_server.ts";
export * from "./symbol_selection.ts";
export * from "./tcp_front.ts";
