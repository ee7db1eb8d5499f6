/**
 * `deno task sim`: runs the simulators of any or all discovered providers in this process, so
 * a gateway in another process can connect to them (`--endpoint <provider>.<role>=<url>`) and
 * be killed and restarted while the market keeps going. Prints one JSON line per provider,
 * `{"provider":"okx","urls":{"rest":...,"ws":...,"businessWs":...},"symbols":[...]}` (the `urls`
 * keys are the `--endpoint` roles), then `{"ready":true}`; stops cleanly on SIGINT or SIGTERM.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { SimulatorHandle } from "../adapter/shared/provider_module.ts";
import { SIM_HOST } from "./market_feeds.ts";
import { discoverProviders, type ProviderRegistry, selectProviders } from "./provider_registry.ts";

/** `--help` text. */
export const SIM_CLI_HELP =
  `Switchyard exchange simulators (every src/adapter/<name>/provider.ts found)

usage: deno task sim [flags]

  --providers <a,b>     simulators to run (default: all discovered)
  --rate <n>            generated market events per second per simulator (default 500)
  --seed <n>            market seed; same seed, same market on every venue (default 1)
  --port <p=n>          port of provider p, repeatable; a bare <n> when one provider runs
                        (default 0 = any free port)
  --help                print this text

Output: one JSON line per provider {"provider","urls","symbols"}, then {"ready":true}.
Point a gateway at them with one --endpoint <provider>.<role>=<url> per entry of "urls".
Binance-only flags (replay, time scale): deno task sim:binance --help`;

/** Parsed flags of the simulator CLI. */
export interface SimCliOptions {
  /** Providers to run; empty = all discovered. */
  providers: string[];
  eventsPerSecond: number;
  seed: number;
  /** Port by provider; `*` for a bare port (one provider only). */
  ports: Record<string, number>;
}

const RATE_MAX = 200_000;

function integer(what: string, raw: string, max: number): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n > max) {
    throw new RangeError(
      `${what}: expected an integer in [0, ${max}], found ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Parses the CLI flags; "help" for --help. Throws RangeError (or parseArgs' TypeError) on bad flags. */
export function parseSimCliArgs(args: readonly string[]): SimCliOptions | "help" {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      providers: { type: "string" },
      rate: { type: "string" },
      seed: { type: "string" },
      port: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const providers = (values.providers ?? "").split(",").map((p) => p.trim()).filter((p) => p);
  const ports: Record<string, number> = {};
  for (const spec of values.port ?? []) {
    const eq = spec.indexOf("=");
    if (eq === -1) ports["*"] = integer("--port", spec, 65535);
    else {ports[spec.slice(0, eq)] = integer(
        `--port ${spec.slice(0, eq)}`,
        spec.slice(eq + 1),
        65535,
      );}
  }
  return {
    providers,
    eventsPerSecond: values.rate === undefined ? 500 : integer("--rate", values.rate, RATE_MAX),
    seed: values.seed === undefined ? 1 : integer("--seed", values.seed, 2 ** 31 - 1),
    ports,
  };
}

/** One simulator the CLI started. */
export interface StartedSimulator {
  provider: string;
  handle: SimulatorHandle;
}

/**
 * Starts the simulators `opts` asks for, in registry order; on a failure the ones already
 * started are closed before it throws.
 */
export async function startSimulators(
  registry: ProviderRegistry,
  opts: SimCliOptions,
): Promise<StartedSimulator[]> {
  const modules = selectProviders(registry, { what: "--providers", names: opts.providers });
  for (const key of Object.keys(opts.ports)) {
    if (key === "*" ? modules.length !== 1 : !modules.some((m) => m.name === key)) {
      throw new RangeError(
        key === "*"
          ? `--port: expected <provider>=<n> with ${modules.length} providers, found a bare port`
          : `--port: expected a provider being run (${
            modules.map((m) => m.name).join(", ")
          }), found ${JSON.stringify(key)}`,
      );
    }
  }
  const started: StartedSimulator[] = [];
  try {
    for (const m of modules) {
      const handle = await m.startSimulator({
        hostname: SIM_HOST,
        port: opts.ports[m.name] ?? opts.ports["*"] ?? 0,
        seed: opts.seed,
        eventsPerSecond: opts.eventsPerSecond,
      });
      started.push({ provider: m.name, handle });
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.handle.close()));
    throw err;
  }
  return started;
}

async function main(args: string[]): Promise<number> {
  let opts: SimCliOptions | "help";
  try {
    opts = parseSimCliArgs(args);
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`);
    return 2;
  }
  if (opts === "help") {
    console.log(SIM_CLI_HELP);
    return 0;
  }
  let sims: StartedSimulator[];
  try {
    sims = await startSimulators(await discoverProviders(), opts);
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`);
    return err instanceof RangeError || (err as Error).name === "ProviderRegistryError" ? 2 : 1;
  }
  for (const s of sims) {
    console.log(
      JSON.stringify({ provider: s.provider, urls: s.handle.urls, symbols: s.handle.symbols }),
    );
  }
  console.log(JSON.stringify({ ready: true }));
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await stopped.promise;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await Promise.all(sims.map((s) => s.handle.close()));
  console.error("sim: stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
