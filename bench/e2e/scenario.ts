/**
 * One end-to-end scenario: the load source children (one simulator per venue, or the
 * pre-generated Binance blaster for saturation), a measured pipeline child with V8's GC trace
 * on, clock probes of all, the run, and the join of the sources' send logs with the consumers'
 * delivery records (each source's send times moved onto the pipeline's clock by its own
 * measured offset).
 *
 * @module
 */

import { BenchChild, type ClockOffset } from "./bench_child.ts";
import { type GcPause, parseGcTrace, pausesInWindow } from "./gc_trace.ts";
import { type BenchProvider, FrameKeys } from "./frame_key.ts";
import { joinLatencies, type Percentiles, percentiles } from "./latency.ts";
import type { PipelineChildArgs, PipelineResult, PipelineSource } from "./pipeline_child.ts";
import { readRecords } from "./record_store.ts";
import type { SimChildArgs } from "./sim_child.ts";
import { benchSymbolSpecs } from "./symbol_specs.ts";

/** What to run. */
export interface ScenarioSpec {
  /** Row label of the source rate (`1k`, `10k`, `sat`). */
  label: string;
  /** `sim`: the generated simulator at `framesPerSecond`; `blast`: pre-generated frames, flat out. */
  source: "sim" | "blast";
  /**
   * Target frames (= events) per second into the pipeline, all venues together (split evenly);
   * 0 for the blaster, and for simulators running unsteered at `simEventsPerSecond`.
   */
  framesPerSecond: number;
  /** Venues, in key order (default Binance only; the blaster is Binance only). */
  providers?: BenchProvider[];
  /** Generator events per second of each simulator when `framesPerSecond` is 0. */
  simEventsPerSecond?: number;
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
  /** The same per venue, in `spec.providers` order (absent in runs saved before it existed). */
  byProvider?: { provider: BenchProvider; endToEnd: Percentiles | null }[];
  /** Simulator send to adapter receive stamp. */
  wire: Percentiles | null;
  /** Adapter receive stamp to consumer delivery (all events). */
  inProcess: Percentiles | null;
  /** Share of keyed deliveries whose send time was found. */
  matchedShare: number;
  /** GC pauses in the window. */
  gc: { aligned: boolean; count: number; totalMs: number; p99Ms: number; maxMs: number };
  /**
   * Clock offsets of the children against the orchestrator (best probe before the run):
   * `source` is the first source, `sources` all of them; drift is the largest of the sources'.
   */
  clocks: { source: ClockOffset; sources?: ClockOffset[]; pipeline: ClockOffset; driftMs: number };
  /** The first source's report after its dump. */
  source: Record<string, unknown>;
  /** Every source's report, in `spec.providers` order. */
  sources?: Record<string, unknown>[];
  /** True when the blaster's frames ran out before the window ended. */
  sourceExhausted: boolean;
}

/** Clock probes per child and measurement. */
const PROBES = 25;
/** Most delivery records kept per scenario (3 doubles each). */
const DELIVERY_RECORDS_MAX = 6_000_000;
/** Most send records kept per simulator run. */
const SEND_RECORDS_MAX = 4_000_000;

/** Generator rate of each simulator of a several-venue run until its warm-up (books sync). */
const MULTI_SYNC_EVENTS_PER_SECOND = 1000;

/** Starting-price offsets of the venues, as the gateway's embedded simulators use them. */
const PRICE_OFFSET_BPS: Record<BenchProvider, number> = { binance: 0, okx: 3, kraken: -4 };

/** The venues of a spec. */
export function providersOf(spec: ScenarioSpec): BenchProvider[] {
  return spec.providers ?? ["binance"];
}

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
  const providers = providersOf(spec);
  const id = `${providers.length === 1 ? "" : "multi-"}${spec.label}-${spec.consumers}-${
    spec.floor === true ? "floor" : spec.unpooled ? "unpooled" : "pooled"
  }`;
  const sendsPaths = providers.map((p) => `${ctx.tmpDir}/${id}.${p}.sends.bin`);
  const deliveriesPath = `${ctx.tmpDir}/${id}.deliveries.bin`;
  const sims: BenchChild[] = [];
  let pipeline: BenchChild | null = null;
  try {
    let sources: BenchChild[];
    let urls: PipelineSource[];
    if (spec.source === "sim") {
      for (const provider of providers) {
        const args: SimChildArgs = {
          provider,
          keyProviders: providers,
          priceOffsetBps: PRICE_OFFSET_BPS[provider],
          seed: ctx.seed,
          symbols: ctx.symbols,
          framesPerSecond: spec.framesPerSecond / providers.length,
          eventsPerSecond: spec.simEventsPerSecond,
          syncEventsPerSecond: providers.length === 1 ? undefined : MULTI_SYNC_EVENTS_PER_SECOND,
          recordsMax: SEND_RECORDS_MAX,
          tickMs: ctx.simTickMs,
        };
        sims.push(BenchChild.spawn({
          name: `sim ${provider} ${id}`,
          script: new URL("./sim_child.ts", import.meta.url),
          args,
          permissions,
          cwd: ctx.cwd,
        }));
      }
      sources = sims;
      urls = [];
      for (let i = 0; i < sims.length; i++) {
        const ready = await sims[i].waitFor<{ restUrl: string; wsUrl: string }>("READY", 60_000);
        urls.push({ provider: providers[i], restUrl: ready.restUrl, wsUrl: ready.wsUrl });
      }
    } else {
      if (ctx.blaster === null || ctx.blasterUrls === null) {
        throw new Error("expected a started blaster for a saturation scenario, found none");
      }
      if (providers.length !== 1 || providers[0] !== "binance") {
        throw new Error(`expected the blaster with Binance only, found ${providers.join(", ")}`);
      }
      sources = [ctx.blaster];
      urls = [{ provider: "binance", ...ctx.blasterUrls }];
    }
    const expected = spec.source === "blast"
      ? 250_000
      : spec.framesPerSecond > 0
      ? spec.framesPerSecond
      : 150_000;
    const pipelineArgs: PipelineChildArgs = {
      sources: urls,
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
    if (spec.source === "blast") await sources[0].send("trickle");
    await pipeline.waitFor("READY", 90_000);
    const sourceClocks: ClockOffset[] = [];
    for (const source of sources) sourceClocks.push(await source.probeClock(PROBES));
    const pipelineClock = await pipeline.probeClock(PROBES);

    await pipeline.send("run");
    await pipeline.waitFor("PHASE", 10_000); // warm
    for (const source of sources) await source.send(`warm ${spec.warmMs}`);
    await pipeline.waitFor("PHASE", spec.warmMs + 30_000); // measure
    const result = await pipeline.waitFor<PipelineResult>(
      "RESULT",
      spec.measureMs + 60_000,
    );
    const dumped: Record<string, unknown>[] = [];
    for (let i = 0; i < sources.length; i++) {
      await sources[i].send(`dump ${sendsPaths[i]}`);
      dumped.push(await sources[i].waitFor<Record<string, unknown>>("DUMPED", 60_000));
    }
    const sourceAfter: ClockOffset[] = [];
    for (const source of sources) sourceAfter.push(await source.probeClock(PROBES));
    const pipelineAfter = await pipeline.probeClock(PROBES);
    await pipeline.close();
    for (const sim of sims) await sim.close();

    // Each send time moves onto the pipeline's clock with its own source's offset.
    const sendLogs: Float64Array[] = [];
    let driftMs = 0;
    for (let i = 0; i < sources.length; i++) {
      const offsetBefore = pipelineClock.offsetMs - sourceClocks[i].offsetMs;
      const offsetAfter = pipelineAfter.offsetMs - sourceAfter[i].offsetMs;
      const drift = offsetAfter - offsetBefore;
      if (Math.abs(drift) > Math.abs(driftMs)) driftMs = drift;
      const sends = await readRecords(sendsPaths[i]);
      for (let r = 1; r < sends.length; r += 2) sends[r] += offsetBefore;
      sendLogs.push(sends);
    }
    const allSends = new Float64Array(sendLogs.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const sends of sendLogs) {
      allSends.set(sends, at);
      at += sends.length;
    }
    const joined = joinLatencies(allSends, await readRecords(deliveriesPath), 0);
    const keys = new FrameKeys(
      benchSymbolSpecs(ctx.symbols).map((s) => [s.base, s.quote] as const),
      providers,
    );
    const gc = summarizeGc(parseGcTrace(pipeline.stdoutLines), result);
    const framesHeld = typeof dumped[0].frames === "number" ? dumped[0].frames : Infinity;
    return {
      spec,
      pipeline: result,
      windowS: (result.windowEndMs - result.windowStartMs) / 1000,
      endToEnd: percentiles(joined.endToEnd.slice()),
      byProvider: providers.map((provider, p) => {
        const mine = joined.endToEnd.filter((_, i) =>
          keys.providerIndexOf(joined.endToEndKeys[i]) === p
        );
        return { provider, endToEnd: percentiles(mine) };
      }),
      wire: percentiles(joined.wire),
      // The floor stamps receive and delivery at once: nothing in between to measure.
      inProcess: spec.floor === true ? null : percentiles(joined.inProcess),
      matchedShare: joined.keyed === 0 ? 0 : joined.matched / joined.keyed,
      gc,
      clocks: {
        source: sourceClocks[0],
        sources: sourceClocks,
        pipeline: pipelineClock,
        driftMs,
      },
      source: dumped[0],
      sources: dumped,
      sourceExhausted: spec.source === "blast" && result.framesTotal >= framesHeld,
    };
  } finally {
    await pipeline?.close();
    for (const sim of sims) await sim.close();
    for (const path of [...sendsPaths, deliveriesPath]) {
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
