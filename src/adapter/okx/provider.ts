/**
 * OKX as the gateway plugs it in: the feed builder (adapter, plus the embedded simulator in sim
 * mode) and the simulator on its own. Found by `src/gateway/provider_registry.ts`.
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
import { OKX_SIM_CREDENTIALS, type OkxSim, startOkxSim } from "../../sim/okx/mod.ts";
import { OKX_LIVE_ENDPOINTS, OkxAdapter } from "./okx_adapter.ts";
import { okxCredentialsFromEnv, OkxOrderVenue } from "./orders/mod.ts";

/** Venue price offset of the simulator, so the same market differs a little per venue. */
const OKX_PRICE_OFFSET_BPS = 3;

/** The OKX feed, with its adapter and simulator exposed. */
export interface OkxFeed extends MarketFeed {
  readonly adapter: OkxAdapter;
  readonly sim: OkxSim | null;
}

/** How the gateway runs this exchange's simulator: embedded in a feed, or on its own. */
const SIM_BINDING: SimBinding<OkxSim> = {
  start: (opts) => startOkxSim({ ...opts, priceOffsetBps: OKX_PRICE_OFFSET_BPS }),
  urls: (sim) => ({
    rest: sim.restUrl,
    ws: sim.wsUrl,
    businessWs: sim.businessWsUrl,
    privateWs: sim.privateWsUrl,
  }),
  symbols: (sim) => [...sim.instIds],
};

/** OKX: the adapter, and the embedded simulator in sim mode. */
export async function okxFeed(ctx: FeedContext): Promise<OkxFeed> {
  const { urls, sim, live } = await feedEndpoints(ctx, {
    liveUrls: OKX_LIVE_ENDPOINTS,
    sim: SIM_BINDING,
  });
  // Empty symbols with a simulator: every instrument it lists (see the adapter).
  const symbols = live && ctx.symbols.length === 0 ? [...LIVE_SYMBOLS_DEFAULT] : ctx.symbols;
  const adapter = new OkxAdapter({
    restUrl: endpointOf(urls, "rest"),
    wsUrl: endpointOf(urls, "ws"),
    businessWsUrl: endpointOf(urls, "businessWs"),
    symbols,
    // The WS snapshot when OKX sends one, else the REST bootstrap of okx.md 4.4 (OKX plans to
    // drop the WS snapshot): the books stay correct across that change without a redeploy.
    bootstrap: "auto",
    ...adapterHooks(ctx, "okx"),
  });
  return {
    ...coreFeed("okx", { endpoints: urls, adapter, sim }),
    adapter,
    sim,
    ...viewedBooks(ctx, {
      provider: "okx",
      adapter,
      seqOf: { row: (row) => row.seqId, view: (view) => view.seqId },
    }),
  };
}

/** The OKX provider module. */
export const provider: ProviderModule = {
  name: "okx",
  liveEndpoints: OKX_LIVE_ENDPOINTS,
  createFeed: okxFeed,
  simCredentials: OKX_SIM_CREDENTIALS,
  orderEndpointRoles: ["privateWs"],
  orderCredentialsFromEnv: () => okxCredentialsFromEnv(),
  createOrderVenue: ({ endpoints, credentials, logger }) =>
    new OkxOrderVenue({
      restUrl: endpointOf(endpoints, "rest"),
      privateWsUrl: endpointOf(endpoints, "privateWs"),
      credentials: {
        apiKey: credentials.apiKey,
        secret: credentials.secret,
        passphrase: credentials.passphrase ?? "",
      },
      logger,
    }),
  startSimulator: (opts) => startSimulatorHandle(SIM_BINDING, opts),
};
