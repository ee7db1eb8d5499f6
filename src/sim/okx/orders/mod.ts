/**
 * The OKX simulator's order side: private WebSocket sessions (login, `orders` channel,
 * `order`/`cancel-order` ops), signed REST order queries, admin knobs and faults, over the
 * shared matching engine.
 *
 * @module
 */

export {
  OkxOrderSide,
  type OkxOrderSideOptions,
  type OkxOrderStats,
  type OkxSimInstrumentInfo,
} from "./okx_order_side.ts";
export { type OkxOrderFaultKind, OkxOrderFaults } from "./okx_order_faults.ts";
export {
  checkOkxLogin,
  checkOkxRestAuth,
  OKX_SIM_CREDENTIALS,
  OKX_TIMESTAMP_WINDOW_MS,
  type OkxAuthError,
  type OkxRestRequestParts,
  type OkxSimAccount,
  okxSimSign,
} from "./okx_sim_auth.ts";
export {
  CANCEL_SOURCES,
  engineOrderId,
  OKX_ORD_ID_BASE,
  type OkxFill,
  type OkxOrderMeta,
  okxOrderRow,
  okxOrdId,
  okxState,
} from "./okx_order_wire.ts";
export { type OkxOrdersSubscription, OkxPrivateConnection } from "./okx_private_connection.ts";
