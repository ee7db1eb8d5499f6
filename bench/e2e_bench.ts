/**
 * `deno task bench:e2e`: the end-to-end benchmark. Simulator -> WebSocket -> adapter ->
 * conductor -> dispatcher -> 1 and 3 in-process consumers, 50 symbols, at fixed rates and to
 * saturation, pooled and unpooled in the same run. Two suites: `binance` (one venue, 50
 * symbols) and `multi` (Binance, OKX and Kraken simulators, 50 symbols each, 150 books; the
 * total rate split evenly between them; per-venue e2e p99 columns). Prints a Markdown report and
 * writes it to `bench/results/e2e.md` (raw numbers to `bench/results/e2e.json`; a suite not run
 * keeps its numbers from the previous run). Method: `bench/e2e/report.ts`.
 *
 * Flags (defaults keep the whole run under about 8 minutes on 2 cores):
 *   --suites=binance,multi              suites to run (`--suites=binance`: the Binance-only run)
 *   --multi-warm-s=2 --multi-measure-s=5    multi: fixed-rate warm-up and window, seconds
 *   --multi-rates=1000,10000,50000      multi: fixed total rates, events per second
 *   --multi-unpooled-rates=10000        multi: rates also run unpooled
 *   --multi-floor-rates=10000           multi: rates with a bare-WebSocket floor run
 *   --multi-sat / --no-multi-sat        multi: saturation, the three simulators flat out
 *   --multi-sat-events=200000           multi: generator events/s asked of each simulator then
 * Binance suite:
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
  type BenchProvider,
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
  suites: ("binance" | "multi")[];
  multiWarmS: number;
  multiMeasureS: number;
  multiRates: number[];
  multiUnpooledRates: number[];
  multiFloorRates: number[];
  multiSat: boolean;
  multiSatEvents: number;
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
      suites: { type: "string", default: "binance,multi" },
      "multi-warm-s": { type: "string", default: "2" },
      "multi-measure-s": { type: "string", default: "5" },
      "multi-rates": { type: "string", default: "1000,10000,50000" },
      "multi-unpooled-rates": { type: "string", default: "10000" },
      "multi-floor-rates": { type: "string", default: "10000" },
      "multi-sat": { type: "boolean", default: true },
      "no-multi-sat": { type: "boolean", default: false },
      "multi-sat-events": { type: "string", default: "200000" },
    },
    strict: true,
  });
  const modes = values.modes.split(",").map((m) => m.trim());
  for (const m of modes) {
    if (m !== "pooled" && m !== "unpooled") {
      throw new RangeError(`--modes: expected pooled and/or unpooled, found "${m}"`);
    }
  }
  const suites = values.suites.split(",").map((m) => m.trim());
  for (const m of suites) {
    if (m !== "binance" && m !== "multi") {
      throw new RangeError(`--suites: expected binance and/or multi, found "${m}"`);
    }
  }
  const optionalList = (text: string, what: string): number[] =>
    text.trim() === "" ? [] : numberList(text, what);
  return {
    suites: suites as ("binance" | "multi")[],
    multiWarmS: positive(values["multi-warm-s"], "multi-warm-s"),
    multiMeasureS: positive(values["multi-measure-s"], "multi-measure-s"),
    multiRates: numberList(values["multi-rates"], "multi-rates"),
    multiUnpooledRates: optionalList(values["multi-unpooled-rates"], "multi-unpooled-rates"),
    multiFloorRates: optionalList(values["multi-floor-rates"], "multi-floor-rates"),
    multiSat: values["multi-sat"] && !values["no-multi-sat"],
    multiSatEvents: positive(values["multi-sat-events"], "multi-sat-events"),
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

/** The three venues, in key order. */
const MULTI_PROVIDERS: BenchProvider[] = ["binance", "okx", "kraken"];

/**
 * The several-venue scenarios: every rate pooled at each consumer count, unpooled at the
 * `multiUnpooledRates`, a floor at the `multiFloorRates`, and the simulators flat out.
 */
function planMulti(o: Options): ScenarioSpec[] {
  const specs: ScenarioSpec[] = [];
  for (const rate of o.multiRates) {
    const base = {
      label: rateLabel(rate),
      source: "sim" as const,
      framesPerSecond: rate,
      providers: MULTI_PROVIDERS,
      warmMs: o.multiWarmS * 1000,
      measureMs: o.multiMeasureS * 1000,
    };
    const modes = o.multiUnpooledRates.includes(rate) ? [false, true] : [false];
    for (const consumers of o.consumers) {
      for (const unpooled of modes) specs.push({ ...base, consumers, unpooled });
    }
    if (o.multiFloorRates.includes(rate)) {
      specs.push({ ...base, consumers: 0, unpooled: false, floor: true });
    }
  }
  for (const consumers of o.multiSat ? o.consumers : []) {
    specs.push({
      label: "max",
      source: "sim",
      framesPerSecond: 0,
      simEventsPerSecond: o.multiSatEvents,
      providers: MULTI_PROVIDERS,
      consumers,
      unpooled: false,
      warmMs: o.multiWarmS * 1000,
      measureMs: o.multiMeasureS * 1000,
    });
  }
  return specs;
}

function progress(r: ScenarioResult): string {
  const e = r.endToEnd;
  const mode = r.spec.floor === true ? "floor" : r.spec.unpooled ? "unpooled" : "pooled";
  const venues = (r.byProvider ?? []).length < 2
    ? ""
    : ` (${
      r.byProvider!.map((b) => `${b.provider} ${b.endToEnd?.p99.toFixed(2) ?? "-"}`).join(", ")
    })`;
  const multi = (r.spec.providers ?? []).length > 1 ? "3 venues " : "";
  return `  ${multi}${r.spec.label} x${r.spec.consumers} ${mode}: ${
    (r.pipeline.dispatched / r.windowS).toFixed(0)
  } ev/s, e2e p99 ${e === null ? "-" : e.p99.toFixed(3)} ms${venues}, ${
    (r.pipeline.allocatedBytes / Math.max(1, r.pipeline.dispatched)).toFixed(0)
  } B/ev, GC max ${r.gc.maxMs.toFixed(2)} ms`;
}

/** A scenario that did not complete, and why. */
interface Failure {
  spec: ScenarioSpec;
  error: string;
}

function failureLines(failures: readonly Failure[]): string[] {
  return failures.map((f) =>
    `- FAILED to run: ${f.spec.label} x${f.spec.consumers} ${
      f.spec.floor === true ? "floor" : f.spec.unpooled ? "unpooled" : "pooled"
    }: ${f.error.split("\n")[0]}`
  );
}

function renderBinance(
  header: ReportHeader,
  results: readonly ScenarioResult[],
  failures: readonly Failure[],
): string[] {
  const blaster = header.blaster === null
    ? ""
    : `; saturation: ${header.satWarmS} s warm-up + ${header.satMeasureS} s window, ${header.blaster.frames} frames generated in ${
      (header.blaster.prepMs / 1000).toFixed(1)
    } s`;
  return [
    "## Binance, 50 symbols",
    "",
    `${header.symbols} symbols, simulator tick ${header.simTickMs} ms; fixed rates: ${header.warmS} s warm-up + ${header.measureS} s window${blaster}. ` +
    `Suite ${header.elapsedS.toFixed(0)} s.`,
    "",
    renderMainTable(results),
    "",
    "### Verdicts",
    "",
    ...renderVerdicts(results).map((v) => `- ${v}`),
    ...failureLines(failures),
    "",
    "### Details",
    "",
    renderDetailsTable(results),
    "",
  ];
}

/** Context of the several-venue suite. */
interface MultiHeader {
  warmS: number;
  measureS: number;
  symbols: number;
  simTickMs: number;
  satEventsPerSecond: number | null;
  elapsedS: number;
}

function renderMulti(
  header: MultiHeader,
  results: readonly ScenarioResult[],
  failures: readonly Failure[],
): string[] {
  const flatOut = results.filter((r) => r.spec.framesPerSecond === 0 && r.spec.floor !== true);
  return [
    `## 3 providers (Binance + OKX + Kraken) x ${header.symbols} symbols = ${
      3 * header.symbols
    } books`,
    "",
    `Each simulator serves the same ${header.symbols} symbols (OKX and Kraken at +3 and -4 bp, as in the gateway) at a third of the row's rate, tick ${header.simTickMs} ms; ` +
    `every consumer is subscribed to all ${
      3 * header.symbols
    } books x all market kinds. Shorter rows than the Binance suite (${header.warmS} s warm-up + ${header.measureS} s window) to keep the whole task near 8 minutes. ` +
    "Pool capacities are the gateway defaults x 3 (WsFrame, ProviderRaw, CanonicalEvent; see Method). " +
    `Saturation: the three simulators flat out (${
      header.satEventsPerSecond ?? "-"
    } generator events/s asked of each): the simulators, not the pipeline, are the limit on 2 cores (pipeline CPU column). ` +
    `Suite ${header.elapsedS.toFixed(0)} s.`,
    "",
    renderMainTable(results),
    "",
    "### Verdicts",
    "",
    ...renderVerdicts(results).map((v) => `- ${v}`),
    ...flatOut.map((r) =>
      `- INFO: simulators flat out, ${r.spec.consumers} consumer(s): ${
        (r.pipeline.dispatched / r.windowS / 1000).toFixed(1)
      }k events/s with the pipeline at ${
        ((r.pipeline.cpuMs / 1000 / r.windowS) * 100).toFixed(0)
      } % of a core (a lower bound of the 3-venue ceiling; the Binance blaster rows above measure the pipeline's)`
    ),
    ...failureLines(failures),
    "",
    "### Details",
    "",
    renderDetailsTable(results),
    "",
  ];
}

/** What `e2e.json` holds (`multi` absent in runs saved before the 3-venue suite). */
interface SavedRun {
  header: ReportHeader | null;
  results: ScenarioResult[];
  failures: Failure[];
  multi?: { header: MultiHeader; results: ScenarioResult[]; failures: Failure[] } | null;
}

function renderReport(saved: SavedRun, command: string, elapsedS: number): string {
  return [
    "# End-to-end benchmark: simulator -> WebSocket -> adapter -> conductor -> dispatcher -> consumers",
    "",
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${
      new Date().toISOString()
    }, ${navigator.hardwareConcurrency} cores. Command: \`${command}\`. Whole run ${
      elapsedS.toFixed(0)
    } s.`,
    "",
    "events/s = canonical events dispatched per second (each to every consumer). e2e = simulator `send()` to consumer delivery; in-proc = adapter receive stamp to delivery. B/event = heap bytes allocated in the pipeline process per dispatched event. CPU = pipeline process, share of one core; host busy = whole machine.",
    "",
    ...(saved.header === null ? [] : renderBinance(saved.header, saved.results, saved.failures)),
    ...(saved.multi == null
      ? []
      : renderMulti(saved.multi.header, saved.multi.results, saved.multi.failures)),
    METHOD_NOTES,
    "",
    MULTI_METHOD_NOTES,
    "",
  ].join("\n");
}

/** How the 3-venue suite differs from the Binance one (kept next to the numbers). */
const MULTI_METHOD_NOTES = `### Method of the 3-provider suite

- **Sources.** Three simulator children (\`startBinanceSim\`, \`startOkxSim\`, \`startKrakenSim\`),
  each with the 50 benchmark symbols (\`benchSymbolSpecs\`: the 12 defaults + 38 clones; the OKX
  and Kraken simulators take the same \`symbolSpecs\`), each steered to a third of the row's
  rate. Until their warm-up they run at 1000 generator events/s so the 150 books sync and the
  clocks are probed on a quiet host. Binance steers on frames sent; OKX and Kraken on the
  canonical events their frames carry (a Kraken trade message holds all trades of a tick),
  counted by the send log. The OKX simulator gained a \`setRate\` for this (the others had one).
- **Pipeline.** One \`BinanceAdapter\`, \`OkxAdapter\` and \`KrakenAdapter\` (default channels: Binance
  trade/depth/bookTicker/kline, OKX trades/books/tickers, Kraken trade/book/ticker) into one
  \`Conductor\` -> \`Dispatcher\`; each consumer subscribes to all 150 books x all market kinds.
  Pool capacities are the gateway defaults x 3 (with the defaults, 3 venues x 50 symbols at
  10k events/s exhausted \`CanonicalEvent\` during the initial book sync).
- **Latency.** Each simulator child wraps \`WebSocket.prototype.send\` exactly as the Binance one
  does; each child's clock offset is probed separately and its send times are moved onto the
  pipeline's clock before the join. Keys (\`bench/e2e/frame_key.ts\`): OKX \`tradeId\`, books
  \`seqId\` (updates), tickers \`ts\`; Kraken \`trade_id\` (one per trade item) and, for book
  updates, the message's position in that symbol's book messages (v2 books carry no sequence;
  the adapter numbers its book events the same way). Kraken tickers carry no id and count in
  *in-proc* only, like klines and snapshots. The per-venue columns are each venue's keyed events.
- **Floor.** One bare WebSocket per venue in the pipeline's place (OKX and Kraken subscribed
  with their own subscribe messages).`;

async function runSuite(
  specs: readonly ScenarioSpec[],
  ctx: ScenarioContext,
  options: Options,
  onBlaster: (info: ReportHeader["blaster"]) => void,
): Promise<{ results: ScenarioResult[]; failures: Failure[] }> {
  const results: ScenarioResult[] = [];
  const failures: Failure[] = [];
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
      onBlaster({ frames: ready.frames, prepMs: ready.prepMs });
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
  return { results, failures };
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  const root = new URL("../", import.meta.url);
  const resultsDir = new URL("./results/", import.meta.url);
  const jsonUrl = new URL("./e2e.json", resultsDir);
  const command = ["deno task bench:e2e", ...Deno.args].join(" ");
  let previous: SavedRun | null = null;
  try {
    previous = JSON.parse(await Deno.readTextFile(jsonUrl)) as SavedRun;
  } catch {
    previous = null; // first run
  }
  if (options.fromJson) {
    if (previous === null) throw new Error("expected bench/results/e2e.json, found none");
    const text = renderReport(
      { ...previous, failures: previous.failures ?? [] },
      command,
      (previous.header?.elapsedS ?? 0) + (previous.multi?.header.elapsedS ?? 0),
    );
    console.log(text);
    await Deno.writeTextFile(new URL("./e2e.md", resultsDir), text);
    return;
  }
  const tmpDir = new URL("./results/.e2e_tmp/", import.meta.url);
  await Deno.mkdir(tmpDir, { recursive: true });
  const startMs = performance.now();
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
  // A suite not run keeps its numbers from the previous run.
  const saved: SavedRun = {
    header: previous?.header ?? null,
    results: previous?.results ?? [],
    failures: previous?.failures ?? [],
    multi: previous?.multi ?? null,
  };
  let blasterInfo: ReportHeader["blaster"] = null;
  try {
    if (options.suites.includes("binance")) {
      const specs = plan(options);
      const suiteStartMs = performance.now();
      console.error(`e2e binance: ${specs.length} scenarios`);
      const run = await runSuite(specs, ctx, options, (info) => blasterInfo = info);
      await ctx.blaster?.close();
      ctx.blaster = null;
      saved.header = {
        command,
        warmS: options.warmS,
        measureS: options.measureS,
        satWarmS: options.satWarmS,
        satMeasureS: options.satMeasureS,
        symbols: options.symbols,
        simTickMs: options.simTickMs,
        elapsedS: (performance.now() - suiteStartMs) / 1000,
        blaster: blasterInfo,
      };
      saved.results = run.results;
      saved.failures = run.failures;
    }
    if (options.suites.includes("multi")) {
      const specs = planMulti(options);
      const suiteStartMs = performance.now();
      console.error(
        `e2e 3 providers: ${specs.length} scenarios (${options.multiWarmS} s warm-up + ${options.multiMeasureS} s window per row)`,
      );
      const run = await runSuite(specs, ctx, options, () => {});
      saved.multi = {
        header: {
          warmS: options.multiWarmS,
          measureS: options.multiMeasureS,
          symbols: options.symbols,
          simTickMs: options.simTickMs,
          satEventsPerSecond: options.multiSat ? options.multiSatEvents : null,
          elapsedS: (performance.now() - suiteStartMs) / 1000,
        },
        results: run.results,
        failures: run.failures,
      };
    }
  } finally {
    await ctx.blaster?.close();
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
  const text = renderReport(saved, command, (performance.now() - startMs) / 1000);
  console.log(text);
  await Deno.mkdir(resultsDir, { recursive: true });
  await Deno.writeTextFile(new URL("./e2e.md", resultsDir), text);
  await Deno.writeTextFile(jsonUrl, JSON.stringify(saved, null, 1) + "\n");
}

if (import.meta.main) await main();
