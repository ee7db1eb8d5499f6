/**
 * Switchyard CLI entry: flags/config -> build the gateway -> run until SIGINT/SIGTERM.
 *
 * @module
 */

import { ConfigError, HELP_TEXT, loadConfig } from "./src/config/mod.ts";
import { Gateway } from "./src/gateway/gateway.ts";
import { componentLogger, setupLogging } from "./src/telemetry/mod.ts";

/** Exit codes: 0 clean, 1 runtime failure, 2 bad configuration or usage. */
async function main(args: string[]): Promise<number> {
  let result;
  try {
    result = loadConfig(args, { env: Deno.env.toObject() });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`switchyard: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (result.kind === "help") {
    console.log(HELP_TEXT);
    return 0;
  }
  const config = result.config;
  await setupLogging({ level: config.log.level, format: config.log.format });
  const log = componentLogger("main");

  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config);
  } catch (err) {
    log.fatal("start-up failed: {error}", { error: err });
    return 1;
  }

  const stopped = Promise.withResolvers<string>();
  const onSignal = (sig: Deno.Signal) => () => stopped.resolve(sig);
  const signals: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  for (const [sig, fn] of signals) Deno.addSignalListener(sig, fn);
  const reason = await stopped.promise;
  for (const [sig, fn] of signals) Deno.removeSignalListener(sig, fn);
  await gateway.shutdown(reason);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
