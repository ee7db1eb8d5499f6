/**
 * Binance Spot adapter: the only module that knows Binance's wire format (besides the codec's
 * Binance decoders).
 *
 * @module
 */
export * from "./binance_adapter.ts";
export * from "./binance_rest.ts";
export * from "./book_assembler.ts";
export * from "./normalize.ts";
export * from "./orders/mod.ts";
