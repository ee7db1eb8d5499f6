/**
 * OKX's trading side for the order gateway: {@linkcode OkxOrderVenue} and its parts (signing,
 * credentials from the environment, row mapping, REST calls).
 *
 * @module
 */

export {
  OKX_OPEN_ORDER_PAGES_MAX,
  OKX_PRIVATE_WS_URL,
  OKX_VENUE_LOGIN_TIMEOUT_MS_DEFAULT,
  OKX_VENUE_PING_AFTER_MS_DEFAULT,
  OKX_VENUE_PONG_TIMEOUT_MS_DEFAULT,
  OKX_VENUE_START_TIMEOUT_MS_DEFAULT,
  OkxOrderVenue,
  type OkxOrderVenueOptions,
  type OkxVenueLogger,
} from "./okx_order_venue.ts";
export {
  type OkxCredentials,
  okxCredentialsFromEnv,
  okxHmacBase64,
  okxLoginArg,
  okxLoginSign,
  okxRestHeaders,
  okxRestSign,
} from "./okx_order_signing.ts";
export {
  mapOkxOrderPush,
  mapOkxOrderStatus,
  OKX_EXPIRED_CANCEL_SOURCES,
  OKX_TRACKED_ORDERS_MAX,
  OkxQuoteTracker,
  okxVenueState,
} from "./okx_order_mapping.ts";
export {
  fetchOkxTradingInstruments,
  type OkxRestBody,
  okxSignedGet,
  type OkxTradingInstrument,
} from "./okx_order_rest.ts";
