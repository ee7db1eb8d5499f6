/**
 * Structured logging on `npm:@logtape/logtape`: one JSON object per line on stdout (or plain
 * text), errors rendered as `{name, message, stack}` (logtape's JSON formatter would print `{}`).
 *
 * @module
 */

import {
  configure,
  getLogger,
  type Logger,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";
import type { LogFormat, LogLevelName } from "../config/mod.ts";

export type { Logger };

/** Options of {@linkcode setupLogging}. */
export interface LoggingOptions {
  level: LogLevelName;
  format: LogFormat;
  /** Where lines go; default: synchronous writes to stdout. Tests pass a collector. */
  write?: (line: string) => void;
}

/** Turns Error values (also nested one level) into plain objects JSON can show. */
export function renderErrors(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = renderErrors(value.cause);
    return out;
  }
  return value;
}

function renderMessage(record: LogRecord): string {
  let s = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    if (i % 2 === 0) s += part as string;
    else if (part instanceof Error) s += `${part.name}: ${part.message}`;
    else if (typeof part === "string") s += part;
    else s += JSON.stringify(renderErrors(part));
  }
  return s;
}

/** Formats a record as one JSON line: ts, level, logger, msg, then the properties flattened. */
export function formatJsonLine(record: LogRecord): string {
  const obj: Record<string, unknown> = {
    ts: new Date(record.timestamp).toISOString(),
    level: record.level,
    logger: record.category.join("."),
    msg: renderMessage(record),
  };
  for (const [k, v] of Object.entries(record.properties)) {
    if (k in obj) obj[`prop_${k}`] = renderErrors(v);
    else obj[k] = renderErrors(v);
  }
  return JSON.stringify(obj) + "\n";
}

/** Formats a record as one human-readable line with key=value properties. */
export function formatTextLine(record: LogRecord): string {
  const template = typeof record.rawMessage === "string" ? record.rawMessage : "";
  const props = Object.entries(record.properties)
    .filter(([k]) => !template.includes(`{${k}}`)) // already in the message text
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(renderErrors(v))}`)
    .join(" ");
  return `${new Date(record.timestamp).toISOString()} ${record.level.toUpperCase().padEnd(7)} ${
    record.category.join(".")
  }: ${renderMessage(record)}${props ? " " + props : ""}\n`;
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  const bytes = encoder.encode(line);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Configures logging for the whole process (call once at start; again in tests). */
export async function setupLogging(opts: LoggingOptions): Promise<void> {
  const format = opts.format === "json" ? formatJsonLine : formatTextLine;
  const write = opts.write ?? writeStdout;
  const sink: Sink = (record) => write(format(record));
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ["switchyard"], lowestLevel: opts.level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** Drops the logging configuration (tests). */
export async function teardownLogging(): Promise<void> {
  await reset();
}

/** The logger of one component: category `switchyard.<name>`. */
export function componentLogger(name: string): Logger {
  return getLogger(["switchyard", ...name.split(".")]);
}
