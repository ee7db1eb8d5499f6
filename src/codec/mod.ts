/**
 * Codec: one decode interface over several JSON engines (V8 `JSON.parse`, the simdjson addon)
 * plus shape-specialised Binance decoders, chosen per message shape by measurement; and the JSON
 * encoder of the canonical wire format.
 *
 * @example
 * ```ts
 * import { codecDescription, decodeBinanceFrame, detectJsonEngines } from "./src/codec/mod.ts";
 * console.log(codecDescription(await detectJsonEngines()));
 * decodeBinanceFrame(frameText, providerRaw);
 * ```
 *
 * @module
 */

export {
  DECODE_ERROR_SAMPLE_CHARS_MAX,
  DecodeError,
  type DecodeErrorOptions,
} from "./decode_error.ts";
export { type JsonEngine, type JsonEngineName, V8_JSON_ENGINE } from "./json_engine.ts";
export {
  detectJsonEngines,
  type EngineReport,
  type EngineStatus,
  loadSimdjsonEngine,
  type LoadSimdjsonOptions,
  type SimdjsonLoad,
} from "./simdjson_engine.ts";
export {
  BINANCE_SHAPES,
  type BinanceShape,
  codecDescription,
  DEFAULT_ENGINE_BY_SHAPE,
  effectiveEngineByShape,
  type EngineAvailability,
  type EngineChoice,
} from "./engine_selection.ts";
export {
  binanceDecodeCounters,
  type BinanceDecodeOptions,
  decodeBinanceFrame,
  DecodePathCounters,
} from "./binance_decode.ts";
export { BINANCE_PROVIDER } from "./binance_generic.ts";
export { FRAME_BYTES_MAX } from "./binance_specialised.ts";
export { DECIMAL_CHARS_MAX, isPlainDecimal } from "./decimal_scan.ts";
export { decodeJson, type DecodeJsonOptions } from "./decode_json.ts";
export { encodeJson } from "./encode_json.ts";
