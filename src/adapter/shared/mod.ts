/**
 * Exchange-neutral adapter parts: the WebSocket connection manager (reconnect, rotation, paced
 * control sends), backoff, the receive prologue (frame -> pool -> decode -> route), the bounded
 * start-up retry, CRC32 for book checksums, the order book and the book sync states.
 *
 * @module
 */
export * from "./abortable_delay.ts";
export * from "./backoff.ts";
export * from "./crc32.ts";
export * from "./frame_intake.ts";
export * from "./startup_retry.ts";
export * from "./send_pacer.ts";
export * from "./ws_connection.ts";
export * from "./order_book.ts";
export * from "./book_sync_state.ts";
export * from "./trade_gap.ts";
export type * from "./provider_module.ts";
