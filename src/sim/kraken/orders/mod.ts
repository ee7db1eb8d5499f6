/**
 * The Kraken simulator's order side: signed REST token and order queries, the authenticated
 * WebSocket endpoint (`executions`, `add_order`, `cancel_order`) over the shared matching engine.
 *
 * @module
 */

export {
  KrakenOrderDesk,
  type KrakenSimOrderStats,
  type OrderDeskHost,
} from "./kraken_order_desk.ts";
export {
  KRAKEN_DUPLICATE_ORDER_ERROR_DEFAULT,
  KRAKEN_SIM_CREDENTIALS,
  KRAKEN_TOKEN_LIFETIME_MS_DEFAULT,
  type KrakenResponseOrder,
  type KrakenSimAccount,
  type KrakenSimOrderOptions,
} from "./sim_accounts.ts";
export { equalTexts, krakenSimApiSign } from "./api_sign.ts";
export { engineOrderIdOf, krakenOrderIdOf } from "./order_wire.ts";
