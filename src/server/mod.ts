/**
 * The outside face: HTTP control and status, metrics, health.
 *
 * @module
 */
export * from "./http_server.ts";
