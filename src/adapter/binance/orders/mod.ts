/**
 * Binance Spot trading side: the {@linkcode BinanceOrderVenue} (WebSocket API orders and user
 * data), request signing, credentials from the environment and message mapping.
 *
 * @module
 */

export {
  BINANCE_RECV_WINDOW_MS_DEFAULT,
  BINANCE_RECV_WINDOW_MS_MAX,
  BINANCE_SETUP_TIMEOUT_MS_DEFAULT,
  BinanceOrderVenue,
  type BinanceOrderVenueOptions,
  type BinanceVenueLogger,
} from "./binance_order_venue.ts";
export {
  BINANCE_API_KEY_ENV,
  BINANCE_API_SECRET_ENV,
  type BinanceCredentials,
  binanceCredentialsFromEnv,
} from "./binance_credentials.ts";
export {
  averagePrice,
  execUpdateFromReport,
  orderStatusFromQuery,
  venueStateOf,
} from "./binance_order_mapping.ts";
export {
  type BinanceParamValue,
  binancePercentEncode,
  binanceQueryString,
  binanceRestSignature,
  binanceWsApiPayload,
  binanceWsApiSignature,
  hmacSha256Hex,
} from "./binance_signing.ts";
