/**
 * Kraken's trading side for the order gateway: {@linkcode KrakenOrderVenue} (REST token,
 * `executions`, `add_order`, `cancel_order`, signed order queries), request signing and
 * credentials from the environment.
 *
 * @module
 */

export {
  KRAKEN_LIVE_ORDER_ENDPOINTS,
  KRAKEN_VENUE_IDLE_TIMEOUT_MS_DEFAULT,
  KRAKEN_VENUE_ORDERS_TRACKED_MAX,
  KRAKEN_VENUE_REST_TIMEOUT_MS_DEFAULT,
  KRAKEN_VENUE_START_TIMEOUT_MS_DEFAULT,
  KrakenOrderVenue,
  type KrakenOrderVenueOptions,
  type KrakenVenueLogger,
} from "./kraken_order_venue.ts";
export {
  KRAKEN_API_KEY_ENV,
  KRAKEN_API_SECRET_ENV,
  type KrakenCredentials,
  krakenCredentialsFromEnv,
} from "./kraken_credentials.ts";
export { krakenApiSign, type KrakenSignInput } from "./kraken_signing.ts";
export { KrakenPrivateRest, KrakenRestError } from "./kraken_private_rest.ts";
export {
  decimalPlaces,
  formatDecimal,
  isPlainDecimal,
  parseExactJson,
  plainDecimal,
} from "./kraken_decimal.ts";
