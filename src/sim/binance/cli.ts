/**
 * Runs the Binance simulator on its own:
 * `deno run --allow-net=127.0.0.1 --allow-read src/sim/binance/cli.ts --port 9443 --rate 5000`.
 * Prints its REST and WebSocket URLs and shuts down cleanly on SIGINT or SIGTERM.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BinanceSimOptions, startBinanceSim } from "./mod.ts";

/** `--help` text. */
export const CLI_HELP = `Binance Spot market-data simulator (Switchyard)

Usage: deno run --allow-net=127.0.0.1 --allow-read src/sim/binance/cli.ts [flags]

  --port <n>            port to bind on 127.0.0.1 (default 0 = any free port)
  --symbols <a,b,...>   symbols to simulate, e.g. BTCUSDT,ETHUSDT (default: 12 liquid pairs)
  --rate <n>            generated market events per second over all symbols (default 1000)
  --seed <n>            market seed; the same seed gives the same event sequence (default 1)
  --time-scale <x>      multiply every Binance timing (ping, lifetime, depth/ticker periods,
                        weight window) by x (default 1)
  --replay <file>       replay a WebSocket recording instead of generating a market
  --replay-http <file>  serve /api/v3/depth from an HTTP recording (with --replay)
  --replay-speed <x>    replay pacing: 1 = original, 10 = ten times faster, 0 = at once
  --help                print this text

Endpoints: REST /api/v3/{ping,time,exchangeInfo,depth}; streams /ws/<stream>,
/stream?streams=<a>/<b>; simulator control POST /_sim/fault, GET /_sim/stats.`;

/** Parses CLI flags into simulator options; returns "help" for --help. Throws on bad flags. */
export function parseCliArgs(args: readonly string[]): BinanceSimOptions | "help" {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      symbols: { type: "string" },
      rate: { type: "string" },
      seed: { type: "string" },
      "time-scale": { type: "string" },
      replay: { type: "string" },
      "replay-http": { type: "string" },
      "replay-speed": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return "help";
  const number = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value)) {
      throw new RangeError(`--${name}: expected a number, found ${JSON.stringify(raw)}`);
    }
    return value;
  };
  if (values["replay-http"] !== undefined && values.replay === undefined) {
    throw new RangeError("--replay-http: expected --replay as well, found it alone");
  }
  return {
    port: number("port", values.port),
    symbols: values.symbols?.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== ""),
    eventsPerSecond: number("rate", values.rate),
    seed: number("seed", values.seed),
    timeScale: number("time-scale", values["time-scale"]),
    replay: values.replay === undefined ? undefined : {
      wsFile: values.replay,
      httpFile: values["replay-http"],
      speed: number("replay-speed", values["replay-speed"]),
    },
  };
}

async function main(args: string[]): Promise<number> {
  let options: BinanceSimOptions | "help";
  try {
    options = parseCliArgs(args);
  } catch (err) {
    console.error(`binance-sim: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (options === "help") {
    console.log(CLI_HELP);
    return 0;
  }
  let sim;
  try {
    sim = await startBinanceSim(options);
  } catch (err) {
    console.error(`binance-sim: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof RangeError ? 2 : 1;
  }
  console.log(`REST       ${sim.restUrl}/api/v3/...`);
  console.log(`WebSocket  ${sim.wsUrl}/ws/<stream>  ${sim.wsUrl}/stream?streams=<a>/<b>`);
  console.log(`Control    ${sim.restUrl}/_sim/fault (POST)  ${sim.restUrl}/_sim/stats`);
  console.log(`Symbols    ${sim.symbols.join(",")}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await stopped.promise;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await sim.close();
  console.log("binance-sim: stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
