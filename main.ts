/**
 * Switchyard CLI entry: flags/config -> build the gateway -> run until SIGINT/SIGTERM.
 *
 * @module
 */

import { ConfigError, HELP_TEXT, loadConfig } from "./src/config/mod.ts";
import { Gateway } from "./src/gateway/gateway.ts";
import {
  discoverProviders,
  type ProviderRegistry,
  ProviderRegistryError,
} from "./src/gateway/provider_registry.ts";
import { componentLogger, setupLogging } from "./src/telemetry/mod.ts";

/** Exit codes: 0 clean, 1 runtime failure, 2 bad configuration or usage. */
async function main(args: string[]): Promise<number> {
  // The providers are the adapter folders found now; `--providers` is checked against them.
  let registry: ProviderRegistry;
  try {
    registry = await discoverProviders();
  } catch (err) {
    console.error(`switchyard: ${(err as Error).message}`);
    return 1;
  }
  let result;
  try {
    result = loadConfig(args, { env: Deno.env.toObject(), providerNames: registry.names() });
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
    gateway = await Gateway.start(config, { registry });
  } catch (err) {
    log.fatal("start-up failed: {error}", { error: err });
    // A bad --endpoint is only found once the registry is known: still a usage error.
    return err instanceof ProviderRegistryError ? 2 : 1;
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
