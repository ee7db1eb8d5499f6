/**
 * Child process: the Binance simulator (generated market, 50 symbols) as the benchmark's load
 * source, with its send times logged (see `send_log.ts`).
 *
 * Argument: one JSON object, {@linkcode SimChildArgs}. Protocol (`child_io.ts`): prints
 * `READY {restUrl, wsUrl}`; `warm <ms>` starts the send log and, for that long, steers the
 * generator so the frames sent per second match `framesPerSecond` (the simulator's rate counts
 * generator events, of which about two thirds become frames: trades, bookTicker changes, diff
 * depth every 100 ms, klines); `dump <path>` pauses the simulator, stops the log, writes it and
 * prints `DUMPED`.
 *
 * @module
 */

import { startBinanceSim } from "../../src/sim/binance/mod.ts";
import { reply, serveCommands } from "./child_io.ts";
import { instrumentWebSocketSend, SendLog } from "./send_log.ts";
import { benchSymbolSpecs } from "./symbol_specs.ts";

/** Arguments of the simulator child. */
export interface SimChildArgs {
  /** Market seed. */
  seed: number;
  /** Instruments. */
  symbols: number;
  /** Target frames per second on the data connection (0: no steering, use `eventsPerSecond`). */
  framesPerSecond: number;
  /** Generator events per second when not steering (the saturation probe asks for too many). */
  eventsPerSecond?: number;
  /** Most send records kept. */
  recordsMax: number;
  /** The simulator's scheduler period, ms (its default is 10: events leave in 10 ms batches). */
  tickMs: number;
}

/** Frames per generator event at the rates of interest (measured: 0.67 to 0.82). */
const FRAMES_PER_EVENT_GUESS = 0.7;
/** Steering period, ms. */
const STEER_INTERVAL_MS = 500;
/** Largest correction per steering step (factor). */
const STEER_STEP_MAX = 2;

async function main(): Promise<void> {
  const args = JSON.parse(Deno.args[0]) as SimChildArgs;
  const specs = benchSymbolSpecs(args.symbols);
  const log = new SendLog({
    symbols: specs.map((s) => [s.base, s.quote] as const),
    recordsMax: args.recordsMax,
  });
  instrumentWebSocketSend(log);
  const steering = args.framesPerSecond > 0;
  let eventsPerSecond = steering
    ? args.framesPerSecond / FRAMES_PER_EVENT_GUESS
    : args.eventsPerSecond ?? 1_000_000;
  const sim = await startBinanceSim({
    hostname: "127.0.0.1",
    port: 0,
    seed: args.seed,
    symbolSpecs: specs,
    eventsPerSecond,
    tickMs: args.tickMs,
    // The benchmark reads as fast as it can; never cut it off for being behind.
    sendBufferBytesMax: 2 ** 32,
    // Snapshots after a resync must not run into the REST weight limit mid-benchmark.
    weightLimit: 1_000_000_000,
  });
  reply("READY", { restUrl: sim.restUrl, wsUrl: sim.wsUrl, symbols: sim.symbols.length });

  let steer: ReturnType<typeof setInterval> | undefined;
  const stopSteering = (): void => {
    if (steer !== undefined) clearInterval(steer);
    steer = undefined;
  };
  await serveCommands(async (command, arg) => {
    if (command === "warm") {
      log.recording = true;
      if (!steering) return;
      const untilMs = performance.now() + Number(arg);
      let lastFrames = sim.stats().framesSent;
      let lastMs = performance.now();
      stopSteering();
      steer = setInterval(() => {
        const frames = sim.stats().framesSent;
        const nowMs = performance.now();
        const rate = ((frames - lastFrames) * 1000) / (nowMs - lastMs);
        if (rate > 0) {
          const factor = Math.min(
            STEER_STEP_MAX,
            Math.max(1 / STEER_STEP_MAX, args.framesPerSecond / rate),
          );
          eventsPerSecond *= factor;
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
