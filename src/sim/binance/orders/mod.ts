/**
 * The Binance simulator's order side: signed REST order endpoints, the WebSocket API with
 * user-data subscriptions, fault knobs and test endpoints, over the shared matching engine.
 *
 * @module
 */

export {
  BINANCE_SIM_CREDENTIALS,
  BinanceApiError,
  type BinanceSimAccount,
  checkTimestamp,
  verifyRestRequest,
  verifyWsApiRequest,
} from "./request_auth.ts";
export {
  type BinanceOrderFaultCommand,
  BinanceOrderFaultError,
  BinanceSimOrderFaults,
  type BinanceUnknownStatusMode,
} from "./order_faults.ts";
export {
  type BinanceSimInstrument,
  BinanceSimOrders,
  type BinanceSimOrdersOptions,
  type BinanceSimOrderStats,
  type OrderMethod,
  type OrderOutcome,
  type UserEvent,
  type UserEventSink,
} from "./sim_orders.ts";
export {
  accountPosition,
  binanceStatusOf,
  cancelResponse,
  dec8,
  executionReport,
  expiryReasonOf,
  placeResponse,
  queryResponse,
} from "./order_wire.ts";
export { handleRestOrderRequest, REST_ORDER_PATHS, type RestOrdersContext } from "./rest_orders.ts";
export { WsApiSession, type WsApiSessionOptions } from "./ws_api_session.ts";
export { handleOrdersAdminRequest } from "./orders_admin.ts";
