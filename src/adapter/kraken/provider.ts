/**
 * Kraken (WebSocket v2) as the gateway plugs it in: the feed builder (adapter, plus the embedded
 * simulator in sim mode) and the simulator on its own. Found by
 * `src/gateway/provider_registry.ts`.
 *
 * @module
 */

import type { ProviderModule, SimSettings } from "../shared/provider_module.ts";
import {
  adapterHooks,
  booksWithTop,
  coreFeed,
  endpointOf,
  type FeedContext,
  feedEndpoints,
  LIVE_SYMBOLS_DEFAULT,
  type MarketFeed,
  publishFromView,
  RESEND_LEVELS_MAX,
  SIM_HOST,
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

function startSim(
  settings: SimSettings & { hostname?: string; port?: number },
): Promise<KrakenSim> {
  return startKrakenSim({
    hostname: SIM_HOST,
    port: 0,
    ...settings,
    priceOffsetBps: KRAKEN_PRICE_OFFSET_BPS,
  });
}

function urlsOf(sim: KrakenSim): { rest: string; ws: string; authWs: string } {
  return { rest: sim.restUrl, ws: sim.wsUrl, authWs: sim.authWsUrl };
}

function symbolsOf(sim: KrakenSim): string[] {
  return sim.pairs.map((p) => canonicalSymbolOf(p.name));
}

/** Kraken (WebSocket v2): the adapter, and the embedded simulator in sim mode. */
export async function krakenFeed(ctx: FeedContext): Promise<KrakenFeed> {
  const { urls, sim, live } = await feedEndpoints(ctx, {
    liveUrls: KRAKEN_LIVE_ENDPOINTS,
    startSim: async (settings) => {
      const s = await startSim(settings);
      return { sim: s, urls: urlsOf(s) };
    },
  });
  // The adapter needs explicit symbols (v2 has no symbol listing it reads): the embedded
  // simulator's pairs; an external simulator serves the shared default instruments.
  let symbols = ctx.symbols;
  if (symbols.length === 0) {
    symbols = live
      ? [...LIVE_SYMBOLS_DEFAULT]
      : sim !== null
      ? symbolsOf(sim)
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
    books: () => {
      const all = adapter.books();
      return booksWithTop("kraken", all, {
        bookId: (i) => all[i].seq,
        view: (sym) => adapter.bookView(sym, 1),
      });
    },
    publishBookSnapshot: (symbol) => {
      const view = adapter.bookView(symbol, RESEND_LEVELS_MAX);
      return publishFromView(ctx, { provider: "kraken", view, seq: view?.seq ?? 0 });
    },
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
  startSimulator: async (opts) => {
    const sim = await startSim(opts);
    return { urls: urlsOf(sim), symbols: symbolsOf(sim), close: () => sim.close() };
  },
};
