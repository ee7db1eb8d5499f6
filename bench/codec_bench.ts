/**
 * Codec suite: decoding Binance frames four ways, per message shape, against an unpooled
 * baseline measured in the same run.
 *
 * - (a) baseline: V8 `JSON.parse` + map into a NEW object per message (what a gateway without
 *   pooling does; same validation as the pooled rows, so only pooling and parsing differ);
 * - (b) V8 `JSON.parse` + map into one reused ProviderRaw;
 * - (c) simdjson `parse` + map into one reused ProviderRaw (when the addon loads);
 * - (d) the shape-specialised scanner into one reused ProviderRaw (hot shapes only).
 *
 * Corpus: 1000 generated messages per shape (seeded, varied symbols, prices, sizes and ids),
 * cycled; plus the real frames recorded from Binance in ../shared/data/recordings when present.
 * Every decoded object is stored in a ring sink so V8 cannot elide the work. Variants of a group
 * are measured interleaved and each keeps its best repeat (see `measureGroup`): the machines
 * here are shared, so ratios within one group are what the verdicts use.
 *
 * @module
 */

import {
  binanceDecodeCounters,
  type BinanceShape,
  decodeBinanceFrame,
  DEFAULT_ENGINE_BY_SHAPE,
  type EngineChoice,
  type JsonEngine,
  loadSimdjsonEngine,
} from "../src/codec/mod.ts";
import { ProviderRaw } from "../src/schema/provider_raw.ts";
import { type BenchRow, bytesSaved, measure, speedup } from "./harness.ts";
import type { BenchSuiteResult } from "./run.ts";

const MESSAGES_PER_SHAPE = 1000;
const DEPTH_LEVELS_PER_SIDE = 10;
const PARTIAL_DEPTH_LEVELS = 20;
const SINK_SIZE = 1024;
/** Target duration of one measured round, in ms (the harness reports the median round). */
const ROUND_MS_TARGET = 25;
/** Interleaved repeats per group (see `measureGroup`). */
const REPEATS = 7;
/** Timed rounds per variant and repeat. */
const ROUNDS_PER_REPEAT = 3;
/** Untimed passes over every group and V8 variant before measuring (see `run`). */
const WARMUP_PASSES = 3;
const OPS_PER_ROUND_MIN = 1_000;
const OPS_PER_ROUND_MAX = 400_000;
const TARGET_SPEEDUP_MIN = 2.5;
const TARGET_BYTES_SAVED_MIN = 0.4;

const RECORDING_URL = new URL(
  "../../shared/data/recordings/binance_spot_ws_2021-10-12.txt",
  import.meta.url,
);

// ---------------------------------------------------------------------------------------------
// Corpus

/** Small seeded PRNG (xorshift32) so every run decodes the same corpus. */
function makeRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const SYMBOLS: readonly [string, number][] = [
  ["BTCUSDT", 87250],
  ["ETHUSDT", 3150],
  ["BNBUSDT", 612],
  ["SOLUSDT", 148],
  ["XRPUSDT", 0.52],
  ["DOGEUSDT", 0.1234],
  ["ADAUSDT", 0.45],
  ["1000SATSUSDT", 0.000321],
  ["NKNUSDT", 0.3527],
  ["LRCBTC", 0.00000637],
  ["BLZETH", 0.00006547],
  ["RUNEEUR", 6.251],
];

interface Gen {
  rnd: () => number;
  id: number;
  time: number;
}

function pick(g: Gen): [string, number] {
  return SYMBOLS[Math.floor(g.rnd() * SYMBOLS.length)];
}

function price(g: Gen, base: number): string {
  return (base * (1 + (g.rnd() - 0.5) * 0.01)).toFixed(8);
}

function qty(g: Gen): string {
  if (g.rnd() < 0.15) return "0.00000000";
  return (g.rnd() ** 3 * 500).toFixed(8);
}

function nextIds(g: Gen): void {
  g.id += 1 + Math.floor(g.rnd() * 7);
  g.time += Math.floor(g.rnd() * 40);
}

function levels(g: Gen, base: number, n: number, side: 1 | -1): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`["${(base * (1 - side * i * 0.0002)).toFixed(8)}","${qty(g)}"]`);
  }
  return `[${out.join(",")}]`;
}

type CorpusShape =
  | "trade"
  | "aggTrade"
  | "depthUpdate"
  | "bookTicker"
  | "combined trade"
  | "depthPartial"
  | "kline"
  | "24hrTicker";

function genMessage(shape: CorpusShape, g: Gen): string {
  nextIds(g);
  const [s, base] = pick(g);
  const m = g.rnd() < 0.5;
  switch (shape) {
    case "trade":
      return `{"e":"trade","E":${g.time},"s":"${s}","t":${g.id},"p":"${price(g, base)}","q":"${
        qty(g)
      }","T":${g.time - 2},"m":${m},"M":true}`;
    case "combined trade":
      return `{"stream":"${s.toLowerCase()}@trade","data":${genMessage("trade", g)}}`;
    case "aggTrade":
      return `{"e":"aggTrade","E":${g.time},"s":"${s}","a":${g.id},"p":"${price(g, base)}","q":"${
        qty(g)
      }","f":${g.id * 3},"l":${g.id * 3 + 2},"T":${g.time - 1},"m":${m},"M":true}`;
    case "depthUpdate":
      return `{"e":"depthUpdate","E":${g.time},"s":"${s}","U":${g.id},"u":${g.id + 9},"b":${
        levels(g, base, DEPTH_LEVELS_PER_SIDE, 1)
      },"a":${levels(g, base * 1.0001, DEPTH_LEVELS_PER_SIDE, -1)}}`;
    case "bookTicker":
      return `{"u":${g.id},"s":"${s}","b":"${price(g, base)}","B":"${qty(g)}","a":"${
        price(g, base * 1.0002)
      }","A":"${qty(g)}"}`;
    case "depthPartial":
      return `{"stream":"${s.toLowerCase()}@depth20@100ms","data":{"lastUpdateId":${g.id},"bids":${
        levels(g, base, PARTIAL_DEPTH_LEVELS, 1)
      },"asks":${levels(g, base * 1.0001, PARTIAL_DEPTH_LEVELS, -1)}}}`;
    case "kline":
      return `{"e":"kline","E":${g.time},"s":"${s}","k":{"t":${g.time - 30000},"T":${
        g.time + 29999
      },"s":"${s}","i":"1m","f":${g.id},"L":${g.id + 40},"o":"${price(g, base)}","c":"${
        price(g, base)
      }","h":"${price(g, base * 1.004)}","l":"${price(g, base * 0.996)}","v":"${
        qty(g)
      }","n":41,"x":${m},"q":"${qty(g)}","V":"${qty(g)}","Q":"${qty(g)}","B":"0"}}`;
    case "24hrTicker":
      return `{"e":"24hrTicker","E":${g.time},"s":"${s}","p":"-12.30000000","P":"-0.584","w":"${
        price(g, base)
      }","x":"${price(g, base)}","c":"${price(g, base)}","Q":"${qty(g)}","b":"${
        price(g, base)
      }","B":"${qty(g)}","a":"${price(g, base)}","A":"${qty(g)}","o":"${price(g, base)}","h":"${
        price(g, base)
      }","l":"${price(g, base)}","v":"${qty(g)}","q":"${qty(g)}","O":${
        g.time - 86400000
      },"C":${g.time},"F":${g.id},"L":${g.id + 100000},"n":100001}`;
  }
}

function corpus(shape: CorpusShape, seed: number): string[] {
  const g: Gen = { rnd: makeRandom(seed), id: 5_012_345_678, time: 1_767_225_600_000 };
  return Array.from({ length: MESSAGES_PER_SHAPE }, () => genMessage(shape, g));
}

async function recordedFrames(): Promise<string[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(RECORDING_URL);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return text.split("\n").slice(1).filter((l) => l.trim() !== "").map((l) =>
    l.slice(l.indexOf(": ") + 2)
  );
}

// ---------------------------------------------------------------------------------------------
// Variants

const sink: (ProviderRaw | null)[] = new Array(SINK_SIZE).fill(null);

type Variant = "baseline" | "v8-json" | "simdjson" | "specialised";

const VARIANT_LABEL: Record<Variant, string> = {
  baseline: "(a) baseline: JSON.parse + map into a new object",
  "v8-json": "(b) v8 JSON.parse + map into pooled ProviderRaw",
  simdjson: "(c) simdjson parse + map into pooled ProviderRaw",
  specialised: "(d) specialised scanner into pooled ProviderRaw",
};

function roundFor(
  variant: Variant,
  frames: readonly string[],
  simd: JsonEngine | null,
): (ops: number) => void {
  const n = frames.length;
  const pooled = new ProviderRaw();
  switch (variant) {
    case "baseline": {
      const opts = { specialised: false };
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          const out = new ProviderRaw();
          decodeBinanceFrame(frames[i % n], out, opts);
          sink[i & (SINK_SIZE - 1)] = out;
        }
      };
    }
    case "v8-json": {
      const opts = { specialised: false };
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          decodeBinanceFrame(frames[i % n], pooled, opts);
          sink[i & (SINK_SIZE - 1)] = pooled;
        }
      };
    }
    case "simdjson": {
      const opts = { specialised: false, engine: simd! };
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          decodeBinanceFrame(frames[i % n], pooled, opts);
          sink[i & (SINK_SIZE - 1)] = pooled;
        }
      };
    }
    case "specialised":
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          decodeBinanceFrame(frames[i % n], pooled);
          sink[i & (SINK_SIZE - 1)] = pooled;
        }
      };
  }
}

/** Ops per round so that a round lasts about ROUND_MS_TARGET. */
function calibrate(round: (ops: number) => void): number {
  round(OPS_PER_ROUND_MIN);
  const t0 = performance.now();
  round(OPS_PER_ROUND_MIN);
  const perOpMs = Math.max((performance.now() - t0) / OPS_PER_ROUND_MIN, 1e-6);
  const ops = Math.round(ROUND_MS_TARGET / perOpMs);
  return Math.min(OPS_PER_ROUND_MAX, Math.max(OPS_PER_ROUND_MIN, ops));
}

/** A variant's round function and its calibrated ops per round. */
interface Prepared {
  variant: Variant;
  round: (ops: number) => void;
  opsPerRound: number;
}

/**
 * Measures the variants of one group interleaved: REPEATS times, each variant in turn for a few
 * rounds. The machine is shared and noisy, and a burst of foreign load then hits every variant
 * alike instead of one; each variant keeps its fastest repeat (a median over its rounds), and
 * that repeat's bytes/op.
 */
function measureGroup(
  group: string,
  variants: readonly Variant[],
  frames: readonly string[],
  simd: JsonEngine | null,
): Map<Variant, BenchRow> {
  const prepared: Prepared[] = variants.map((variant) => {
    const round = roundFor(variant, frames, simd);
    return { variant, round, opsPerRound: calibrate(round) };
  });
  const best = new Map<Variant, BenchRow>();
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const p of prepared) {
      const row = measure(group, VARIANT_LABEL[p.variant], p.round, {
        opsPerRound: p.opsPerRound,
        rounds: ROUNDS_PER_REPEAT,
        warmupRounds: 1,
      });
      const prev = best.get(p.variant);
      if (prev === undefined || row.nsPerOp < prev.nsPerOp) {
        best.set(p.variant, { ...row, ops: row.ops + (prev?.ops ?? 0) });
      } else {
        prev.ops += row.ops;
      }
    }
  }
  return best;
}

/** Share of `frames` the default decode sends down the specialised path. */
function specialisedShare(frames: readonly string[]): number {
  const before = binanceDecodeCounters.specialised;
  const out = new ProviderRaw();
  for (const f of frames) decodeBinanceFrame(f, out);
  return (binanceDecodeCounters.specialised - before) / frames.length;
}

// ---------------------------------------------------------------------------------------------

interface GroupSpec {
  group: string;
  /** The entry of DEFAULT_ENGINE_BY_SHAPE this group measures (null: a mix). */
  shape: BinanceShape | null;
  frames: string[];
  hot: boolean;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

/** The 1-minute load average and CPU count, so a reader can judge the noise of a run. */
function machineLoad(): string {
  try {
    return `${Deno.loadavg()[0].toFixed(2)} on ${navigator.hardwareConcurrency} CPUs`;
  } catch {
    return "unknown (no --allow-sys)";
  }
}

/** Runs the suite: see the module comment. */
export async function run(): Promise<BenchSuiteResult> {
  const { engine: simd, status: simdStatus } = await loadSimdjsonEngine();
  const loadBefore = machineLoad();
  const groups: GroupSpec[] = [
    { group: "trade", shape: "trade", frames: corpus("trade", 1), hot: true },
    { group: "aggTrade", shape: "aggTrade", frames: corpus("aggTrade", 2), hot: true },
    {
      group: `depthUpdate ${DEPTH_LEVELS_PER_SIDE}+${DEPTH_LEVELS_PER_SIDE}`,
      shape: "depthUpdate",
      frames: corpus("depthUpdate", 3),
      hot: true,
    },
    { group: "bookTicker", shape: "bookTicker", frames: corpus("bookTicker", 4), hot: true },
    {
      group: "combined-wrapped trade",
      shape: "trade",
      frames: corpus("combined trade", 5),
      hot: true,
    },
    {
      group: `depthPartial ${PARTIAL_DEPTH_LEVELS}+${PARTIAL_DEPTH_LEVELS} (wrapped)`,
      shape: "depthPartial",
      frames: corpus("depthPartial", 6),
      hot: false,
    },
    { group: "kline", shape: "kline", frames: corpus("kline", 7), hot: false },
    { group: "24hrTicker", shape: "24hrTicker", frames: corpus("24hrTicker", 8), hot: false },
  ];
  const recorded = await recordedFrames();
  const verdicts: string[] = [];
  if (recorded !== null) {
    groups.push({
      group: `recorded Binance frames (${recorded.length}, real mix)`,
      shape: null,
      frames: recorded,
      hot: true,
    });
  } else {
    verdicts.push(`recorded frames skipped: ${RECORDING_URL.pathname} absent`);
  }
  verdicts.push(
    simd
      ? `simdjson: available (${simdStatus.reason}); measured below`
      : `simdjson: UNAVAILABLE (${simdStatus.reason}); rows (c) omitted`,
  );

  // Phase 0: warm every V8 variant on every shape first, so the JIT reaches the steady state the
  // gateway runs in (all shapes through one decoder) before anything is timed; otherwise the
  // first groups would pay the map transitions and deopts of the pooled object's fields.
  for (let pass = 0; pass < WARMUP_PASSES; pass++) {
    for (const spec of groups) {
      for (const v of ["baseline", "v8-json", "specialised"] as const) {
        roundFor(v, spec.frames, simd)(spec.frames.length);
      }
    }
  }
  // Phase 1: the V8 variants and the scanner, interleaved per group. Phase 2: simdjson alone,
  // afterwards, so the objects the addon builds never reach the generic mapper's inline caches
  // while the V8 rows are measured (in the gateway only one engine feeds the mapper).
  const byGroup = new Map<GroupSpec, Map<Variant, BenchRow>>();
  for (const spec of groups) {
    const variants: Variant[] = spec.hot
      ? ["baseline", "v8-json", "specialised"]
      : ["baseline", "v8-json"];
    byGroup.set(spec, measureGroup(spec.group, variants, spec.frames, simd));
  }
  if (simd) {
    for (const spec of groups) {
      const row = measureGroup(spec.group, ["simdjson"], spec.frames, simd).get("simdjson")!;
      byGroup.get(spec)!.set("simdjson", row);
    }
  }

  const rows: BenchRow[] = [];
  const order: Variant[] = ["baseline", "v8-json", "simdjson", "specialised"];
  for (const spec of groups) {
    const measured = byGroup.get(spec)!;
    for (const v of order) {
      const row = measured.get(v);
      if (row) rows.push(row);
    }
    const base = measured.get("baseline")!;
    for (const [v, row] of measured) {
      if (v === "baseline") {
        row.note = "baseline";
        continue;
      }
      row.note = `${speedup(row, base).toFixed(2)}× baseline speed, ${
        pct(bytesSaved(row, base))
      } fewer bytes`;
    }
    const spec_ = measured.get("specialised");
    if (spec_) {
      const share = specialisedShare(spec.frames);
      spec_.note += `; specialised path taken for ${pct(share)} of frames`;
      const sp = speedup(spec_, base);
      const saved = bytesSaved(spec_, base);
      verdicts.push(
        `${spec.group}: specialised ${
          sp.toFixed(2)
        }× baseline speed (target ≥ ${TARGET_SPEEDUP_MIN}×: ${
          sp >= TARGET_SPEEDUP_MIN ? "MET" : "MISSED"
        }), ${pct(saved)} fewer bytes/msg (${spec_.bytesPerOp.toFixed(0)} vs ${
          base.bytesPerOp.toFixed(0)
        }; target ≥ ${pct(TARGET_BYTES_SAVED_MIN)}: ${
          saved >= TARGET_BYTES_SAVED_MIN ? "MET" : "MISSED"
        })`,
      );
    }
    // Fastest engine among the pooled decoders the gateway can actually choose from.
    let fastest: EngineChoice = "v8-json";
    for (const [v, row] of measured) {
      if (v !== "baseline" && row.nsPerOp < measured.get(fastest)!.nsPerOp) fastest = v;
    }
    const choice = fastest;
    if (spec.shape !== null) {
      const table = DEFAULT_ENGINE_BY_SHAPE[spec.shape];
      verdicts.push(
        `${spec.group}: fastest measured ${choice} (${
          measured.get(fastest)!.nsPerOp.toFixed(0)
        } ns/msg); DEFAULT_ENGINE_BY_SHAPE.${spec.shape} = ${table}: ${
          table === choice ? "matches" : "DIFFERS"
        }`,
      );
    } else {
      verdicts.push(`${spec.group}: fastest measured ${choice}`);
    }
  }
  sink.fill(null);
  verdicts.push(
    `machine load average ${loadBefore} before, ${machineLoad()} after: this host is shared, ` +
      "so ratios move by ±20 % between runs; compare rows within one group of one run",
  );
  return { title: "Codec: Binance decode per shape and engine", rows, verdicts };
}

if (import.meta.main) {
  const r = await run();
  console.log(r.rows, r.verdicts);
}
