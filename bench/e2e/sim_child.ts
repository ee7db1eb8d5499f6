/**
 * Child process: one venue simulator (Binance, OKX or Kraken; generated market, 50 symbols) as
 * the benchmark's load source, with its send times logged (see `send_log.ts`).
 *
 * Argument: one JSON object, {@linkcode SimChildArgs}. Protocol (`child_io.ts`): prints
 * `READY {restUrl, wsUrl}`; `warm <ms>` starts the send log and, for that long, steers the
 * generator so the events sent per second match `framesPerSecond` (the simulator's rate counts
 * generator events, of which only a share become frames: trades, ticker changes, book diffs,
 * klines). Binance steers on frames sent (one canonical event each); OKX and Kraken on the
 * canonical events their frames carry (a Kraken trade message holds every trade of a tick),
 * counted by the send log. `dump <path>` pauses the simulator, stops the log, writes it and
 * prints `DUMPED`.
 *
 * @module
 */

import { startBinanceSim } from "../../src/sim/binance/mod.ts";
import { startKrakenSim } from "../../src/sim/kraken/mod.ts";
import { startOkxSim } from "../../src/sim/okx/mod.ts";
import { reply, serveCommands } from "./child_io.ts";
import type { BenchProvider } from "./frame_key.ts";
import { instrumentWebSocketSend, SendLog } from "./send_log.ts";
import { benchSymbolSpecs } from "./symbol_specs.ts";

/** Arguments of the simulator child. */
export interface SimChildArgs {
  /** Venue simulated (default Binance). */
  provider?: BenchProvider;
  /** Every venue of the run, in key order (`frame_key.ts`; default: `provider` alone). */
  keyProviders?: BenchProvider[];
  /** Starting-price offset in basis points (OKX and Kraken; the gateway uses 3 and -4). */
  priceOffsetBps?: number;
  /** Market seed. */
  seed: number;
  /** Instruments. */
  symbols: number;
  /** Target frames per second on the data connection (0: no steering, use `eventsPerSecond`). */
  framesPerSecond: number;
  /** Generator events per second when not steering (the saturation probe asks for too many). */
  eventsPerSecond?: number;
  /**
   * Generator events per second until `warm` (the books sync and the clocks are probed at this
   * quieter rate; default: the steering's first guess from the start).
   */
  syncEventsPerSecond?: number;
  /** Most send records kept. */
  recordsMax: number;
  /** The simulator's scheduler period, ms (its default is 10: events leave in 10 ms batches). */
  tickMs: number;
}

/**
 * Canonical events per generator event at the rates of interest, the steering's first guess
 * (Binance measured 0.67 to 0.82; OKX aggregates trades per taker order and pushes books and
 * tickers every 100 ms; Kraken sends every trade, and book and ticker changes per tick).
 */
const FRAMES_PER_EVENT_GUESS: Record<BenchProvider, number> = {
  binance: 0.7,
  okx: 0.4,
  kraken: 0.9,
};

/** What the child needs of any simulator. */
interface RunningSim {
  restUrl: string;
  wsUrl: string;
  /** Frames (Binance) or canonical events (OKX, Kraken) sent so far: what steering counts. */
  sent(): number;
  setRate(eventsPerSecond: number): void;
  pause(): void;
  stats(): unknown;
  close(): Promise<void>;
}

async function startSim(
  provider: BenchProvider,
  args: SimChildArgs,
  eventsPerSecond: number,
  log: SendLog,
): Promise<RunningSim> {
  const specs = benchSymbolSpecs(args.symbols);
  const common = { hostname: "127.0.0.1", port: 0, seed: args.seed, symbolSpecs: specs };
  if (provider === "binance") {
    const sim = await startBinanceSim({
      ...common,
      eventsPerSecond,
      tickMs: args.tickMs,
      // The benchmark reads as fast as it can; never cut it off for being behind.
      sendBufferBytesMax: 2 ** 32,
      // Snapshots after a resync must not run into the REST weight limit mid-benchmark.
      weightLimit: 1_000_000_000,
    });
    return {
      restUrl: sim.restUrl,
      wsUrl: sim.wsUrl,
      sent: () => sim.stats().framesSent,
      setRate: (rate) => sim.setRate(rate),
      pause: () => sim.pause(),
      stats: () => sim.stats(),
      close: () => sim.close(),
    };
  }
  if (provider === "okx") {
    const sim = await startOkxSim({
      ...common,
      eventsPerSecond,
      tickMs: args.tickMs,
      priceOffsetBps: args.priceOffsetBps ?? 0,
      // Sockets open before the pipeline subscribes must not be closed as idle.
      idleTimeoutMs: 600_000,
    });
    return {
      restUrl: sim.restUrl,
      wsUrl: sim.wsUrl,
      sent: () => log.eventsSent,
      setRate: (rate) => sim.setRate(rate),
      pause: () => sim.pause(),
      stats: () => sim.stats(),
      close: () => sim.close(),
    };
  }
  const sim = await startKrakenSim({
    ...common,
    eventsPerSecond,
    priceOffsetBps: args.priceOffsetBps ?? 0,
    timing: { tickMs: args.tickMs },
  });
  return {
    restUrl: sim.restUrl,
    wsUrl: sim.wsUrl,
    sent: () => log.eventsSent,
    setRate: (rate) => sim.setRate(rate),
    pause: () => sim.setRate(0),
    stats: () => sim.stats(),
    close: () => sim.close(),
  };
}
/**
 * Most the steering may raise the generator rate above its first guess (factor): a simulator
 * that cannot keep up on a busy host must not be driven into ever larger batches.
 */
const STEER_RAISE_MAX = 4;
/** Steering period, ms. */
const STEER_INTERVAL_MS = 500;
/** Largest correction per steering step (factor). */
const STEER_STEP_MAX = 2;

async function main(): Promise<void> {
  const args = JSON.parse(Deno.args[0]) as SimChildArgs;
  const specs = benchSymbolSpecs(args.symbols);
  const provider = args.provider ?? "binance";
  const log = new SendLog({
    symbols: specs.map((s) => [s.base, s.quote] as const),
    recordsMax: args.recordsMax,
    providers: args.keyProviders ?? [provider],
  });
  instrumentWebSocketSend(log);
  const steering = args.framesPerSecond > 0;
  let eventsPerSecond = steering
    ? args.framesPerSecond / (FRAMES_PER_EVENT_GUESS[provider])
    : args.eventsPerSecond ?? 1_000_000;
  const eventsPerSecondMax = eventsPerSecond * STEER_RAISE_MAX;
  const sim = await startSim(
    provider,
    args,
    Math.min(eventsPerSecond, args.syncEventsPerSecond ?? Infinity),
    log,
  );
  reply("READY", { restUrl: sim.restUrl, wsUrl: sim.wsUrl });

  let steer: ReturnType<typeof setInterval> | undefined;
  const stopSteering = (): void => {
    if (steer !== undefined) clearInterval(steer);
    steer = undefined;
  };
  await serveCommands(async (command, arg) => {
    if (command === "warm") {
      log.recording = true;
      sim.setRate(eventsPerSecond);
      if (!steering) return;
      const untilMs = performance.now() + Number(arg);
      let lastFrames = sim.sent();
      let lastMs = performance.now();
      stopSteering();
      steer = setInterval(() => {
        const frames = sim.sent();
        const nowMs = performance.now();
        const rate = ((frames - lastFrames) * 1000) / (nowMs - lastMs);
        if (rate > 0) {
          const factor = Math.min(
            STEER_STEP_MAX,
            Math.max(1 / STEER_STEP_MAX, args.framesPerSecond / rate),
          );
          eventsPerSecond = Math.min(eventsPerSecondMax, eventsPerSecond * factor);
          sim.setRate(eventsPerSecond);
        }
        lastFrames = frames;
        lastMs = nowMs;
        if (nowMs >= untilMs) stopSteering();
      }, STEER_INTERVAL_MS);
    } else if (command === "dump") {
      log.recording = false;
      stopSteering();
      // Idle from here on, so the clock probes after the run get prompt answers.
      sim.pause();
      await log.write(arg);
      reply("DUMPED", {
        records: log.count,
        dropped: log.dropped,
        framesSeen: log.framesSeen,
        eventsPerSecond,
        stats: sim.stats(),
      });
    } else {
      reply("ERROR", { message: `expected warm, dump, probe or exit, found "${command}"` });
    }
  });
  stopSteering();
  await sim.close();
}

if (import.meta.main) await main();
