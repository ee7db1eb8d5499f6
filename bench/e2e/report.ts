/**
 * The end-to-end benchmark's Markdown: the main table (rates x consumers x pools), a details
 * table, verdicts against the targets, and the method notes.
 *
 * @module
 */

import type { Percentiles } from "./latency.ts";
import type { ScenarioResult } from "./scenario.ts";

/** Targets (issue) and floors (MISSION R-22) the verdicts check. */
export const E2E_TARGETS = Object.freeze({
  /** Simulator send to delivery, p99, at the 10k rate, ms. */
  p99AtTenKMs: 2,
  /** Events per second the pipeline must take. */
  ceilingEventsPerSecond: 100_000,
  /** Share of heap bytes per event pooled mode must save against unpooled. */
  bytesSavedShare: 0.6,
  /** R-22 floors: e2e p99 at sustained load (ms), GC pause p99 (ms), bytes saved share. */
  r22P99Ms: 150,
  r22GcP99Ms: 10,
  r22BytesSavedShare: 0.4,
});

/**
 * Saturation rounds where the pipeline used less than this share of a core were limited by the
 * source or by other jobs on the host, not by the pipeline: they are flagged, and the ceiling is
 * taken from the rounds above it when there are any.
 */
export const SAT_CPU_BOUND_SHARE = 0.85;

function cpuShareOf(r: ScenarioResult): number {
  return r.pipeline.cpuMs / 1000 / r.windowS;
}

function cpuBound(r: ScenarioResult): boolean {
  const saturation = r.spec.source === "blast" || r.spec.framesPerSecond === 0;
  return !saturation || cpuShareOf(r) >= SAT_CPU_BOUND_SHARE;
}

/** Context printed in the header. */
export interface ReportHeader {
  /** The command that produced the run. */
  command: string;
  /** Seconds of warm-up and measurement at fixed rates and at saturation. */
  warmS: number;
  measureS: number;
  satWarmS: number;
  satMeasureS: number;
  /** Instruments. */
  symbols: number;
  /** Simulator scheduler period, ms. */
  simTickMs: number;
  /** Wall time of the whole run, s. */
  elapsedS: number;
  /** Blaster frames and their preparation time (null when no saturation run). */
  blaster: { frames: number; prepMs: number } | null;
}

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function count(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  return value.toFixed(0);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)} %`;
}

/** Events dispatched per second in the window. */
export function eventsPerSecond(r: ScenarioResult): number {
  return r.pipeline.dispatched / r.windowS;
}

/** Heap bytes allocated per dispatched event (each event reaches every consumer). */
export function bytesPerEvent(r: ScenarioResult): number {
  return r.pipeline.dispatched === 0 ? NaN : r.pipeline.allocatedBytes / r.pipeline.dispatched;
}

function poolsOf(r: ScenarioResult): string {
  if (r.spec.floor === true) return "— (bare WebSocket)";
  return r.spec.unpooled ? "unpooled" : "pooled";
}

function rateOf(r: ScenarioResult): string {
  if (r.spec.source === "blast") return `saturation #${r.spec.label.replace(/^sat/, "")}`;
  if (r.spec.framesPerSecond === 0) return "saturation (simulators flat out)";
  return r.spec.label;
}

/** Display names of the venues. */
const PROVIDER_TITLES: Record<string, string> = {
  binance: "Binance",
  okx: "OKX",
  kraken: "Kraken",
};

/** Venues with per-venue columns: those of the first result with several. */
function perProviderColumns(results: readonly ScenarioResult[]): string[] {
  const first = results.find((r) => (r.byProvider?.length ?? 0) > 1);
  return first?.byProvider?.map((b) => b.provider) ?? [];
}

function p(l: Percentiles | null, field: "p50" | "p99" | "p999" | "max"): string {
  return l === null ? "–" : ms(l[field]);
}

/**
 * The main table. Results of several-venue runs get one more column per venue: that venue's
 * e2e p99 (its keyed events only).
 */
export function renderMainTable(results: readonly ScenarioResult[]): string {
  const venues = perProviderColumns(results);
  const venueHead = venues.map((v) => ` ${PROVIDER_TITLES[v] ?? v} e2e p99 ms |`).join("");
  const venueRule = venues.map(() => "---:|").join("");
  const lines = [
    `| source rate | consumers | pools | events/s | e2e p50 ms | e2e p99 ms | e2e p99.9 ms |${venueHead} in-proc p99 ms | B/event | GC pauses | GC p99 ms | GC max ms | loop lag max ms | pipeline CPU | host busy |`,
    `|---|---:|---|---:|---:|---:|---:|${venueRule}---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of results) {
    const host = r.pipeline.host;
    const venueCells = venues.map((v) =>
      ` ${p(r.byProvider?.find((b) => b.provider === v)?.endToEnd ?? null, "p99")} |`
    ).join("");
    lines.push(
      `| ${rateOf(r)} | ${r.spec.consumers} | ${poolsOf(r)} | ${count(eventsPerSecond(r))}${
        r.sourceExhausted ? " (source ran dry)" : ""
      }${cpuBound(r) ? "" : " (not CPU-bound)"} | ${p(r.endToEnd, "p50")} | ${
        p(r.endToEnd, "p99")
      } | ${p(r.endToEnd, "p999")} |${venueCells} ${p(r.inProcess, "p99")} | ${
        bytesPerEvent(r).toFixed(0)
      } | ${r.gc.aligned ? r.gc.count : "n/a"} | ${ms(r.gc.p99Ms)} | ${ms(r.gc.maxMs)} | ${
        ms(r.pipeline.loopLagMaxMs)
      } | ${pct(r.pipeline.cpuMs / 1000 / r.windowS)} | ${
        host === null ? "–" : `${pct(host.busyShare)} of ${host.cpus}`
      } |`,
    );
  }
  return lines.join("\n");
}

/** The details table: wire latency, match rates, queues, clocks. */
export function renderDetailsTable(results: readonly ScenarioResult[]): string {
  const lines = [
    "| source rate | consumers | pools | frames/s | deliveries/s | matched | wire p50 ms | wire p99 ms | in-proc p50 ms | in-proc max ms | e2e max ms | dropped | coalesced | books live | GC total ms | clock offset ms (±rtt/2) | drift ms |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const pr = r.pipeline;
    const offset = r.clocks.pipeline.offsetMs - r.clocks.source.offsetMs;
    const sourceRtt = Math.max(...(r.clocks.sources ?? [r.clocks.source]).map((c) => c.rttMs));
    const rtt = Math.max(r.clocks.pipeline.rttMs, sourceRtt) / 2;
    lines.push(
      `| ${rateOf(r)} | ${r.spec.consumers} | ${poolsOf(r)} | ${count(pr.frames / r.windowS)} | ${
        count(pr.delivered / r.windowS)
      } | ${pct(r.matchedShare)} | ${p(r.wire, "p50")} | ${p(r.wire, "p99")} | ${
        p(r.inProcess, "p50")
      } | ${p(r.inProcess, "max")} | ${
        p(r.endToEnd, "max")
      } | ${pr.dropped} | ${pr.coalesced} | ${pr.booksLive}/${pr.books} | ${ms(r.gc.totalMs)} | ${
        offset.toFixed(3)
      } (±${rtt.toFixed(3)}) | ${r.clocks.driftMs.toFixed(3)} |`,
    );
  }
  return lines.join("\n");
}

/** Verdict lines against the targets and the R-22 floors. */
export function renderVerdicts(results: readonly ScenarioResult[]): string[] {
  const t = E2E_TARGETS;
  const out: string[] = [];
  const pooled = results.filter((r) => !r.spec.unpooled && r.spec.floor !== true);

  const tenK = pooled.filter((r) => r.spec.source === "sim" && r.spec.framesPerSecond === 10_000);
  if (tenK.length > 0) {
    const parts = tenK.map((r) =>
      `${r.spec.consumers} consumer(s): ${p(r.endToEnd, "p99")} ms (in-process ${
        p(r.inProcess, "p99")
      } ms)`
    );
    const met = tenK.every((r) => r.endToEnd !== null && r.endToEnd.p99 < t.p99AtTenKMs);
    out.push(
      `${met ? "MET" : "MISSED"}: e2e p99 < ${t.p99AtTenKMs} ms at 10k events/s (pooled) — ${
        parts.join("; ")
      }`,
    );
  }

  // The best round per consumer count: contention from other jobs only lowers throughput.
  // Rounds where the pipeline was not CPU-bound measured the source or the host instead.
  const satRounds = pooled.filter((x) => x.spec.source === "blast");
  const sat: ScenarioResult[] = [];
  for (const r of satRounds) {
    const boundAlternative = satRounds.some((x) =>
      x.spec.consumers === r.spec.consumers && cpuBound(x)
    );
    if (!cpuBound(r) && boundAlternative) continue;
    const at = sat.findIndex((x) => x.spec.consumers === r.spec.consumers);
    if (at === -1) sat.push(r);
    else if (eventsPerSecond(r) > eventsPerSecond(sat[at])) sat[at] = r;
  }
  sat.sort((a, b) => a.spec.consumers - b.spec.consumers);
  if (sat.length > 0) {
    const parts = sat.map((r) => {
      const cpuShare = cpuShareOf(r);
      return `${r.spec.consumers} consumer(s): ${
        count(eventsPerSecond(r))
      } events/s (best CPU-bound round)${
        r.sourceExhausted ? " (source ran dry: a lower bound)" : ""
      } at ${pct(cpuShare)} of a core (projected to a full core: ${
        count(eventsPerSecond(r) / cpuShare)
      }/s, an estimate only)`;
    });
    const met = sat.every((r) => eventsPerSecond(r) >= t.ceilingEventsPerSecond);
    out.push(
      `${met ? "MET" : "MISSED"}: throughput ceiling ≥ ${
        count(t.ceilingEventsPerSecond)
      } events/s (pooled) — ${parts.join("; ")}`,
    );
  }

  // Fixed rates only: at saturation, messages and consumer drains batch up to varying degrees,
  // which moves the per-event allocation by hundreds of bytes between identical rounds.
  const pairs: { label: string; saved: number }[] = [];
  for (const r of pooled.filter((x) => x.spec.source === "sim")) {
    const base = results.find((u) =>
      u.spec.unpooled && u.spec.floor !== true && u.spec.label === r.spec.label &&
      u.spec.consumers === r.spec.consumers
    );
    if (base === undefined) continue;
    pairs.push({
      label: `${rateOf(r)}/${r.spec.consumers}c: ${bytesPerEvent(r).toFixed(0)} vs ${
        bytesPerEvent(base).toFixed(0)
      } B`,
      saved: 1 - bytesPerEvent(r) / bytesPerEvent(base),
    });
  }
  if (pairs.length > 0) {
    const met = pairs.filter((x) => x.saved >= t.bytesSavedShare).length;
    out.push(
      `${met === pairs.length ? "MET" : "MISSED"}: pooled allocates ≥ ${
        pct(t.bytesSavedShare)
      } fewer heap bytes per event than unpooled (fixed rates) — met in ${met} of ${pairs.length}: ${
        pairs.map((x) => `${x.label} (${pct(x.saved)} fewer)`).join("; ")
      }`,
    );
    const floor = pairs.filter((x) => x.saved >= t.r22BytesSavedShare).length;
    out.push(
      `${floor === pairs.length ? "MET" : "MISSED"}: R-22 floor ≥ ${
        pct(t.r22BytesSavedShare)
      } fewer bytes — met in ${floor} of ${pairs.length}`,
    );
  }

  out.push(...renderBreakdown(results));

  // Fixed rates only: a simulator run flat out (framesPerSecond 0) is a saturation row.
  const sustained = pooled.filter((r) => r.spec.source === "sim" && r.spec.framesPerSecond > 0);
  if (sustained.length > 0) {
    const worstP99 = Math.max(...sustained.map((r) => r.endToEnd?.p99 ?? Infinity));
    const worstGc = Math.max(...sustained.map((r) => r.gc.p99Ms));
    out.push(
      `${
        worstP99 < t.r22P99Ms ? "MET" : "MISSED"
      }: R-22 floor e2e p99 < ${t.r22P99Ms} ms at fixed rates (pooled) — worst ${ms(worstP99)} ms`,
    );
    out.push(
      `${
        worstGc < t.r22GcP99Ms ? "MET" : "MISSED"
      }: R-22 floor GC pause p99 < ${t.r22GcP99Ms} ms at fixed rates (pooled) — worst ${
        ms(worstGc)
      } ms`,
    );
  }
  return out;
}

/**
 * Where the bytes go (informational lines): the runtime's floor (a bare WebSocket reader), the
 * gateway's own share above it pooled and unpooled, and the cost of each extra consumer.
 */
export function renderBreakdown(results: readonly ScenarioResult[]): string[] {
  const out: string[] = [];
  const same = (a: ScenarioResult, b: ScenarioResult): boolean =>
    a.spec.label === b.spec.label && a.spec.floor !== true && b.spec.floor !== true;
  for (const floor of results.filter((r) => r.spec.floor === true)) {
    const floorBytes = bytesPerEvent(floor);
    const parts: string[] = [];
    for (const r of results) {
      if (r.spec.floor === true || r.spec.unpooled || r.spec.label !== floor.spec.label) continue;
      const base = results.find((u) =>
        same(u, r) && u.spec.unpooled && u.spec.consumers === r.spec.consumers
      );
      if (base === undefined) continue;
      const own = bytesPerEvent(r) - floorBytes;
      const ownBase = bytesPerEvent(base) - floorBytes;
      parts.push(
        `${r.spec.consumers}c: pooled ${own.toFixed(0)} B vs unpooled ${ownBase.toFixed(0)} B (${
          pct(1 - own / ownBase)
        } fewer)`,
      );
    }
    const latency = floor.endToEnd === null
      ? ""
      : `; simulator send -> that reader: p50 ${ms(floor.endToEnd.p50)} ms, p99 ${
        ms(floor.endToEnd.p99)
      } ms, p99.9 ${ms(floor.endToEnd.p999)} ms (the part of e2e the pipeline cannot remove)`;
    out.push(
      `INFO: runtime floor at ${floor.spec.label}: a bare WebSocket reader allocates ${
        floorBytes.toFixed(0)
      } B per frame (empty handler plus the benchmark's key parse)${latency}; the gateway's own bytes per event above the floor — ${
        parts.length === 0 ? "no pair at that rate" : parts.join("; ")
      }`,
    );
  }
  const extra: string[] = [];
  for (const r of results) {
    if (r.spec.floor === true || r.spec.consumers !== 1 || r.spec.source !== "sim") continue;
    const three = results.find((u) =>
      same(u, r) && u.spec.unpooled === r.spec.unpooled && u.spec.consumers === 3
    );
    if (three === undefined) continue;
    extra.push(
      `${rateOf(r)} ${poolsOf(r)}: ${((bytesPerEvent(three) - bytesPerEvent(r)) / 2).toFixed(0)} B`,
    );
  }
  if (extra.length > 0) {
    out.push(
      `INFO: each extra consumer adds (per event; its plain clone and queueing) — ${
        extra.join("; ")
      }`,
    );
  }
  return out;
}

/** Method notes: how each number is obtained (kept next to the numbers on purpose). */
export const METHOD_NOTES = `## Method

- **Processes.** Three Deno processes on the 2-core host: the load source, the measured pipeline
  and this orchestrator (idle during windows). The pipeline child wires the gateway's hot path:
  \`BinanceAdapter\` (WebSocket client, decode, normalize, book assembly) -> \`Conductor\` ->
  \`Dispatcher\` -> N \`Consumer\`s from \`ConsumerRegistry\`, each subscribed to all 50 symbols x
  all market kinds and read with \`onEvent\`. The six schema pools come from \`createSchemaPools\`
  with the gateway's default capacities; *unpooled* uses \`PoolManager({ unpooled: true })\`: every
  acquisition is a fresh \`create()\`, every release drops the object (same capacity bounds).
- **Fixed rates.** Source = the project's Binance simulator (\`startBinanceSim\`, generated market,
  50 symbols: the 12 defaults + 38 clones). Its rate knob counts generator events, of which about
  two thirds become frames, so during warm-up the source child steers \`setRate\` until the frames
  it sends per second match the row's rate (1k, 10k, 50k): *events/s* is therefore canonical
  events entering the pipeline per second (the events/s column shows what was achieved).
- **Saturation.** The simulator itself tops out near 70k frames/s on one core (generation and
  encoding cost ~7 µs a frame), below what the pipeline takes, so the saturation source is the
  *blaster*: the simulator's own generator, Binance feed and stream hub run up front on a virtual
  clock to produce the exact frames a simulator connection would carry; they are then pushed as
  fast as the pipeline drains its socket (kept ≤ 2 MB unsent). The same child answers exchangeInfo and
  depth snapshots with the simulator's encoders; each symbol's snapshot is taken right after its
  first diff, so the diff stream continues it. Ceiling = events dispatched per second while the
  source is never empty, from the best of the rounds (\`--sat-rounds\`) in which the pipeline used
  at least 85 % of a core; rounds below that were limited by the blaster or by other jobs on the
  host and are flagged *not CPU-bound*. Latency at saturation is queueing in socket buffers, not a pipeline
  property.
- **Latency.** *e2e* = consumer delivery (\`onEvent\` call) minus the source's \`WebSocket.send()\`
  call for the same event. The source logs \`[key, send time]\` for every data frame (the
  simulator child wraps \`WebSocket.prototype.send\` in its own process — bench instrumentation,
  never loaded by the gateway); the pipeline logs \`[key, delivery time, recvTsMs]\` per delivery
  into preallocated typed arrays; the orchestrator joins them afterwards. The key is
  \`(symbol, stream, provider id)\`: trade id \`t\`, bookTicker \`u\`, diff-depth \`u\` (klines and
  snapshots carry no unique id: they count in *in-proc* only). Times are
  \`performance.timeOrigin + performance.now()\` in each process; the offset between the two
  children is measured NTP-style over stdin/stdout (25 probes, shortest round trip wins) before
  and after the run and subtracted (details table: offset, ±half round trip, drift). *wire* =
  adapter receive stamp minus send; *in-proc* = delivery minus the adapter's receive stamp
  (\`recvTsMs\`, every event). Percentiles are exact (sorted samples). The simulator generates in
  batches, one per scheduler tick (\`tickMs\`: its default is 10 ms; this benchmark runs it at
  \`--sim-tick-ms\`, default 1 ms, so frames leave nearly continuously), sends each batch
  synchronously, and relays every socket through an in-process TCP front (\`tcp_front.ts\`, there
  for its abrupt-drop faults): *e2e* and *wire* therefore include the simulator finishing its
  batch and one more event-loop hop in the simulator process. The floor rows (a bare WebSocket
  reader in the pipeline's place, at each rate) show that part alone; the pipeline's own share is *in-proc*.
- **Heap bytes per event.** \`node:v8\` \`getHeapStatistics().total_allocated_bytes\` in the
  pipeline process across the window, divided by events dispatched in the window (each event
  reaches every consumer; a 3-consumer event counts once). The pooled-vs-unpooled verdicts use
  the fixed-rate pairs: at saturation messages and consumer drains batch up by varying amounts,
  which moves bytes/event by hundreds of bytes between identical rounds. Everything in the process counts:
  WebSocket message events and frame strings, decode, normalization, per-consumer clones,
  consumer queues, timers, and the benchmark's own recording (typed arrays, allocated up front).
- **GC pauses.** The pipeline child runs with \`--v8-flags=--trace-gc,--trace-gc-nvp,--expose-gc\`
  (DENO_NOTES §4): one JSON line per pause on stdout (\`"pause"\` = the stop-the-world time;
  incremental marking steps are not separate lines). A forced \`gc()\` right before the window
  (also giving both pool modes the same clean heap) maps V8's clock onto the child's; pauses
  starting inside the window count.
- **Loop lag.** \`LoopLagSampler\` (src/telemetry) at 10 ms in the pipeline child; max and p99 of
  its samples in the window. At saturation it shows how long timers wait while the built-in
  WebSocket keeps handing over buffered messages: while data is ready its read loop lets timers
  run only now and then.
- **Noise.** The host is shared: *host busy* is the whole machine's CPU use in the window
  (\`node:os\` \`cpus()\` times), which includes the source child and any other job on the machine. Latency tails
  and loop lag move with it; compare rows of one run, not runs of different days.`;
