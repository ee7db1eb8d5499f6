/**
 * Child process: the measured pipeline. One adapter per source venue (Binance, OKX, Kraken) ->
 * conductor -> dispatcher -> N in-process consumers, wired as in the gateway, with the six schema
 * pools pooled or unpooled. With `floor` it measures the runtime's share instead: one bare
 * built-in `WebSocket` per venue on the same streams whose `onmessage` only counts (what
 * receiving costs before the gateway does anything).
 * Run with `--v8-flags=--trace-gc,--trace-gc-nvp,--expose-gc`: V8 prints one JSON line per GC
 * pause on stdout, and one forced GC right before the measurement window marks V8's clock.
 *
 * Argument: one JSON object, {@linkcode PipelineChildArgs}. Protocol (`child_io.ts`): prints
 * `READY` once the data connection is open and every book is LIVE (or `syncTimeoutMs` passed);
 * `run` warms up (`PHASE {"phase":"warm"}`), then
 * measures (`PHASE {"phase":"measure"}`) and prints `RESULT` ({@linkcode PipelineResult}) after
 * writing the delivery records `[key, shared-clock delivery ms, recvTsMs]` to `recordsPath`.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import os from "node:os";
import process from "node:process";
import { BinanceAdapter } from "../../src/adapter/binance/mod.ts";
import { KrakenAdapter } from "../../src/adapter/kraken/mod.ts";
import { OkxAdapter } from "../../src/adapter/okx/mod.ts";
import { Conductor } from "../../src/conductor/mod.ts";
import { type Consumer, type ConsumerMessage, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { MARKET_EVENT_KINDS } from "../../src/schema/event_kind.ts";
import { createSchemaPools, DEFAULT_POOL_CAPACITIES } from "../../src/schema/mod.ts";
import { LoopLagSampler } from "../../src/telemetry/mod.ts";
import { reply, serveCommands } from "./child_io.ts";
import { type BenchProvider, FrameKeys, NO_KEY } from "./frame_key.ts";
import { RecordStore } from "./record_store.ts";
import { benchSymbolSpecs } from "./symbol_specs.ts";

/** One venue the pipeline connects to. */
export interface PipelineSource {
  provider: BenchProvider;
  /** Simulator REST base URL. */
  restUrl: string;
  /** Simulator (or blaster) WebSocket URL (Binance: the base; OKX, Kraken: the endpoint). */
  wsUrl: string;
}

/** Arguments of the pipeline child. */
export interface PipelineChildArgs {
  /** The venues, in key order (`frame_key.ts`: the first one is provider index 0). */
  sources: PipelineSource[];
  /** Instruments each source serves (same list as its `benchSymbolSpecs`). */
  symbols: number;
  /** In-process consumers, each subscribed to every stream. */
  consumers: number;
  /** Pools off: every acquisition allocates (the baseline). */
  unpooled: boolean;
  /** Warm-up before the window, ms. */
  warmMs: number;
  /** Measurement window, ms. */
  measureMs: number;
  /** Where the delivery records go. */
  recordsPath: string;
  /** Most delivery records kept (all consumers together). */
  recordsMax: number;
  /** Expected events per second, to allocate the records before the window. */
  expectedEventsPerSecond: number;
  /** Longest wait for the data connection to open, ms. */
  connectTimeoutMs: number;
  /** Longest wait, after that, for every book to be LIVE, ms. */
  syncTimeoutMs: number;
  /** Measure a bare WebSocket reader instead of the pipeline (the runtime floor). */
  floor?: boolean;
}

/** What the pipeline child reports after its window. */
export interface PipelineResult {
  /** Shared-clock start and end of the window, ms. */
  windowStartMs: number;
  windowEndMs: number;
  /** `performance.now()` just before the marker GC, and at the window's ends (V8 alignment). */
  gcMarkNowMs: number;
  windowStartNowMs: number;
  windowEndNowMs: number;
  /** Frames received in the window. */
  frames: number;
  /** Events dispatched in the window (each to every consumer). */
  dispatched: number;
  /** Deliveries in the window, all consumers together. */
  delivered: number;
  /** Events consumers dropped (counted into gaps) in the window. */
  dropped: number;
  /** Events consumers coalesced away (latest-wins kinds) in the window. */
  coalesced: number;
  /** Heap bytes allocated in the window (`total_allocated_bytes`). */
  allocatedBytes: number;
  /** Process CPU time in the window, ms (user + system, all threads). */
  cpuMs: number;
  /**
   * Whole-machine CPU use in the window (`node:os` `cpus()` times): busy share of all cores, 0..1, and the
   * core count; null when the times are unavailable. Includes the source and anything else
   * running on the host (shared machines: other jobs show up here).
   */
  host: { busyShare: number; cpus: number } | null;
  /** Event-loop lag samples in the window (10 ms timer): max and p99, ms. */
  loopLagMaxMs: number;
  loopLagP99Ms: number;
  /** Books LIVE at the window start, of how many. */
  booksLive: number;
  books: number;
  /** Frames received since connecting (to detect a source that ran dry). */
  framesTotal: number;
  /** Deliveries whose event had no receive stamp (excluded from in-process latency). */
  unstamped: number;
  /** Delivery records written, and records refused (store full). */
  records: number;
  recordsDropped: number;
  /** Adapter warnings by type (pool exhaustion, decode errors...), whole run. */
  adapterWarnings: Record<string, number>;
  /** Pool stats at the end of the window. */
  pools: { name: string; acquires: number; highWater: number; timeouts: number }[];
}

/** Loop-lag sampling period, ms. */
const LAG_INTERVAL_MS = 10;

function allocatedBytes(): number {
  // V8 reports total_allocated_bytes; @types/node's HeapInfo does not declare it.
  return (getHeapStatistics() as unknown as { total_allocated_bytes: number })
    .total_allocated_bytes;
}

/** Busy and total CPU ms summed over all cores, and the core count (`node:os` `cpus()`). */
interface HostTicks {
  busy: number;
  total: number;
  cpus: number;
}

function readHostTicks(): HostTicks | null {
  // node:os rather than /proc/stat: Deno grants /proc/stat only with --allow-all.
  let busy = 0;
  let idle = 0;
  let cpus = 0;
  try {
    for (const cpu of os.cpus()) {
      busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
      idle += cpu.times.idle;
      cpus++;
    }
  } catch {
    return null;
  }
  return cpus === 0 ? null : { busy, total: busy + idle, cpus };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a window measures: the pipeline, or the bare WebSocket floor. */
interface Subject {
  /** Frames received so far. */
  frames(): number;
  /** Events dispatched so far (floor: frames). */
  dispatched(): number;
  /** Deliveries, drops and coalesced events so far, all consumers together. */
  delivered(): number;
  dropped(): number;
  coalesced(): number;
  /** Books LIVE, of how many. */
  books(): { live: number; total: number };
  /** Adapter warnings by type. */
  readonly warnings: Record<string, number>;
  /** Pool stats. */
  pools(): PipelineResult["pools"];
  /** Stops everything. */
  close(): Promise<void>;
}

/** Where deliveries are recorded while the window is open. */
interface Recorder {
  measuring: boolean;
  unstamped: number;
  readonly store: RecordStore;
  readonly keys: FrameKeys;
}

function p99(samples: Float64Array, count: number): number {
  if (count === 0) return 0;
  const sorted = samples.slice(0, count).sort();
  return sorted[Math.min(count - 1, Math.floor(count * 0.99))];
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadlineMs = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadlineMs) await delay(20);
  return condition();
}

/** What the pipeline needs of any adapter. */
interface BenchAdapter {
  readonly provider: BenchProvider;
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): { frames: number };
  activeSymbols(): string[];
  books(): { state: string }[];
}

/** Adapter log events the benchmark expects and does not count as warnings. */
const QUIET_ADAPTER_EVENTS = new Set([
  "subscribe_ack",
  "exchange_info",
  "instruments",
  "system_status",
]);

/** The adapter of `source`, feeding `sink`; `onOpen` when its data connection opens. */
function adapterOf(
  source: PipelineSource,
  ctx: {
    pools: ReturnType<typeof createSchemaPools>;
    sink: (ev: Parameters<Conductor["ingest"]>[0]) => void;
    symbols: string[];
    onOpen: () => void;
    warnings: Record<string, number>;
    prefix: string;
  },
): BenchAdapter {
  const onEvent = (e: { type: string; event?: { type: string }; error?: string }): void => {
    if (e.type === "connection") {
      if (e.event?.type === "open") ctx.onOpen();
      return;
    }
    if (QUIET_ADAPTER_EVENTS.has(e.type) && e.error === undefined) return;
    const name = ctx.prefix + e.type;
    ctx.warnings[name] = (ctx.warnings[name] ?? 0) + 1;
  };
  const common = { pools: ctx.pools, sink: ctx.sink, onEvent };
  let adapter: Omit<BenchAdapter, "provider">;
  if (source.provider === "binance") {
    adapter = new BinanceAdapter({
      restUrl: source.restUrl,
      wsUrl: source.wsUrl,
      symbols: [],
      ...common,
    });
  } else if (source.provider === "okx") {
    adapter = new OkxAdapter({
      restUrl: source.restUrl,
      wsUrl: source.wsUrl,
      symbols: ctx.symbols,
      ...common,
    });
  } else {
    adapter = new KrakenAdapter({ wsUrl: source.wsUrl, symbols: ctx.symbols, ...common });
  }
  return {
    provider: source.provider,
    start: () => adapter.start(),
    close: () => adapter.close(),
    stats: () => adapter.stats(),
    activeSymbols: () => adapter.activeSymbols(),
    books: () => adapter.books(),
  };
}

/** The gateway's hot path with `args.consumers` consumers; resolves once connected and synced. */
async function startPipeline(args: PipelineChildArgs, recorder: Recorder): Promise<Subject> {
  const poolManager = new PoolManager({ unpooled: args.unpooled });
  // The gateway's default capacities are per deployment; with several venues the in-flight
  // bounds scale with them, as an operator would set with --pool-capacity (one venue: defaults).
  const scale = args.sources.length;
  const d = DEFAULT_POOL_CAPACITIES;
  const pools = createSchemaPools(poolManager, {
    ...d,
    WsFrame: d.WsFrame * scale,
    ProviderRaw: d.ProviderRaw * scale,
    CanonicalEvent: d.CanonicalEvent * scale,
  });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes });
  const dispatcher = new Dispatcher({ routes, pool: pools.canonicalEvent });
  const conductor = new Conductor({ sink: dispatcher });
  const warnings: Record<string, number> = {};
  const symbols = benchSymbolSpecs(args.symbols).map((s) => `${s.base}-${s.quote}`);
  let opened = 0;
  const adapters = args.sources.map((source) =>
    adapterOf(source, {
      pools,
      sink: (ev) => conductor.ingest(ev),
      symbols,
      onOpen: () => opened++,
      warnings,
      // One venue keeps the plain names the Binance-only report always had.
      prefix: args.sources.length === 1 ? "" : `${source.provider}.`,
    })
  );
  const onEvent = (msg: ConsumerMessage): void => {
    // Market events only (no `type`); gap markers and exec reports carry no receive stamp.
    if (!recorder.measuring || msg.type !== undefined) return;
    if (!(msg.recvTsMs > 0)) recorder.unstamped++;
    recorder.store.push3(
      recorder.keys.ofEvent(msg.provider, msg.symbol, msg.kind, msg.seq),
      performance.now(),
      msg.recvTsMs,
    );
  };
  await Promise.all(adapters.map((a) => a.start()));
  const consumers: Consumer[] = [];
  for (let c = 0; c < args.consumers; c++) {
    const consumer = registry.create(`bench-${c + 1}`);
    for (const adapter of adapters) {
      for (const symbol of adapter.activeSymbols()) {
        for (const kind of MARKET_EVENT_KINDS) {
          const done = consumer.subscribe({ provider: adapter.provider, symbol, kind });
          if (!done.ok) throw new Error(done.error);
        }
      }
    }
    consumer.onEvent(onEvent);
    consumers.push(consumer);
  }
  if (!await waitFor(() => opened >= adapters.length, args.connectTimeoutMs)) {
    throw new Error(
      `expected ${adapters.length} data connection(s) open, found ${opened} after ${args.connectTimeoutMs} ms`,
    );
  }
  const books = (): { live: number; total: number } => {
    const all = adapters.flatMap((a) => a.books());
    return { live: all.filter((b) => b.state === "LIVE").length, total: all.length };
  };
  await waitFor(() => books().live === books().total, args.syncTimeoutMs);
  const sum = (field: "delivered" | "dropped" | "coalesced"): number =>
    consumers.reduce((n, c) => n + c.stats()[field], 0);
  return {
    frames: () => adapters.reduce((n, a) => n + a.stats().frames, 0),
    dispatched: () => dispatcher.stats().dispatched,
    delivered: () => sum("delivered"),
    dropped: () => sum("dropped"),
    coalesced: () => sum("coalesced"),
    books,
    warnings,
    pools: () =>
      poolManager.stats().map((s) => ({
        name: s.name,
        acquires: s.acquires,
        highWater: s.highWater,
        timeouts: s.timeouts,
      })),
    close: async () => {
      await Promise.all(adapters.map((a) => a.close()));
      registry.close();
      await poolManager.shutdown({ timeoutMs: 1000 });
    },
  };
}

/** OKX subscribe args per request (the adapter's own batch size). */
const OKX_FLOOR_ARGS_PER_REQUEST = 100;

/** A bare WebSocket on `source`'s streams; subscribes on open where the venue needs it. */
function floorSocket(source: PipelineSource, symbols: number): WebSocket {
  const specs = benchSymbolSpecs(symbols);
  if (source.provider === "binance") {
    const streams = specs.flatMap((s) => {
      const lower = `${s.base}${s.quote}`.toLowerCase();
      return [`${lower}@trade`, `${lower}@depth@100ms`, `${lower}@bookTicker`, `${lower}@kline_1m`];
    });
    return new WebSocket(`${source.wsUrl}/stream?streams=${streams.join("/")}`);
  }
  const ws = new WebSocket(source.wsUrl);
  if (source.provider === "okx") {
    const subscribeArgs = specs.flatMap((s) =>
      ["trades", "books", "tickers"].map((channel) => ({ channel, instId: `${s.base}-${s.quote}` }))
    );
    ws.addEventListener("open", () => {
      for (let i = 0; i < subscribeArgs.length; i += OKX_FLOOR_ARGS_PER_REQUEST) {
        const batch = subscribeArgs.slice(i, i + OKX_FLOOR_ARGS_PER_REQUEST);
        ws.send(JSON.stringify({ op: "subscribe", args: batch }));
      }
    });
    return ws;
  }
  const pairs = specs.map((s) => `${s.base}/${s.quote}`);
  ws.addEventListener("open", () => {
    const subscribe = (params: Record<string, unknown>): void =>
      ws.send(JSON.stringify({ method: "subscribe", params }));
    subscribe({ channel: "book", symbol: pairs, depth: 25, snapshot: true });
    subscribe({ channel: "trade", symbol: pairs, snapshot: false });
    subscribe({ channel: "ticker", symbol: pairs, snapshot: true });
  });
  return ws;
}

/**
 * One bare WebSocket per source on the adapters' streams whose handler only counts and, in the
 * window, logs `[key, receive time, receive time]` per keyed event (one `NO_KEY` record for a
 * frame without one; the key parse costs it a few tens of bytes per frame): the runtime's floor,
 * in bytes and in simulator-to-reader latency.
 */
async function startFloor(args: PipelineChildArgs, recorder: Recorder): Promise<Subject> {
  let frames = 0;
  let events = 0;
  let opened = 0;
  let nowMs = 0;
  let keyed = false;
  const onKey = (key: number): void => {
    keyed = true;
    if (recorder.measuring) recorder.store.push3(key, nowMs, performance.timeOrigin + nowMs);
  };
  const sockets = args.sources.map((source) => {
    const ws = floorSocket(source, args.symbols);
    ws.addEventListener("open", () => opened++);
    ws.onmessage = (e: MessageEvent) => {
      frames++;
      if (typeof e.data !== "string") return;
      nowMs = performance.now();
      keyed = false;
      // Parsed outside the window too: Kraken book keys count every book message.
      events += recorder.keys.eachKey(e.data, onKey);
      if (!keyed && recorder.measuring) {
        recorder.store.push3(NO_KEY, nowMs, performance.timeOrigin + nowMs);
      }
    };
    return ws;
  });
  if (!await waitFor(() => opened >= sockets.length, args.connectTimeoutMs)) {
    throw new Error(
      `expected ${sockets.length} data connection(s) open, found ${opened} after ${args.connectTimeoutMs} ms`,
    );
  }
  return {
    frames: () => frames,
    dispatched: () => events,
    delivered: () => 0,
    dropped: () => 0,
    coalesced: () => 0,
    books: () => ({ live: 0, total: 0 }),
    warnings: {},
    pools: () => [],
    close: () =>
      Promise.all(sockets.map((ws) => {
        const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
        ws.close();
        return Promise.race([closed, delay(2000)]);
      })).then(() => {}),
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(Deno.args[0]) as PipelineChildArgs;
  const specs = benchSymbolSpecs(args.symbols);
  const windowS = args.measureMs / 1000;
  const recorder: Recorder = {
    measuring: false,
    unstamped: 0,
    keys: new FrameKeys(
      specs.map((s) => [s.base, s.quote] as const),
      args.sources.map((source) => source.provider),
    ),
    store: new RecordStore({
      width: 3,
      recordsMax: args.recordsMax,
      reserveRecords: Math.ceil(
        args.expectedEventsPerSecond * windowS * Math.max(1, args.consumers) * 1.3,
      ),
    }),
  };
  const subject = args.floor === true
    ? await startFloor(args, recorder)
    : await startPipeline(args, recorder);

  const lagSamples = new Float64Array(Math.ceil(args.measureMs / LAG_INTERVAL_MS) + 1000);
  let lagCount = 0;
  const lag = new LoopLagSampler({
    intervalMs: LAG_INTERVAL_MS,
    onSample: (ms) => {
      if (recorder.measuring && lagCount < lagSamples.length) lagSamples[lagCount++] = ms;
    },
  });
  reply("READY", { booksLive: subject.books().live });

  await serveCommands(async (command) => {
    if (command !== "run") {
      reply("ERROR", { message: `expected run, probe or exit, found "${command}"` });
      return;
    }
    lag.start();
    reply("PHASE", { phase: "warm" });
    await delay(args.warmMs);
    const books = subject.books();
    const gcMarkNowMs = performance.now();
    // Marker for V8's trace clock, and the same clean heap for both pool modes.
    (globalThis as { gc?: () => void }).gc?.();
    const frames0 = subject.frames();
    const dispatched0 = subject.dispatched();
    const delivered0 = subject.delivered();
    const dropped0 = subject.dropped();
    const coalesced0 = subject.coalesced();
    lag.takeMax();
    reply("PHASE", { phase: "measure" });
    const host0 = readHostTicks();
    const cpu0 = process.cpuUsage();
    const windowStartNowMs = performance.now();
    const allocated0 = allocatedBytes();
    recorder.measuring = true;
    await delay(args.measureMs);
    recorder.measuring = false;
    const allocated1 = allocatedBytes();
    const windowEndNowMs = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const host1 = readHostTicks();
    const loopLagMaxMs = lag.takeMax();
    lag.stop();
    await recorder.store.writeFile(args.recordsPath, [0, performance.timeOrigin, 0]);
    const framesTotal = subject.frames();
    const result: PipelineResult = {
      windowStartMs: performance.timeOrigin + windowStartNowMs,
      windowEndMs: performance.timeOrigin + windowEndNowMs,
      gcMarkNowMs,
      windowStartNowMs,
      windowEndNowMs,
      frames: framesTotal - frames0,
      dispatched: subject.dispatched() - dispatched0,
      delivered: subject.delivered() - delivered0,
      dropped: subject.dropped() - dropped0,
      coalesced: subject.coalesced() - coalesced0,
      allocatedBytes: allocated1 - allocated0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      host: host0 === null || host1 === null || host1.total === host0.total ? null : {
        busyShare: (host1.busy - host0.busy) / (host1.total - host0.total),
        cpus: host1.cpus,
      },
      loopLagMaxMs,
      loopLagP99Ms: p99(lagSamples, lagCount),
      booksLive: books.live,
      books: books.total,
      framesTotal,
      unstamped: recorder.unstamped,
      records: recorder.store.count,
      recordsDropped: recorder.store.dropped,
      adapterWarnings: subject.warnings,
      pools: subject.pools(),
    };
    reply("RESULT", result);
  });
  lag.stop();
  await subject.close();
}

if (import.meta.main) await main();
