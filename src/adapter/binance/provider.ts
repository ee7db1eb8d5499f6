/**
 * Binance as the gateway plugs it in: the feed builder (adapter, plus the embedded simulator in
 * sim mode) and the simulator on its own. Found by `src/gateway/provider_registry.ts`.
 *
 * @module
 */

import type { ProviderModule, SimSettings } from "../shared/provider_module.ts";
import {
  adapterHooks,
  coreFeed,
  endpointOf,
  type FeedContext,
  feedEndpoints,
  LIVE_SYMBOLS_DEFAULT,
  type MarketFeed,
  SIM_HOST,
} from "../../gateway/market_feeds.ts";
import {
  BINANCE_SIM_CREDENTIALS,
  type BinanceSim,
  startBinanceSim,
} from "../../sim/binance/mod.ts";
import { BINANCE_LIVE_ENDPOINTS, BinanceAdapter } from "./binance_adapter.ts";
import { binanceCredentialsFromEnv, BinanceOrderVenue } from "./orders/mod.ts";

/** The Binance feed, with its adapter and simulator exposed (tests, fault injection). */
export interface BinanceFeed extends MarketFeed {
  readonly adapter: BinanceAdapter;
  readonly sim: BinanceSim | null;
}

function startSim(
  settings: SimSettings & { hostname?: string; port?: number },
): Promise<BinanceSim> {
  return startBinanceSim({ hostname: SIM_HOST, port: 0, ...settings });
}

function urlsOf(sim: BinanceSim): { rest: string; ws: string; wsApi: string } {
  return { rest: sim.restUrl, ws: sim.wsUrl, wsApi: sim.wsApiUrl };
}

/** Binance: the adapter, and the embedded simulator in sim mode. */
export async function binanceFeed(ctx: FeedContext): Promise<BinanceFeed> {
  const { urls, sim, live } = await feedEndpoints(ctx, {
    liveUrls: BINANCE_LIVE_ENDPOINTS,
    startSim: async (settings) => {
      const s = await startSim(settings);
      return { sim: s, urls: urlsOf(s) };
    },
  });
  // Empty symbols with a simulator: every symbol its exchangeInfo lists (see the adapter).
  const symbols = live && ctx.symbols.length === 0 ? [...LIVE_SYMBOLS_DEFAULT] : ctx.symbols;
  const adapter = new BinanceAdapter({
    restUrl: endpointOf(urls, "rest"),
    wsUrl: endpointOf(urls, "ws"),
    symbols,
    ...adapterHooks(ctx, "binance"),
    onTradeGap: ctx.onTradeGap,
  });
  return {
    ...coreFeed("binance", { endpoints: urls, adapter, sim }),
    adapter,
    sim,
    books: () =>
      adapter.books().map((b) => ({
        provider: b.provider,
        symbol: b.symbol,
        state: b.state,
        bookId: b.bookId,
        bestBid: b.bestBid,
        bestAsk: b.bestAsk,
        resyncs: { ...b.resyncs },
        lastUpdateMs: b.lastUpdateRecvTsMs,
      })),
    publishBookSnapshot: (symbol) => adapter.publishBookSnapshot(symbol),
  };
}

/** The Binance provider module. */
export const provider: ProviderModule = {
  name: "binance",
  liveEndpoints: BINANCE_LIVE_ENDPOINTS,
  createFeed: binanceFeed,
  simCredentials: BINANCE_SIM_CREDENTIALS,
  orderEndpointRoles: ["wsApi"],
  orderCredentialsFromEnv: () => binanceCredentialsFromEnv(),
  createOrderVenue: ({ endpoints, credentials, logger }) =>
    new BinanceOrderVenue({
      restUrl: endpointOf(endpoints, "rest"),
      wsApiUrl: endpointOf(endpoints, "wsApi"),
      credentials: { apiKey: credentials.apiKey, secret: credentials.secret },
      logger,
    }),
  startSimulator: async (opts) => {
    const sim = await startSim(opts);
    // A replaying simulator has no generator; its symbols are then left as Binance writes them.
    const symbols = sim.market?.symbols.map((s) => s.canonical) ?? sim.symbols;
    return { urls: urlsOf(sim), symbols, close: () => sim.close() };
  },
};
