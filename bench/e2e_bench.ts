/**
 * `deno task bench:e2e`: the end-to-end benchmark. Simulator -> WebSocket -> adapter ->
 * conductor -> dispatcher -> 1 and 3 in-process consumers, 50 symbols, at fixed rates and to
 * saturation, pooled and unpooled in the same run. Prints a Markdown report and writes it to
 * `bench/results/e2e.md` (raw numbers to `bench/results/e2e.json`). Method: `bench/e2e/report.ts`.
 *
 * Flags (defaults keep the whole run under about 5 minutes):
 *   --warm-s=3 --measure-s=7            fixed-rate warm-up and window, seconds
 *   --rates=1000,10000,50000            fixed rates, events (frames) per second
 *   --consumers=1,3                     consumer counts
 *   --modes=pooled,unpooled             pool modes
 *   --sat / --no-sat                    saturation runs (default on)
 *   --floor / --no-floor                bare-WebSocket floor run at each fixed rate (default on)
 *   --sat-warm-s=1 --sat-measure-s=3    saturation warm-up and window, seconds
 *   --sat-rounds=2                      saturation rounds (the ceiling is the best one)
 *   --sat-frames=1200000                frames generated up front for saturation
 *   --sim-tick-ms=1                     simulator scheduler period (its own default is 10)
 *   --seed=7 --symbols=50
 *   --from-json                         re-render e2e.md from the last run's e2e.json (no run)
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  BenchChild,
  type BlastChildArgs,
  childPermissions,
  E2E_SYMBOLS_DEFAULT,
  METHOD_NOTES,
  renderDetailsTable,
  renderMainTable,
  renderVerdicts,
  type ReportHeader,
  runScenario,
  type ScenarioContext,
  type ScenarioResult,
  type ScenarioSpec,
} from "./e2e/mod.ts";

/** Bytes the blaster lets its socket hold unsent. */
const BLAST_HIGH_WATER_BYTES = 2 * 1024 * 1024;
/** Virtual generator rate of the blaster's frames (≈ 200k frames/s of market). */
const BLAST_EVENTS_PER_SECOND = 300_000;

interface Options {
  warmS: number;
  measureS: number;
  rates: number[];
  consumers: number[];
  modes: ("pooled" | "unpooled")[];
  sat: boolean;
  floor: boolean;
  satWarmS: number;
  satMeasureS: number;
  satFrames: number;
  satRounds: number;
  seed: number;
  symbols: number;
  simTickMs: number;
  fromJson: boolean;
}

function numberList(text: string, what: string): number[] {
  const values = text.split(",").map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new RangeError(
      `--${what}: expected a comma-separated list of positive numbers, found "${text}"`,
    );
  }
  return values;
}

function positive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`--${what}: expected a positive number, found "${text}"`);
  }
  return value;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      "warm-s": { type: "string", default: "3" },
      "measure-s": { type: "string", default: "7" },
      rates: { type: "string", default: "1000,10000,50000" },
      consumers: { type: "string", default: "1,3" },
      modes: { type: "string", default: "pooled,unpooled" },
      sat: { type: "boolean", default: true },
      "no-sat": { type: "boolean", default: false },
      floor: { type: "boolean", default: true },
      "no-floor": { type: "boolean", default: false },
      "sat-warm-s": { type: "string", default: "1" },
      "sat-measure-s": { type: "string", default: "3" },
      "sat-frames": { type: "string", default: "1200000" },
      "sat-rounds": { type: "string", default: "2" },
      seed: { type: "string", default: "7" },
      "sim-tick-ms": { type: "string", default: "1" },
      "from-json": { type: "boolean", default: false },
      symbols: { type: "string", default: String(E2E_SYMBOLS_DEFAULT) },
    },
    strict: true,
  });
  const modes = values.modes.split(",").map((m) => m.trim());
  for (const m of modes) {
    if (m !== "pooled" && m !== "unpooled") {
      throw new RangeError(`--modes: expected pooled and/or unpooled, found "${m}"`);
    }
  }
  return {
    warmS: positive(values["warm-s"], "warm-s"),
    measureS: positive(values["measure-s"], "measure-s"),
    rates: numberList(values.rates, "rates"),
    consumers: numberList(values.consumers, "consumers").map(Math.round),
    modes: modes as ("pooled" | "unpooled")[],
    sat: values.sat && !values["no-sat"],
    floor: values.floor && !values["no-floor"],
    satWarmS: positive(values["sat-warm-s"], "sat-warm-s"),
    satMeasureS: positive(values["sat-measure-s"], "sat-measure-s"),
    satFrames: Math.round(positive(values["sat-frames"], "sat-frames")),
    satRounds: Math.round(positive(values["sat-rounds"], "sat-rounds")),
    seed: Math.round(Number(values.seed)),
    symbols: Math.round(positive(values.symbols, "symbols")),
    simTickMs: positive(values["sim-tick-ms"], "sim-tick-ms"),
    fromJson: values["from-json"],
  };
}

function rateLabel(rate: number): string {
  return rate >= 1000 && rate % 1000 === 0 ? `${rate / 1000}k` : String(rate);
}

/** Every scenario, pooled and unpooled back to back so both see the same host conditions. */
function plan(o: Options): ScenarioSpec[] {
  const specs: ScenarioSpec[] = [];
  const add = (base: Omit<ScenarioSpec, "consumers" | "unpooled">): void => {
    for (const consumers of o.consumers) {
      for (const mode of o.modes) specs.push({ ...base, consumers, unpooled: mode === "unpooled" });
    }
  };
  for (const rate of o.rates) {
    const base = {
      label: rateLabel(rate),
      source: "sim" as const,
      framesPerSecond: rate,
      warmMs: o.warmS * 1000,
      measureMs: o.measureS * 1000,
    };
    add(base);
    if (o.floor) specs.push({ ...base, consumers: 0, unpooled: false, floor: true });
  }
  // Saturation repeats: on a shared host, contention only ever lowers throughput.
  for (let round = 1; o.sat && round <= o.satRounds; round++) {
    add({
      label: `sat${round}`,
      source: "blast",
      framesPerSecond: 0,
      warmMs: o.satWarmS * 1000,
      measureMs: o.satMeasureS * 1000,
    });
  }
  return specs;
}

function progress(r: ScenarioResult): string {
  const e = r.endToEnd;
  const mode = r.spec.floor === true ? "floor" : r.spec.unpooled ? "unpooled" : "pooled";
  return `  ${r.spec.label} x${r.spec.consumers} ${mode}: ${
    (r.pipeline.dispatched / r.windowS).toFixed(0)
  } ev/s, e2e p99 ${e === null ? "-" : e.p99.toFixed(3)} ms, ${
    (r.pipeline.allocatedBytes / Math.max(1, r.pipeline.dispatched)).toFixed(0)
  } B/ev, GC max ${r.gc.maxMs.toFixed(2)} ms`;
}

/** A scenario that did not complete, and why. */
interface Failure {
  spec: ScenarioSpec;
  error: string;
}

function renderReport(
  header: ReportHeader,
  results: readonly ScenarioResult[],
  failures: readonly Failure[],
): string {
  const blaster = header.blaster === null
    ? ""
    : `; saturation: ${header.satWarmS} s warm-up + ${header.satMeasureS} s window, ${header.blaster.frames} frames generated in ${
      (header.blaster.prepMs / 1000).toFixed(1)
    } s`;
  return [
    "# End-to-end benchmark: simulator -> WebSocket -> adapter -> conductor -> dispatcher -> consumers",
    "",
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${
      new Date().toISOString()
    }, ${navigator.hardwareConcurrency} cores. ` +
    `Command: \`${header.command}\`. ${header.symbols} symbols, simulator tick ${header.simTickMs} ms; fixed rates: ${header.warmS} s warm-up + ${header.measureS} s window${blaster}. ` +
    `Whole run ${header.elapsedS.toFixed(0)} s.`,
    "",
    "events/s = canonical events dispatched per second (each to every consumer). e2e = simulator `send()` to consumer delivery; in-proc = adapter receive stamp to delivery. B/event = heap bytes allocated in the pipeline process per dispatched event. CPU = pipeline process, share of one core; host busy = whole machine.",
    "",
    renderMainTable(results),
    "",
    "## Verdicts",
    "",
    ...renderVerdicts(results).map((v) => `- ${v}`),
    ...failures.map((f) =>
      `- FAILED to run: ${f.spec.label} x${f.spec.consumers} ${
        f.spec.unpooled ? "unpooled" : "pooled"
      }: ${f.error.split("\n")[0]}`
    ),
    "",
    "## Details",
    "",
    renderDetailsTable(results),
    "",
    METHOD_NOTES,
    "",
  ].join("\n");
}

/** What `e2e.json` holds. */
interface SavedRun {
  header: ReportHeader;
  results: ScenarioResult[];
  failures: Failure[];
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  const root = new URL("../", import.meta.url);
  const resultsDir = new URL("./results/", import.meta.url);
  if (options.fromJson) {
    const saved = JSON.parse(
      await Deno.readTextFile(new URL("./e2e.json", resultsDir)),
    ) as SavedRun;
    const text = renderReport(saved.header, saved.results, saved.failures ?? []);
    console.log(text);
    await Deno.writeTextFile(new URL("./e2e.md", resultsDir), text);
    return;
  }
  const tmpDir = new URL("./results/.e2e_tmp/", import.meta.url);
  await Deno.mkdir(tmpDir, { recursive: true });
  const startMs = performance.now();
  const specs = plan(options);
  const ctx: ScenarioContext = {
    cwd: root.pathname,
    tmpDir: tmpDir.pathname.replace(/\/$/, ""),
    seed: options.seed,
    symbols: options.symbols,
    simTickMs: options.simTickMs,
    blaster: null,
    blasterFrames: 0,
    blasterUrls: null,
  };
  const results: ScenarioResult[] = [];
  const failures: Failure[] = [];
  let blasterInfo: ReportHeader["blaster"] = null;
  try {
    console.error(`e2e: ${specs.length} scenarios`);
    for (const spec of specs) {
      if (spec.source === "blast" && ctx.blaster === null) {
        const args: BlastChildArgs = {
          seed: options.seed,
          symbols: options.symbols,
          frames: options.satFrames,
          eventsPerSecond: BLAST_EVENTS_PER_SECOND,
          highWaterBytes: BLAST_HIGH_WATER_BYTES,
        };
        console.error(`  generating ${options.satFrames} frames for saturation...`);
        ctx.blaster = BenchChild.spawn({
          name: "blaster",
          script: new URL("./e2e/blast_child.ts", import.meta.url),
          args,
          permissions: childPermissions(ctx.tmpDir),
          cwd: ctx.cwd,
        });
        const ready = await ctx.blaster.waitFor<
          { restUrl: string; wsUrl: string; frames: number; prepMs: number }
        >("READY", 300_000);
        ctx.blasterUrls = { restUrl: ready.restUrl, wsUrl: ready.wsUrl };
        ctx.blasterFrames = ready.frames;
        blasterInfo = { frames: ready.frames, prepMs: ready.prepMs };
      }
      try {
        const result = await runScenario(spec, ctx);
        results.push(result);
        console.error(progress(result));
      } catch (err) {
        // One broken scenario must not cost the rest of the run; it is listed in the report.
        failures.push({ spec, error: String((err as Error)?.message ?? err) });
        console.error(`  ${spec.label} x${spec.consumers}: FAILED: ${(err as Error)?.message}`);
      }
    }
  } finally {
    await ctx.blaster?.close();
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
  const header: ReportHeader = {
    command: ["deno task bench:e2e", ...Deno.args].join(" "),
    warmS: options.warmS,
    measureS: options.measureS,
    satWarmS: options.satWarmS,
    satMeasureS: options.satMeasureS,
    symbols: options.symbols,
    simTickMs: options.simTickMs,
    elapsedS: (performance.now() - startMs) / 1000,
    blaster: blasterInfo,
  };
  const text = renderReport(header, results, failures);
  console.log(text);
  await Deno.mkdir(resultsDir, { recursive: true });
  await Deno.writeTextFile(new URL("./e2e.md", resultsDir), text);
  await Deno.writeTextFile(
    new URL("./e2e.json", resultsDir),
    JSON.stringify({ header, results, failures }, null, 1) + "\n",
  );
}

if (import.meta.main) await main();
