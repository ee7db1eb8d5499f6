/**
 * Which engine decodes which Binance message shape, chosen by measurement
 * (`deno run -A bench/run.ts codec`), and the codec line of the startup log.
 *
 * @module
 */

import type { JsonEngineName } from "./json_engine.ts";
import type { EngineReport } from "./simdjson_engine.ts";

/** Every Binance message shape the decoder distinguishes. */
export const BINANCE_SHAPES = [
  "trade",
  "aggTrade",
  "depthUpdate",
  "bookTicker",
  "depthPartial",
  "kline",
  "24hrTicker",
  "24hrMiniTicker",
  "control",
  "other",
] as const;

/** One Binance message shape (`control` = subscription results and errors). */
export type BinanceShape = typeof BINANCE_SHAPES[number];

/** How a shape is decoded: the shape-specialised scanner, or a generic JSON engine + mapper. */
export type EngineChoice = "specialised" | JsonEngineName;

/**
 * The measured fastest decoder per shape (bench/codec_bench.ts, bench/results/codec.md).
 * The specialised scanner exists only for the hot shapes; for the rest V8's `JSON.parse` beat
 * the simdjson addon on every message size measured (the addon pays for building JS objects
 * through Node-API).
 *
 * `decodeBinanceFrame` attempts the specialised scanner only for shapes mapped to
 * `"specialised"` here.
 */
export const DEFAULT_ENGINE_BY_SHAPE: Readonly<Record<BinanceShape, EngineChoice>> = Object
  .freeze({
    trade: "specialised",
    aggTrade: "specialised",
    depthUpdate: "specialised",
    bookTicker: "specialised",
    depthPartial: "v8-json",
    kline: "v8-json",
    "24hrTicker": "v8-json",
    "24hrMiniTicker": "v8-json",
    control: "v8-json",
    other: "v8-json",
  });

/** Which engines exist in this process (see {@linkcode detectJsonEngines}). */
export interface EngineAvailability {
  simdjson: boolean;
}

/**
 * The choice per shape that actually applies: a `"simdjson"` entry falls back to `"v8-json"`
 * when the addon is unavailable.
 *
 * @example
 * ```ts
 * effectiveEngineByShape({ simdjson: false }).trade; // "specialised"
 * ```
 */
export function effectiveEngineByShape(
  available: EngineAvailability,
  table: Readonly<Record<BinanceShape, EngineChoice>> = DEFAULT_ENGINE_BY_SHAPE,
): Record<BinanceShape, EngineChoice> {
  const out = {} as Record<BinanceShape, EngineChoice>;
  for (const shape of BINANCE_SHAPES) {
    const choice = table[shape];
    out[shape] = choice === "simdjson" && !available.simdjson ? "v8-json" : choice;
  }
  return out;
}

/**
 * One line for the startup log naming every engine, whether it is available (and why not), and
 * which decoder runs for which Binance shape.
 *
 * @example
 * ```ts
 * codecDescription(await detectJsonEngines());
 * // json engines: v8-json (active), simdjson (native addon loaded (Node-API), unused: ...);
 * // binance trade/aggTrade/depthUpdate/bookTicker: specialised; ...: v8-json
 * ```
 */
export function codecDescription(report: EngineReport): string {
  const effective = effectiveEngineByShape({ simdjson: report.simdjson.available });
  const byChoice = new Map<EngineChoice, BinanceShape[]>();
  for (const shape of BINANCE_SHAPES) {
    const list = byChoice.get(effective[shape]) ?? [];
    list.push(shape);
    byChoice.set(effective[shape], list);
  }
  const simdUsed = byChoice.has("simdjson");
  const simd = report.simdjson.available
    ? `simdjson (${report.simdjson.reason}, ${
      simdUsed ? "active" : "unused: measured slower than v8-json"
    })`
    : `simdjson (UNAVAILABLE: ${report.simdjson.reason})`;
  const v8 = `v8-json (${byChoice.has("v8-json") ? "active" : "fallback only"})`;
  const shapes: string[] = [];
  for (const [choice, list] of byChoice) shapes.push(`binance ${list.join("/")}: ${choice}`);
  return `json engines: ${v8}, ${simd}; ${shapes.join("; ")}`;
}
