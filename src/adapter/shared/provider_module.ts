/**
 * The contract between one exchange and the gateway: every adapter folder
 * (`src/adapter/<name>/`) exports a {@linkcode ProviderModule} named `provider` from its
 * `provider.ts`, and the gateway finds it by reading the folder (`src/gateway/provider_registry.ts`).
 * Nothing else in the gateway, conductor, dispatcher, consumers or server names an exchange.
 *
 * This file holds types only, so importing it loads no exchange code.
 *
 * @module
 */

import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type { SchemaPools } from "../../schema/schema_pools.ts";
import type { BookStateView } from "../../server/book_state_view.ts";
import type { OrderVenue } from "../../orders/order_venue.ts";
import type { Logger } from "../../telemetry/logger.ts";
import type { BookResyncEvent, BookStateChange } from "./book_sync_state.ts";
import type { TradeGapEvent } from "./trade_gap.ts";

/**
 * Endpoint URLs of one exchange by role (`rest`, `ws`, OKX's `businessWs`, ...). The keys of a
 * module's {@linkcode ProviderModule.liveEndpoints} are the roles it needs; a simulator and an
 * `--endpoint <provider>.<role>=<url>` override give the same keys.
 */
export type EndpointUrls = Readonly<Record<string, string>>;

/** A running exchange feed: the adapter plus, when it started one, its simulator. */
export interface MarketFeed {
  readonly provider: string;
  /** Base URLs it connects to (simulator or exchange), by role, for the log. */
  readonly endpoints: EndpointUrls;
  start(): Promise<void>;
  /** Closes the adapter, then its embedded simulator if any. */
  close(): Promise<void>;
  books(): BookStateView[];
  eventsByKind(): Record<string, number>;
  counters(): { frames: number; decodeErrors: number };
  activeSymbols(): string[];
  /** Re-sends the live book of `symbol` as a snapshot; false when not live or not supported. */
  publishBookSnapshot(symbol: string): boolean;
}

/** Settings of an embedded simulator. */
export interface SimSettings {
  /** Market seed: the same seed gives the same market on every venue. */
  seed: number;
  /** Generated market events per second, all symbols. */
  eventsPerSecond: number;
}

/** What the gateway hands every feed. */
export interface FeedContext {
  pools: SchemaPools;
  /** Receives every emitted event; ownership of the pooled event passes with the call. */
  sink: (ev: CanonicalEvent) => void;
  onResync: (e: BookResyncEvent) => void;
  onStateChange: (c: BookStateChange) => void;
  /** A trade id was skipped (exchanges whose trade ids are consecutive per symbol). */
  onTradeGap: (e: TradeGapEvent) => void;
  /** Simulator mode: start the embedded simulator on loopback (unless `endpoints` is set). */
  sim: SimSettings | null;
  /** Canonical symbols; empty: every simulator symbol (sim) or the live default. */
  symbols: string[];
  /**
   * Endpoint override (e.g. a `deno task sim` running elsewhere): every role of the module's
   * `liveEndpoints`, checked by the registry. Set, no simulator is started.
   */
  endpoints?: EndpointUrls;
}

/** Options of {@linkcode ProviderModule.startSimulator}. */
export interface SimulatorStartOptions extends SimSettings {
  /** Loopback address to bind. */
  hostname: string;
  /** Port, 0 = any free port. */
  port: number;
}

/** A simulator started through {@linkcode ProviderModule.startSimulator}. */
export interface SimulatorHandle {
  /** Its URLs by role: exactly the roles of the module's `liveEndpoints`. */
  readonly urls: EndpointUrls;
  /** Canonical symbols it serves (`BTC-USDT`). */
  readonly symbols: readonly string[];
  /** Stops it; resolves once every socket is closed. */
  close(): Promise<void>;
}

/** Demo credentials a simulator accepts on its private (trading) side. */
export interface SimCredentials {
  readonly apiKey: string;
  readonly secret: string;
  /** OKX-style passphrase, when the exchange has one. */
  readonly passphrase?: string;
}

/**
 * One exchange, as the gateway sees it. `provider.ts` in the adapter folder exports one as
 * `provider`; its `name` must equal the folder's name.
 */
export interface ProviderModule {
  /** Provider name: the folder's name, `^[a-z][a-z0-9]{1,15}$` (`binance`). */
  readonly name: string;
  /** The exchange's production endpoints by role (`--live`); every value a URL. */
  readonly liveEndpoints: EndpointUrls;
  /** Builds the feed: adapter, plus the embedded simulator in sim mode without an override. */
  createFeed(ctx: FeedContext): Promise<MarketFeed>;
  /** Starts the exchange's simulator on its own (`deno task sim`). */
  startSimulator(opts: SimulatorStartOptions): Promise<SimulatorHandle>;
  /** Credentials the simulator accepts for trading, if it has a private side. */
  readonly simCredentials?: SimCredentials;
  /**
   * The exchange's API keys from the environment (`SWITCHYARD_<PROVIDER>_API_KEY`, ...), or
   * null when unset. Keys come from nowhere else, and are never logged.
   */
  readonly orderCredentialsFromEnv?: () => SimCredentials | null;
  /**
   * Roles of {@linkcode ProviderModule.liveEndpoints} only the trading side uses (`wsApi`):
   * `--endpoint` may leave them out, and the provider then carries market data only.
   */
  readonly orderEndpointRoles?: readonly string[];
  /** The trading side (see `src/orders/order_venue.ts`); absent: orders to it are refused. */
  readonly createOrderVenue?: (opts: OrderVenueFactoryOptions) => OrderVenue;
}

/** What {@linkcode ProviderModule.createOrderVenue} gets. */
export interface OrderVenueFactoryOptions {
  /** The endpoints by role the provider's feed uses (simulator or exchange). */
  readonly endpoints: EndpointUrls;
  /** API key, secret (and passphrase) to sign with. */
  readonly credentials: SimCredentials;
  /** Where the venue logs (never keys, secrets, tokens or signatures). */
  readonly logger: Logger;
}
