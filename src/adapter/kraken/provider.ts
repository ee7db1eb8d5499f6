/**
 * Kraken (WebSocket v2) as the gateway plugs it in: the feed builder (adapter, plus the embedded
 * simulator in sim mode) and the simulator on its own. Found by
 * `src/gateway/provider_registry.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../shared/provider_module.ts";
import {
  adapterHooks,
  coreFeed,
  endpointOf,
  type FeedContext,
  feedEndpoints,
  LIVE_SYMBOLS_DEFAULT,
  type MarketFeed,
  type SimBinding,
  startSimulatorHandle,
  viewedBooks,
} from "../../gateway/market_feeds.ts";
import { DEFAULT_SYMBOL_SPECS } from "../../sim/market/mod.ts";
import { KRAKEN_SIM_CREDENTIALS, type KrakenSim, startKrakenSim } from "../../sim/kraken/mod.ts";
import { KRAKEN_LIVE_ENDPOINTS, KrakenAdapter } from "./kraken_adapter.ts";
import { krakenCredentialsFromEnv, KrakenOrderVenue } from "./orders/mod.ts";
import { canonicalSymbolOf } from "./normalize.ts";

/** Venue price offset of the simulator, so the same market differs a little per venue. */
const KRAKEN_PRICE_OFFSET_BPS = -4;

/** The Kraken feed, with its adapter and simulator exposed. */
export interface KrakenFeed extends MarketFeed {
  readonly adapter: KrakenAdapter;
  readonly sim: KrakenSim | null;
}

/** How the gateway runs this exchange's simulator: embedded in a feed, or on its own. */
const SIM_BINDING: SimBinding<KrakenSim> = {
  start: (opts) => startKrakenSim({ ...opts, priceOffsetBps: KRAKEN_PRICE_OFFSET_BPS }),
  urls: (sim) => ({ rest: sim.restUrl, ws: sim.wsUrl, authWs: sim.authWsUrl }),
  symbols: (sim) => sim.pairs.map((p) => canonicalSymbolOf(p.name)),
};

/** Kraken (WebSocket v2): the adapter, and the embedded simulator in sim mode. */
export async function krakenFeed(ctx: FeedContext): Promise<KrakenFeed> {
  const { urls, sim, live } = await feedEndpoints(ctx, {
    liveUrls: KRAKEN_LIVE_ENDPOINTS,
    sim: SIM_BINDING,
  });
  // The adapter needs explicit symbols (v2 has no symbol listing it reads): the embedded
  // simulator's pairs; an external simulator serves the shared default instruments.
  let symbols = ctx.symbols;
  if (symbols.length === 0) {
    symbols = live
      ? [...LIVE_SYMBOLS_DEFAULT]
      : sim !== null
      ? [...SIM_BINDING.symbols(sim)]
      : DEFAULT_SYMBOL_SPECS.map((s) => `${s.base}-${s.quote}`);
  }
  const adapter = new KrakenAdapter({
    wsUrl: endpointOf(urls, "ws"),
    restUrl: endpointOf(urls, "rest"),
    symbols,
    ...adapterHooks(ctx, "kraken"),
  });
  return {
    ...coreFeed("kraken", { endpoints: urls, adapter, sim }),
    adapter,
    sim,
    ...viewedBooks(ctx, {
      provider: "kraken",
      adapter,
      seqOf: { row: (row) => row.seq, view: (view) => view.seq },
    }),
  };
}

/** The Kraken provider module. */
export const provider: ProviderModule = {
  name: "kraken",
  liveEndpoints: KRAKEN_LIVE_ENDPOINTS,
  createFeed: krakenFeed,
  simCredentials: KRAKEN_SIM_CREDENTIALS,
  orderEndpointRoles: ["authWs"],
  orderCredentialsFromEnv: () => krakenCredentialsFromEnv(),
  createOrderVenue: ({ endpoints, credentials, logger }) =>
    new KrakenOrderVenue({
      restUrl: endpointOf(endpoints, "rest"),
      authWsUrl: endpointOf(endpoints, "authWs"),
      credentials: { apiKey: credentials.apiKey, secret: credentials.secret },
      logger,
    }),
  startSimulator: (opts) => startSimulatorHandle(SIM_BINDING, opts),
};
