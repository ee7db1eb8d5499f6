/**
 * The `npm:simdjson` engine (a Node-API addon) and engine detection for the startup log.
 *
 * Two failure modes must never pass unnoticed (see DENO_NOTES §5):
 * - the addon was never built: the package then exports the *global* `JSON` object (and adds an
 *   `isValid` property to it), so "simdjson" silently is V8's parser;
 * - the process lacks `--allow-ffi`: loading the `.node` file throws `NotCapable`.
 * Both make the engine report itself unavailable with the reason; loading never throws.
 *
 * @module
 */

import type { JsonEngine } from "./json_engine.ts";

/** Whether one engine can be used, and why (printed in the startup log). */
export interface EngineStatus {
  available: boolean;
  /** Human-readable: what was loaded, or why it could not be. */
  reason: string;
}

/** What {@linkcode detectJsonEngines} found. */
export interface EngineReport {
  /** V8's `JSON.parse`: always available. */
  v8Json: EngineStatus;
  /** The simdjson native addon. */
  simdjson: EngineStatus;
}

/** Result of {@linkcode loadSimdjsonEngine}: the engine when available, else null. */
export interface SimdjsonLoad {
  engine: JsonEngine | null;
  status: EngineStatus;
}

/** Options of {@linkcode loadSimdjsonEngine}. */
export interface LoadSimdjsonOptions {
  /**
   * Imports the package's module namespace. Default: `import("simdjson")`. Tests inject a fake
   * (for example one whose default export is the global `JSON`) to exercise the fallback path.
   */
  importModule?: () => Promise<unknown>;
}

/** A small document the loaded addon must round-trip exactly before it is trusted. */
const PROBE_TEXT = '{"e":"probe","E":1767225600123,"p":"0.00120000","b":[["1.5","2"]],"m":false,' +
  '"x":null,"n":-2.5}';

interface SimdjsonModule {
  parse(text: string): unknown;
  lazyParse(text: string): unknown;
}

function importSimdjson(): Promise<unknown> {
  return import("simdjson");
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function isNotCapable(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || (e instanceof Error && e.name === "NotCapable");
}

function unavailable(reason: string): SimdjsonLoad {
  return { engine: null, status: { available: false, reason } };
}

async function loadFrom(importModule: () => Promise<unknown>): Promise<SimdjsonLoad> {
  // The fallback attaches `isValid` to the global JSON object; undo that if we caused it.
  const hadIsValid = Object.hasOwn(JSON, "isValid");
  let mod: unknown;
  try {
    const ns = await importModule();
    mod = typeof ns === "object" && ns !== null && "default" in ns
      ? (ns as { default: unknown }).default
      : ns;
  } catch (e) {
    if (isNotCapable(e)) {
      return unavailable(
        `native addon not loadable without ffi permission (run with --allow-ffi=./node_modules): ${
          describeError(e)
        }`,
      );
    }
    return unavailable(`import of npm:simdjson failed: ${describeError(e)}`);
  }
  if (mod === JSON) {
    if (!hadIsValid) delete (JSON as unknown as Record<string, unknown>).isValid;
    return unavailable(
      "native addon not built: the package fell back to the global JSON object " +
        "(run `deno task build:native`)",
    );
  }
  const m = mod as Partial<SimdjsonModule> | null;
  if (
    typeof m !== "object" || m === null || typeof m.parse !== "function" ||
    typeof m.lazyParse !== "function"
  ) {
    return unavailable(
      `expected the native addon's parse and lazyParse functions, found ${
        m === null ? "null" : typeof m
      } without them`,
    );
  }
  const parse = m.parse.bind(m);
  try {
    const got = JSON.stringify(parse(PROBE_TEXT));
    if (got !== PROBE_TEXT) {
      return unavailable(`native addon loaded but its probe parse differs: found ${got}`);
    }
  } catch (e) {
    return unavailable(`native addon loaded but its probe parse threw ${describeError(e)}`);
  }
  const engine: JsonEngine = Object.freeze({ name: "simdjson", parse });
  return { engine, status: { available: true, reason: "native addon loaded (Node-API)" } };
}

let defaultLoad: Promise<SimdjsonLoad> | null = null;

/**
 * Loads the simdjson engine. Never throws: when the addon is missing, not permitted or broken,
 * resolves to `{engine: null, status: {available: false, reason}}`. The default import is done
 * once per process and cached.
 *
 * @example
 * ```ts
 * const { engine, status } = await loadSimdjsonEngine();
 * if (!engine) console.warn(`simdjson unavailable: ${status.reason}`);
 * ```
 */
export function loadSimdjsonEngine(opts: LoadSimdjsonOptions = {}): Promise<SimdjsonLoad> {
  if (opts.importModule) return loadFrom(opts.importModule);
  defaultLoad ??= loadFrom(importSimdjson);
  return defaultLoad;
}

/**
 * Which JSON engines this process can use, for the startup log. Never throws.
 *
 * @example
 * ```ts
 * const report = await detectJsonEngines();
 * console.log(codecDescription(report));
 * ```
 */
export async function detectJsonEngines(opts: LoadSimdjsonOptions = {}): Promise<EngineReport> {
  const simd = await loadSimdjsonEngine(opts);
  return {
    v8Json: { available: true, reason: "built into V8" },
    simdjson: simd.status,
  };
}
