/**
 * Telemetry: structured logs, Prometheus metrics, event-loop lag.
 *
 * @module
 */
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./loop_lag.ts";
