/**
 * Exchange-neutral adapter parts: the WebSocket connection manager (reconnect, rotation, paced
 * control sends), backoff, the order book and the book sync states.
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./send_pacer.ts";
export * from "./ws_connection.ts";
export * from "./order_book.ts";
export * from "./book_sync_state.ts";
export * from "./trade_gap.ts";
export type * from "./provider_module.ts";
