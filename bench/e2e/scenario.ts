/**
 * One end-to-end scenario: a load source child (the simulator, or the pre-generated blaster for
 * saturation), a measured pipeline child with V8's GC trace on, clock probes of both, the run,
 * and the join of the source's send log with the consumers' delivery records.
 *
 * @module
 */

import { BenchChild, type ClockOffset } from "./bench_child.ts";
import { type GcPause, parseGcTrace, pausesInWindow } from "./gc_trace.ts";
import { joinLatencies, type Percentiles, percentiles } from "./latency.ts";
import type { PipelineChildArgs, PipelineResult } from "./pipeline_child.ts";
import { readRecords } from "./record_store.ts";
import type { SimChildArgs } from "./sim_child.ts";

/** What to run. */
export interface ScenarioSpec {
  /** Row label of the source rate (`1k`, `10k`, `sat`). */
  label: string;
  /** `sim`: the generated simulator at `framesPerSecond`; `blast`: pre-generated frames, flat out. */
  source: "sim" | "blast";
  /** Target frames (= events) per second into the pipeline; 0 for the blaster. */
  framesPerSecond: number;
  /** In-process consumers. */
  consumers: number;
  /** Pools off (the baseline). */
  unpooled: boolean;
  /** Measure a bare WebSocket reader instead of the pipeline (the runtime's floor). */
  floor?: boolean;
  /** Warm-up, ms. */
  warmMs: number;
  /** Measurement window, ms. */
  measureMs: number;
}

/** Shared settings and the long-lived blaster. */
export interface ScenarioContext {
  /** Project root (children run there). */
  cwd: string;
  /** Scratch directory for record files (absolute). */
  tmpDir: string;
  /** Market seed. */
  seed: number;
  /** Instruments. */
  symbols: number;
  /** Simulator scheduler period, ms. */
  simTickMs: number;
  /** The saturation source, started once and shared (each connection replays from frame 0). */
  blaster: BenchChild | null;
  /** Frames the blaster holds. */
  blasterFrames: number;
  /** Blaster REST and WebSocket URLs. */
  blasterUrls: { restUrl: string; wsUrl: string } | null;
}

/** Everything measured in one scenario. */
export interface ScenarioResult {
  spec: ScenarioSpec;
  pipeline: PipelineResult;
  /** Window length, s. */
  windowS: number;
  /** Simulator send to consumer delivery (keyed events). */
  endToEnd: Percentiles | null;
  /** Simulator send to adapter receive stamp. */
  wire: Percentiles | null;
  /** Adapter receive stamp to consumer delivery (all events). */
  inProcess: Percentiles | null;
  /** Share of keyed deliveries whose send time was found. */
  matchedShare: number;
  /** GC pauses in the window. */
  gc: { aligned: boolean; count: number; totalMs: number; p99Ms: number; maxMs: number };
  /** Clock offsets of the children against the orchestrator (best probe before the run). */
  clocks: { source: ClockOffset; pipeline: ClockOffset; driftMs: number };
  /** The source's report after its dump. */
  source: Record<string, unknown>;
  /** True when the blaster's frames ran out before the window ended. */
  sourceExhausted: boolean;
}

/** Clock probes per child and measurement. */
const PROBES = 25;
/** Most delivery records kept per scenario (3 doubles each). */
const DELIVERY_RECORDS_MAX = 6_000_000;
/** Most send records kept per simulator run. */
const SEND_RECORDS_MAX = 4_000_000;

/** Permissions of the children: loopback, reading, the scratch directory, the native codec. */
export function childPermissions(tmpDir: string): string[] {
  return [
    "--allow-net=127.0.0.1",
    "--allow-read",
    `--allow-write=${tmpDir}`,
    "--allow-env",
    "--allow-sys",
    "--allow-ffi=./node_modules",
  ];
}

/** Runs one scenario start to finish; children are always stopped. */
export async function runScenario(
  spec: ScenarioSpec,
  ctx: ScenarioContext,
): Promise<ScenarioResult> {
  const permissions = childPermissions(ctx.tmpDir);
  const id = `${spec.label}-${spec.consumers}-${
    spec.floor === true ? "floor" : spec.unpooled ? "unpooled" : "pooled"
  }`;
  const sendsPath = `${ctx.tmpDir}/${id}.sends.bin`;
  const deliveriesPath = `${ctx.tmpDir}/${id}.deliveries.bin`;
  let sim: BenchChild | null = null;
  let pipeline: BenchChild | null = null;
  try {
    let source: BenchChild;
    let urls: { restUrl: string; wsUrl: string };
    if (spec.source === "sim") {
      const args: SimChildArgs = {
        seed: ctx.seed,
        symbols: ctx.symbols,
        framesPerSecond: spec.framesPerSecond,
        recordsMax: SEND_RECORDS_MAX,
        tickMs: ctx.simTickMs,
      };
      sim = BenchChild.spawn({
        name: `sim ${id}`,
        script: new URL("./sim_child.ts", import.meta.url),
        args,
        permissions,
        cwd: ctx.cwd,
      });
      source = sim;
      urls = await sim.waitFor<{ restUrl: string; wsUrl: string }>("READY", 60_000);
    } else {
      if (ctx.blaster === null || ctx.blasterUrls === null) {
        throw new Error("expected a started blaster for a saturation scenario, found none");
      }
      source = ctx.blaster;
      urls = ctx.blasterUrls;
    }
    const expected = spec.source === "sim" ? spec.framesPerSecond : 250_000;
    const pipelineArgs: PipelineChildArgs = {
      restUrl: urls.restUrl,
      wsUrl: urls.wsUrl,
      symbols: ctx.symbols,
      consumers: spec.consumers,
      unpooled: spec.unpooled,
      warmMs: spec.warmMs,
      measureMs: spec.measureMs,
      recordsPath: deliveriesPath,
      recordsMax: DELIVERY_RECORDS_MAX,
      expectedEventsPerSecond: expected,
      connectTimeoutMs: 20_000,
      syncTimeoutMs: 20_000,
      floor: spec.floor ?? false,
    };
    pipeline = BenchChild.spawn({
      name: `pipeline ${id}`,
      script: new URL("./pipeline_child.ts", import.meta.url),
      args: pipelineArgs,
      permissions,
      v8Flags: ["--trace-gc", "--trace-gc-nvp", "--expose-gc"],
      captureStdout: true,
      cwd: ctx.cwd,
    });
    // The blaster trickles until the pipeline's books are LIVE; the flood starts with `warm`.
    if (spec.source === "blast") await source.send("trickle");
    await pipeline.waitFor("READY", 90_000);
    const sourceClock = await source.probeClock(PROBES);
    const pipelineClock = await pipeline.probeClock(PROBES);

    await pipeline.send("run");
    await pipeline.waitFor("PHASE", 10_000); // warm
    await source.send(`warm ${spec.warmMs}`);
    await pipeline.waitFor("PHASE", spec.warmMs + 30_000); // measure
    const result = await pipeline.waitFor<PipelineResult>(
      "RESULT",
      spec.measureMs + 60_000,
    );
    await source.send(`dump ${sendsPath}`);
    const dumped = await source.waitFor<Record<string, unknown>>("DUMPED", 60_000);
    const sourceAfter = await source.probeClock(PROBES);
    const pipelineAfter = await pipeline.probeClock(PROBES);
    await pipeline.close();
    if (sim !== null) await sim.close();

    const offsetBefore = pipelineClock.offsetMs - sourceClock.offsetMs;
    const offsetAfter = pipelineAfter.offsetMs - sourceAfter.offsetMs;
    const joined = joinLatencies(
      await readRecords(sendsPath),
      await readRecords(deliveriesPath),
      offsetBefore,
    );
    const gc = summarizeGc(parseGcTrace(pipeline.stdoutLines), result);
    const framesHeld = typeof dumped.frames === "number" ? dumped.frames : Infinity;
    return {
      spec,
      pipeline: result,
      windowS: (result.windowEndMs - result.windowStartMs) / 1000,
      endToEnd: percentiles(joined.endToEnd),
      wire: percentiles(joined.wire),
      // The floor stamps receive and delivery at once: nothing in between to measure.
      inProcess: spec.floor === true ? null : percentiles(joined.inProcess),
      matchedShare: joined.keyed === 0 ? 0 : joined.matched / joined.keyed,
      gc,
      clocks: {
        source: sourceClock,
        pipeline: pipelineClock,
        driftMs: offsetAfter - offsetBefore,
      },
      source: dumped,
      sourceExhausted: spec.source === "blast" && result.framesTotal >= framesHeld,
    };
  } finally {
    await pipeline?.close();
    await sim?.close();
    for (const path of [sendsPath, deliveriesPath]) {
      await Deno.remove(path).catch(() => {});
    }
  }
}

function summarizeGc(all: GcPause[], result: PipelineResult): ScenarioResult["gc"] {
  const { aligned, pauses } = pausesInWindow(all, result);
  const sorted = pauses.map((p) => p.pauseMs).sort((a, b) => a - b);
  const n = sorted.length;
  return {
    aligned,
    count: n,
    totalMs: sorted.reduce((s, v) => s + v, 0),
    p99Ms: n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(n * 0.99))],
    maxMs: n === 0 ? 0 : sorted[n - 1],
  };
}
