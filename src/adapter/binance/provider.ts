/**
 * Binance as the gateway plugs it in: the feed builder (adapter, plus the embedded simulator in
 * sim mode) and the simulator on its own. Found by `src/gateway/provider_registry.ts`.
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

/** How the gateway runs this exchange's simulator: embedded in a feed, or on its own. */
const SIM_BINDING: SimBinding<BinanceSim> = {
  start: (opts) => startBinanceSim(opts),
  urls: (sim) => ({ rest: sim.restUrl, ws: sim.wsUrl, wsApi: sim.wsApiUrl }),
  // A replaying simulator has no generator; its symbols are then left as Binance writes them.
  symbols: (sim) => sim.market?.symbols.map((s) => s.canonical) ?? sim.symbols,
};

/** Binance: the adapter, and the embedded simulator in sim mode. */
export async function binanceFeed(ctx: FeedContext): Promise<BinanceFeed> {
  const { urls, sim, live } = await feedEndpoints(ctx, {
    liveUrls: BINANCE_LIVE_ENDPOINTS,
    sim: SIM_BINDING,
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
  startSimulator: (opts) => startSimulatorHandle(SIM_BINDING, opts),
};
