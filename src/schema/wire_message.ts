/**
 * One entry point for any message on the consumer WebSocket: picks the parser by `type`.
 * Used by clients written in TypeScript and by tests; the server parses commands with
 * `commandFromWire` directly.
 *
 * @module
 */

import type { CanonicalEventData } from "./canonical_event.ts";
import type { ExecReportData } from "./exec_report.ts";
import type { MergedEventData } from "./merged_event.ts";
import { CONTROL_TYPES, controlFromWire, type ControlMessage } from "./wire_control.ts";
import { WireFormatError } from "./wire_error.ts";
import { eventFromWire } from "./wire_event.ts";
import { describeFound } from "./wire_fields.ts";
import { execReportFromWire } from "./wire_exec_report.ts";
import { mergedFromWire } from "./wire_merged.ts";

/** Every message type on the wire. */
export const MESSAGE_TYPES = ["event", "merged", "exec_report", ...CONTROL_TYPES] as const;

/** A parsed wire message of any type. */
export type WireMessageData =
  | { type: "event"; event: CanonicalEventData }
  | { type: "merged"; merged: MergedEventData }
  | { type: "exec_report"; report: ExecReportData }
  | ControlMessage;

/**
 * Reads and validates any wire message; throws a `WireFormatError` when it does not match the
 * schema (unknown type included).
 */
export function messageFromWire(value: unknown): WireMessageData {
  const type = typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>).type
    : undefined;
  switch (type) {
    case "event":
      return { type: "event", event: eventFromWire(value) };
    case "merged":
      return { type: "merged", merged: mergedFromWire(value) };
    case "exec_report":
      return { type: "exec_report", report: execReportFromWire(value) };
    default:
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new WireFormatError(
          "not_an_object",
          `message: expected a JSON object, found ${describeFound(value)}`,
        );
      }
      if (!(MESSAGE_TYPES as readonly unknown[]).includes(type)) {
        throw new WireFormatError(
          "unknown_type",
          `message: expected type one of ${MESSAGE_TYPES.join(", ")}, found ${describeFound(type)}`,
          { field: "type" },
        );
      }
      return controlFromWire(value);
  }
}
