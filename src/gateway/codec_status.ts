/**
 * What the gateway reports about its JSON engines at start-up, on /v1/codec and in /metrics.
 *
 * @module
 */

import {
  codecDescription,
  detectJsonEngines,
  effectiveEngineByShape,
  type EngineReport,
  type EngineStatus,
} from "../codec/mod.ts";

/** The engines available and the one used per message shape. */
export interface CodecStatus {
  /** One line for the start-up log. */
  summary: string;
  v8Json: EngineStatus;
  simdjson: EngineStatus;
  /** Engine per Binance message shape (the fastest measured by `deno task bench codec`). */
  engineByShape: Record<string, string>;
}

/** Detects which engines really load here (the simdjson addon may be missing). */
export async function detectCodec(): Promise<CodecStatus> {
  const report: EngineReport = await detectJsonEngines();
  return {
    summary: codecDescription(report),
    v8Json: report.v8Json,
    simdjson: report.simdjson,
    engineByShape: { ...effectiveEngineByShape({ simdjson: report.simdjson.available }) },
  };
}
