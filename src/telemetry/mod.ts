/**
 * Telemetry: structured logs, Prometheus metrics, event-loop lag, the ops-only telemetry bus,
 * trace and decision ids, and the dead-letter queue.
 *
 * @module
 */
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./loop_lag.ts";
export * from "./trace_id.ts";
export * from "./telemetry_bus.ts";
export * from "./dead_letter_queue.ts";
