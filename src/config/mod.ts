/**
 * Configuration: one typed source merged from defaults, file, environment and flags.
 *
 * @module
 */
export * from "./gateway_config.ts";
